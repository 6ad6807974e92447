//! python-threatexchange local files (`LocalFileSignalExchangeAPI`): one
//! `SIGNAL_TYPE SIGNAL` per line, e.g. `pdq 4d3a…`.
//!
//! Never refuses a line for its signal type: shared lists mix types, so lines that are
//! not PDQ are skipped and counted. (The `dataset --csv` export of the same tool is CSV
//! and lives in `csv.rs`.)

use super::{PDQ_SIGNAL_TYPE, Reader};

/// Whether a first data line looks like `SIGNAL_TYPE SIGNAL`.
pub(super) fn is_signal_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    matches!((words.next(), words.next()), (Some(kind), Some(_)) if is_signal_type_name(kind))
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

/// Reads `pdq` lines and counts the others.
pub(super) fn read(reader: &mut Reader<'_>, lines: &[(usize, &str)]) {
    for &(number, line) in lines {
        let (kind, signal) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if !kind.eq_ignore_ascii_case(PDQ_SIGNAL_TYPE) {
            reader.imported.skipped_other_signal_types += 1;
            continue;
        }
        if let Some(hash) = reader.hash(number, "pdq signal", signal) {
            reader.push(hash, None, format!("line-{number}"), 0);
        }
    }
}
