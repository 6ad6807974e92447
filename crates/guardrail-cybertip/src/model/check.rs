//! Checking a referral against the rules the schema and the API documentation put on its
//! values, naming every field that breaks one.
//!
//! What it must never do: stop at the first problem, or pass a referral the clearing house
//! would refuse for a rule written down here.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::*;
use crate::time::Timestamp;

/// One thing wrong with a referral: where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The field, as a path through the referral (`reported_person.account.emails[0]`).
    pub field: String,
    /// What is wrong, as a lowercase fragment.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.field, self.reason)
    }
}

/// A referral that the clearing house would refuse, with every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("referral {key:?} is not valid: {}", join_problems(.problems))]
pub struct ReferralError {
    /// The referral's key.
    pub key: String,
    /// Every problem, in field order.
    pub problems: Vec<Problem>,
}

fn join_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks a referral against the rules of the API documentation that the types do not
/// already enforce: required values, lengths, patterns, timestamps in the past (`now`
/// is the caller's clock), unique keys, and whether the incident type needs files.
///
/// Everything it accepts is also valid against the schema; the schema test in
/// `tests/schema.rs` holds the writer to that.
pub fn check_referral(referral: &Referral, now: Timestamp) -> Result<(), ReferralError> {
    let mut check = Checker {
        now,
        problems: Vec::new(),
    };
    check.key("key", &referral.key);
    check.reporter(&referral.reporter);
    check.incident(&referral.incident);
    for (index, url) in referral.web_page_urls.iter().enumerate() {
        check.url(&format!("web_page_urls[{index}]"), url);
    }
    if let Some(person) = &referral.reported_person {
        check.account("reported_person.account", &person.account);
        for (index, associated) in person.associated_accounts.iter().enumerate() {
            let field = format!("reported_person.associated_accounts[{index}]");
            if let Some(platform) = &associated.platform {
                check.text(&format!("{field}.platform"), platform, 256);
            }
            check.account(&format!("{field}.account"), &associated.account);
        }
    }
    check.evidence(referral.incident.incident_type, &referral.evidence);
    if let Some(info) = &referral.additional_info {
        check.not_blank("additional_info", info);
    }
    if check.problems.is_empty() {
        Ok(())
    } else {
        Err(ReferralError {
            key: referral.key.clone(),
            problems: check.problems,
        })
    }
}

