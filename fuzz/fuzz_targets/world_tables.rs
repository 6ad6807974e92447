//! Fuzzes the world loader (`guardrail_world`): the first byte picks a table type, or the
//! whole folder loader.
//! - One table (`read_records`, CSV or JSON-lines): any bytes either load or give an error
//!   naming a line inside the input; what loads is written back in the format it was read
//!   in and loads again to the same records.
//! - A folder (`load_world`): the input is cut into files at lines `@@ <file name>` and
//!   written into a scratch directory; the loader either loads a world or refuses it,
//!   never panics, and a world that loads has dense account and post ids.
//!
//! Must never: write outside its own temporary directory, or open `truth/`.
#![no_main]

use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

use guardrail_world::format::{Format, LoadError, Record, read_records, write_records};
use guardrail_world::{
    Account, AccountEdge, IdentifierRecord, Post, PostEdge, SearchEvent, load_world,
};
use libfuzzer_sys::fuzz_target;

/// File names a folder may hold (the loader's tables, `meta.json`, and a stray one).
const FILES: [&str; 13] = [
    "meta.json",
    "accounts.csv",
    "accounts.jsonl",
    "posts.csv",
    "follows.csv",
    "views.csv",
    "likes.csv",
    "comments.csv",
    "searches.csv",
    "reports.csv",
    "blocks.csv",
    "identifiers.csv",
    "identifiers.jsonl",
];

fn table<R: Record + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let lines = data.split(|&b| b == b'\n').count();
    let records: Vec<R> = match read_records(Cursor::new(data), "fuzz") {
        Ok(records) => records,
        Err(LoadError::Invalid { line, .. }) => {
            assert!(
                line >= 1 && line <= lines,
                "error on line {line} of {lines}"
            );
            return;
        }
        Err(LoadError::Io { .. }) => return, // not UTF-8
    };
    // The format the loader chose: its first non-blank line, blank as it judges it.
    let json = String::from_utf8_lossy(data)
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with('{'));
    let format = if json { Format::JsonLines } else { Format::Csv };
    let mut written = Vec::new();
    write_records(&mut written, format, &records).expect("writing to memory");
    let again: Vec<R> = read_records(Cursor::new(&written), "again").unwrap_or_else(|e| {
        panic!(
            "{format:?} records written back do not load: {e}\n{}",
            String::from_utf8_lossy(&written)
        )
    });
    assert_eq!(records, again, "{format:?} round trip changed the records");
}

fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a scratch directory"))
        .path()
}

fn folder(data: &[u8]) {
    let dir = scratch();
    for name in FILES {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let mut current: Option<&str> = None;
    let mut contents: Vec<(&str, Vec<u8>)> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Some(name) = line.strip_prefix(b"@@ ") {
            let name = String::from_utf8_lossy(name.trim_ascii()).into_owned();
            current = FILES.iter().copied().find(|f| *f == name);
            if let Some(file) = current
                && !contents.iter().any(|(f, _)| *f == file)
            {
                contents.push((file, Vec::new()));
            }
            continue;
        }
        if let Some(file) = current
            && let Some((_, text)) = contents.iter_mut().find(|(f, _)| *f == file)
        {
            text.extend_from_slice(line);
        }
    }
    for (file, text) in &contents {
        std::fs::write(dir.join(file), text).expect("a scratch file");
    }
    if let Ok(world) = load_world(dir) {
        for (i, account) in world.accounts.iter().enumerate() {
            assert_eq!(
                account.id.index(),
                i,
                "a loaded world has sparse account ids"
            );
        }
        for (i, post) in world.posts.iter().enumerate() {
            assert_eq!(post.id.index(), i, "a loaded world has sparse post ids");
        }
        let _ = world.posts_by_author();
        let _ = world.edge_count();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 8 {
        0 => table::<Account>(rest),
        1 => table::<Post>(rest),
        2 => table::<AccountEdge>(rest),
        3 => table::<PostEdge>(rest),
        4 => table::<SearchEvent>(rest),
        5 => table::<IdentifierRecord>(rest),
        _ => folder(rest),
    }
});
