//! A vendor's mapping as written in `mappings/<vendor>/`: `mapping.toml`
//! (the delivery's envelope, the record kinds, the code tables) and the
//! resource templates it names. Everything is checked when loaded; an
//! error names the file, the line where it can, and the problem.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::expr::{self, Expr, Piece};
use super::filter::{CodeTable, Filters};
use super::template::Template;
use crate::fhir::ResourceType;

/// A mapping that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct SpecError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// The shape of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reader {
    Json,
    Xml,
    Ndjson,
}

/// A field of the envelope that must hold exactly this value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixed {
    pub at: String,
    pub is: toml::Value,
}

/// A checked mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub vendor: String,
    /// The mapping's own version, recorded with what it wrote.
    pub version: String,
    pub reader: Reader,
    pub format: Fixed,
    pub format_version: Fixed,
    /// Path of the tenant code in the envelope.
    pub tenant: expr::Path,
    /// When the delivery was made (an expression over the envelope).
    pub created: Expr,
    /// NDJSON: the field of each line that says its record kind.
    pub kind_field: Option<String>,
    /// NDJSON: the id of a line of a kind no record kind takes (for its
    /// rejection).
    pub line_id: Option<Expr>,
    pub records: Vec<RecordKind>,
    pub filters: Filters,
}

/// One kind of source record and what it becomes.
#[derive(Debug, Clone)]
pub struct RecordKind {
    pub kind: String,
    /// The list it sits in: field names from the envelope, `[]` stepping
    /// into each item of a list on the way (`clienten[].metingen`). Empty
    /// for NDJSON, whose lines say their kind ([`Self::line_kinds`]).
    pub at: Vec<String>,
    /// NDJSON: the values of the delivery's `kind_field` whose lines are
    /// records of this kind (`at = ["activiteit", "activiteit_verwijderd"]`).
    pub line_kinds: Vec<String>,
    pub id: Expr,
    /// The source id of the client the record belongs to.
    pub client: Option<Expr>,
    pub changed: Option<Expr>,
    pub deleted: Option<Expr>,
    /// A record that only carries its id and nested lists.
    pub container: Option<Expr>,
    /// A record that is not stored (not for the portal, a concept).
    pub skip: Option<Expr>,
    /// The record whose resources this one changes (`ref(kind)`): its
    /// resources are merged into that record's instead of written alone.
    pub amends: Option<Expr>,
    /// Other records take their client through this kind (`linked(kind)`
    /// in their `client`): when one of these changes, they follow.
    pub links: bool,
    /// The kind this one takes its client through (`linked(kind)` in its
    /// `client`).
    pub linked_through: Option<String>,
    /// Records of other kinds amend this kind (`ref(kind)` in their
    /// `amends`): kept as mapped, to merge them in.
    pub amended: bool,
    /// The kind the record is of, when not this one: a tombstone element
    /// naming the type of what it deletes. Its `id` is then that record's.
    pub as_kind: Option<Expr>,
    /// The fields of the record it is nested in that hold records of
    /// their own (left out of the copy kept with a record).
    pub parent_lists: Vec<String>,
    pub resources: Vec<ResourceRule>,
}

