//! Plain hex lists: one 64-hex-digit hash per line, optionally followed by fields
//! (separated by spaces, tabs or commas) that are ignored, as the reference
//! `pdq-photo-hasher` prints `hash,quality,path`. The fallback when no other format
//! fits.
//!
//! Never reads provenance from the ignored fields: entries get the default source and
//! their line number as id.

use std::fmt::Write as _;

use crate::bank::Entry;

use super::Reader;

/// Reads each line's first field as a hash.
pub(super) fn read(reader: &mut Reader<'_>, lines: &[(usize, &str)]) {
    for &(number, line) in lines {
        let token = line
            .split([' ', '\t', ','])
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        if let Some(hash) = reader.hash(number, "hash", token) {
            reader.push(hash, None, format!("line-{number}"), 0);
        }
    }
}

/// One hash per line.
pub(super) fn write_row(out: &mut String, entry: &Entry) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{}", entry.hash);
}
