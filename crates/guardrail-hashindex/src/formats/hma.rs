//! HMA data files: the headerless `hash,id,timestamp,tags` CSV that HMA 1.x keeps per
//! privacy group (`<privacy group>.pdq.te`), timestamps in ISO 8601.
//!
//! Never writes an id HMA cannot read: HMA reads ids as integers, so an entry id that is
//! not one is replaced by the entry's position in the export.

use std::fmt::Write as _;

use guardrail_pdq::PdqHash;

use crate::bank::Entry;

use super::calendar::{digits, format_iso8601, parse_iso8601};
use super::{Reader, csv};

/// Whether a first data line is an HMA row: a hash, then an ISO 8601 time third.
pub(super) fn is_row(line: &str) -> bool {
    let fields = csv::fields(line);
    fields.len() >= 3
        && fields[0].trim().parse::<PdqHash>().is_ok()
        && parse_iso8601(fields[2].trim()).is_some()
}

/// Reads every row: hash, id (line number when empty), time.
pub(super) fn read(reader: &mut Reader<'_>, lines: &[(usize, &str)]) {
    for &(number, line) in lines {
        let fields = csv::fields(line);
        let Some(hash) = reader.hash(number, "hash", &fields[0]) else {
            continue;
        };
        let Some(added_at) = reader.time(number, fields.get(2).map(String::as_str)) else {
            continue;
        };
        let entry_id = fields
            .get(1)
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("line-{number}"));
        reader.push(hash, None, entry_id, added_at);
    }
}

/// One row; `position` is the entry's 0-based place in the export.
pub(super) fn write_row(out: &mut String, entry: &Entry, position: usize) {
    let id = if digits(&entry.entry_id).is_some() {
        entry.entry_id.clone()
    } else {
        (position + 1).to_string()
    };
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{},{id},{},",
        entry.hash,
        format_iso8601(entry.added_at)
    );
}
