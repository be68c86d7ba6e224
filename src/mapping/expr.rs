//! The expressions of mapping files: `{{ path | filter(arg) | filter }}`.
//!
//! An expression names a value of the source record by its path (dotted
//! field names; `$parent.` for the record it is nested in, `$delivery.` for
//! the envelope, or a name bound by `$each`), or is a quoted text or a
//! number, and passes it through filters from left to right. Parsing is
//! separate from evaluation, so that a mapping file is checked once, when
//! it is loaded.

use std::fmt;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub operand: Operand,
    pub filters: Vec<FilterCall>,
}

/// Where an expression's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Field names from a root.
    Path(Path),
    Text(String),
    Number(serde_json::Number),
}

/// `root.field.field`: the first name is looked up among the bound names
/// and the fields of the current record, in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(pub Vec<String>);

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// `name` or `name(arg, ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterCall {
    pub name: String,
    pub args: Vec<Arg>,
}

/// A filter argument: a literal or a bare name (a code table, a record
/// kind, a part, or a field path such as `in_zorg.einde`).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Number(serde_json::Number),
    Name(String),
}

impl Arg {
    /// The argument as text, whatever its kind.
    pub fn as_text(&self) -> String {
        match self {
            Arg::Text(t) | Arg::Name(t) => t.clone(),
            Arg::Number(n) => n.to_string(),
        }
    }
}

/// A malformed expression, with the column (from 1) where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (column {column} of `{expression}`)")]
pub struct ExprError {
    pub message: String,
    pub column: usize,
    pub expression: String,
}

/// Parses the inside of `{{ ... }}`.
pub fn parse(source: &str) -> Result<Expr, ExprError> {
    let mut parser = Parser { chars: source.char_indices().collect(), at: 0, source };
    parser.skip_spaces();
    let operand = parser.operand()?;
    let mut filters = Vec::new();
    loop {
        parser.skip_spaces();
        match parser.peek() {
            None => break,
            Some('|') => {
                parser.at += 1;
                parser.skip_spaces();
                filters.push(parser.filter()?);
            }
            Some(c) => return Err(parser.error(format!("expected `|` or the end, found `{c}`"))),
        }
    }
    Ok(Expr { operand, filters })
}

struct Parser<'a> {
    chars: Vec<(usize, char)>,
    at: usize,
    source: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|(_, c)| *c)
    }

    fn error(&self, message: String) -> ExprError {
        ExprError { message, column: self.at + 1, expression: self.source.to_owned() }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn operand(&mut self) -> Result<Operand, ExprError> {
        match self.peek() {
            Some('\'') => Ok(Operand::Text(self.text()?)),
            Some(c) if c.is_ascii_digit() || c == '-' => Ok(Operand::Number(self.number()?)),
            Some(c) if is_name_start(c) => {
                let mut segments = vec![self.name()?];
                while self.peek() == Some('.') {
                    self.at += 1;
                    segments.push(self.name()?);
                }
                Ok(Operand::Path(Path(segments)))
            }
            Some(c) => Err(self.error(format!("expected a field path, a 'text' or a number, found `{c}`"))),
            None => Err(self.error("the expression is empty".into())),
        }
    }

    fn filter(&mut self) -> Result<FilterCall, ExprError> {
        let name = self.name()?;
        let mut args = Vec::new();
        self.skip_spaces();
        if self.peek() == Some('(') {
            self.at += 1;
            loop {
                self.skip_spaces();
                match self.peek() {
                    Some(')') if args.is_empty() => {
                        self.at += 1;
                        break;
                    }
                    Some('\'') => args.push(Arg::Text(self.text()?)),
                    Some(c) if c.is_ascii_digit() || c == '-' => args.push(Arg::Number(self.number()?)),
                    Some(c) if is_name_start(c) => args.push(Arg::Name(self.dotted_name()?)),
                    Some(c) => return Err(self.error(format!("expected an argument, found `{c}`"))),
                    None => return Err(self.error(format!("the arguments of `{name}` are not closed"))),
                }
                self.skip_spaces();
                match self.peek() {
                    Some(',') => self.at += 1,
                    Some(')') => {
                        self.at += 1;
                        break;
                    }
                    Some(c) => return Err(self.error(format!("expected `,` or `)`, found `{c}`"))),
                    None => return Err(self.error(format!("the arguments of `{name}` are not closed"))),
                }
            }
        }
        Ok(FilterCall { name, args })
    }

    fn name(&mut self) -> Result<String, ExprError> {
        let start = self.at;
        match self.peek() {
            Some(c) if is_name_start(c) => self.at += 1,
            Some(c) => return Err(self.error(format!("expected a name, found `{c}`"))),
            None => return Err(self.error("expected a name".into())),
        }
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        Ok(self.chars[start..self.at].iter().map(|(_, c)| c).collect())
    }

    /// A name, or names joined by dots (a field path as an argument).
    fn dotted_name(&mut self) -> Result<String, ExprError> {
        let mut name = self.name()?;
        while self.peek() == Some('.') {
            self.at += 1;
            name.push('.');
            name.push_str(&self.name()?);
        }
        Ok(name)
    }

    fn text(&mut self) -> Result<String, ExprError> {
        self.at += 1; // the opening quote
        let mut text = String::new();
        loop {
            match self.peek() {
                Some('\'') if self.chars.get(self.at + 1).map(|(_, c)| *c) == Some('\'') => {
                    text.push('\'');
                    self.at += 2;
                }
                Some('\'') => {
                    self.at += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
                None => return Err(self.error("a 'text' is not closed".into())),
            }
        }
    }

    fn number(&mut self) -> Result<serde_json::Number, ExprError> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().map(|(_, c)| c).collect();
        text.parse::<serde_json::Number>().map_err(|_| self.error(format!("`{text}` is not a number")))
    }
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

/// The parts of a template string: literal text and `{{ }}` expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Literal(String),
    Expr(Expr),
}

