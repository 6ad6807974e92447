//! The formats hash lists are exchanged in.
//!
//! Import reads, from text:
//! - **plain hex lists**: one 64-hex-digit hash per line, optionally followed by more
//!   fields (separated by spaces, tabs or commas) which are ignored; `#` starts a comment;
//! - **CSV with a header**, as python-threatexchange and HMA exchange them: the hash
//!   column is the first one named `hash`, `signal_value`, `signal`, `pdq`, `pdq_hash`
//!   or `signal_str`; the entry id comes from `id`, `entry_id`, `content_id`,
//!   `signal_id` or `hash_id`; the source from `source`, `bank`, `bank_name`,
//!   `collab`, `privacy_group` or `dataset`; the time added from `added_at`,
//!   `created_at`, `updated_at`, `first_seen` or `timestamp` (Unix seconds). Quoted
//!   fields are understood.
//!
//! Every bad line is reported with its line number and why; nothing is imported from a
//! file with errors. Export writes the CSV form (`hash,source,entry_id,added_at`),
//! which import reads back unchanged.

use guardrail_pdq::PdqHash;

use crate::bank::Entry;

/// A problem on one line of an imported list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FormatError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const HASH_COLUMNS: [&str; 6] = [
    "hash",
    "signal_value",
    "signal",
    "pdq",
    "pdq_hash",
    "signal_str",
];
const ID_COLUMNS: [&str; 5] = ["id", "entry_id", "content_id", "signal_id", "hash_id"];
const SOURCE_COLUMNS: [&str; 6] = [
    "source",
    "bank",
    "bank_name",
    "collab",
    "privacy_group",
    "dataset",
];
const TIME_COLUMNS: [&str; 5] = [
    "added_at",
    "created_at",
    "updated_at",
    "first_seen",
    "timestamp",
];

/// Splits one CSV line, honouring double quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(ch),
        }
    }
    fields.push(field);
    fields
}

fn column(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|name| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    })
}

/// Reads a list. `default_source` names entries whose format carries no source.
pub fn import(text: &str, default_source: &str) -> Result<Vec<Entry>, Vec<FormatError>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim_start_matches('\u{FEFF}').trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .peekable();
    let header = lines.peek().and_then(|(_, first)| {
        let fields = csv_fields(first);
        let hash = column(&fields, &HASH_COLUMNS)?;
        Some((fields, hash))
    });
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    match header {
        Some((fields, hash_column)) => {
            lines.next();
            let id_column = column(&fields, &ID_COLUMNS);
            let source_column = column(&fields, &SOURCE_COLUMNS);
            let time_column = column(&fields, &TIME_COLUMNS);
            for (number, line) in lines {
                let values = csv_fields(line);
                let field = |index: Option<usize>| {
                    index
                        .and_then(|i| values.get(i))
                        .map(|v| v.trim().to_string())
                };
                let Some(hash_text) = field(Some(hash_column)) else {
                    errors.push(FormatError {
                        line: number,
                        message: format!("missing column {:?}", fields[hash_column]),
                    });
                    continue;
                };
                let hash = match hash_text.parse::<PdqHash>() {
                    Ok(hash) => hash,
                    Err(error) => {
                        errors.push(FormatError {
                            line: number,
                            message: format!("column {:?}: {error}", fields[hash_column]),
                        });
                        continue;
                    }
                };
                let added_at = match field(time_column).filter(|t| !t.is_empty()) {
                    None => 0,
                    Some(text) => match text.parse::<i64>() {
                        Ok(seconds) => seconds,
                        Err(_) => {
                            errors.push(FormatError {
                                line: number,
                                message: format!("time {text:?} is not Unix seconds"),
                            });
                            continue;
                        }
                    },
                };
                entries.push(Entry {
                    hash,
                    entry_id: field(id_column)
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| format!("line-{number}")),
                    source: field(source_column)
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| default_source.to_string()),
                    added_at,
                });
            }
        }
        None => {
            for (number, line) in lines {
                let token = line.split([' ', '\t', ',']).next().unwrap_or_default();
                match token.parse::<PdqHash>() {
                    Ok(hash) => entries.push(Entry {
                        hash,
                        entry_id: format!("line-{number}"),
                        source: default_source.to_string(),
                        added_at: 0,
                    }),
                    Err(error) => errors.push(FormatError {
                        line: number,
                        message: format!("{token:?}: {error}"),
                    }),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

fn csv_quote(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes entries as CSV with a header (`hash,source,entry_id,added_at`).
pub fn export_csv(entries: impl IntoIterator<Item = Entry>) -> String {
    let mut out = String::from("hash,source,entry_id,added_at\n");
    for entry in entries {
        out.push_str(&format!(
            "{},{},{},{}\n",
            entry.hash,
            csv_quote(&entry.source),
            csv_quote(&entry.entry_id),
            entry.added_at
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const B: &str = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";

    #[test]
    fn reads_each_format() {
        // (text, hashes, first entry id, first source)
        let rows: [(String, usize, &str, &str); 4] = [
            (format!("# a list\n{A}\n\n{B} 100\n"), 2, "line-2", "test"),
            (
                format!(
                    "hash,source,entry_id,added_at\n{A},ncmec,e1,1700000000\n{B},\"list, two\",e2,\n"
                ),
                2,
                "e1",
                "ncmec",
            ),
            (
                format!("signal_type,signal_value,content_id,privacy_group\npdq,{A},c9,pg1\n"),
                1,
                "c9",
                "pg1",
            ),
            (format!("{A},100\n{B},90\n"), 2, "line-1", "test"),
        ];
        for (text, count, id, source) in rows {
            let entries = import(&text, "test").expect("imports");
            assert_eq!(entries.len(), count, "{text}");
            assert_eq!(
                (entries[0].entry_id.as_str(), entries[0].source.as_str()),
                (id, source),
                "{text}"
            );
            assert_eq!(entries[0].hash.to_string(), A);
        }
    }

    #[test]
    fn bad_lines_are_named_and_nothing_is_imported() {
        let text = format!("{A}\nnot-a-hash\n{}\n", &A[..60]);
        let errors = import(&text, "x").expect_err("bad list");
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
        assert!(errors[1].to_string().contains("expected 64 hex digits"));
        let errors = import(&format!("hash,added_at\n{A},yesterday\n"), "x").expect_err("bad time");
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn export_reads_back() {
        let entries = import(
            &format!("hash,source,entry_id,added_at\n{A},\"a,b\",\"x\"\"y\",5\n"),
            "t",
        )
        .expect("imports");
        let again = import(&export_csv(entries.clone()), "other").expect("reads back");
        assert_eq!(entries, again);
    }
}
