//! The report and file-details writer: escaping, element order, optional fields.
//!
//! Order is checked here against lists copied from the XSD's sequences; validity
//! against the XSD itself is `tests/schema.rs`.

mod common;

use common::*;
use guardrail_cybertip::{Evidence, FileId, ReportId, escape_text, file_details_xml, report_xml};

/// The names of the element's children, in document order, for the first element
/// called `parent` (children only, not deeper descendants).
fn children(xml: &str, parent: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth: Option<usize> = None;
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("tag closes");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') {
            continue;
        }
        let closing = tag.starts_with('/');
        let empty = tag.ends_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        match depth {
            None if !closing && name == parent => {
                if empty {
                    return names;
                }
                depth = Some(0);
            }
            None => {}
            Some(level) if closing => {
                if level == 0 {
                    return names;
                }
                depth = Some(level - 1);
            }
            Some(level) => {
                if level == 0 {
                    names.push(name);
                }
                if !empty {
                    depth = Some(level + 1);
                }
            }
        }
    }
    names
}

fn check_order(xml: &str, parent: &str, expected: &[&str]) {
    let actual = children(xml, parent);
    assert_eq!(actual, expected, "children of <{parent}> in\n{xml}");
}

#[test]
fn element_order_follows_the_schema_sequences() {
    let referral = full_referral();
    let xml = report_xml(&referral);
    let cases: &[(&str, &[&str])] = &[
        (
            "report",
            &[
                "incidentSummary",
                "internetDetails",
                "reporter",
                "personOrUserReported",
                "additionalInfo",
            ],
        ),
        (
            "incidentSummary",
            &[
                "incidentType",
                "platform",
                "escalateToHighPriority",
                "reportAnnotations",
                "incidentDateTime",
                "incidentDateTimeDescription",
            ],
        ),
        ("reportAnnotations", &["sextortion", "csamSolicitation"]),
        ("webPageIncident", &["url", "url"]),
        (
            "reporter",
            &[
                "reportingPerson",
                "contactPerson",
                "companyTemplate",
                "termsOfService",
                "legalURL",
            ],
        ),
        (
            "reportingPerson",
            &["firstName", "lastName", "phone", "email"],
        ),
        (
            "contactPerson",
            &["firstName", "lastName", "phone", "email"],
        ),
        (
            "personOrUserReported",
            &[
                "personOrUserReportedPerson",
                "espIdentifier",
                "espService",
                "screenName",
                "displayName",
                "profileUrl",
                "profileBio",
                "ipCaptureEvent",
                "ipCaptureEvent",
                "accountPermanentlyDisabled",
                "associatedAccount",
                "additionalInfo",
            ],
        ),
        ("personOrUserReportedPerson", &["phone", "email"]),
        // espService before espIdentifier here: the opposite of personOrUserReported.
        (
            "associatedAccount",
            &[
                "email",
                "espService",
                "espIdentifier",
                "profileUrl",
                "screenName",
                "ipCaptureEvent",
                "additionalInfo",
            ],
        ),
        (
            "ipCaptureEvent",
            &[
                "ipAddress",
                "eventName",
                "dateTime",
                "possibleProxy",
                "port",
            ],
        ),
    ];
    for (parent, expected) in cases {
        check_order(&xml, parent, expected);
    }

    let files = referral.evidence.files();
    let details = file_details_xml(
        ReportId(4564654),
        &FileId::new("f-1").expect("id"),
        &files[0],
    );
    check_order(
        &details,
        "fileDetails",
        &[
            "reportId",
            "fileId",
            "fileName",
            "originalFileName",
            "uploadedToEspTimestamp",
            "locationOfFile",
            "fileViewedByEsp",
            "publiclyAvailable",
            "fileRelevance",
            "fileAnnotations",
            "industryClassification",
            "originalFileHash",
            "originalFileHash",
            "ipCaptureEvent",
            "details",
            "additionalInfo",
        ],
    );
    check_order(&details, "details", &["nameValuePair"]);
    check_order(&details, "nameValuePair", &["name", "value"]);
}

#[test]
fn optional_fields_are_left_out_when_absent() {
    let referral = minimal_referral();
    let xml = report_xml(&referral);
    check_order(
        &xml,
        "report",
        &["incidentSummary", "reporter", "personOrUserReported"],
    );
    check_order(
        &xml,
        "incidentSummary",
        &["incidentType", "platform", "incidentDateTime"],
    );
    check_order(&xml, "reportingPerson", &["firstName", "lastName", "email"]);
    // No emails or phones: no empty person element.
    check_order(&xml, "personOrUserReported", &["screenName"]);
    for absent in [
        "<internetDetails",
        "<reportAnnotations",
        "<lawEnforcement",
        "<victim",
        "<intendedRecipient",
        "<batchedReport",
    ] {
        assert!(!xml.contains(absent), "{absent} in\n{xml}");
    }

    let mut without_person = minimal_referral();
    without_person.reported_person = None;
    check_order(
        &report_xml(&without_person),
        "report",
        &["incidentSummary", "reporter"],
    );

    let file = &referral.evidence.files()[0];
    let details = file_details_xml(ReportId(7), &FileId::new("f-1").expect("id"), file);
    check_order(
        &details,
        "fileDetails",
        &[
            "reportId",
            "fileId",
            "fileName",
            "fileRelevance",
            "originalFileHash",
            "originalFileHash",
        ],
    );
}