/// A resource a record becomes, when its condition holds.
#[derive(Debug, Clone)]
pub struct ResourceRule {
    /// Tells the resources of one record apart (`""` for the main one).
    pub part: String,
    pub resource_type: ResourceType,
    pub when: Option<Expr>,
    pub template: Template,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    vendor: String,
    version: String,
    delivery: FileDelivery,
    #[serde(default)]
    records: Vec<toml::Spanned<FileRecord>>,
    #[serde(default)]
    tables: BTreeMap<String, BTreeMap<String, toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDelivery {
    reader: Reader,
    format: Fixed,
    version: Fixed,
    tenant: String,
    created: String,
    kind_field: Option<String>,
    line_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRecord {
    kind: String,
    at: OneOrMany,
    id: String,
    client: Option<String>,
    changed: Option<String>,
    deleted: Option<String>,
    container: Option<String>,
    skip: Option<String>,
    amends: Option<String>,
    as_kind: Option<String>,
    resources: Vec<FileResource>,
}

/// `at`: one list path, or (NDJSON) one or more line kinds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn all(&self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileResource {
    #[serde(default)]
    part: String,
    template: String,
    when: Option<String>,
}

/// Reads a template by the name `mapping.toml` gives it: its file name as
/// shown in errors, and its text.
pub type TemplateSource<'a> = dyn Fn(&str) -> Result<(String, String), SpecError> + 'a;

/// The key of a code table entry used for codes not in the table, with a
/// warning for each.
pub const OTHERWISE: &str = "$otherwise";
/// The same without warnings: codes outside the table are normal.
pub const OTHERWISE_QUIETLY: &str = "$otherwise_quietly";

impl Mapping {
    /// Loads `dir/mapping.toml` and the templates it names.
    pub fn load(dir: &Path) -> Result<Mapping, SpecError> {
        let path = dir.join("mapping.toml");
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| SpecError {
            file: shown.clone(),
            line: None,
            message: e.to_string(),
        })?;
        Mapping::parse(&text, &shown, &|name| read_template(dir, name))
    }

