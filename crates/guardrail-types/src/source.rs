//! One error for every configuration parser: `file:line:column: field `f`: message`.
//!
//! Text policies, discovery rules and world configs are TOML files edited by people who
//! are not engineers; a bad file must say where it is wrong and what was expected, and
//! the running configuration must stay as it was. [`Locator`] turns a byte span (as the
//! TOML parser reports it) or a top-level key into a line and column.
//!
//! What it must never do: point at a line that does not hold the fault when the parser
//! gave a span, or drop the field name when one is known.

use std::fmt;
use std::ops::Range;

/// What kind of fault a configuration has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// Not valid TOML, or not the expected shape (a type mismatch, an unknown field).
    Syntax,
    /// A value out of its range or not one of the allowed names.
    Invalid,
    /// A name or id that must be unique appears again.
    Duplicate,
    /// Something required is missing.
    Missing,
}

/// A fault in a configuration source, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SourceError {
    /// The file (or other origin) the source came from.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field at fault, e.g. `term[3].tier` or `rule[2].when[0]`.
    pub field: Option<String>,
    /// What kind of fault.
    pub kind: SourceErrorKind,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Turns positions in one source text into located errors.
#[derive(Debug, Clone, Copy)]
pub struct Locator<'a> {
    origin: &'a str,
    source: &'a str,
}

impl<'a> Locator<'a> {
    /// A locator over `source`, read from `origin`.
    pub fn new(origin: &'a str, source: &'a str) -> Locator<'a> {
        Locator { origin, source }
    }

    /// The origin's name.
    pub fn origin(&self) -> &'a str {
        self.origin
    }

    /// An error at the start of a byte span.
    pub fn error(
        &self,
        span: Range<usize>,
        field: Option<String>,
        kind: SourceErrorKind,
        message: impl Into<String>,
    ) -> SourceError {
        let mut offset = span.start.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.source[..offset];
        SourceError {
            origin: self.origin.to_string(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            field,
            kind,
            message: message.into(),
        }
    }

    /// An error at the line where `key` is assigned (`key = ...`, the first such line),
    /// or at the top when the key is absent. For checks made after deserialising, where
    /// the parser kept no span.
    pub fn error_at_key(
        &self,
        key: &str,
        kind: SourceErrorKind,
        message: impl Into<String>,
    ) -> SourceError {
        let mut offset = 0;
        let mut found = None;
        for line in self.source.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                found = Some(offset + (line.len() - trimmed.len()));
                break;
            }
            offset += line.len();
        }
        let start = found.unwrap_or(0);
        self.error(start..start, Some(key.to_string()), kind, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_origin_line_column_and_field() {
        let source = "a = 1\nbb = \"x\"\n  ccc = 3\n";
        let locator = Locator::new("f.toml", source);
        let cases = [
            (0..1, "f.toml:1:1: field `a`: bad"),
            (11..12, "f.toml:2:6: field `a`: bad"),
            (999..1000, "f.toml:4:1: field `a`: bad"),
        ];
        for (span, shown) in cases {
            let error = locator.error(span, Some("a".into()), SourceErrorKind::Invalid, "bad");
            assert_eq!(error.to_string(), shown);
        }
        let at_key = locator.error_at_key("ccc", SourceErrorKind::Invalid, "too big");
        assert_eq!(at_key.to_string(), "f.toml:3:3: field `ccc`: too big");
        // A key that only shares a prefix with another is not that key.
        let absent = locator.error_at_key("b", SourceErrorKind::Missing, "missing");
        assert_eq!((absent.line, absent.column), (1, 1));
        let unlabelled = locator.error(0..0, None, SourceErrorKind::Syntax, "bad toml");
        assert_eq!(unlabelled.to_string(), "f.toml:1:1: bad toml");
    }
}
