//! Reading and writing world tables as CSV or JSON-lines (see `docs/world-format.md`).
//!
//! What it is for: one record type per table, one writer, and one loader that takes either
//! format (it looks at the first line: `{` means JSON-lines, anything else is a CSV header),
//! so a platform engineer can export real data in whichever is easier. Parsing takes
//! `impl BufRead` and never touches the file system. What it must never do: panic or guess
//! on bad input — every error names the origin, the line and the field.

use std::io::{self, BufRead, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use guardrail_types::Gender;

use crate::world::{Account, AccountEdge, Post, PostEdge, SearchEvent};

/// A table's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180 quoting; lists joined by `|`).
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The file extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

/// A loading error: where, which field, and why.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A row or object could not be read.
    #[error("{origin}:{line}: {field}: {message}")]
    Invalid {
        /// File or stream name.
        origin: String,
        /// 1-based line.
        line: usize,
        /// The column or field (or `row` for the whole line).
        field: String,
        /// What was expected.
        message: String,
    },
    /// The stream could not be read.
    #[error("{origin}: {source}")]
    Io {
        /// File or stream name.
        origin: String,
        /// The IO error.
        source: io::Error,
    },
}

/// A table row type: its file stem, CSV columns, and conversions.
pub trait Record: Serialize + DeserializeOwned {
    /// File stem, e.g. `follows` for `follows.csv` / `follows.jsonl`.
    const TABLE: &'static str;
    /// CSV header, in column order.
    const COLUMNS: &'static [&'static str];
    /// CSV fields in column order.
    fn to_row(&self) -> Vec<String>;
    /// From CSV fields; the error names the column index and what was expected.
    fn from_row(row: &[String]) -> Result<Self, (usize, String)>;
}

/// Parses column `column` of a CSV row; the error names the column and what was expected.
pub fn parse_field<T: std::str::FromStr>(
    row: &[String],
    column: usize,
    expected: &str,
) -> Result<T, (usize, String)> {
    let text = row.get(column).map(String::as_str).unwrap_or("");
    text.parse()
        .map_err(|_| (column, format!("expected {expected}, got {text:?}")))
}

/// Column `column` of a CSV row as text (empty when missing).
pub fn text_field(row: &[String], column: usize) -> String {
    row.get(column).cloned().unwrap_or_default()
}

/// Column `column` of a CSV row as `true`/`false` (or `1`/`0`).
pub fn parse_bool(row: &[String], column: usize) -> Result<bool, (usize, String)> {
    match row.get(column).map(String::as_str) {
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        other => Err((column, format!("expected true or false, got {other:?}"))),
    }
}

/// Column `column` of a CSV row as a `|`-separated list.
pub fn list_field(row: &[String], column: usize) -> Vec<String> {
    row.get(column).map_or(Vec::new(), |t| {
        t.split('|')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

impl Record for Account {
    const TABLE: &'static str = "accounts";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "handle",
        "declared_age",
        "gender",
        "country",
        "interests",
        "business",
        "created_at",
        "bio",
    ];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.handle.clone(),
            self.declared_age.to_string(),
            self.gender.as_str().to_string(),
            self.country.clone(),
            self.interests.join("|"),
            self.business.to_string(),
            self.created_at.0.to_string(),
            self.bio.clone(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(Account {
            id: parse_field(row, 0, "an account id")?,
            handle: text_field(row, 1),
            declared_age: parse_field(row, 2, "an age 0-255")?,
            gender: Gender::parse(&text_field(row, 3))
                .ok_or((3, "expected woman, man or other".to_string()))?,
            country: text_field(row, 4),
            interests: list_field(row, 5),
            business: parse_bool(row, 6)?,
            created_at: parse_field(row, 7, "a logical day")?,
            bio: text_field(row, 8),
        })
    }
}

impl Record for Post {
    const TABLE: &'static str = "posts";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "author",
        "created_at",
        "features_minor",
        "hashtags",
        "caption",
    ];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.author.to_string(),
            self.created_at.0.to_string(),
            self.features_minor.to_string(),
            self.hashtags.join("|"),
            self.caption.clone(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(Post {
            id: parse_field(row, 0, "a post id")?,
            author: parse_field(row, 1, "an account id")?,
            created_at: parse_field(row, 2, "a logical day")?,
            features_minor: parse_bool(row, 3)?,
            hashtags: list_field(row, 4),
            caption: text_field(row, 5),
        })
    }
}

impl Record for AccountEdge {
    const TABLE: &'static str = "account_edges";
    const COLUMNS: &'static [&'static str] = &["src", "dst", "at"];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.src.to_string(),
            self.dst.to_string(),
            self.at.0.to_string(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(AccountEdge {
            src: parse_field(row, 0, "an account id")?,
            dst: parse_field(row, 1, "an account id")?,
            at: parse_field(row, 2, "a logical day")?,
        })
    }
}