    /// Parses a mapping file; `template` reads a template file by name.
    pub fn parse(text: &str, file: &str, template: &TemplateSource<'_>) -> Result<Mapping, SpecError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let error = |line: Option<usize>, message: String| SpecError { file: file.to_owned(), line, message };
        let parsed: File = toml::from_str(text).map_err(|e| {
            let message = e.message().to_owned();
            error(e.span().map(|span| line_of(span.start)), message)
        })?;

        let mut tables = BTreeMap::new();
        for (name, entries) in parsed.tables {
            let mut table = CodeTable::default();
            for (code, value) in entries {
                let value = serde_json::to_value(&value).map_err(|e| error(None, format!("table {name}: {e}")))?;
                if code == OTHERWISE || code == OTHERWISE_QUIETLY {
                    if table.otherwise.is_some() {
                        return Err(error(None, format!("table {name}: `{OTHERWISE}` and `{OTHERWISE_QUIETLY}` both")));
                    }
                    table.quietly = code == OTHERWISE_QUIETLY;
                    table.otherwise = Some(value);
                } else {
                    table.entries.insert(code, value);
                }
            }
            tables.insert(name, table);
        }
        let kinds = parsed.records.iter().map(|r| r.get_ref().kind.clone()).collect::<Vec<_>>();
        let parts = parsed
            .records
            .iter()
            .map(|r| {
                let record = r.get_ref();
                let named = record.resources.iter().map(|p| p.part.clone()).filter(|p| !p.is_empty());
                (record.kind.clone(), named.collect())
            })
            .collect();
        let filters = Filters::new(tables, kinds.clone()).with_parts(parts);
        for (i, kind) in kinds.iter().enumerate() {
            if kinds[..i].contains(kind) {
                return Err(error(
                    Some(line_of(parsed.records[i].span().start)),
                    format!("record kind `{kind}` twice"),
                ));
            }
        }

        let delivery = parsed.delivery;
        let created =
            expression(&delivery.created, &filters).map_err(|m| error(None, format!("delivery.created: {m}")))?;
        let tenant = match expr::parse(&delivery.tenant) {
            Ok(Expr { operand: expr::Operand::Path(path), filters }) if filters.is_empty() => path,
            _ => return Err(error(None, format!("delivery.tenant: `{}` is not a field path", delivery.tenant))),
        };

        match (delivery.reader, &delivery.kind_field) {
            (Reader::Ndjson, None) => {
                return Err(error(
                    None,
                    "delivery.kind_field: an NDJSON delivery names the field of each line's kind".into(),
                ));
            }
            (Reader::Json | Reader::Xml, Some(_)) => {
                return Err(error(None, "delivery.kind_field: only NDJSON deliveries have one".into()));
            }
            _ => {}
        }
        let line_id = match (&delivery.line_id, &delivery.kind_field) {
            (Some(_), None) => return Err(error(None, "delivery.line_id: only NDJSON deliveries have one".into())),
            (Some(id), Some(_)) => {
                Some(expression(id, &filters).map_err(|m| error(None, format!("delivery.line_id: {m}")))?)
            }
            (None, _) => None,
        };
        let mut line_kinds_seen: Vec<String> = Vec::new();
        let mut records = Vec::new();
        for spanned in &parsed.records {
            let line = Some(line_of(spanned.span().start));
            let record = spanned.get_ref();
            let here = |field: &str, m: String| error(line, format!("record `{}`, {field}: {m}", record.kind));
            let optional = |field: &str, source: &Option<String>| -> Result<Option<Expr>, SpecError> {
                source.as_deref().map(|s| expression(s, &filters).map_err(|m| here(field, m))).transpose()
            };
            let mut resources = Vec::new();
            for resource in &record.resources {
                let (template_file, template_text) = template(&resource.template)?;
                let value: Value = serde_json::from_str(&template_text).map_err(|e| SpecError {
                    file: template_file.clone(),
                    line: Some(e.line()),
                    message: e.to_string(),
                })?;
                let resource_type = value
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .and_then(|t| t.parse::<ResourceType>().ok())
                    .ok_or_else(|| SpecError {
                        file: template_file.clone(),
                        line: None,
                        message: "the template needs a `resourceType` served by the gateway".into(),
                    })?;
                let compiled = Template::compile(&value, &filters).map_err(|e| SpecError {
                    file: template_file.clone(),
                    line: None,
                    message: e.to_string(),
                })?;
                resources.push(ResourceRule {
                    part: resource.part.clone(),
                    resource_type,
                    when: optional("when", &resource.when)?,
                    template: compiled,
                });
            }
            // One resource per part; templates may share a part when each
            // has a `when` (the engine refuses a record where two apply).
            for (i, rule) in resources.iter().enumerate() {
                let mut same_part = resources[..i].iter().filter(|r| r.part == rule.part).peekable();
                if same_part.peek().is_some() && (rule.when.is_none() || same_part.any(|r| r.when.is_none())) {
                    return Err(here(
                        "resources",
                        format!("part `{}` twice: give each its own part, or each a `when`", rule.part),
                    ));
                }
            }
            let (at, line_kinds) = match (delivery.reader, &record.at) {
                (Reader::Ndjson, at) => {
                    let kinds = at.all();
                    if kinds.is_empty() || kinds.iter().any(|k| k.trim().is_empty()) {
                        return Err(here("at", "name the line kinds of this record kind".into()));
                    }
                    if let Some(twice) = kinds.iter().find(|k| line_kinds_seen.contains(k)) {
                        return Err(here("at", format!("line kind `{twice}` belongs to another record kind too")));
                    }
                    line_kinds_seen.extend(kinds.iter().cloned());
                    (Vec::new(), kinds)
                }
                (_, OneOrMany::One(path)) => (list_path(path).map_err(|m| here("at", m))?, Vec::new()),
                (_, OneOrMany::Many(_)) => {
                    return Err(here("at", "one list path: several line kinds are for NDJSON deliveries".into()));
                }
            };
            records.push(RecordKind {
                kind: record.kind.clone(),
                at,
                line_kinds,
                id: expression(&record.id, &filters).map_err(|m| here("id", m))?,
                client: optional("client", &record.client)?,
                changed: optional("changed", &record.changed)?,
                deleted: optional("deleted", &record.deleted)?,
                container: optional("container", &record.container)?,
                skip: optional("skip", &record.skip)?,
                amends: optional("amends", &record.amends)?,
                links: false,
                linked_through: None,
                amended: false,
                as_kind: optional("as_kind", &record.as_kind)?,
                parent_lists: Vec::new(),
                resources,
            });
        }
        // The kinds records take their client through.
        for record in &mut records {
            record.linked_through = record
                .client
                .as_ref()
                .and_then(|e| e.filters.iter().find(|f| f.name == "linked"))
                .and_then(|f| f.args.first().map(expr::Arg::as_text));
        }
        let linked: Vec<String> = records.iter().filter_map(|r| r.linked_through.clone()).collect();
        let amended: Vec<String> = records
            .iter()
            .filter_map(|r| r.amends.as_ref())
            .flat_map(|e| e.filters.iter().filter(|f| f.name == "ref"))
            .filter_map(|f| f.args.first().map(expr::Arg::as_text))
            .collect();
        for record in &mut records {
            record.links = linked.contains(&record.kind);
            record.amended = amended.contains(&record.kind);
        }
        let lists: Vec<Vec<String>> = records.iter().map(|kind| nested_lists(&records, &parent_of(&kind.at))).collect();
        for (kind, lists) in records.iter_mut().zip(lists) {
            kind.parent_lists = lists;
        }
        Ok(Mapping {
            vendor: parsed.vendor,
            version: parsed.version,
            reader: delivery.reader,
            format: delivery.format,
            format_version: delivery.version,
            tenant,
            created,
            kind_field: delivery.kind_field,
            line_id,
            records,
            filters,
        })
    }
}

