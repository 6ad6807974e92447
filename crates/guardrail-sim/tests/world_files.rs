//! World folders: deterministic bytes, the same world from CSV and JSON-lines, and ground
//! truth kept out of what the public loader reads.

use std::path::{Path, PathBuf};

use guardrail_sim::{WorldConfig, generate, load_truth, write_world};
use guardrail_world::{Format, load_world};

fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn small() -> WorldConfig {
    WorldConfig {
        accounts: 2_000,
        ..WorldConfig::default()
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("truth")] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&sub)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for path in entries {
            out.push((
                path.strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string(),
                std::fs::read(&path).expect("read"),
            ));
        }
    }
    out
}

#[test]
fn the_same_seed_writes_identical_files() {
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    for dir in [&a, &b] {
        let (world, truth) = generate(&small(), 42);
        write_world(dir, &world, &truth, Format::Csv, &mut |_| {}).expect("write");
    }
    let (files_a, files_b) = (files(&a), files(&b));
    assert_eq!(
        files_a.len(),
        13,
        "{:?}",
        files_a.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(
        files_a == files_b,
        "same seed must give byte-identical files"
    );
}

#[test]
fn csv_and_jsonl_load_to_the_same_world_and_truth() {
    let (world, truth) = generate(&small(), 3);
    let (csv, jsonl) = (scratch("csv"), scratch("jsonl"));
    write_world(&csv, &world, &truth, Format::Csv, &mut |_| {}).expect("csv");
    write_world(&jsonl, &world, &truth, Format::JsonLines, &mut |_| {}).expect("jsonl");
    let (from_csv, from_jsonl) = (
        load_world(&csv).expect("load csv"),
        load_world(&jsonl).expect("load jsonl"),
    );
    assert!(from_csv == world, "csv round trip differs");
    assert!(from_jsonl == world, "jsonl round trip differs");
    assert_eq!(load_truth(&csv).expect("truth csv"), truth);
    assert_eq!(load_truth(&jsonl).expect("truth jsonl"), truth);
}

#[test]
fn a_bad_row_names_the_file_line_and_field() {
    let (world, truth) = generate(&small(), 6);
    let dir = scratch("bad-row");
    write_world(&dir, &world, &truth, Format::Csv, &mut |_| {}).expect("write");
    let path = dir.join("follows.csv");
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str("1,not-a-number,3\n");
    std::fs::write(&path, &text).expect("write");
    let line = text.lines().count();
    let error = load_world(&dir).expect_err("bad row").to_string();
    assert!(
        error.contains(&format!("follows.csv:{line}: dst: expected an account id")),
        "{error}"
    );
}
