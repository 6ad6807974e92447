//! CSV lists with a header row: our own export (`hash,source,entry_id,added_at`) and
//! python-threatexchange's `dataset --csv` (`collab,signal_type,signal_str,category,
//! tags`), read by column name so other exporters' headers work too. Also holds the CSV
//! line splitter, which the headerless HMA data files share.
//!
//! Never guesses a column: a header without a hash column is an error, rows of other
//! signal types are skipped and counted, and a `category` decides which bank a row may
//! enter (see [`super`]). A quoted field may not span lines.

use std::fmt::Write as _;

use crate::bank::{BankKind, Entry};

use super::{PDQ_SIGNAL_TYPE, Reader};

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
pub(super) fn fields(line: &str) -> Vec<String> {
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

/// The first header column named one of `names` (case and padding ignored).
fn column(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|name| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    })
}

/// Whether a first data line is a header naming a hash column.
pub(super) fn is_header(line: &str) -> bool {
    column(&fields(line), &HASH_COLUMNS).is_some()
}

/// Reads the header, then every row by the columns it names.
pub(super) fn read(reader: &mut Reader<'_>, lines: &[(usize, &str)]) {
    let Some(((_, header_line), rows)) = lines.split_first() else {
        return;
    };
    let header = fields(header_line);
    let Some(hash_column) = column(&header, &HASH_COLUMNS) else {
        reader.error(
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
        let values = fields(line);
        let field = |index: Option<usize>| index.and_then(|i| values.get(i)).map(|v| v.trim());
        if let Some(kind) = field(type_column)
            && !kind.is_empty()
            && !kind.eq_ignore_ascii_case(PDQ_SIGNAL_TYPE)
        {
            reader.imported.skipped_other_signal_types += 1;
            continue;
        }
        if let Some(category) = field(category_column)
            && !category.is_empty()
            && !category_fits(category, reader.options.kind)
        {
            reader.imported.skipped_by_category += 1;
            continue;
        }
        let Some(hash_text) = field(Some(hash_column)) else {
            reader.error(
                number,
                format!("missing column {:?}", header[hash_column].trim()),
            );
            continue;
        };
        let what = format!("column {:?}", header[hash_column].trim());
        let Some(hash) = reader.hash(number, &what, hash_text) else {
            continue;
        };
        let Some(added_at) = reader.time(number, field(time_column)) else {
            continue;
        };
        let entry_id = field(id_column)
            .filter(|v| !v.is_empty())
            .map_or_else(|| format!("line-{number}"), str::to_string);
        let source = field(source_column).map(str::to_string);
        reader.push(hash, source.as_deref(), entry_id, added_at);
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

/// Quotes a field that would otherwise split the row, or start a line that reads as
/// blank-padded or as a comment.
fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) || text.starts_with([' ', '#']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The pytx dataset category of every entry of a bank of `kind`.
fn category_of(kind: BankKind) -> &'static str {
    match kind {
        BankKind::Positive => "TRUE_POSITIVE",
        BankKind::Negative => "FALSE_POSITIVE",
    }
}

/// Our export's header.
pub(super) fn write_header(out: &mut String) {
    out.push_str("hash,source,entry_id,added_at\n");
}

/// One row of our export: all the provenance an entry has.
pub(super) fn write_row(out: &mut String, entry: &Entry) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{},{},{},{}",
        entry.hash,
        quote(&entry.source),
        quote(&entry.entry_id),
        entry.added_at
    );
}

/// python-threatexchange's `dataset --csv` header.
pub(super) fn write_pytx_dataset_header(out: &mut String) {
    out.push_str("collab,signal_type,signal_str,category,tags\n");
}

/// One `dataset --csv` row: the source as the collaboration, the bank's kind as the
/// category.
pub(super) fn write_pytx_dataset_row(out: &mut String, entry: &Entry, kind: BankKind) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{},{PDQ_SIGNAL_TYPE},{},{},",
        quote(&entry.source),
        entry.hash,
        category_of(kind)
    );
}
