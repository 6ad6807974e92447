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

use std::fmt::Write as _;

use guardrail_pdq::PdqHash;

use crate::bank::{BankKind, Entry};

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

const HASH_COLUMNS: [&str; 7] = [
    "hash",
    "signal_value",
    "signal_str",
    "signal",
    "indicator",
    "pdq",
    "pdq_hash",
];
const ID_COLUMNS: [&str; 7] = [
    "id",
    "entry_id",
    "content_id",
    "bank_content_id",
    "signal_id",
    "indicator_id",
    "hash_id",
];
const SOURCE_COLUMNS: [&str; 6] = [
    "source",
    "collab",
    "bank",
    "bank_name",
    "privacy_group",
    "dataset",
];
const TIME_COLUMNS: [&str; 6] = [
    "added_at",
    "added_on",
    "created_at",
    "updated_at",
    "first_seen",
    "timestamp",
];
const SIGNAL_TYPE_COLUMNS: [&str; 3] = ["signal_type", "type", "indicator_type"];
const CATEGORY_COLUMNS: [&str; 2] = ["category", "opinion"];

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
        ListFormat::Csv => reader.csv(&lines),
        ListFormat::PytxFile => reader.pytx_file(&lines),
        ListFormat::HmaDatafile => reader.hma_datafile(&lines),
        ListFormat::Hex | ListFormat::Auto => reader.hex(&lines),
    }
    if reader.errors.is_empty() {
        Ok(reader.imported)
    } else {
        Err(reader.errors)
    }
}

/// The format a first data line implies.
fn detect(first: &str) -> ListFormat {
    if column(&csv_fields(first), &HASH_COLUMNS).is_some() {
        return ListFormat::Csv;
    }
    let mut words = first.split_whitespace();
    if let (Some(kind), Some(_)) = (words.next(), words.next())
        && is_signal_type_name(kind)
    {
        return ListFormat::PytxFile;
    }
    let fields = csv_fields(first);
    if fields.len() >= 3
        && fields[0].trim().parse::<PdqHash>().is_ok()
        && parse_iso8601(fields[2].trim()).is_some()
    {
        return ListFormat::HmaDatafile;
    }
    ListFormat::Hex
}

/// Whether a word names a signal type (`pdq`, `video_md5`, `url`) rather than being a
/// hash: lowercase letters, digits and underscores, starting with a letter, not hex.
fn is_signal_type_name(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !word.chars().all(|c| c.is_ascii_hexdigit())
}

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

    fn hex(&mut self, lines: &[(usize, &str)]) {
        for &(number, line) in lines {
            let token = line
                .split([' ', '\t', ','])
                .next()
                .unwrap_or_default()
                .trim_matches('"');
            if let Some(hash) = self.hash(number, "hash", token) {
                self.push(hash, None, format!("line-{number}"), 0);
            }
        }
    }

    fn pytx_file(&mut self, lines: &[(usize, &str)]) {
        for &(number, line) in lines {
            let (kind, signal) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            if !kind.eq_ignore_ascii_case(PDQ_SIGNAL_TYPE) {
                self.imported.skipped_other_signal_types += 1;
                continue;
            }
            if let Some(hash) = self.hash(number, "pdq signal", signal) {
                self.push(hash, None, format!("line-{number}"), 0);
            }
        }
    }

    fn hma_datafile(&mut self, lines: &[(usize, &str)]) {
        for &(number, line) in lines {
            let fields = csv_fields(line);
            let Some(hash) = self.hash(number, "hash", &fields[0]) else {
                continue;
            };
            let Some(added_at) = self.time(number, fields.get(2).map(String::as_str)) else {
                continue;
            };
            let entry_id = fields
                .get(1)
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("line-{number}"));
            self.push(hash, None, entry_id, added_at);
        }
    }

    fn csv(&mut self, lines: &[(usize, &str)]) {
        let Some(((_, header_line), rows)) = lines.split_first() else {
            return;
        };
        let header = csv_fields(header_line);
        let Some(hash_column) = column(&header, &HASH_COLUMNS) else {
            self.error(
                lines[0].0,
                format!("no hash column in the header (one of {HASH_COLUMNS:?})"),
            );
            return;
        };
        let id_column = column(&header, &ID_COLUMNS);
        let source_column = column(&header, &SOURCE_COLUMNS);
        let time_column = column(&header, &TIME_COLUMNS);
        let type_column = column(&header, &SIGNAL_TYPE_COLUMNS);
        let category_column = column(&header, &CATEGORY_COLUMNS);
        for &(number, line) in rows {
            let values = csv_fields(line);
            let field = |index: Option<usize>| index.and_then(|i| values.get(i)).map(|v| v.trim());
            if let Some(kind) = field(type_column)
                && !kind.is_empty()
                && !kind.eq_ignore_ascii_case(PDQ_SIGNAL_TYPE)
            {
                self.imported.skipped_other_signal_types += 1;
                continue;
            }
            if let Some(category) = field(category_column)
                && !category.is_empty()
                && !category_fits(category, self.options.kind)
            {
                self.imported.skipped_by_category += 1;
                continue;
            }
            let Some(hash_text) = field(Some(hash_column)) else {
                self.error(
                    number,
                    format!("missing column {:?}", header[hash_column].trim()),
                );
                continue;
            };
            let what = format!("column {:?}", header[hash_column].trim());
            let Some(hash) = self.hash(number, &what, hash_text) else {
                continue;
            };
            let Some(added_at) = self.time(number, field(time_column)) else {
                continue;
            };
            let entry_id = field(id_column)
                .filter(|v| !v.is_empty())
                .map_or_else(|| format!("line-{number}"), str::to_string);
            let source = field(source_column).map(str::to_string);
            self.push(hash, source.as_deref(), entry_id, added_at);
        }
    }
}

