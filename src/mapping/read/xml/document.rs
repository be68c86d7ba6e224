//! An XML document read element by element, each top-level element (a
//! child of the root) turned into a `Value` for the mapping engine
//! (`docs/mapping.md`, "XML deliveries"):
//!
//! - an element is an object of its attributes and child elements, by
//!   local name, its text (if any) under `$text`; an element with neither
//!   attributes nor children is its text;
//! - a name that comes more than once makes a list, in document order;
//! - only the root's namespace counts: elements and attributes of another
//!   namespace are ignored (read, checked, left out), unprefixed
//!   attributes are the element's own;
//! - text is trimmed; the five predefined entities and character
//!   references are decoded, CDATA taken as it is.
//!
//! Nothing from a document type declaration is ever used: a document
//! that has one is refused before anything after it is read, so that no
//! entity is ever expanded (billion laughs) or fetched (external
//! entities). An entity reference other than the five predefined ones is
//! an error.

use std::io::BufRead;

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use serde_json::{Map, Value};

use crate::mapping::scope::TEXT;

/// How deep elements may nest inside a top-level element.
const MAX_DEPTH: usize = 64;

/// Why a document cannot be read; `at` is the byte offset where the
/// reader noticed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (near byte {at})")]
pub(crate) struct XmlError {
    pub(crate) message: String,
    pub(crate) at: u64,
    /// The underlying reader's error, when it was an I/O error.
    pub(crate) not_utf8: Option<u64>,
}

/// The root element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Root {
    pub(crate) local_name: String,
    pub(crate) namespace: Option<String>,
    /// Its attributes (of no namespace or the root's), by local name.
    pub(crate) attributes: Map<String, Value>,
}

/// The start of a top-level element.
#[derive(Debug)]
pub(crate) struct ChildStart {
    pub(crate) local_name: String,
    /// Whether it is in the root's namespace.
    pub(crate) ours: bool,
    start: BytesStart<'static>,
    empty: bool,
}

/// A document being read, positioned inside its root.
#[derive(Debug)]
pub(crate) struct Document<R> {
    reader: NsReader<R>,
    buf: Vec<u8>,
    namespace: Option<String>,
    /// Whether the root has been closed.
    closed: bool,
}

