//! Referral checks, timestamps and digests: what is refused, and that the refusal
//! names the field and the reason.

mod common;

use common::*;
use guardrail_cybertip::{
    Email, FileRelevance, IndustryClassification, Md5, Pdq, Phone, Referral, Sha1, Timestamp,
    check_referral,
};

#[test]
fn fixtures_pass() {
    for referral in [minimal_referral(), full_referral(), text_only_referral()] {
        assert_eq!(check_referral(&referral, now()), Ok(()), "{}", referral.key);
    }
}

#[test]
fn each_broken_rule_is_named() {
    type Edit = fn(&mut Referral);
    let cases: Vec<(Edit, &str, &str)> = vec![
        (|r| r.key = "a/b".to_string(), "key", "without '/'"),
        (
            |r| r.reporter.reporting_person.email = Email::new("no-at-sign"),
            "reporter.reporting_person.email",
            "not a well-formed email",
        ),
        (
            |r| {
                r.reporter.reporting_person.email =
                    Email::new(format!("{}@example.org", "x".repeat(65)))
            },
            "reporter.reporting_person.email",
            "local part of 1 to 64",
        ),
        (
            |r| r.incident.occurred_at = at("2025-03-02T00:00:00Z"),
            "incident.occurred_at",
            "is in the future",
        ),
        (
            |r| r.incident.escalate_to_high_priority = Some("  ".to_string()),
            "incident.escalate_to_high_priority",
            "must not be blank",
        ),
        (
            |r| r.incident.platform = Some("p".repeat(257)),
            "incident.platform",
            "257 characters, at most 256",
        ),
        (
            |r| r.web_page_urls = vec!["ftp://example.org/x".to_string()],
            "web_page_urls[0]",
            "absolute http(s) URL",
        ),
        (
            |r| person(r).screen_name = None,
            "reported_person.account",
            "names no identifier",
        ),
        (
            |r| {
                person(r).phones = vec![Phone {
                    country_calling_code: Some("1".to_string()),
                    ..Phone::new("555 0100")
                }]
            },
            "reported_person.account.phones[0].country_calling_code",
            "must match",
        ),
        (
            |r| {
                person(r).phones = vec![Phone {
                    country_calling_code: Some("+1".to_string()),
                    ..Phone::new("+1 555 0100")
                }]
            },
            "reported_person.account.phones[0]",
            "must not start with its country calling code",
        ),
        (
            |r| {
                person(r).phones = vec![Phone {
                    extension: Some("12a".to_string()),
                    ..Phone::new("555 0100")
                }]
            },
            "reported_person.account.phones[0].extension",
            "1 to 10 digits",
        ),
        (
            |r| person(r).permanently_disabled_at = Some(at("2030-01-01T00:00:00Z")),
            "reported_person.account.permanently_disabled_at",
            "in the future",
        ),
        (
            |r| file0(r).key = String::new(),
            "evidence.files[0].key",
            "non-empty",
        ),
        (
            |r| file0(r).file_name = "a\"b".to_string(),
            "evidence.files[0].file_name",
            "quotes or control characters",
        ),
        (
            |r| {
                file0(r).relevance = FileRelevance::SupplementalReported;
            },
            "evidence",
            "relevance Reported",
        ),
        (
            |r| {
                let mut extra = file("media-2", MD5_B, SHA1_B);
                extra.relevance = FileRelevance::SupplementalReported;
                extra.industry_classification = Some(IndustryClassification::A1);
                files(r).push(extra);
            },
            "evidence.files[1].industry_classification",
            "only a Reported file",
        ),
        (
            |r| files(r).push(file("media-1", MD5_B, SHA1_B)),
            "evidence.files[1].key",
            "used by an earlier file",
        ),
    ];
    for (edit, field, reason) in cases {
        let mut referral = minimal_referral();
        edit(&mut referral);
        let error = check_referral(&referral, now()).expect_err(field);
        assert!(
            error
                .problems
                .iter()
                .any(|p| p.field == field && p.reason.contains(reason)),
            "expected {field}: ...{reason}..., got {error}"
        );
    }
}

