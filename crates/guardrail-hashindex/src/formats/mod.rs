//! The formats hash lists are exchanged in: reading them into bank entries and writing
//! bank entries back out. Pure text in, text out; this module never touches files.
//!
//! Import understands, with [`ListFormat::Auto`] telling them apart by the first data
//! line:
//! - **CSV with a header**, among them python-threatexchange's
//!   `threatexchange dataset -P --csv` (`collab,signal_type,signal_str,category,tags`)
//!   and our own export (`hash,source,entry_id,added_at`). The hash column is the first
//!   one named `hash`, `signal_value`, `signal_str`, `signal`, `indicator`, `pdq` or
//!   `pdq_hash`; the entry id comes from `id`, `entry_id`, `content_id`,
//!   `bank_content_id`, `signal_id`, `indicator_id` or `hash_id`; the source from
//!   `source`, `collab`, `bank`, `bank_name`, `privacy_group` or `dataset`; the time
//!   added from `added_at`, `added_on`, `created_at`, `updated_at`, `first_seen` or
//!   `timestamp`. Rows whose `signal_type` is not PDQ (an MD5, a URL) are skipped and
//!   counted, never refused: shared lists mix signal types. A `category` column is an
//!   opinion about the signal: a positive bank takes `TRUE_POSITIVE` and
//!   `WORTH_INVESTIGATING` rows and skips `FALSE_POSITIVE` ones, a negative bank takes
//!   only `FALSE_POSITIVE` rows, so a list's own "this is benign" never becomes a
//!   finding and its "this is abuse" never becomes a suppression.
//! - **python-threatexchange local files** (`LocalFileSignalExchangeAPI`): one
//!   `SIGNAL_TYPE SIGNAL` per line, e.g. `pdq 4d3a…`; other signal types are skipped.
//! - **HMA data files** (the headerless `hash,id,timestamp,tags` CSV that HMA 1.x keeps
//!   per privacy group, `<privacy group>.pdq.te`; timestamps in ISO 8601).
//! - **plain hex lists**: one 64-hex-digit hash per line, optionally followed by more
//!   fields (separated by spaces, tabs or commas) which are ignored, as the reference
//!   `pdq-photo-hasher` prints `hash,quality,path`.
//!
//! In every format blank lines and lines starting with `#` are ignored, times are Unix
//! seconds or ISO 8601, and quoted CSV fields are understood (a field may not span
//! lines). Every bad line is reported with its line number and why, and nothing is
//! imported from a text with errors: a half-imported list is a silently shorter list.
//!
//! Export writes any of [`ExportFormat`]; each reads back through import with whatever
//! provenance the format carries (our CSV carries all of it).
//!
//! One module per format (`csv.rs`, `pytx.rs`, `hma.rs`, `hex.rs`), the calendar they
//! share (`calendar.rs`), and the query lists `guardrail media hash` prints
//! ([`read_hash_lines`]). This file holds the shared types, format detection, the
//! per-line error collection and the import/export dispatch; it knows no format's
//! details.

mod calendar;
mod csv;
mod hash_lines;
mod hex;
mod hma;
mod pytx;

use guardrail_pdq::PdqHash;

use crate::bank::{BankKind, Entry};

pub use calendar::{format_iso8601, parse_time};
pub use hash_lines::{HashLine, HashLineError, read_hash_lines};

/// A problem on one line of an imported list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FormatError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The layout of a list to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListFormat {
    /// Decide from the first data line (see the module docs).
    #[default]
    Auto,
    /// One hash per line, extra fields ignored.
    Hex,
    /// CSV with a header row naming the columns.
    Csv,
    /// python-threatexchange local file: `SIGNAL_TYPE SIGNAL` per line.
    PytxFile,
    /// HMA data file: headerless `hash,id,timestamp,tags`.
    HmaDatafile,
}

/// How to read a list.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// The layout (default: detect it).
    pub format: ListFormat,
    /// Source name for entries whose format carries none (e.g. the list's file name).
    pub default_source: &'a str,
    /// The kind of bank the entries are for; decides which `category` rows are taken.
    pub kind: BankKind,
}

