//! End-to-end tests of `guardrail media` on the reference images in `../shared/data/pdq`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn guardrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guardrail"))
        .args(args)
        .output()
        .expect("guardrail runs")
}

fn data(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/pdq")
        .join(relative)
        .display()
        .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("guardrail-media-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

#[test]
fn hash_prints_hex_quality_path_like_the_reference() {
    let image = data("bridge-mods/aaa-orig.jpg");
    let output = guardrail(&["media", "hash", &image]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output).trim(), format!("{BRIDGE} 100 {image}"));
    let dihedral = stdout(&guardrail(&["media", "hash", "--dihedral", &image]));
    assert_eq!(dihedral.lines().count(), 8);
    assert!(
        dihedral
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("30a10efd71c83f42") && l.ends_with(" rot90"))
    );
    let json: serde_json::Value =
        serde_json::from_str(stdout(&guardrail(&["media", "hash", "--json", &image])).trim())
            .expect("json");
    assert_eq!(json["hash"], BRIDGE);
    assert_eq!(json["quality"], 100);
}

#[test]
fn folders_are_walked_and_bad_files_reported_without_losing_the_rest() {
    let dir = temp_dir("walk");
    std::fs::copy(data("misc-images/wee.jpg"), dir.join("a.jpg")).expect("copy");
    std::fs::write(dir.join("b.png"), b"not an image").expect("write");
    std::fs::create_dir_all(dir.join("sub")).expect("subdir");
    std::fs::copy(data("misc-images/c.png"), dir.join("sub/c.png")).expect("copy");
    let output = guardrail(&["media", "hash", dir.to_str().expect("utf-8")]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a bad file makes the run exit 2"
    );
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "both good images hashed: {lines:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("b.png: not a supported image"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn banks_import_inspect_export_and_match_rotations() {
    let dir = temp_dir("bank");
    let list = dir.join("list.csv");
    std::fs::write(
        &list,
        format!("hash,source,entry_id,added_at\n{BRIDGE},test-list,bridge-1,1700000000\n"),
    )
    .expect("write");
    let bank = dir.join("test.bank");
    let bank_arg = bank.to_str().expect("utf-8");
    let imported = guardrail(&[
        "media",
        "bank",
        "import",
        "--out",
        bank_arg,
        list.to_str().expect("utf-8"),
    ]);
    assert!(imported.status.success(), "{imported:?}");
    let info = stdout(&guardrail(&["media", "bank", "info", bank_arg]));
    assert!(
        info.contains("entries:       1") && info.contains("threshold:     31"),
        "{info}"
    );
    let exported = stdout(&guardrail(&["media", "bank", "export", bank_arg]));
    assert_eq!(
        exported,
        format!("hash,source,entry_id,added_at\n{BRIDGE},test-list,bridge-1,1700000000\n")
    );
    // A rotated copy matches through its dihedral hashes, with the flat scan and the multi-index.
    for strategy in ["flat", "mih"] {
        let output = guardrail(&[
            "media",
            "match",
            "--json",
            "--strategy",
            strategy,
            "--bank",
            bank_arg,
            &data("reg-test-input/dih/bridge-2-rotate-90.jpg"),
        ]);
        let value: serde_json::Value = serde_json::from_str(stdout(&output).trim()).expect("json");
        let matches = value["matches"].as_array().expect("matches");
        assert_eq!(matches.len(), 1, "{value}");
        assert_eq!(matches[0]["entry"], "bridge-1");
        assert_eq!(matches[0]["dihedral"], "rot270");
        assert_eq!(matches[0]["distance"], 0);
    }
    // Hashes from a file; an unrelated image does not match.
    let hashes = dir.join("hashes.txt");
    std::fs::write(&hashes, format!("{BRIDGE} 100 upload-1\n")).expect("write");
    let output = stdout(&guardrail(&[
        "media",
        "match",
        "--bank",
        bank_arg,
        "--hashes",
        hashes.to_str().expect("utf-8"),
    ]));
    assert!(output.contains("upload-1: 1 match(es)"), "{output}");
    let output = stdout(&guardrail(&[
        "media",
        "match",
        "--bank",
        bank_arg,
        &data("reg-test-input/pen-and-coaster.png"),
    ]));
    assert!(output.contains(": 0 match(es)"), "{output}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_lists_and_bad_banks_are_refused_with_the_line() {
    let dir = temp_dir("bad");
    let list = dir.join("list.txt");
    std::fs::write(&list, format!("{BRIDGE}\nnot-a-hash\n")).expect("write");
    let bank = dir.join("x.bank");
    let output = guardrail(&[
        "media",
        "bank",
        "import",
        "--out",
        bank.to_str().expect("utf-8"),
        list.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("list.txt:line 2:") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    assert!(!bank.exists(), "no bank written from a bad list");
    std::fs::write(&bank, b"GRDBANK1 but not really").expect("write");
    let output = guardrail(&["media", "bank", "info", bank.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a valid bank file"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shared_list_formats_import_and_export_round_trip() {
    let dir = temp_dir("formats");
    let path = |name: &str| dir.join(name).to_str().expect("utf-8").to_string();
    // A `threatexchange dataset -P --csv` export: a PDQ row, an MD5 row and a row the
    // list itself marks as a false positive.
    let other = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";
    std::fs::write(
        path("dataset.csv"),
        format!(
            "collab,signal_type,signal_str,category,tags\n\
             Sample Data,pdq,{BRIDGE},TRUE_POSITIVE,\n\
             Sample Data,video_md5,d41d8cd98f00b204e9800998ecf8427e,TRUE_POSITIVE,\n\
             Sample Data,pdq,{other},FALSE_POSITIVE,\n"
        ),
    )
    .expect("write");
    let positive = guardrail(&[
        "media",
        "bank",
        "import",
        "--out",
        &path("p.bank"),
        &path("dataset.csv"),
    ]);
    assert!(positive.status.success(), "{positive:?}");
    let stderr = String::from_utf8_lossy(&positive.stderr);
    assert!(
        stderr.contains("skipped 1 row(s) of other signal types")
            && stderr
                .contains("skipped 1 row(s) whose category does not belong in a positive bank"),
        "{stderr}"
    );
    let negative = guardrail(&[
        "media",
        "bank",
        "import",
        "--negative",
        "--out",
        &path("n.bank"),
        &path("dataset.csv"),
    ]);
    assert!(negative.status.success(), "{negative:?}");
    // Each export format reads back into a bank with the same hashes.
    let hex_of = |bank: &str| {
        stdout(&guardrail(&[
            "media", "bank", "export", "--format", "hex", bank,
        ]))
    };
    assert_eq!(hex_of(&path("p.bank")), format!("{BRIDGE}\n"));
    assert_eq!(hex_of(&path("n.bank")), format!("{other}\n"));
    for format in ["csv", "hex", "pytx", "hma"] {
        let text = stdout(&guardrail(&[
            "media",
            "bank",
            "export",
            "--format",
            format,
            &path("p.bank"),
        ]));
        std::fs::write(path("again.txt"), &text).expect("write");
        let again = guardrail(&[
            "media",
            "bank",
            "import",
            "--out",
            &path("again.bank"),
            &path("again.txt"),
        ]);
        assert!(again.status.success(), "{format}: {again:?}");
        assert_eq!(
            hex_of(&path("again.bank")),
            format!("{BRIDGE}\n"),
            "{format}:\n{text}"
        );
    }
    let pytx = stdout(&guardrail(&[
        "media",
        "bank",
        "export",
        "--format",
        "pytx",
        &path("p.bank"),
    ]));
    assert_eq!(
        pytx,
        format!(
            "collab,signal_type,signal_str,category,tags\nSample Data,pdq,{BRIDGE},TRUE_POSITIVE,\n"
        )
    );
    // python-threatexchange local files: `pdq HEX` per line.
    std::fs::write(path("local.txt"), format!("pdq {BRIDGE}\n")).expect("write");
    let local = guardrail(&[
        "media",
        "bank",
        "import",
        "--format",
        "pytx",
        "--out",
        &path("l.bank"),
        &path("local.txt"),
    ]);
    assert!(local.status.success(), "{local:?}");
    assert_eq!(hex_of(&path("l.bank")), format!("{BRIDGE}\n"));
    std::fs::remove_dir_all(&dir).ok();
}