impl Record for PostEdge {
    const TABLE: &'static str = "post_edges";
    const COLUMNS: &'static [&'static str] = &["account", "post", "at"];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.account.to_string(),
            self.post.to_string(),
            self.at.0.to_string(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(PostEdge {
            account: parse_field(row, 0, "an account id")?,
            post: parse_field(row, 1, "a post id")?,
            at: parse_field(row, 2, "a logical day")?,
        })
    }
}

impl Record for SearchEvent {
    const TABLE: &'static str = "searches";
    const COLUMNS: &'static [&'static str] = &["account", "at", "query"];
    fn to_row(&self) -> Vec<String> {
        vec![
            self.account.to_string(),
            self.at.0.to_string(),
            self.query.clone(),
        ]
    }
    fn from_row(row: &[String]) -> Result<Self, (usize, String)> {
        Ok(SearchEvent {
            account: parse_field(row, 0, "an account id")?,
            at: parse_field(row, 1, "a logical day")?,
            query: text_field(row, 2),
        })
    }
}

fn quote_csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Writes records as a whole table (CSV header first). Streams: nothing is buffered
/// beyond the writer's own buffer.
pub fn write_records<'a, R: Record + 'a>(
    out: &mut impl Write,
    format: Format,
    records: impl IntoIterator<Item = &'a R>,
) -> io::Result<()> {
    if format == Format::Csv {
        writeln!(out, "{}", R::COLUMNS.join(","))?;
    }
    for record in records {
        match format {
            Format::Csv => {
                let row: Vec<String> = record.to_row().iter().map(|f| quote_csv(f)).collect();
                writeln!(out, "{}", row.join(","))?;
            }
            Format::JsonLines => {
                serde_json::to_writer(&mut *out, record).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

/// Splits one CSV line into fields (RFC 4180 quoting, one physical line per record).
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".to_string());
    }
    fields.push(field);
    Ok(fields)
}

/// Reads a whole table in either format; `origin` names the stream in errors. Blank lines
/// are skipped. A CSV header must list the table's columns in order.
pub fn read_records<R: Record>(input: impl BufRead, origin: &str) -> Result<Vec<R>, LoadError> {
    let invalid = |line: usize, field: &str, message: String| LoadError::Invalid {
        origin: origin.to_string(),
        line,
        field: field.to_string(),
        message,
    };
    let mut records = Vec::new();
    let mut format = None;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|source| LoadError::Io {
            origin: origin.to_string(),
            source,
        })?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some(known) = format else {
            if line.trim_start().starts_with('{') {
                format = Some(Format::JsonLines);
            } else {
                let header = split_csv(line).map_err(|m| invalid(number, "header", m))?;
                if header != R::COLUMNS {
                    return Err(invalid(
                        number,
                        "header",
                        format!("expected columns {}", R::COLUMNS.join(",")),
                    ));
                }
                format = Some(Format::Csv);
                continue;
            }
            records.push(parse_json_line::<R>(line, number, origin)?);
            continue;
        };
        match known {
            Format::JsonLines => records.push(parse_json_line::<R>(line, number, origin)?),
            Format::Csv => {
                let row = split_csv(line).map_err(|m| invalid(number, "row", m))?;
                if row.len() != R::COLUMNS.len() {
                    return Err(invalid(
                        number,
                        "row",
                        format!("expected {} fields, got {}", R::COLUMNS.len(), row.len()),
                    ));
                }
                let record = R::from_row(&row).map_err(|(column, message)| {
                    invalid(
                        number,
                        R::COLUMNS.get(column).copied().unwrap_or("row"),
                        message,
                    )
                })?;
                records.push(record);
            }
        }
    }
    Ok(records)
}

