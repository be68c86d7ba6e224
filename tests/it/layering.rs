//! The house has layers and no circles: a module of `src/` imports only
//! from modules in layers below its own (the order written in
//! ARCHITECTURE.md, read from there), and no files import each other in a
//! circle. Read from the `use` lines and `crate::`/`super::` paths of the
//! code (tests and comments left out); a name is followed through `pub use`
//! re-exports to the file that defines it, so a module's front door
//! (`mod.rs`) ties no circle by re-exporting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type ModulePath = Vec<String>;

#[test]
fn every_module_imports_only_from_layers_below_its_own() {
    let layers = layers_from_architecture();
    let house = House::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let declared: BTreeSet<&str> = layers.keys().map(String::as_str).collect();
    let top_modules: BTreeSet<&str> = house.files.keys().filter_map(|m| m.first()).map(String::as_str).collect();
    assert_eq!(declared, top_modules, "ARCHITECTURE.md's layers must name every module of src/, and only those");

    let mut against = Vec::new();
    for (from, to) in house.edges() {
        let (Some(from_top), Some(to_top)) = (from.first(), to.first()) else { continue };
        if from_top != to_top && layers[to_top] >= layers[from_top] {
            against.push(format!(
                "{} imports {} (layer {} from layer {})",
                file_name(&from),
                file_name(&to),
                layers[to_top],
                layers[from_top]
            ));
        }
    }
    assert!(against.is_empty(), "imports against the layers of ARCHITECTURE.md:\n{}", against.join("\n"));
    assert!(house.edges().len() > 100, "the reader found too few imports to be reading the code");
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let house = House::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let circles = circles(&house.edges());
    let shown: Vec<String> = circles.iter().map(|c| c.iter().map(file_name).collect::<Vec<_>>().join(" -> ")).collect();
    assert!(shown.is_empty(), "files that import each other in a circle:\n{}", shown.join("\n"));
}

#[test]
fn the_reader_sees_a_circle_and_an_import_against_the_layers() {
    // The checks above must be able to fail: a made-up house with both.
    let mut house = House::default();
    house.add(&["fhir", "types"], "use crate::store::Row;\npub struct Id;");
    house.add(&["store"], "pub use self::row::Row;\nmod row;");
    house.add(&["store", "row"], "use super::writer::Writer;\npub struct Row;");
    house.add(&["store", "writer"], "use crate::store::Row;\npub struct Writer;");
    let edges = house.edges();
    assert!(edges.contains(&(module(&["fhir", "types"]), module(&["store", "row"]))), "{edges:?}");
    let circles = circles(&edges);
    assert_eq!(circles, vec![vec![module(&["store", "row"]), module(&["store", "writer"])]]);
}

/// The layers of ARCHITECTURE.md: the lines of its `layers` block, bottom
/// first, each a list of modules separated by commas.
fn layers_from_architecture() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let start = text.find("```layers\n").expect("ARCHITECTURE.md has a ```layers block") + "```layers\n".len();
    let end = start + text[start..].find("```").unwrap();
    let mut layers = BTreeMap::new();
    for (level, line) in text[start..end].lines().filter(|l| !l.trim().is_empty()).enumerate() {
        for name in line.split(',').map(str::trim) {
            assert!(layers.insert(name.to_owned(), level).is_none(), "{name} is in two layers");
        }
    }
    layers
}

/// The source files of a crate: module path → code without comments and tests.
#[derive(Default)]
struct House {
    files: BTreeMap<ModulePath, String>,
}

impl House {
    fn read(src: PathBuf) -> House {
        let mut house = House::default();
        let mut test_files = BTreeSet::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path == src.join("main.rs") {
                    continue;
                }
                let module = module_of(&src, &path);
                let text = std::fs::read_to_string(&path).unwrap();
                for name in test_modules(&text) {
                    let mut test = module.clone();
                    test.push(name);
                    test_files.insert(test);
                }
                house.add_path(module, &text);
            }
        }
        house.files.retain(|m, _| !test_files.contains(m));
        house
    }

    fn add(&mut self, module: &[&str], text: &str) {
        self.add_path(module.iter().map(|s| s.to_string()).collect(), text);
    }

    fn add_path(&mut self, module: ModulePath, text: &str) {
        self.files.insert(module, without_tests(&without_comments(text)));
    }

    /// Every import `(from file, to file)`, followed through re-exports.
    fn edges(&self) -> BTreeSet<(ModulePath, ModulePath)> {
        let mut edges = BTreeSet::new();
        for (module, text) in &self.files {
            for (path, reexport) in imported_paths(module, text) {
                if reexport {
                    continue;
                }
                if let Some(target) = self.resolve(&path, 0)
                    && &target != module
                {
                    edges.insert((module.clone(), target));
                }
            }
        }
        edges
    }

    /// The file that defines what `path` names.
    fn resolve(&self, path: &[String], depth: usize) -> Option<ModulePath> {
        let split = (0..=path.len()).rev().find(|&n| self.files.contains_key(&path[..n]))?;
        let (module, rest) = path.split_at(split);
        let module = module.to_vec();
        let Some(name) = rest.first() else { return Some(module) };
        let text = &self.files[&module];
        if depth > 8 || defines(text, name) {
            return Some(module);
        }
        for (exported, _) in imported_paths(&module, text).into_iter().filter(|(_, reexport)| *reexport) {
            if exported.last() == Some(name) {
                return self.resolve(&exported, depth + 1).or(Some(module));
            }
        }
        Some(module)
    }
}