/// Whether a python-threatexchange opinion category belongs in a bank of `kind`.
fn category_fits(category: &str, kind: BankKind) -> bool {
    let benign = category.eq_ignore_ascii_case("FALSE_POSITIVE");
    match kind {
        BankKind::Positive => !benign,
        BankKind::Negative => benign,
    }
}

/// Parses a time as Unix seconds or ISO 8601 (`2021-03-10`, `2021-03-10T16:30:23Z`,
/// `2021-03-10T16:30:23.5+0000`, `2021-03-10 16:30:23+01:00`).
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    parse_iso8601(text)
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses ISO 8601 date-times (and bare dates, taken as midnight UTC).
fn parse_iso8601(text: &str) -> Option<i64> {
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (
        digits(parts.next()?)?,
        digits(parts.next()?)?,
        digits(parts.next()?)?,
    );
    if parts.next().is_some()
        || date.len() != 10
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
    {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    if rest.is_empty() {
        return Some(seconds);
    }
    // Split the clock from the zone: `Z`, `+HHMM`, `+HH:MM`, `-HH`, or none (UTC).
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let clock = clock.split('.').next()?;
    let mut fields = clock.split(':');
    let hour = digits(fields.next()?)?;
    let minute = digits(fields.next()?)?;
    let second = fields.next().map_or(Some(0), digits)?;
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    seconds += hour * 3_600 + minute * 60 + second;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let body: String = zone[1..].chars().filter(|&c| c != ':').collect();
            let (hours, minutes) = match body.len() {
                2 => (digits(&body)?, 0),
                4 => (digits(&body[..2])?, digits(&body[2..])?),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3_600 + minutes * 60)
        }
    };
    Some(seconds - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil"
/// computation: count in 400-year eras starting in March, so leap days fall last).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds as ISO 8601 in UTC, the way HMA data files write it
/// (`2021-03-10T16:30:23+0000`).
pub fn format_iso8601(seconds: i64) -> String {
    let (days, time_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+0000",
        time_of_day / 3_600,
        time_of_day / 60 % 60,
        time_of_day % 60
    )
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

fn csv_quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) || text.starts_with([' ', '#']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes entries of a bank of `kind` in a format.
pub fn export(
    entries: impl IntoIterator<Item = Entry>,
    format: ExportFormat,
    kind: BankKind,
) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Csv => out.push_str("hash,source,entry_id,added_at\n"),
        ExportFormat::PytxDataset => out.push_str("collab,signal_type,signal_str,category,tags\n"),
        ExportFormat::Hex | ExportFormat::HmaDatafile => {}
    }
    let category = match kind {
        BankKind::Positive => "TRUE_POSITIVE",
        BankKind::Negative => "FALSE_POSITIVE",
    };
    for (position, entry) in entries.into_iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = match format {
            ExportFormat::Csv => writeln!(
                out,
                "{},{},{},{}",
                entry.hash,
                csv_quote(&entry.source),
                csv_quote(&entry.entry_id),
                entry.added_at
            ),
            ExportFormat::Hex => writeln!(out, "{}", entry.hash),
            ExportFormat::PytxDataset => writeln!(
                out,
                "{},{PDQ_SIGNAL_TYPE},{},{category},",
                csv_quote(&entry.source),
                entry.hash
            ),
            ExportFormat::HmaDatafile => {
                let id = if digits(&entry.entry_id).is_some() {
                    entry.entry_id.clone()
                } else {
                    (position + 1).to_string()
                };
                writeln!(
                    out,
                    "{},{id},{},",
                    entry.hash,
                    format_iso8601(entry.added_at)
                )
            }
        };
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
    fn times_read_as_unix_seconds_or_iso_8601() {
        let rows: [(&str, Option<i64>); 11] = [
            ("1700000000", Some(1_700_000_000)),
            ("-5", Some(-5)),
            ("1970-01-01", Some(0)),
            ("2000-02-29T00:00:00Z", Some(951_782_400)),
            ("2023-11-17T15:57:41Z", Some(1_700_236_661)),
            ("2023-11-17T15:57:41.250Z", Some(1_700_236_661)),
            ("2023-11-17 16:57:41+01:00", Some(1_700_236_661)),
            ("2023-11-17T10:57:41-0500", Some(1_700_236_661)),
            ("2023-11-17T15:57", Some(1_700_236_620)),
            ("1900-02-29", None),
            ("17/11/2023", None),
        ];
        for (text, expected) in rows {
            assert_eq!(parse_time(text), expected, "{text}");
        }
        for seconds in [0, 951_782_400, 1_700_236_661, -86_401, 4_102_444_800] {
            assert_eq!(
                parse_time(&format_iso8601(seconds)),
                Some(seconds),
                "{seconds}"
            );
        }
        assert_eq!(format_iso8601(1_596_221_265), "2020-07-31T18:47:45+0000");
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
