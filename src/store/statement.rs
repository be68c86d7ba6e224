//! SQL text with bound values, for both drivers: every value is bound,
//! never formatted into the SQL text; the only thing that differs between
//! SQLite and PostgreSQL here is the placeholder.

use super::row::SqlValue;

/// The placeholder style of a driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `?`
    Sqlite,
    /// `$1`, `$2`, …
    Postgres,
}

/// SQL text and its bound values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sql {
    pub(crate) dialect: Dialect,
    pub(crate) text: String,
    pub(crate) binds: Vec<SqlValue>,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Sql { dialect, text: String::new(), binds: Vec::new() }
    }

    /// A statement whose text has `?` for each value, in order.
    pub(crate) fn statement(dialect: Dialect, text: &str, binds: Vec<SqlValue>) -> Self {
        let mut sql = Sql::new(dialect);
        let mut values = binds.into_iter();
        let mut parts = text.split('?').peekable();
        while let Some(part) = parts.next() {
            sql.push(part);
            if parts.peek().is_some() {
                sql.bind(values.next().expect("a value for every placeholder"));
            }
        }
        assert!(values.next().is_none(), "more values than placeholders in: {text}");
        sql
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(crate) fn bind(&mut self, value: impl Into<SqlValue>) -> &mut Self {
        self.binds.push(value.into());
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.binds.len().to_string());
            }
        }
        self
    }
}

/// Bound values separated by commas, for `IN (...)`.
pub(crate) fn push_list<V: Into<SqlValue>>(sql: &mut Sql, values: impl IntoIterator<Item = V>) {
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(value);
    }
}