/// Splits a template string into literal text and parsed expressions.
pub fn pieces(template: &str) -> Result<Vec<Piece>, ExprError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| ExprError {
            message: "`{{` is not closed by `}}`".into(),
            column: template.len() - rest.len() + open + 1,
            expression: template.to_owned(),
        })?;
        pieces.push(Piece::Expr(parse(&after[..close])?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest.to_owned()));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Operand {
        Operand::Path(Path(p.split('.').map(str::to_owned).collect()))
    }

    #[test]
    fn paths_and_filters() {
        let expr = parse(" naam.achternaam | required ").unwrap();
        assert_eq!(expr.operand, path("naam.achternaam"));
        assert_eq!(expr.filters, vec![FilterCall { name: "required".into(), args: vec![] }]);

        let expr = parse("in_zorg.einde | and('finished') | or($parent.in_zorg.begin)").unwrap();
        assert_eq!(expr.filters[1].args, vec![Arg::Name("$parent.in_zorg.begin".into())]);

        let expr = parse("$parent.clientnummer|ref(client)|default('x', 2)").unwrap();
        assert_eq!(expr.operand, path("$parent.clientnummer"));
        assert_eq!(expr.filters[0], FilterCall { name: "ref".into(), args: vec![Arg::Name("client".into())] });
        assert_eq!(
            expr.filters[1],
            FilterCall { name: "default".into(), args: vec![Arg::Text("x".into()), Arg::Number(2.into())] }
        );
    }

    #[test]
    fn literals() {
        assert_eq!(parse("'it''s'").unwrap().operand, Operand::Text("it's".into()));
        assert_eq!(parse("-12.5").unwrap().operand, Operand::Number("-12.5".parse().unwrap()));
        assert_eq!(parse("'é | ü'").unwrap().operand, Operand::Text("é | ü".into()));
    }

    #[test]
    fn malformed_expressions_say_where() {
        let cases = [
            ("", "empty", 1),
            ("a |", "expected a name", 4),
            ("a b", "expected `|` or the end, found `b`", 3),
            ("a | f(", "not closed", 7),
            ("a | f('x' 'y')", "expected `,` or `)`", 11),
            ("'open", "not closed", 6),
            ("a.", "expected a name", 3),
            ("a | or(b.)", "expected a name", 10),
            ("1.2.3", "not a number", 6),
        ];
        for (source, message, column) in cases {
            let error = parse(source).unwrap_err();
            assert!(error.message.contains(message), "{source:?}: {error}");
            assert_eq!(error.column, column, "{source:?}: {error}");
        }
    }

    #[test]
    fn template_strings_split_into_pieces() {
        let parts = pieces("Client {{ id }}: {{ naam | upper }}").unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], Piece::Literal("Client ".into()));
        assert!(matches!(&parts[1], Piece::Expr(e) if e.operand == path("id")));
        assert_eq!(parts[2], Piece::Literal(": ".into()));
        assert_eq!(pieces("plain").unwrap(), vec![Piece::Literal("plain".into())]);
        let error = pieces("x {{ id").unwrap_err();
        assert_eq!(error.column, 3);
    }
}