fn module_of(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: ModulePath = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn module(parts: &[&str]) -> ModulePath {
    parts.iter().map(|s| s.to_string()).collect()
}

fn file_name(module: &ModulePath) -> String {
    if module.is_empty() { "src/lib.rs".into() } else { format!("src/{}", module.join("/")) }
}

/// `#[cfg(test)] mod name;`: files that hold a module's tests.
fn test_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        rest = &rest[at + "#[cfg(test)]".len()..];
        let declaration = rest.trim_start();
        if let Some(after) = declaration.strip_prefix("mod ")
            && let Some(end) = after.find(';')
            && !after[..end].contains('{')
        {
            names.push(after[..end].trim().to_owned());
        }
    }
    names
}

fn without_comments(text: &str) -> String {
    text.lines().map(|line| line.find("//").map_or(line, |at| &line[..at])).collect::<Vec<_>>().join("\n")
}

/// The code before its tests (`#[cfg(test)]` and what follows it: tests
/// sit at the bottom of a file).
fn without_tests(text: &str) -> String {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at]).to_owned()
}

fn defines(text: &str, name: &str) -> bool {
    const KINDS: [&str; 10] =
        ["fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union", "macro_rules!"];
    text.lines().any(|line| {
        let mut words =
            line.split(|c: char| c.is_whitespace() || c == '(' || c == '<' || c == ':' || c == '{' || c == ';');
        let mut previous = "";
        words.any(|word| {
            let hit = word == name && KINDS.contains(&previous);
            if !word.is_empty() {
                previous = word;
            }
            hit
        })
    })
}

/// Every `crate::`/`super::`/`self::` path of a file as an absolute module
/// path, with whether it is a re-export (`pub use`).
fn imported_paths(module: &ModulePath, text: &str) -> Vec<(ModulePath, bool)> {
    let mut paths = Vec::new();
    let mut code = String::new();
    // `use` statements (each starts a line), trees expanded.
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some((visibility, tree)) = line.trim_start().split_once("use ") else {
            code.push_str(line);
            code.push('\n');
            continue;
        };
        let reexport = match visibility.trim_end() {
            "" => false,
            v if v.starts_with("pub") && !v.contains(' ') => true,
            _ => {
                code.push_str(line);
                code.push('\n');
                continue;
            }
        };
        let mut statement = tree.to_owned();
        while !statement.contains(';') {
            let Some(more) = lines.next() else { break };
            statement.push(' ');
            statement.push_str(more);
        }
        let statement = statement.split(';').next().unwrap_or_default();
        for leaf in expand_tree(statement) {
            if let Some(absolute) = absolute(module, &leaf) {
                paths.push((absolute, reexport));
            }
        }
    }
    // Paths written out in the code.
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            from = begin + start.len();
            if begin > 0 && code[..begin].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String =
                code[begin..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let path: Vec<String> = path.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if let Some(absolute) = absolute(module, &path) {
                paths.push((absolute, false));
            }
        }
    }
    paths
}

/// `a::{b, c::{d, e as f}}` → `[a,b]`, `[a,c,d]`, `[a,c,e]`.
fn expand_tree(tree: &str) -> Vec<Vec<String>> {
    fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        let Some(open) = tree.find('{') else {
            // `e#f` was `e as f`.
            let leaf = tree.split('#').next().unwrap_or(tree);
            path.extend(leaf.split("::").filter(|s| !s.is_empty() && *s != "*").map(str::to_owned));
            if !path.is_empty() {
                out.push(path);
            }
            return;
        };
        path.extend(tree[..open].split("::").filter(|s| !s.is_empty()).map(str::to_owned));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&path, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if !inner[start..].is_empty() {
            expand(&path, &inner[start..], out);
        }
    }
    let words: Vec<&str> = tree.split_whitespace().collect();
    let compact = words.join(" ").replace(" as ", "#").replace(' ', "");
    let mut out = Vec::new();
    expand(&[], &compact, &mut out);
    out
}

/// The absolute module path of a path written in `module`; `None` for
/// paths into other crates.
fn absolute(module: &ModulePath, path: &[String]) -> Option<ModulePath> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => module[..module.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    let mut rest = rest;
    while rest.first().map(String::as_str) == Some("super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(base)
}

/// Groups of files that import each other (strongly connected components
/// of more than one file), each sorted.
fn circles(edges: &BTreeSet<(ModulePath, ModulePath)>) -> Vec<Vec<ModulePath>> {
    let mut next: BTreeMap<&ModulePath, Vec<&ModulePath>> = BTreeMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    let reach = |start: &ModulePath| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(m) = stack.pop() {
            for &n in next.get(m).into_iter().flatten() {
                if seen.insert(n) {
                    stack.push(n);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&ModulePath, BTreeSet<&ModulePath>> = next.keys().map(|m| (*m, reach(m))).collect();
    let mut circles: BTreeSet<Vec<ModulePath>> = BTreeSet::new();
    for (m, seen) in &reached {
        if !seen.contains(m) {
            continue;
        }
        let circle: Vec<ModulePath> =
            seen.iter().filter(|n| reached.get(*n).is_some_and(|s| s.contains(m))).map(|n| (*n).clone()).collect();
        circles.insert(circle);
    }
    circles.into_iter().collect()
}