struct Checker {
    now: Timestamp,
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, field: &str, reason: impl Into<String>) {
        self.problems.push(Problem {
            field: field.to_string(),
            reason: reason.into(),
        });
    }

    fn key(&mut self, field: &str, key: &str) {
        if key.is_empty() || key.contains('/') || key.chars().any(char::is_control) {
            self.problem(
                field,
                "must be non-empty, without '/' or control characters",
            );
        }
    }

    fn not_blank(&mut self, field: &str, text: &str) {
        if text.trim().is_empty() {
            self.problem(field, "must not be blank when supplied");
        }
    }

    fn text(&mut self, field: &str, text: &str, max_chars: usize) {
        self.not_blank(field, text);
        let length = text.chars().count();
        if length > max_chars {
            self.problem(
                field,
                format!("is {length} characters, at most {max_chars} allowed"),
            );
        }
    }

    fn url(&mut self, field: &str, url: &str) {
        self.text(field, url, 2083);
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://"))
            || url.chars().any(char::is_whitespace)
        {
            self.problem(field, "must be an absolute http(s) URL without spaces");
        }
    }

    fn past(&mut self, field: &str, at: Timestamp) {
        if at > self.now {
            self.problem(
                field,
                format!("{at} is in the future (now is {})", self.now),
            );
        }
    }

    fn verified(&mut self, field: &str, verified: Option<Verified>) {
        if let Some(Verified { at: Some(at) }) = verified {
            self.past(&format!("{field}.verified.at"), at);
        }
    }

    fn email(&mut self, field: &str, email: &Email) {
        self.text(field, &email.address, 255);
        match email.address.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && local.chars().count() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !email.address.chars().any(char::is_whitespace) => {}
            _ => self.problem(
                field,
                format!(
                    "{:?} is not a well-formed email address (local part of 1 to 64 characters, '@', a dotted domain)",
                    email.address
                ),
            ),
        }
        self.verified(field, email.verified);
    }

    fn phone(&mut self, field: &str, phone: &Phone) {
        self.text(field, &phone.number, 50);
        if let Some(code) = &phone.country_calling_code {
            let digits = code.strip_prefix('+').unwrap_or("");
            if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                self.problem(
                    &format!("{field}.country_calling_code"),
                    format!("{code:?} must match \\+[0-9]{{1,3}}"),
                );
            } else if phone.number.trim_start().starts_with(code.as_str()) {
                self.problem(field, "must not start with its country calling code");
            }
        }
        if let Some(extension) = &phone.extension
            && (extension.is_empty()
                || extension.len() > 10
                || !extension.bytes().all(|b| b.is_ascii_digit()))
        {
            self.problem(
                &format!("{field}.extension"),
                format!("{extension:?} must be 1 to 10 digits"),
            );
        }
        self.verified(field, phone.verified);
    }

    fn ip_capture_event(&mut self, field: &str, event: &IpCaptureEvent) {
        if let Some(at) = event.at {
            self.past(&format!("{field}.at"), at);
        }
        if event.port == Some(0) {
            self.problem(&format!("{field}.port"), "must be between 1 and 65535");
        }
    }

    fn reporter(&mut self, reporter: &Reporter) {
        let person = &reporter.reporting_person;
        if let Some(name) = &person.first_name {
            self.text("reporter.reporting_person.first_name", name, 100);
        }
        if let Some(name) = &person.last_name {
            self.text("reporter.reporting_person.last_name", name, 100);
        }
        for (index, phone) in person.phones.iter().enumerate() {
            self.phone(&format!("reporter.reporting_person.phones[{index}]"), phone);
        }
        self.email("reporter.reporting_person.email", &person.email);
        if let Some(contact) = &reporter.contact_person {
            if let Some(name) = &contact.first_name {
                self.text("reporter.contact_person.first_name", name, 100);
            }
            if let Some(name) = &contact.last_name {
                self.text("reporter.contact_person.last_name", name, 100);
            }
            for (index, phone) in contact.phones.iter().enumerate() {
                self.phone(&format!("reporter.contact_person.phones[{index}]"), phone);
            }
            for (index, email) in contact.emails.iter().enumerate() {
                self.email(&format!("reporter.contact_person.emails[{index}]"), email);
            }
        }
        for (field, text) in [
            ("reporter.company_template", &reporter.company_template),
            ("reporter.terms_of_service", &reporter.terms_of_service),
        ] {
            if let Some(text) = text {
                self.not_blank(field, text);
            }
        }
        if let Some(url) = &reporter.legal_url {
            self.url("reporter.legal_url", url);
        }
    }

    fn incident(&mut self, incident: &Incident) {
        if let Some(platform) = &incident.platform {
            self.text("incident.platform", platform, 256);
        }
        if let Some(reason) = &incident.escalate_to_high_priority {
            self.text("incident.escalate_to_high_priority", reason, 3000);
        }
        self.past("incident.occurred_at", incident.occurred_at);
        if let Some(description) = &incident.occurred_at_description {
            self.text("incident.occurred_at_description", description, 3000);
        }
    }

    fn account(&mut self, field: &str, account: &Account) {
        let limits: [(&str, &Option<String>, usize); 3] = [
            ("esp_user_id", &account.esp_user_id, 255),
            ("esp_service", &account.esp_service, 100),
            ("screen_name", &account.screen_name, 256),
        ];
        for (name, value, max) in limits {
            if let Some(value) = value {
                self.text(&format!("{field}.{name}"), value, max);
            }
        }
        for (index, name) in account.display_names.iter().enumerate() {
            self.text(&format!("{field}.display_names[{index}]"), name, 255);
        }
        for (index, url) in account.profile_urls.iter().enumerate() {
            self.url(&format!("{field}.profile_urls[{index}]"), url);
        }
        if let Some(bio) = &account.profile_bio {
            self.not_blank(&format!("{field}.profile_bio"), bio);
        }
        for (index, email) in account.emails.iter().enumerate() {
            self.email(&format!("{field}.emails[{index}]"), email);
        }
        for (index, phone) in account.phones.iter().enumerate() {
            self.phone(&format!("{field}.phones[{index}]"), phone);
        }
        for (index, event) in account.ip_capture_events.iter().enumerate() {
            self.ip_capture_event(&format!("{field}.ip_capture_events[{index}]"), event);
        }
        if let Some(at) = account.permanently_disabled_at {
            self.past(&format!("{field}.permanently_disabled_at"), at);
        }
        let identified = account.esp_user_id.is_some()
            || account.screen_name.is_some()
            || !account.profile_urls.is_empty()
            || !account.emails.is_empty()
            || !account.phones.is_empty()
            || !account.ip_capture_events.is_empty();
        if !identified {
            self.problem(
                field,
                "names no identifier (user id, screen name, profile URL, email, phone or IP)",
            );
        }
    }

    fn evidence(&mut self, incident_type: IncidentType, evidence: &Evidence) {
        match evidence {
            Evidence::TextOnly { reason } => {
                self.not_blank("evidence.reason", reason);
                if incident_type.files_required() {
                    self.problem(
                        "evidence",
                        format!(
                            "incident type {:?} requires at least one file; a text-only referral cannot be filed under it",
                            incident_type.as_schema_value()
                        ),
                    );
                }
            }
            Evidence::Files(files) => {
                if files.is_empty() {
                    self.problem(
                        "evidence",
                        "no files; a referral without files must say why (Evidence::TextOnly)",
                    );
                }
                if incident_type.files_required()
                    && !files.is_empty()
                    && files.iter().all(|f| f.relevance != FileRelevance::Reported)
                {
                    self.problem(
                        "evidence",
                        "incident type requires a file with relevance Reported; all are Supplemental Reported",
                    );
                }
                for (index, file) in files.iter().enumerate() {
                    self.file(&format!("evidence.files[{index}]"), file);
                    if files[..index].iter().any(|earlier| earlier.key == file.key) {
                        self.problem(
                            &format!("evidence.files[{index}].key"),
                            format!("{:?} is used by an earlier file", file.key),
                        );
                    }
                }
            }
        }
    }

    fn file(&mut self, field: &str, file: &ReferralFile) {
        self.key(&format!("{field}.key"), &file.key);
        self.text(&format!("{field}.file_name"), &file.file_name, 2056);
        if file.file_name.chars().any(|c| c.is_control() || c == '"') {
            // The name travels in a multipart Content-Disposition header, where a quote
            // or a line break would end or split the header.
            self.problem(
                &format!("{field}.file_name"),
                "must not contain quotes or control characters",
            );
        }
        if let Some(name) = &file.original_file_name {
            self.text(&format!("{field}.original_file_name"), name, 2056);
        }
        if let Some(at) = file.uploaded_to_platform_at {
            self.past(&format!("{field}.uploaded_to_platform_at"), at);
        }
        if let Some(url) = &file.location_of_file {
            self.url(&format!("{field}.location_of_file"), url);
        }
        if file.relevance == FileRelevance::SupplementalReported {
            if file.industry_classification.is_some() {
                self.problem(
                    &format!("{field}.industry_classification"),
                    "only a Reported file may carry an industry classification",
                );
            }
            if file.annotations.potential_meme {
                self.problem(
                    &format!("{field}.annotations.potential_meme"),
                    "only a Reported file may be annotated as a potential meme",
                );
            }
        }
        if let Some(event) = &file.upload_ip {
            self.ip_capture_event(&format!("{field}.upload_ip"), event);
        }
        for (index, info) in file.additional_info.iter().enumerate() {
            self.not_blank(&format!("{field}.additional_info[{index}]"), info);
        }
    }
}
