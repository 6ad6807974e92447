//! The request documents: `<report>` for `/submit` and `<fileDetails>` for `/fileinfo`.
//!
//! The schema declares nearly every element in an `xs:sequence`, so order is part of
//! validity: `espIdentifier` comes before `espService` under `personOrUserReported` but
//! after it under `associatedAccount`. Each function below writes one schema type and
//! lists its children in the schema's order, with the schema's name for each; the
//! schema test (`tests/schema.rs`) validates the output against the XSD itself.
//!
//! Text is escaped for XML 1.0 (`&`, `<`, `>`, and in attributes `"` and white space
//! as character references, `\r` everywhere so it survives line-end normalisation).
//! Characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) are
//! replaced by U+FFFD: a bio with a stray control character must still produce a
//! well-formed report rather than a 4110 "Malformed XML submittal".
//!
//! The writer never fails and never drops an element it was given; what may be sent is
//! decided by [`crate::model::check_referral`] before, not here. It never writes file
//! contents (there are none to write) and never writes credentials.

use crate::model::{
    Account, AssociatedAccount, ContactPerson, Email, IpCaptureEvent, Phone, Referral,
    ReferralFile, Reporter, Verified,
};
use crate::response::{FileId, ReportId};

/// The `xsi:noNamespaceSchemaLocation` the API's examples use.
const SCHEMA_LOCATION: &str = "https://report.cybertip.org/ispws/xsd";
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The `<report>` document for `/submit`.
pub fn report_xml(referral: &Referral) -> String {
    let mut xml = XmlWriter::document();
    xml.open("report", &root_attributes());
    // batchedReport: not used (see docs/cybertipline.md).
    incident_summary(&mut xml, referral);
    if !referral.web_page_urls.is_empty() {
        xml.open("internetDetails", &[]);
        xml.open("webPageIncident", &[]);
        for url in &referral.web_page_urls {
            xml.leaf("url", &[], url);
        }
        xml.close("webPageIncident");
        xml.close("internetDetails");
    }
    // lawEnforcement: not used.
    reporter(&mut xml, &referral.reporter);
    if let Some(person) = &referral.reported_person {
        xml.open("personOrUserReported", &[]);
        let account = &person.account;
        contact_details(
            &mut xml,
            "personOrUserReportedPerson",
            &account.phones,
            &account.emails,
        );
        // vehicleDescription: not used.
        xml.optional_leaf("espIdentifier", account.esp_user_id.as_deref());
        xml.optional_leaf("espService", account.esp_service.as_deref());
        // compromisedAccount: not used.
        xml.optional_leaf("screenName", account.screen_name.as_deref());
        account_profile(&mut xml, account);
        for event in &account.ip_capture_events {
            ip_capture_event(&mut xml, event);
        }
        // deviceId, thirdPartyUserReported, priorCTReports, groupIdentifier,
        // accountTemporarilyDisabled: not used.
        permanently_disabled(&mut xml, account);
        // estimatedLocation, allEmailsReported: not used.
        for associated in &person.associated_accounts {
            associated_account(&mut xml, associated);
        }
        xml.optional_leaf("additionalInfo", person.additional_info.as_deref());
        xml.close("personOrUserReported");
    }
    // intendedRecipient, victim: not used.
    xml.optional_leaf("additionalInfo", referral.additional_info.as_deref());
    xml.close("report");
    xml.finish()
}

/// The `<fileDetails>` document for `/fileinfo`: the uploaded file's hashes, relevance,
/// classification and provenance, for the file the server named `file_id` in report
/// `report_id`.
pub fn file_details_xml(report_id: ReportId, file_id: &FileId, file: &ReferralFile) -> String {
    let mut xml = XmlWriter::document();
    xml.open("fileDetails", &root_attributes());
    xml.leaf("reportId", &[], &report_id.to_string());
    xml.leaf("fileId", &[], file_id.as_str());
    xml.leaf("fileName", &[], &file.file_name);
    xml.optional_leaf("originalFileName", file.original_file_name.as_deref());
    if let Some(at) = file.uploaded_to_platform_at {
        xml.leaf("uploadedToEspTimestamp", &[], &at.to_string());
    }
    xml.optional_leaf("locationOfFile", file.location_of_file.as_deref());
    if let Some(viewed) = file.viewed_by_platform {
        xml.leaf("fileViewedByEsp", &[], boolean(viewed));
    }
    // exifViewedByEsp: not used.
    if let Some(public) = file.publicly_available {
        xml.leaf("publiclyAvailable", &[], boolean(public));
    }
    xml.leaf("fileRelevance", &[], file.relevance.as_schema_value());
    // The schema offers a bare <potentialMeme> as an alternative to <fileAnnotations>;
    // the annotations element carries the same tag and the others, so only it is used.
    flags(
        &mut xml,
        "fileAnnotations",
        &file.annotations.element_names(),
    );
    if let Some(classification) = file.industry_classification {
        xml.leaf(
            "industryClassification",
            &[],
            classification.as_schema_value(),
        );
    }
    xml.leaf(
        "originalFileHash",
        &[("hashType", "MD5".to_string())],
        file.md5.as_hex(),
    );
    xml.leaf(
        "originalFileHash",
        &[("hashType", "SHA1".to_string())],
        file.sha1.as_hex(),
    );
    if let Some(event) = &file.upload_ip {
        ip_capture_event(&mut xml, event);
    }
    // deviceId: not used.
    if let Some(pdq) = &file.pdq {
        // PDQ is a perceptual hash of the decoded image, not a hash of the file's bytes,
        // so it goes with the file's metadata (details of type HASH) rather than among
        // the original binary hashes.
        xml.open("details", &[("type", "HASH".to_string())]);
        xml.open("nameValuePair", &[]);
        xml.leaf("name", &[], "PDQ");
        xml.leaf("value", &[], pdq.as_hex());
        xml.close("nameValuePair");
        xml.close("details");
    }
    for info in &file.additional_info {
        xml.leaf("additionalInfo", &[], info);
    }
    xml.close("fileDetails");
    xml.finish()
}