/// What an import read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Imported {
    /// The entries, in list order.
    pub entries: Vec<Entry>,
    /// The layout that was read (the detected one under [`ListFormat::Auto`]).
    pub format: Option<ListFormat>,
    /// Rows skipped because their signal type is not PDQ.
    pub skipped_other_signal_types: usize,
    /// Rows skipped because their category does not fit the bank's kind.
    pub skipped_by_category: usize,
}

/// The PDQ signal type's name in python-threatexchange and HMA.
const PDQ_SIGNAL_TYPE: &str = "pdq";

/// Reads a list, detecting its format, for a positive bank. `default_source` names
/// entries whose format carries no source.
pub fn import(text: &str, default_source: &str) -> Result<Vec<Entry>, Vec<FormatError>> {
    import_list(
        text,
        &ImportOptions {
            format: ListFormat::Auto,
            default_source,
            kind: BankKind::Positive,
        },
    )
    .map(|imported| imported.entries)
}

/// Reads a list with options; see the module docs for the formats.
pub fn import_list(text: &str, options: &ImportOptions) -> Result<Imported, Vec<FormatError>> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim_start_matches('\u{FEFF}').trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let format = match options.format {
        ListFormat::Auto => lines
            .first()
            .map_or(ListFormat::Hex, |(_, first)| detect(first)),
        chosen => chosen,
    };
    let mut reader = Reader {
        options,
        imported: Imported {
            format: Some(format),
            ..Imported::default()
        },
        errors: Vec::new(),
    };
    match format {
        ListFormat::Csv => csv::read(&mut reader, &lines),
        ListFormat::PytxFile => pytx::read(&mut reader, &lines),
        ListFormat::HmaDatafile => hma::read(&mut reader, &lines),
        ListFormat::Hex | ListFormat::Auto => hex::read(&mut reader, &lines),
    }
    if reader.errors.is_empty() {
        Ok(reader.imported)
    } else {
        Err(reader.errors)
    }
}

/// The format a first data line implies.
fn detect(first: &str) -> ListFormat {
    if csv::is_header(first) {
        return ListFormat::Csv;
    }
    if pytx::is_signal_line(first) {
        return ListFormat::PytxFile;
    }
    if hma::is_row(first) {
        return ListFormat::HmaDatafile;
    }
    ListFormat::Hex
}

/// An import in progress: the entries read so far and every bad line, so that all of a
/// list's errors are reported at once.
struct Reader<'a> {
    options: &'a ImportOptions<'a>,
    imported: Imported,
    errors: Vec<FormatError>,
}

impl Reader<'_> {
    fn error(&mut self, line: usize, message: String) {
        self.errors.push(FormatError { line, message });
    }

    fn hash(&mut self, line: usize, what: &str, text: &str) -> Option<PdqHash> {
        match text.trim().parse::<PdqHash>() {
            Ok(hash) => Some(hash),
            Err(error) => {
                self.error(line, format!("{what} {text:?}: {error}"));
                None
            }
        }
    }

    fn time(&mut self, line: usize, text: Option<&str>) -> Option<i64> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Some(0),
            Some(text) => parse_time(text).or_else(|| {
                self.error(
                    line,
                    format!("time {text:?} is neither Unix seconds nor ISO 8601"),
                );
                None
            }),
        }
    }

    fn push(&mut self, hash: PdqHash, source: Option<&str>, entry_id: String, added_at: i64) {
        let source = source
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(self.options.default_source);
        self.imported.entries.push(Entry {
            hash,
            source: source.to_string(),
            entry_id,
            added_at,
        });
    }
}

/// The layout of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// `hash,source,entry_id,added_at` with a header; carries all provenance.
    #[default]
    Csv,
    /// One hash per line.
    Hex,
    /// python-threatexchange's `dataset --csv`: `collab,signal_type,signal_str,category,tags`
    /// (the category is `TRUE_POSITIVE` for a positive bank, `FALSE_POSITIVE` for a
    /// negative one; entry ids and times are not carried).
    PytxDataset,
    /// HMA data file rows `hash,id,timestamp,tags` without a header. HMA reads ids as
    /// integers, so an entry id that is not one is replaced by the entry's 1-based
    /// position in the export.
    HmaDatafile,
}