impl<R: BufRead> Document<R> {
    /// Reads the prolog and the root's start tag.
    pub(crate) fn open(source: R) -> Result<(Document<R>, Root), XmlError> {
        let mut reader = NsReader::from_reader(source);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.expand_empty_elements = false;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let event = reader.read_event_into(&mut buf).map_err(|e| fail(&reader, e))?;
            let error = |message: String| error(&reader, message);
            match event {
                Event::Decl(decl) => {
                    let encoding = decl.encoding().transpose().map_err(|e| fail(&reader, e))?;
                    if let Some(encoding) = encoding.filter(|e| !e.eq_ignore_ascii_case("utf-8")) {
                        return Err(error(format!(
                            "the document declares the encoding `{encoding}`; only UTF-8 is read"
                        )));
                    }
                }
                Event::DocType(doctype) => {
                    let what = if doctype.contains("<!ENTITY") {
                        "declares entities"
                    } else if doctype.contains("SYSTEM") || doctype.contains("PUBLIC") {
                        "names an external definition"
                    } else {
                        "has a document type declaration"
                    };
                    return Err(error(format!(
                        "the document {what}: refused, a delivery is read without DTDs (no entity is ever expanded \
                         or fetched)"
                    )));
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if text.trim().is_empty() => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(error("there is text before the root element".into()));
                }
                Event::Start(ref start) | Event::Empty(ref start) => {
                    let empty = matches!(event, Event::Empty(_));
                    let (namespace, local_name) = reader.resolver().resolve_element(start.name());
                    let namespace = match namespace {
                        ResolveResult::Bound(ns) => Some(ns.0.to_owned()),
                        ResolveResult::Unbound => None,
                        ResolveResult::Unknown(prefix) => {
                            return Err(error(format!("the prefix `{prefix}` is not declared")));
                        }
                    };
                    let local_name = local_name.as_ref().to_owned();
                    let attributes = attributes(&reader, namespace.as_deref(), start)?;
                    let root = Root { local_name, namespace: namespace.clone(), attributes };
                    let document = Document { reader, buf: Vec::new(), namespace, closed: empty };
                    return Ok((document, root));
                }
                Event::End(_) => return Err(error("an end tag comes before the root element".into())),
                Event::Eof => return Err(error("the document has no root element".into())),
            }
        }
    }

    /// The next element inside the root, or `None` after the root's end
    /// tag (the rest of the document checked to its end).
    pub(crate) fn next_child(&mut self) -> Result<Option<ChildStart>, XmlError> {
        if self.closed {
            self.finish()?;
            return Ok(None);
        }
        let Document { reader, buf, namespace, closed } = self;
        loop {
            buf.clear();
            let event = reader.read_event_into(buf).map_err(|e| fail(reader, e))?;
            let error = |message: String| error(reader, message);
            match event {
                Event::Start(ref start) | Event::Empty(ref start) => {
                    let empty = matches!(event, Event::Empty(_));
                    let (ours, local_name) = element_name(reader, namespace.as_deref(), start)?;
                    let start = start.to_owned();
                    return Ok(Some(ChildStart { local_name, ours, start, empty }));
                }
                Event::End(_) => {
                    *closed = true;
                    break;
                }
                Event::GeneralRef(reference) => {
                    decode_reference(&reference).map_err(error)?;
                }
                Event::Eof => return Err(cut_short(reader)),
                Event::DocType(_) => return Err(error("a document type declaration inside the root".into())),
                Event::Decl(_) => return Err(error("an XML declaration inside the root".into())),
                // Text directly inside the root means nothing here.
                Event::Text(_) | Event::CData(_) | Event::Comment(_) | Event::PI(_) => {}
            }
        }
        self.finish()?;
        Ok(None)
    }

    /// Reads a top-level element whole, as a value (`Null` for one of
    /// another namespace).
    pub(crate) fn read_child(&mut self, child: ChildStart) -> Result<Value, XmlError> {
        let Document { reader, buf, namespace, .. } = self;
        let namespace = namespace.as_deref();
        let mut stack = vec![node(reader, namespace, &child.start, child.ours)?];
        if child.empty {
            return Ok(value_of(finish_node(stack.pop().unwrap_or_default())));
        }
        loop {
            buf.clear();
            let event = reader.read_event_into(buf).map_err(|e| fail(reader, e))?;
            let error = |message: String| error(reader, message);
            match event {
                Event::Start(ref start) | Event::Empty(ref start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(error(format!("elements nest deeper than {MAX_DEPTH}")));
                    }
                    let ours = stack.last().is_some_and(|n| n.ours) && element_name(reader, namespace, start)?.0;
                    let node = node(reader, namespace, start, ours)?;
                    if matches!(event, Event::Empty(_)) {
                        let value = finish_node(node);
                        if let Some(parent) = stack.last_mut() {
                            parent.add_child(value);
                        }
                    } else {
                        stack.push(node);
                    }
                }
                Event::End(_) => {
                    let node = stack.pop().unwrap_or_default();
                    let value = finish_node(node);
                    match stack.last_mut() {
                        Some(parent) => parent.add_child(value),
                        None => return Ok(value_of(value)),
                    }
                }
                Event::Text(text) => {
                    let text = text.xml10_content();
                    if let Some(node) = stack.last_mut() {
                        node.text.push_str(&text);
                    }
                }
                Event::CData(data) => {
                    let text = data.xml10_content();
                    if let Some(node) = stack.last_mut() {
                        node.text.push_str(&text);
                    }
                }
                Event::GeneralRef(reference) => {
                    let decoded = decode_reference(&reference).map_err(error)?;
                    if let Some(node) = stack.last_mut() {
                        node.text.push(decoded);
                    }
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return Err(cut_short(reader)),
                Event::DocType(_) => return Err(error("a document type declaration inside the root".into())),
                Event::Decl(_) => return Err(error("an XML declaration inside the root".into())),
            }
        }
    }

    /// Skips a top-level element (read before, in the first pass).
    pub(crate) fn skip_child(&mut self, child: ChildStart) -> Result<(), XmlError> {
        if child.empty {
            return Ok(());
        }
        self.buf.clear();
        let end = child.start.to_end().into_owned();
        self.reader.read_to_end_into(end.name(), &mut self.buf).map(|_| ()).map_err(|e| fail(&self.reader, e))
    }

    /// After the root: only comments, processing instructions and white
    /// space, to the end.
    fn finish(&mut self) -> Result<(), XmlError> {
        loop {
            self.buf.clear();
            match self.reader.read_event_into(&mut self.buf).map_err(|e| fail(&self.reader, e))? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if text.trim().is_empty() => {}
                _ => return Err(error(&self.reader, "there is more after the root element".into())),
            }
        }
    }
}