fn root_attributes() -> [(&'static str, String); 2] {
    [
        ("xmlns:xsi", XSI_NAMESPACE.to_string()),
        ("xsi:noNamespaceSchemaLocation", SCHEMA_LOCATION.to_string()),
    ]
}

fn boolean(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn incident_summary(xml: &mut XmlWriter, referral: &Referral) {
    let incident = &referral.incident;
    xml.open("incidentSummary", &[]);
    xml.leaf(
        "incidentType",
        &[],
        incident.incident_type.as_schema_value(),
    );
    xml.optional_leaf("platform", incident.platform.as_deref());
    xml.optional_leaf(
        "escalateToHighPriority",
        incident.escalate_to_high_priority.as_deref(),
    );
    flags(
        xml,
        "reportAnnotations",
        &incident.annotations.element_names(),
    );
    xml.leaf("incidentDateTime", &[], &incident.occurred_at.to_string());
    xml.optional_leaf(
        "incidentDateTimeDescription",
        incident.occurred_at_description.as_deref(),
    );
    xml.close("incidentSummary");
}

/// A set of tags as empty elements (the schema's `xs:boolean fixed="true"`), written
/// only when at least one is present, as in the API's example.
fn flags(xml: &mut XmlWriter, parent: &str, names: &[&str]) {
    if names.is_empty() {
        return;
    }
    xml.open(parent, &[]);
    for name in names {
        xml.empty(name, &[]);
    }
    xml.close(parent);
}

fn reporter(xml: &mut XmlWriter, reporter: &Reporter) {
    xml.open("reporter", &[]);
    let person = &reporter.reporting_person;
    xml.open("reportingPerson", &[]);
    xml.optional_leaf("firstName", person.first_name.as_deref());
    xml.optional_leaf("lastName", person.last_name.as_deref());
    for phone_number in &person.phones {
        phone(xml, "phone", phone_number);
    }
    email(xml, "email", &person.email);
    xml.close("reportingPerson");
    if let Some(contact) = &reporter.contact_person {
        contact_person(xml, contact);
    }
    xml.optional_leaf("companyTemplate", reporter.company_template.as_deref());
    xml.optional_leaf("termsOfService", reporter.terms_of_service.as_deref());
    xml.optional_leaf("legalURL", reporter.legal_url.as_deref());
    xml.close("reporter");
}

fn contact_person(xml: &mut XmlWriter, contact: &ContactPerson) {
    xml.open("contactPerson", &[]);
    xml.optional_leaf("firstName", contact.first_name.as_deref());
    xml.optional_leaf("lastName", contact.last_name.as_deref());
    for phone_number in &contact.phones {
        phone(xml, "phone", phone_number);
    }
    for address in &contact.emails {
        email(xml, "email", address);
    }
    xml.close("contactPerson");
}

/// A `person` element holding only phones and emails, or nothing when there are none
/// (an empty `person` is valid but says nothing).
fn contact_details(xml: &mut XmlWriter, name: &str, phones: &[Phone], emails: &[Email]) {
    if phones.is_empty() && emails.is_empty() {
        return;
    }
    xml.open(name, &[]);
    for phone_number in phones {
        phone(xml, "phone", phone_number);
    }
    for address in emails {
        email(xml, "email", address);
    }
    xml.close(name);
}

/// `displayName*`, `profileUrl*`, `profileBio?`: the same run in both account types.
fn account_profile(xml: &mut XmlWriter, account: &Account) {
    for name in &account.display_names {
        xml.leaf("displayName", &[], name);
    }
    for url in &account.profile_urls {
        xml.leaf("profileUrl", &[], url);
    }
    xml.optional_leaf("profileBio", account.profile_bio.as_deref());
}

fn permanently_disabled(xml: &mut XmlWriter, account: &Account) {
    if let Some(at) = account.permanently_disabled_at {
        xml.leaf(
            "accountPermanentlyDisabled",
            &[("disabledDate", at.to_string())],
            "true",
        );
    }
}

fn associated_account(xml: &mut XmlWriter, associated: &AssociatedAccount) {
    let account = &associated.account;
    xml.open(
        "associatedAccount",
        &[("type", associated.kind.as_schema_value().to_string())],
    );
    xml.optional_leaf("platform", associated.platform.as_deref());
    // firstName, middleName, lastName, approximateAge, dateOfBirth: not used.
    for phone_number in &account.phones {
        phone(xml, "phone", phone_number);
    }
    for address in &account.emails {
        email(xml, "email", address);
    }
    // allEmailsReported, address: not used. Note the order: espService before
    // espIdentifier here, the other way round under personOrUserReported.
    xml.optional_leaf("espService", account.esp_service.as_deref());
    xml.optional_leaf("espIdentifier", account.esp_user_id.as_deref());
    for url in &account.profile_urls {
        xml.leaf("profileUrl", &[], url);
    }
    xml.optional_leaf("screenName", account.screen_name.as_deref());
    for name in &account.display_names {
        xml.leaf("displayName", &[], name);
    }
    xml.optional_leaf("profileBio", account.profile_bio.as_deref());
    // groupIdentifier, compromisedAccount, accountTemporarilyDisabled: not used.
    permanently_disabled(xml, account);
    for event in &account.ip_capture_events {
        ip_capture_event(xml, event);
    }
    // deviceId, priorCTReport: not used.
    xml.optional_leaf("additionalInfo", associated.additional_info.as_deref());
    xml.close("associatedAccount");
}

fn verification_attributes(
    attributes: &mut Vec<(&'static str, String)>,
    verified: Option<Verified>,
) {
    if let Some(verified) = verified {
        attributes.push(("verified", "true".to_string()));
        if let Some(at) = verified.at {
            attributes.push(("verificationDate", at.to_string()));
        }
    }
}

fn email(xml: &mut XmlWriter, name: &str, email: &Email) {
    let mut attributes = Vec::new();
    if let Some(kind) = email.kind {
        attributes.push(("type", kind.as_schema_value().to_string()));
    }
    verification_attributes(&mut attributes, email.verified);
    xml.leaf(name, &attributes, &email.address);
}

fn phone(xml: &mut XmlWriter, name: &str, phone: &Phone) {
    let mut attributes = Vec::new();
    if let Some(kind) = phone.kind {
        attributes.push(("type", kind.as_schema_value().to_string()));
    }
    verification_attributes(&mut attributes, phone.verified);
    if let Some(code) = &phone.country_calling_code {
        attributes.push(("countryCallingCode", code.clone()));
    }
    if let Some(extension) = &phone.extension {
        attributes.push(("extension", extension.clone()));
    }
    xml.leaf(name, &attributes, &phone.number);
}

fn ip_capture_event(xml: &mut XmlWriter, event: &IpCaptureEvent) {
    xml.open("ipCaptureEvent", &[]);
    xml.leaf("ipAddress", &[], &event.address.to_string());
    if let Some(kind) = event.event {
        xml.leaf("eventName", &[], kind.as_schema_value());
    }
    if let Some(at) = event.at {
        xml.leaf("dateTime", &[], &at.to_string());
    }
    if let Some(proxy) = event.possible_proxy {
        xml.leaf("possibleProxy", &[], boolean(proxy));
    }
    if let Some(port) = event.port {
        xml.leaf("port", &[], &port.to_string());
    }
    xml.close("ipCaptureEvent");
}

/// An indenting writer for element-only documents whose leaves hold text.
struct XmlWriter {
    out: String,
    depth: usize,
}

impl XmlWriter {
    fn document() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        }
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, String)]) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(name);
        for (attribute, value) in attributes {
            self.out.push(' ');
            self.out.push_str(attribute);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, Context::Attribute);
            self.out.push('"');
        }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, String)]) {
        self.start_tag(name, attributes);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, String)]) {
        self.start_tag(name, attributes);
        self.out.push_str("/>\n");
    }

    fn leaf(&mut self, name: &str, attributes: &[(&str, String)], text: &str) {
        self.start_tag(name, attributes);
        self.out.push('>');
        escape_into(&mut self.out, text, Context::Text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn optional_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, &[], text);
        }
    }

    fn finish(self) -> String {
        self.out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Text,
    Attribute,
}

/// Whether XML 1.0 (production `Char`) can carry the character at all.
fn is_xml_char(character: char) -> bool {
    matches!(character,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

fn escape_into(out: &mut String, text: &str, context: Context) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if context == Context::Attribute => out.push_str("&quot;"),
            // Attribute values are white-space normalised by every parser; references
            // keep tabs and line breaks as they were.
            '\t' if context == Context::Attribute => out.push_str("&#9;"),
            '\n' if context == Context::Attribute => out.push_str("&#10;"),
            // A literal CR becomes LF (or vanishes before LF) when parsed.
            '\r' => out.push_str("&#13;"),
            other if is_xml_char(other) => out.push(other),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Escapes text for an XML text node, as the writer does (exposed for tests and for
/// callers who build their own documents).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text, Context::Text);
    out
}