fn person(referral: &mut Referral) -> &mut guardrail_cybertip::Account {
    &mut referral
        .reported_person
        .as_mut()
        .expect("fixture person")
        .account
}

fn files(referral: &mut Referral) -> &mut Vec<guardrail_cybertip::ReferralFile> {
    match &mut referral.evidence {
        guardrail_cybertip::Evidence::Files(files) => files,
        other => panic!("fixture has files, got {other:?}"),
    }
}

fn file0(referral: &mut Referral) -> &mut guardrail_cybertip::ReferralFile {
    &mut files(referral)[0]
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut referral = minimal_referral();
    referral.reporter.reporting_person.email = Email::new("bad");
    referral.incident.occurred_at = at("2099-01-01T00:00:00Z");
    let error = check_referral(&referral, now()).expect_err("two problems");
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(
        error
            .to_string()
            .starts_with("referral \"case-0001\" is not valid: "),
        "{error}"
    );
}

#[test]
fn timestamps_follow_the_documented_format() {
    let round_trips = [
        "2012-10-15T08:00:00-07:00",
        "2011-10-31T12:00:00Z",
        "2024-02-29T23:59:59+05:30",
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ];
    for text in round_trips {
        assert_eq!(Timestamp::parse(text).expect(text).to_string(), text);
    }
    assert_eq!(
        Timestamp::parse("1970-01-01T00:00:00Z").map(|t| t.unix_seconds()),
        Ok(0)
    );
    assert_eq!(
        Timestamp::parse("2012-10-15T08:00:00-07:00").map(|t| t.unix_seconds()),
        Ok(1_350_313_200)
    );
    assert_eq!(
        Timestamp::parse("2024-01-01T01:00:00+01:00"),
        Timestamp::parse("2024-01-01T00:00:00Z"),
        "equal instants are equal"
    );
    assert_eq!(
        Timestamp::from_unix_seconds_with_offset(1_350_313_200, -420).map(|t| t.to_string()),
        Ok("2012-10-15T08:00:00-07:00".to_string())
    );
    let refused = [
        (
            "2012-10-15T08:00:00",
            "a time zone (Z or ±hh:mm) is required",
        ),
        ("2012-10-15 08:00:00Z", "expected YYYY-MM-DDThh:mm:ss"),
        (
            "2012-10-15T08:00:00.5Z",
            "fractional seconds are not supported",
        ),
        ("2023-02-29T00:00:00Z", "no such calendar date"),
        ("2012-13-01T00:00:00Z", "no such calendar date"),
        ("2012-10-15T24:00:00Z", "time of day"),
        ("2012-10-15T08:00:00+0700", "time zone must be Z or ±hh:mm"),
        ("2012-10-15T08:00:00+24:00", "offset is beyond"),
        ("２012-10-15T08:00:00Z", "expected YYYY-MM-DDThh:mm:ss"),
        ("2012-1a-15T08:00:00Z", "not a number"),
    ];
    for (text, reason) in refused {
        let error = Timestamp::parse(text).expect_err(text);
        assert!(error.to_string().contains(reason), "{text}: {error}");
    }
    assert!(Timestamp::from_unix_seconds(i64::MAX / 2).is_err());
}

#[test]
fn digests_are_checked_and_lowercased() {
    assert_eq!(
        Md5::parse(&MD5_A.to_uppercase()).map(|d| d.to_string()),
        Ok(MD5_A.to_string())
    );
    assert!(Md5::parse(SHA1_A).is_err());
    assert!(Sha1::parse("g123456789abcdef0123456789abcdef01234567").is_err());
    let error = Pdq::parse("abc").expect_err("short");
    assert_eq!(
        error.to_string(),
        "invalid PDQ digest \"abc\": expected 64 hexadecimal digits"
    );
    // Serde goes through the same check.
    assert!(serde_json::from_str::<Md5>("\"xyz\"").is_err());
    let parsed: Md5 = serde_json::from_str(&format!("\"{MD5_A}\"")).expect("valid digest");
    assert_eq!(Ok(parsed), Md5::parse(MD5_A));
}