/// Whether an element is in the root's namespace, and its local name.
fn element_name<R>(
    reader: &NsReader<R>,
    namespace: Option<&str>,
    start: &BytesStart<'_>,
) -> Result<(bool, String), XmlError> {
    let (resolved, local_name) = reader.resolver().resolve_element(start.name());
    let ours = match resolved {
        ResolveResult::Bound(ns) => Some(ns.0) == namespace,
        ResolveResult::Unbound => namespace.is_none(),
        ResolveResult::Unknown(prefix) => return Err(error(reader, format!("the prefix `{prefix}` is not declared"))),
    };
    Ok((ours, local_name.as_ref().to_owned()))
}

fn node<R>(
    reader: &NsReader<R>,
    namespace: Option<&str>,
    start: &BytesStart<'_>,
    ours: bool,
) -> Result<Node, XmlError> {
    let (_, name) = element_name(reader, namespace, start)?;
    Ok(Node { name, ours, fields: attributes(reader, namespace, start)?, children: false, text: String::new() })
}

/// The attributes of no namespace or the root's, by local name, their
/// values decoded and trimmed; namespace declarations left out. Every
/// attribute is checked, also those left out.
fn attributes<R>(
    reader: &NsReader<R>,
    namespace: Option<&str>,
    start: &BytesStart<'_>,
) -> Result<Map<String, Value>, XmlError> {
    let mut fields = Map::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| error(reader, format!("an attribute: {e}")))?;
        let key = attribute.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| error(reader, format!("the attribute `{key}`: {e}")))?;
        let (resolved, local_name) = reader.resolver().resolve_attribute(attribute.key);
        let ours = match resolved {
            ResolveResult::Unbound => true,
            ResolveResult::Bound(ns) => Some(ns.0) == namespace,
            ResolveResult::Unknown(prefix) => {
                return Err(error(reader, format!("the prefix `{prefix}` is not declared")));
            }
        };
        if ours {
            add(&mut fields, local_name.as_ref(), Value::String(value.trim().to_owned()));
        }
    }
    Ok(fields)
}

fn error<R>(reader: &NsReader<R>, message: String) -> XmlError {
    XmlError { message, at: reader.buffer_position(), not_utf8: None }
}

fn cut_short<R>(reader: &NsReader<R>) -> XmlError {
    error(reader, "the document ends inside its root element (is it cut short?)".into())
}

/// An element being read.
#[derive(Debug, Default)]
struct Node {
    name: String,
    /// Whether it is in the root's namespace (and so are its ancestors).
    ours: bool,
    fields: Map<String, Value>,
    children: bool,
    text: String,
}

impl Node {
    /// Adds a finished child element (`(name, value)`, `None` for one of
    /// another namespace).
    fn add_child(&mut self, child: Option<(String, Value)>) {
        if let Some((name, value)) = child {
            self.children = true;
            add(&mut self.fields, &name, value);
        }
    }
}

/// An element's name and value; `None` for one outside the root's
/// namespace.
fn finish_node(node: Node) -> Option<(String, Value)> {
    if !node.ours {
        return None;
    }
    let text = node.text.trim();
    let value = if node.fields.is_empty() && !node.children {
        Value::String(text.to_owned())
    } else {
        let mut fields = node.fields;
        if !text.is_empty() {
            fields.insert(TEXT.to_owned(), Value::String(text.to_owned()));
        }
        Value::Object(fields)
    };
    Some((node.name, value))
}

fn value_of(child: Option<(String, Value)>) -> Value {
    child.map_or(Value::Null, |(_, value)| value)
}

/// Adds a field; a name that comes again makes a list.
fn add(fields: &mut Map<String, Value>, name: &str, value: Value) {
    match fields.get_mut(name) {
        None => {
            fields.insert(name.to_owned(), value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(first) => {
            let first = std::mem::take(first);
            fields.insert(name.to_owned(), Value::Array(vec![first, value]));
        }
    }
}

/// The character an entity or character reference stands for: only the
/// five predefined entities are known.
fn decode_reference(reference: &BytesRef<'_>) -> Result<char, String> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(format!("`&{};` is not a character", &**reference)),
        };
    }
    match &**reference {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(format!(
            "the entity `&{other};` is not defined (only the five predefined entities and character references are \
             read)"
        )),
    }
}

fn fail<R>(reader: &NsReader<R>, error: impl Into<quick_xml::Error>) -> XmlError {
    let error = error.into();
    let not_utf8 = match &error {
        quick_xml::Error::Io(io) => io.get_ref().and_then(|e| e.downcast_ref::<super::super::bytes::NotUtf8>()),
        _ => None,
    }
    .map(|e| e.offset);
    let message = match &error {
        quick_xml::Error::Syntax(syntax) if format!("{syntax:?}").starts_with("Unclosed") => {
            format!("the document ends too soon (is it cut short?): {error}")
        }
        _ => error.to_string(),
    };
    XmlError { message, at: reader.error_position(), not_utf8 }
}
