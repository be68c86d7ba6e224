//! Driver-neutral SQL values and rows: the drivers convert to and from
//! these, so that the store logic is written once.

use super::{Error, ErrorKind, Result};

/// A bound parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    /// A column of integers, bound as one PostgreSQL array
    /// (`store::batch`); SQLite has no arrays and gets it as JSON text.
    Ints(Vec<Option<i64>>),
    /// A column of texts, like [`SqlValue::Ints`].
    Texts(Vec<Option<String>>),
    /// A column of booleans, like [`SqlValue::Ints`].
    Bools(Vec<Option<bool>>),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Bool(v)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<SqlValue>);

impl Row {
    fn column(&self, i: usize) -> Result<&SqlValue> {
        self.0.get(i).ok_or_else(|| internal(format!("no column {i}")))
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64> {
        match self.column(i)? {
            SqlValue::Int(v) => Ok(*v),
            other => Err(internal(format!("column {i}: expected an integer, got {other:?}"))),
        }
    }

    pub(crate) fn bool(&self, i: usize) -> Result<bool> {
        match self.column(i)? {
            SqlValue::Bool(v) => Ok(*v),
            SqlValue::Int(v) => Ok(*v != 0),
            other => Err(internal(format!("column {i}: expected a boolean, got {other:?}"))),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<&str> {
        match self.column(i)? {
            SqlValue::Text(v) => Ok(v),
            other => Err(internal(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&str>> {
        match self.column(i)? {
            SqlValue::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Moves a text column out of the row.
    pub(crate) fn take_opt_text(&mut self, i: usize) -> Result<Option<String>> {
        match self.0.get_mut(i).map(|v| std::mem::replace(v, SqlValue::Null)) {
            Some(SqlValue::Text(v)) => Ok(Some(v)),
            Some(SqlValue::Null) => Ok(None),
            other => Err(internal(format!("column {i}: expected text, got {other:?}"))),
        }
    }
}

fn internal(message: String) -> Error {
    Error::new(ErrorKind::Internal, message)
}
