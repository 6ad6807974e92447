//! End-to-end tests of `guardrail media` on the reference images in `../shared/data/pdq`.
//!
//! Runs the binary through the shared harness (`common`); reads the reference images in
//! place and writes only in its scratch folders. The snapshot tests pin the text of
//! `hash`, `bank import`, `bank info` and `match`.

mod common;

use common::{Dir, guardrail, pdq_data, snapshot_settings};

fn data(relative: &str) -> String {
    pdq_data().join(relative).display().to_string()
}

const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

#[test]
fn hash_prints_hex_quality_path_like_the_reference() {
    let image = data("bridge-mods/aaa-orig.jpg");
    let output = guardrail(&["media", "hash", &image]).ok();
    assert_eq!(output.stdout().trim(), format!("{BRIDGE} 100 {image}"));
    let dihedral = guardrail(&["media", "hash", "--dihedral", &image])
        .run()
        .stdout();
    assert_eq!(dihedral.lines().count(), 8);
    assert!(
        dihedral
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("30a10efd71c83f42") && l.ends_with(" rot90"))
    );
    let json = guardrail(&["media", "hash", "--json", &image]).run().json();
    assert_eq!(json["hash"], BRIDGE);
    assert_eq!(json["quality"], 100);
}

#[test]
fn folders_are_walked_and_bad_files_reported_without_losing_the_rest() {
    let dir = Dir::new("walk");
    let walked = dir.create_dir("images");
    std::fs::copy(data("misc-images/wee.jpg"), walked.join("a.jpg")).expect("copy");
    dir.create("images/b.png", b"not an image");
    dir.create_dir("images/sub");
    std::fs::copy(data("misc-images/c.png"), walked.join("sub/c.png")).expect("copy");
    // A bad file makes the run exit 2.
    let output = guardrail(&["media", "hash", common::utf8(&walked)]).fails_with(2);
    let lines = output.lines();
    assert_eq!(lines.len(), 2, "both good images hashed: {lines:?}");
    assert!(
        output.stderr().contains("b.png: not a supported image"),
        "{output}"
    );
}

#[test]
fn banks_import_inspect_export_and_match_rotations() {
    let dir = Dir::new("bank");
    let list = dir.create(
        "list.csv",
        format!("hash,source,entry_id,added_at\n{BRIDGE},test-list,bridge-1,1700000000\n"),
    );
    let bank_arg = &dir.arg("test.bank");
    guardrail(&[
        "media",
        "bank",
        "import",
        "--out",
        bank_arg,
        common::utf8(&list),
    ])
    .ok();
    let info = guardrail(&["media", "bank", "info", bank_arg])
        .run()
        .stdout();
    assert!(
        info.contains("entries:       1") && info.contains("threshold:     31"),
        "{info}"
    );
    let exported = guardrail(&["media", "bank", "export", bank_arg])
        .run()
        .stdout();
    assert_eq!(
        exported,
        format!("hash,source,entry_id,added_at\n{BRIDGE},test-list,bridge-1,1700000000\n")
    );
    // A rotated copy matches through its dihedral hashes, with the flat scan and the multi-index.
    for strategy in ["flat", "mih"] {
        let value = guardrail(&[
            "media",
            "match",
            "--json",
            "--strategy",
            strategy,
            "--bank",
            bank_arg,
            &data("reg-test-input/dih/bridge-2-rotate-90.jpg"),
        ])
        .run()
        .json();
        let matches = value["matches"].as_array().expect("matches");
        assert_eq!(matches.len(), 1, "{value}");
        assert_eq!(matches[0]["entry"], "bridge-1");
        assert_eq!(matches[0]["dihedral"], "rot270");
        assert_eq!(matches[0]["distance"], 0);
    }
    // Hashes from a file; an unrelated image does not match.
    let hashes = dir.create("hashes.txt", format!("{BRIDGE} 100 upload-1\n"));
    let output = guardrail(&[
        "media",
        "match",
        "--bank",
        bank_arg,
        "--hashes",
        common::utf8(&hashes),
    ])
    .run()
    .stdout();
    assert!(output.contains("upload-1: 1 match(es)"), "{output}");
    let output = guardrail(&[
        "media",
        "match",
        "--bank",
        bank_arg,
        &data("reg-test-input/pen-and-coaster.png"),
    ])
    .run()
    .stdout();
    assert!(output.contains(": 0 match(es)"), "{output}");
}