impl Mapping {
    /// The record kind of a kind's name, or (NDJSON) of a line kind.
    pub fn record_kind(&self, name: &str) -> Option<&RecordKind> {
        let mut kinds = self.records.iter();
        kinds.clone().find(|k| k.kind == name).or_else(|| kinds.find(|k| k.line_kinds.iter().any(|l| l == name)))
    }

    /// The fields of a record at `at` that hold records of their own
    /// (the first step after `at` + `[]` of every kind nested in it).
    pub fn nested_lists(&self, at: &[String]) -> Vec<String> {
        nested_lists(&self.records, at)
    }
}

fn nested_lists(records: &[RecordKind], at: &[String]) -> Vec<String> {
    let mut lists: Vec<String> = Vec::new();
    for inner in records {
        if at.is_empty() || inner.at.len() <= at.len() + 1 || !inner.at.starts_with(at) || inner.at[at.len()] != "[]" {
            continue;
        }
        let field = &inner.at[at.len() + 1];
        if !lists.contains(field) {
            lists.push(field.clone());
        }
    }
    lists
}

/// The `at` of the record a record at `at` is nested in (empty for a
/// top-level one): what comes before the last `[]`.
fn parent_of(at: &[String]) -> Vec<String> {
    at.iter().rposition(|step| step == "[]").map_or_else(Vec::new, |i| at[..i].to_vec())
}

fn read_template(dir: &Path, name: &str) -> Result<(String, String), SpecError> {
    let path: PathBuf = dir.join("templates").join(name);
    let shown = path.display().to_string();
    if name.contains("..") || Path::new(name).is_absolute() {
        return Err(SpecError { file: shown, line: None, message: "templates are named inside templates/".into() });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| SpecError {
        file: shown.clone(),
        line: None,
        message: format!("cannot read the template: {e}"),
    })?;
    Ok((shown, text))
}

/// A string holding exactly one `{{ expression }}`, checked.
fn expression(source: &str, filters: &Filters) -> Result<Expr, String> {
    match <[Piece; 1]>::try_from(expr::pieces(source).map_err(|e| e.to_string())?) {
        Ok([Piece::Expr(e)]) => {
            filters.check(&e)?;
            Ok(e)
        }
        _ => Err(format!("`{source}` is not one `{{{{ expression }}}}`")),
    }
}

/// `clienten[].metingen` → `["clienten", "[]", "metingen"]`.
fn list_path(source: &str) -> Result<Vec<String>, String> {
    let mut steps = Vec::new();
    for part in source.split('.') {
        let (name, into_each) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ':') {
            return Err(format!("`{source}` is not a list path (field names, `[]` to step into each item)"));
        }
        steps.push(name.to_owned());
        if into_each {
            steps.push("[]".to_owned());
        }
    }
    Ok(steps)
}