fn parse_json_line<R: Record>(line: &str, number: usize, origin: &str) -> Result<R, LoadError> {
    serde_json::from_str(line).map_err(|error| {
        let message = error.to_string();
        // serde_json names the field in its message ("missing field `x`", "unknown field `x`").
        let field = message.split('`').nth(1).unwrap_or("object").to_string();
        LoadError::Invalid {
            origin: origin.to_string(),
            line: number,
            field,
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_types::{AccountId, Day};

    fn account(id: u32, bio: &str) -> Account {
        Account {
            id: AccountId(id),
            handle: format!("user_{id}"),
            declared_age: 34,
            gender: Gender::Woman,
            country: "nz".to_string(),
            interests: vec!["dance".to_string(), "embroidery".to_string()],
            business: false,
            created_at: Day(3),
            bio: bio.to_string(),
        }
    }

    #[test]
    fn both_formats_round_trip_awkward_text() {
        let accounts = vec![
            account(0, "a, \"quoted\" bio 🗺️"),
            account(1, ""),
            account(2, "on chapter 14 ⬅️"),
        ];
        for format in [Format::Csv, Format::JsonLines] {
            let mut bytes = Vec::new();
            write_records(&mut bytes, format, &accounts).expect("writes to memory");
            let back: Vec<Account> = read_records(bytes.as_slice(), "mem").expect("reads back");
            assert_eq!(back, accounts, "{format:?}");
        }
    }

    fn check_error(text: &str, expected: &str) {
        let error =
            read_records::<AccountEdge>(text.as_bytes(), "follows.csv").expect_err("must fail");
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn errors_name_origin_line_and_field() {
        check_error(
            "src,dst,at\n1,2,3\n1,x,3\n",
            "follows.csv:3: dst: expected an account id, got \"x\"",
        );
        check_error(
            "src,dst\n",
            "follows.csv:1: header: expected columns src,dst,at",
        );
        check_error(
            "src,dst,at\n1,2\n",
            "follows.csv:2: row: expected 3 fields, got 2",
        );
        let error = read_records::<AccountEdge>("{\"src\":1,\"dst\":2}\n".as_bytes(), "f.jsonl")
            .expect_err("must fail");
        assert!(
            error
                .to_string()
                .starts_with("f.jsonl:1: at: missing field"),
            "{error}"
        );
    }

    proptest::proptest! {
        #[test]
        fn csv_and_jsonl_agree(edges in proptest::collection::vec((0u32..1000, 0u32..1000, 0u32..60), 0..50), bio in "\\PC{0,30}") {
            let edges: Vec<AccountEdge> = edges.into_iter().map(|(src, dst, at)| AccountEdge { src: AccountId(src), dst: AccountId(dst), at: Day(at) }).collect();
            let (mut csv, mut jsonl) = (Vec::new(), Vec::new());
            write_records(&mut csv, Format::Csv, &edges).expect("csv");
            write_records(&mut jsonl, Format::JsonLines, &edges).expect("jsonl");
            let from_csv: Vec<AccountEdge> = read_records(csv.as_slice(), "csv").expect("csv back");
            let from_jsonl: Vec<AccountEdge> = read_records(jsonl.as_slice(), "jsonl").expect("jsonl back");
            proptest::prop_assert_eq!(&from_csv, &edges);
            proptest::prop_assert_eq!(&from_jsonl, &edges);
            let one = vec![account(5, &bio.replace(['\n', '\r'], " "))];
            let mut out = Vec::new();
            write_records(&mut out, Format::Csv, &one).expect("csv");
            let back: Vec<Account> = read_records(out.as_slice(), "csv").expect("back");
            proptest::prop_assert_eq!(back, one);
        }
    }
}