#[test]
fn bad_lists_and_bad_banks_are_refused_with_the_line() {
    let dir = Dir::new("bad");
    let list = dir.create("list.txt", format!("{BRIDGE}\nnot-a-hash\n"));
    let bank = dir.join("x.bank");
    let output = guardrail(&[
        "media",
        "bank",
        "import",
        "--out",
        common::utf8(&bank),
        common::utf8(&list),
    ])
    .fails_with(2);
    let stderr = output.stderr();
    assert!(
        stderr.contains("list.txt:line 2:") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    assert!(!bank.exists(), "no bank written from a bad list");
    dir.create("x.bank", b"GRDBANK1 but not really");
    let output = guardrail(&["media", "bank", "info", common::utf8(&bank)]).fails_with(2);
    assert!(
        output.stderr().contains("is not a valid bank file"),
        "{output}"
    );
}

#[test]
fn shared_list_formats_import_and_export_round_trip() {
    let dir = Dir::new("formats");
    let path = |name: &str| dir.arg(name);
    // A `threatexchange dataset -P --csv` export: a PDQ row, an MD5 row and a row the
    // list itself marks as a false positive.
    let other = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";
    dir.create(
        "dataset.csv",
        format!(
            "collab,signal_type,signal_str,category,tags\n\
             Sample Data,pdq,{BRIDGE},TRUE_POSITIVE,\n\
             Sample Data,video_md5,d41d8cd98f00b204e9800998ecf8427e,TRUE_POSITIVE,\n\
             Sample Data,pdq,{other},FALSE_POSITIVE,\n"
        ),
    );
    let positive = guardrail(&[
        "media",
        "bank",
        "import",
        "--out",
        &path("p.bank"),
        &path("dataset.csv"),
    ])
    .ok();
    let stderr = positive.stderr();
    assert!(
        stderr.contains("skipped 1 row(s) of other signal types")
            && stderr
                .contains("skipped 1 row(s) whose category does not belong in a positive bank"),
        "{stderr}"
    );
    guardrail(&[
        "media",
        "bank",
        "import",
        "--negative",
        "--out",
        &path("n.bank"),
        &path("dataset.csv"),
    ])
    .ok();
    // Each export format reads back into a bank with the same hashes.
    let hex_of = |bank: &str| {
        guardrail(&["media", "bank", "export", "--format", "hex", bank])
            .run()
            .stdout()
    };
    assert_eq!(hex_of(&path("p.bank")), format!("{BRIDGE}\n"));
    assert_eq!(hex_of(&path("n.bank")), format!("{other}\n"));
    for format in ["csv", "hex", "pytx", "hma"] {
        let text = guardrail(&[
            "media",
            "bank",
            "export",
            "--format",
            format,
            &path("p.bank"),
        ])
        .run()
        .stdout();
        dir.create("again.txt", &text);
        let again = guardrail(&[
            "media",
            "bank",
            "import",
            "--out",
            &path("again.bank"),
            &path("again.txt"),
        ])
        .run();
        assert!(again.status.success(), "{format}: {again}");
        assert_eq!(
            hex_of(&path("again.bank")),
            format!("{BRIDGE}\n"),
            "{format}:\n{text}"
        );
    }
    let pytx = guardrail(&[
        "media",
        "bank",
        "export",
        "--format",
        "pytx",
        &path("p.bank"),
    ])
    .run()
    .stdout();
    assert_eq!(
        pytx,
        format!(
            "collab,signal_type,signal_str,category,tags\nSample Data,pdq,{BRIDGE},TRUE_POSITIVE,\n"
        )
    );
    // python-threatexchange local files: `pdq HEX` per line.
    dir.create("local.txt", format!("pdq {BRIDGE}\n"));
    guardrail(&[
        "media",
        "bank",
        "import",
        "--format",
        "pytx",
        "--out",
        &path("l.bank"),
        &path("local.txt"),
    ])
    .ok();
    assert_eq!(hex_of(&path("l.bank")), format!("{BRIDGE}\n"));
}

#[test]
fn snapshot_hash_of_the_reference_images() {
    // Run inside the data folder with relative paths, so the paths printed are the
    // reference set's own; anything absolute left is redacted by the settings.
    let folders =
        guardrail(&["media", "hash", "bridge-mods", "reg-test-input/dih"]).current_dir(pdq_data());
    snapshot_settings(&folders).bind(|| {
        insta::assert_snapshot!("hash_bridge_mods_and_dihedrals", folders.ok().stdout());
    });
    let dihedral = guardrail(&["media", "hash", "--dihedral", "bridge-mods/aaa-orig.jpg"])
        .current_dir(pdq_data());
    snapshot_settings(&dihedral).bind(|| {
        insta::assert_snapshot!("hash_dihedral_aaa_orig", dihedral.ok().stdout());
    });
    // An absolute path, as a user would more often give: redacted to [PDQ-DATA].
    let absolute = guardrail(&["media", "hash", &data("reg-test-input/pen-and-coaster.png")]);
    snapshot_settings(&absolute).bind(|| {
        insta::assert_snapshot!("hash_absolute_path_redacted", absolute.ok().stdout());
    });
}

#[test]
fn snapshot_bank_import_info_and_match() {
    let dir = Dir::new("snapshot-bank");
    dir.create(
        "list.csv",
        format!(
            "hash,source,entry_id,added_at\n\
             {BRIDGE},test-list,bridge-1,1700000000\n\
             30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af,other-list,other-1,1700000001\n"
        ),
    );
    let import = dir.command(&["media", "bank", "import", "--out", "test.bank", "list.csv"]);
    snapshot_settings(&import).bind(|| {
        insta::assert_snapshot!("bank_import", import.ok().stdout());
    });
    let info = dir.command(&["media", "bank", "info", "test.bank"]);
    snapshot_settings(&info).bind(|| {
        insta::assert_snapshot!("bank_info", info.ok().stdout());
    });
    dir.create(
        "hashes.txt",
        format!("{BRIDGE} 100 upload-1\n{} 100 upload-2\n", "0".repeat(64)),
    );
    let matched = dir.command(&[
        "media",
        "match",
        "--bank",
        "test.bank",
        "--hashes",
        "hashes.txt",
    ]);
    snapshot_settings(&matched).bind(|| {
        insta::assert_snapshot!("match_hashes", matched.ok().stdout());
    });
}
