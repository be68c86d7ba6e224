//! The first pass over a delivery: the whole file must read as one JSON
//! object, every value in it as serde_json would read it into a `Value`
//! (so the second pass cannot fail where this one passed). The record
//! lists are checked and counted but never held; everything else at the
//! top is the envelope.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// What the first pass found.
#[derive(Debug, Default)]
pub(super) struct Framing {
    /// The top-level object without its record lists.
    pub(super) envelope: Map<String, Value>,
    /// The record lists present as arrays, in the order of the file.
    pub(super) lists: Vec<ListSpan>,
}

/// Where a record list is in the file and how many items it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListSpan {
    pub(super) name: String,
    /// The offset just after the `:` before the list.
    pub(super) start: u64,
    pub(super) items: u64,
}

/// Reads the top-level object; `lists` are the keys of record lists;
/// `taken` is the offset of the next byte the parser takes.
#[derive(Debug)]
pub(super) struct FramingSeed<'a> {
    pub(super) lists: &'a [&'a str],
    pub(super) taken: Rc<Cell<u64>>,
}

impl<'de> DeserializeSeed<'de> for FramingSeed<'_> {
    type Value = Framing;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Framing, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FramingSeed<'_> {
    type Value = Framing;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object at the top (the envelope and the record lists)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Framing, A::Error> {
        let mut framing = Framing::default();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("the key `{key}` comes twice at the top")));
            }
            if self.lists.contains(&key.as_str()) {
                match map.next_value_seed(ListOrValue { taken: &self.taken })? {
                    Found::List { start, items } => framing.lists.push(ListSpan { name: key, start, items }),
                    // Not a list (`null`, or an object to step into): small,
                    // kept with the envelope.
                    Found::Value(value) => {
                        framing.envelope.insert(key, value);
                    }
                }
            } else {
                let value = map.next_value()?;
                framing.envelope.insert(key, value);
            }
        }
        Ok(framing)
    }
}

enum Found {
    List { start: u64, items: u64 },
    Value(Value),
}

/// A record list is checked and counted; any other value is kept.
struct ListOrValue<'a> {
    taken: &'a Cell<u64>,
}

impl<'de> DeserializeSeed<'de> for ListOrValue<'_> {
    type Value = Found;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found, D::Error> {
        // The parser has taken the `:` and nothing after it.
        let start = self.taken.get();
        deserializer.deserialize_any(ListOrValueVisitor { start })
    }
}

struct ListOrValueVisitor {
    start: u64,
}

impl<'de> Visitor<'de> for ListOrValueVisitor {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found, A::Error> {
        let mut items = 0;
        while seq.next_element::<Wellformed>()?.is_some() {
            items += 1;
        }
        Ok(Found::List { start: self.start, items })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Found, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Found::Value)
    }

    fn visit_unit<E>(self) -> Result<Found, E> {
        Ok(Found::Value(Value::Null))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Found, E> {
        Ok(Found::Value(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Found, E> {
        Ok(Found::Value(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Found, E> {
        Ok(Found::Value(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Found, E> {
        Ok(Found::Value(Number::from_f64(v).map_or(Value::Null, Value::Number)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Found, E> {
        Ok(Found::Value(Value::String(v.to_owned())))
    }
}

/// Any JSON value, read as serde_json reads a `Value` (every string
/// decoded, every number converted, the same nesting limit) and dropped.
/// `IgnoredAny` skips less carefully: it neither decodes strings nor
/// limits nesting.
struct Wellformed;

impl<'de> Deserialize<'de> for Wellformed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Wellformed, D::Error> {
        deserializer.deserialize_any(WellformedVisitor)
    }
}

struct WellformedVisitor;

impl<'de> Visitor<'de> for WellformedVisitor {
    type Value = Wellformed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wellformed, A::Error> {
        while seq.next_element::<Wellformed>()?.is_some() {}
        Ok(Wellformed)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wellformed, A::Error> {
        while map.next_key::<Wellformed>()?.is_some() {
            map.next_value::<Wellformed>()?;
        }
        Ok(Wellformed)
    }

    fn visit_unit<E>(self) -> Result<Wellformed, E> {
        Ok(Wellformed)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Wellformed, E> {
        Ok(Wellformed)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Wellformed, E> {
        Ok(Wellformed)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Wellformed, E> {
        Ok(Wellformed)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Wellformed, E> {
        Ok(Wellformed)
    }

    fn visit_str<E>(self, _: &str) -> Result<Wellformed, E> {
        Ok(Wellformed)
    }
}