#[test]
fn values_are_written_as_the_schema_spells_them() {
    let referral = full_referral();
    let xml = report_xml(&referral);
    let expected = [
        "<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>",
        "<incidentDateTime>2025-02-27T21:15:00-05:00</incidentDateTime>",
        "<sextortion/>",
        r#"<phone type="Business" countryCallingCode="+1" extension="42">555 0100</phone>"#,
        r#"<email type="Home" verified="true" verificationDate="2024-12-01T08:00:00Z">handle.a@example.org</email>"#,
        r#"<phone type="Mobile" verified="true" countryCallingCode="+44">555 0199</phone>"#,
        "<ipAddress>2001:db8::7</ipAddress>",
        r#"<accountPermanentlyDisabled disabledDate="2025-02-28T09:30:00Z">true</accountPermanentlyDisabled>"#,
        r#"<associatedAccount type="Linked">"#,
        r#"xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd""#,
    ];
    for fragment in expected {
        assert!(xml.contains(fragment), "missing {fragment} in\n{xml}");
    }
    let files = referral.evidence.files();
    let details = file_details_xml(
        ReportId(4564654),
        &FileId::new("b0754af7").expect("id"),
        &files[0],
    );
    for fragment in [
        "<reportId>4564654</reportId>",
        "<fileId>b0754af7</fileId>",
        r#"<originalFileHash hashType="MD5">0123456789abcdef0123456789abcdef</originalFileHash>"#,
        r#"<originalFileHash hashType="SHA1">0123456789abcdef0123456789abcdef01234567</originalFileHash>"#,
        r#"<details type="HASH">"#,
        "<name>PDQ</name>",
        "<industryClassification>B1</industryClassification>",
        "<generativeAi/>",
        "<fileRelevance>Reported</fileRelevance>",
        "<uploadedToEspTimestamp>2025-02-27T21:14:00-05:00</uploadedToEspTimestamp>",
    ] {
        assert!(
            details.contains(fragment),
            "missing {fragment} in\n{details}"
        );
    }
    let supplemental = file_details_xml(ReportId(1), &FileId::new("f-2").expect("id"), &files[1]);
    assert!(supplemental.contains("<fileRelevance>Supplemental Reported</fileRelevance>"));
    assert!(
        !supplemental.contains("<details"),
        "no PDQ, no details:\n{supplemental}"
    );
}

#[test]
fn text_is_escaped_for_xml() {
    let cases: &[(&str, &str)] = &[
        ("plain", "plain"),
        ("a & b", "a &amp; b"),
        ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
        ("]]> ends CDATA", "]]&gt; ends CDATA"),
        (
            r#"quotes " and ' stay in text"#,
            r#"quotes " and ' stay in text"#,
        ),
        ("line\nbreak\ttab", "line\nbreak\ttab"),
        ("crlf\r\n", "crlf&#13;\n"),
        ("nul\u{0}bell\u{7}", "nul\u{FFFD}bell\u{FFFD}"),
        (
            "non-characters \u{FFFE}\u{FFFF}",
            "non-characters \u{FFFD}\u{FFFD}",
        ),
        (
            "emoji \u{1F5FA} and accents é",
            "emoji \u{1F5FA} and accents é",
        ),
        ("&amp; already", "&amp;amp; already"),
    ];
    for (input, expected) in cases {
        assert_eq!(escape_text(input), *expected, "escaping {input:?}");
    }
}

#[test]
fn escaping_reaches_every_text_and_attribute() {
    let mut referral = minimal_referral();
    referral.additional_info = Some("a<b & \"c\"\r\n".to_string());
    let person = referral.reported_person.as_mut().expect("fixture person");
    person.account.profile_bio = Some("</profileBio><injected/>".to_string());
    person.account.emails = vec![guardrail_cybertip::Email::new("x&y@example.org")];
    let xml = report_xml(&referral);
    assert!(
        xml.contains("<additionalInfo>a&lt;b &amp; \"c\"&#13;\n</additionalInfo>"),
        "{xml}"
    );
    assert!(
        xml.contains("<profileBio>&lt;/profileBio&gt;&lt;injected/&gt;</profileBio>"),
        "{xml}"
    );
    assert!(xml.contains("<email>x&amp;y@example.org</email>"), "{xml}");
    assert!(!xml.contains("<injected"), "{xml}");

    // Attributes: quotes and white space become references.
    let mut file = common::file("media-1", MD5_A, SHA1_A);
    file.additional_info = vec!["tab\there".to_string()];
    let details = file_details_xml(ReportId(1), &FileId::new("id").expect("id"), &file);
    assert!(
        details.contains("<additionalInfo>tab\there</additionalInfo>"),
        "{details}"
    );
}

#[test]
fn a_text_only_referral_writes_no_file_traces() {
    let referral = text_only_referral();
    assert!(matches!(referral.evidence, Evidence::TextOnly { .. }));
    let xml = report_xml(&referral);
    assert!(
        xml.contains("Online Enticement of Children for Sexual Acts"),
        "{xml}"
    );
    // The reason for having no files is internal; it is not sent.
    assert!(!xml.contains("comment text"), "{xml}");
}
