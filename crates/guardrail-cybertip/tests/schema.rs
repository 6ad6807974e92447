//! The writer's documents validated against the report XSD itself, by
//! `tools/cybertipline-server/validate.py` (lxml / libxml2).
//!
//! Without python3, lxml or the shared schema these tests print why and pass, except
//! under `GUARDRAIL_REQUIRE_PEERS=1` (`scripts/test.sh`, CI), where they fail.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;
use guardrail_cybertip::{FileId, ReportId, SchemaVersion, file_details_xml, report_xml};

fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("guardrail-cybertip-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn validate(files: &[PathBuf]) -> Output {
    Command::new("python3")
        .arg(tools_dir().join("validate.py"))
        .args(files)
        .output()
        .expect("python3 runs validate.py")
}

/// Referrals covering every field the writer fills, optional fields left out, and
/// text that needs escaping.
fn documents() -> Vec<(String, String)> {
    let mut hostile = full_referral();
    hostile.key = "case-hostile".to_string();
    hostile.additional_info =
        Some("<tag> & \"quotes\" ]]> \u{0}\u{1b} \r\n emoji \u{1F5FA} RTL \u{202E}".to_string());
    if let Some(person) = hostile.reported_person.as_mut() {
        person.account.profile_bio = Some("</profileBio><injected/>".to_string());
        person.account.display_names = vec!["tab\there \u{FFFF}".to_string()];
    }
    let mut documents = Vec::new();
    for referral in [
        minimal_referral(),
        full_referral(),
        text_only_referral(),
        hostile,
    ] {
        documents.push((
            format!("{}-report.xml", referral.key),
            report_xml(&referral),
        ));
        for (index, file) in referral.evidence.files().iter().enumerate() {
            let file_id =
                FileId::new(&format!("b0754af766b426f2928a02c651ed4b9{index}")).expect("id");
            documents.push((
                format!("{}-{}-details.xml", referral.key, file.key),
                file_details_xml(ReportId(4564654), &file_id, file),
            ));
        }
    }
    documents
}

#[test]
fn generated_documents_are_valid_against_the_xsd() {
    if !peers_available() {
        return;
    }
    let dir = scratch_dir("valid");
    let mut paths = Vec::new();
    for (name, xml) in documents() {
        let path = dir.join(name);
        std::fs::write(&path, xml).expect("write scratch document");
        paths.push(path);
    }
    assert!(
        paths.len() >= 8,
        "reports and file details of four referrals"
    );
    let output = validate(&paths);
    assert!(
        output.status.success(),
        "validate.py refused generated documents:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_validator_refuses_what_the_schema_refuses() {
    if !peers_available() {
        return;
    }
    // Guards the test above against a validator that accepts anything: documents the
    // writer would never produce, each with the schema rule it breaks.
    let full = report_xml(&full_referral());
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "order",
            full.replacen(
                "<espService>Photos</espService>\n    <screenName>",
                "<screenName>",
                1,
            )
            .replacen(
                "</screenName>\n",
                "</screenName>\n    <espService>Photos</espService>\n",
                1,
            ),
            "espService",
        ),
        (
            "enum",
            full.replace(
                "Child Pornography (possession, manufacture, and distribution)",
                "CSAM",
            ),
            "incidentType",
        ),
        (
            "zone",
            full.replace("2025-02-27T21:15:00-05:00", "2025-02-27 21:15"),
            "incidentDateTime",
        ),
        (
            "malformed",
            full.replace("</report>", "</reprt>"),
            "Malformed XML submittal",
        ),
        (
            "root",
            full.replace("<report ", "<fileDetails ")
                .replace("</report>", "</fileDetails>"),
            "Validation failed",
        ),
    ];
    let dir = scratch_dir("invalid");
    for (name, xml, expected) in cases {
        assert_ne!(xml, full, "case {name} must change the document");
        let path = dir.join(format!("{name}.xml"));
        std::fs::write(&path, xml).expect("write scratch document");
        let output = validate(std::slice::from_ref(&path));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "case {name}: {stdout}");
        assert!(
            stdout.contains(expected),
            "case {name}: {stdout} lacks {expected:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_recorded_schema_version_is_the_reference_schema() {
    if !peers_available() {
        return;
    }
    let output = Command::new("python3")
        .arg(tools_dir().join("validate.py"))
        .arg("--schema-sha256")
        .output()
        .expect("python3 runs validate.py");
    let digest = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert_eq!(
        digest,
        SchemaVersion::CURRENT_SHA256,
        "the reference schema changed: validate the writer against it, then update SchemaVersion::CURRENT_SHA256"
    );
}