/// Writes entries of a bank of `kind` in a format.
pub fn export(
    entries: impl IntoIterator<Item = Entry>,
    format: ExportFormat,
    kind: BankKind,
) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Csv => csv::write_header(&mut out),
        ExportFormat::PytxDataset => csv::write_pytx_dataset_header(&mut out),
        ExportFormat::Hex | ExportFormat::HmaDatafile => {}
    }
    for (position, entry) in entries.into_iter().enumerate() {
        match format {
            ExportFormat::Csv => csv::write_row(&mut out, &entry),
            ExportFormat::Hex => hex::write_row(&mut out, &entry),
            ExportFormat::PytxDataset => csv::write_pytx_dataset_row(&mut out, &entry, kind),
            ExportFormat::HmaDatafile => hma::write_row(&mut out, &entry, position),
        }
    }
    out
}

/// Writes entries as CSV with a header (`hash,source,entry_id,added_at`).
pub fn export_csv(entries: impl IntoIterator<Item = Entry>) -> String {
    export(entries, ExportFormat::Csv, BankKind::Positive)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const B: &str = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";

    fn options(kind: BankKind) -> ImportOptions<'static> {
        ImportOptions {
            format: ListFormat::Auto,
            default_source: "test",
            kind,
        }
    }

    /// Imports `text` and checks the detected format and, per entry, (hash, id, source,
    /// added_at), and the skipped counts (other signal types, by category).
    fn check(
        text: &str,
        kind: BankKind,
        format: ListFormat,
        expected: &[(&str, &str, &str, i64)],
        skipped: (usize, usize),
    ) {
        let imported = import_list(text, &options(kind)).expect("imports");
        assert_eq!(imported.format, Some(format), "{text}");
        let found: Vec<(String, String, String, i64)> = imported
            .entries
            .iter()
            .map(|e| {
                (
                    e.hash.to_string(),
                    e.entry_id.clone(),
                    e.source.clone(),
                    e.added_at,
                )
            })
            .collect();
        let expected: Vec<(String, String, String, i64)> = expected
            .iter()
            .map(|(h, i, s, t)| (h.to_string(), i.to_string(), s.to_string(), *t))
            .collect();
        assert_eq!(found, expected, "{text}");
        assert_eq!(
            (
                imported.skipped_other_signal_types,
                imported.skipped_by_category
            ),
            skipped,
            "{text}"
        );
    }

    #[test]
    fn reads_each_format() {
        use BankKind::{Negative, Positive};
        use ListFormat::{Csv, Hex, HmaDatafile, PytxFile};
        let pytx_dataset = format!(
            "collab,signal_type,signal_str,category,tags\n\
             Sample Data,pdq,{A},TRUE_POSITIVE,tag1 tag2\n\
             Sample Data,video_md5,d41d8cd98f00b204e9800998ecf8427e,TRUE_POSITIVE,\n\
             \"Sample, Two\",pdq,{B},FALSE_POSITIVE,\n"
        );
        check(
            &format!("# a list\n{A}\n\n{B} 100\n"),
            Positive,
            Hex,
            &[(A, "line-2", "test", 0), (B, "line-4", "test", 0)],
            (0, 0),
        );
        check(
            &format!("{A},100,/images/a.jpg\n"),
            Positive,
            Hex,
            &[(A, "line-1", "test", 0)],
            (0, 0),
        );
        check(
            &format!(
                "hash,source,entry_id,added_at\n{A},ncmec,e1,1700000000\n{B},\"list, two\",e2,\n"
            ),
            Positive,
            Csv,
            &[(A, "e1", "ncmec", 1_700_000_000), (B, "e2", "list, two", 0)],
            (0, 0),
        );
        check(
            &pytx_dataset,
            Positive,
            Csv,
            &[(A, "line-2", "Sample Data", 0)],
            (1, 1),
        );
        check(
            &pytx_dataset,
            Negative,
            Csv,
            &[(B, "line-4", "Sample, Two", 0)],
            (1, 1),
        );
        check(
            &format!(
                "signal_type,signal_value,bank_content_id,bank_name,created_at\npdq,{A},17,SEED_BANK_0,2023-11-17T15:57:41Z\n"
            ),
            Positive,
            Csv,
            &[(A, "17", "SEED_BANK_0", 1_700_236_661)],
            (0, 0),
        );
        check(
            &format!("pdq {A}\nvideo_md5 d41d8cd98f00b204e9800998ecf8427e\npdq {B}\n"),
            Positive,
            PytxFile,
            &[(A, "line-1", "test", 0), (B, "line-3", "test", 0)],
            (1, 0),
        );
        check(
            &format!(
                "{A},2887385,2020-07-31T18:47:45+0000,true_positive hma_test\n{B},17,2020-07-31T20:47:45+0200,\n"
            ),
            Positive,
            HmaDatafile,
            &[
                (A, "2887385", "test", 1_596_221_265),
                (B, "17", "test", 1_596_221_265),
            ],
            (0, 0),
        );
    }

    #[test]
    fn bad_lines_are_named_and_nothing_is_imported() {
        // (text, lines with errors, a fragment of the first message)
        let rows: [(String, &[usize], &str); 5] = [
            (
                format!("{A}\nnot-a-hash\n{}\n", &A[..60]),
                &[2, 3],
                "expected 64 hex digits",
            ),
            (
                format!("hash,added_at\n{A},yesterday\n"),
                &[2],
                "neither Unix seconds nor ISO 8601",
            ),
            (
                format!("hash,added_at\n{A},2021-02-30\n"),
                &[2],
                "2021-02-30",
            ),
            (format!("pdq {A}\npdq {}\n", &A[1..]), &[2], "pdq signal"),
            (
                format!("{A},1,2020-07-31T18:47:45+0000,\n{A},2,2020-13-01,\n"),
                &[2],
                "ISO 8601",
            ),
        ];
        for (text, lines, fragment) in rows {
            let errors = import(&text, "x").expect_err("bad list");
            assert_eq!(
                errors.iter().map(|e| e.line).collect::<Vec<_>>(),
                lines,
                "{text}"
            );
            assert!(
                errors[0].to_string().contains(fragment),
                "{text}: {}",
                errors[0]
            );
        }
    }

    #[test]
    fn every_export_reads_back_with_what_it_carries() {
        let entries = vec![
            Entry {
                hash: A.parse().expect("hex"),
                source: "a,b".into(),
                entry_id: "x\"y".into(),
                added_at: 5,
            },
            Entry {
                hash: B.parse().expect("hex"),
                source: "pg1".into(),
                entry_id: "42".into(),
                added_at: 1_596_221_265,
            },
        ];
        let hashes = |list: &[Entry]| list.iter().map(|e| e.hash).collect::<Vec<_>>();
        for kind in [BankKind::Positive, BankKind::Negative] {
            for format in [
                ExportFormat::Csv,
                ExportFormat::Hex,
                ExportFormat::PytxDataset,
                ExportFormat::HmaDatafile,
            ] {
                let text = export(entries.clone(), format, kind);
                let again = import_list(&text, &options(kind))
                    .expect("reads back")
                    .entries;
                assert_eq!(
                    hashes(&again),
                    hashes(&entries),
                    "{format:?} {kind:?}:\n{text}"
                );
                match format {
                    ExportFormat::Csv => assert_eq!(again, entries),
                    ExportFormat::PytxDataset => assert_eq!(again[0].source, "a,b"),
                    ExportFormat::HmaDatafile => {
                        let ids: Vec<&str> = again.iter().map(|e| e.entry_id.as_str()).collect();
                        assert_eq!(ids, ["1", "42"]);
                        assert_eq!(again[1].added_at, 1_596_221_265);
                    }
                    ExportFormat::Hex => {}
                }
            }
        }
        assert_eq!(
            export_csv(entries.clone()),
            export(entries, ExportFormat::Csv, BankKind::Negative)
        );
    }
}
