//! A referral as typed data: who reports, what happened and when, the reported person
//! and their accounts, the files, and free-text notes.
//!
//! The types follow the report schema (`cybertipline-report.xsd`) closely enough that
//! the writer in [`crate::xml`] is a straight walk, but they only hold what Guardrail
//! fills (see `docs/cybertipline.md`). Where the schema or the API documentation puts a
//! rule on a value (an IP address must parse, a calling code matches `\+[0-9]{1,3}`, a
//! timestamp must be in the past, an industry classification only on a "Reported"
//! file), the rule is either a type here ([`std::net::IpAddr`], [`Md5`], [`Timestamp`])
//! or a check in [`check_referral`], which names the field and the reason.
//!
//! This module must never hold file contents: a [`ReferralFile`] is a name, a size and
//! hashes; the bytes stay wherever the caller keeps them and travel only in the upload
//! request the caller builds. It has no fields for risk scores, network membership or
//! ground truth, so none can leak into a report.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// One referral to the CyberTipline: the report and the files that go with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    /// The caller's key for this referral (e.g. the ledger's report id). It prefixes
    /// every step key, so a retried or replayed step is recognisable. Non-empty, no
    /// `/` (the separator of step keys).
    pub key: String,
    /// The reporting organisation and its contact.
    pub reporter: Reporter,
    /// What happened and when.
    pub incident: Incident,
    /// Pages where the incident occurred (`internetDetails/webPageIncident/url`), e.g.
    /// the reported profile or post on the platform.
    pub web_page_urls: Vec<String>,
    /// The reported person or user (the "suspect" in NCMEC's view), with their accounts.
    pub reported_person: Option<ReportedPerson>,
    /// The files, or why there are none.
    pub evidence: Evidence,
    /// Notes on the incident not covered elsewhere (`report/additionalInfo`), written by
    /// a reviewer.
    pub additional_info: Option<String>,
}

/// The files of a referral, or the reason it has none.
///
/// A text-only referral (a seller's bio, a solicitation in comments) is legitimate, but
/// the flow must never look as if files were sent when none were: the reason is kept
/// and the upload and file-details steps are reported as not applicable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Evidence {
    /// One or more files, each uploaded and then described.
    Files(Vec<ReferralFile>),
    /// No file; `reason` says why (e.g. "the reported content is the account's bio").
    TextOnly {
        /// Why the referral carries no file.
        reason: String,
    },
}

impl Evidence {
    /// The files, empty for a text-only referral.
    pub fn files(&self) -> &[ReferralFile] {
        match self {
            Evidence::Files(files) => files,
            Evidence::TextOnly { .. } => &[],
        }
    }
}

/// `report/reporter`: the organisation reporting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reporter {
    /// The person submitting; the schema requires their email.
    pub reporting_person: ReportingPerson,
    /// Someone law enforcement should contact instead of the submitter.
    pub contact_person: Option<ContactPerson>,
    /// Company boilerplate (how to serve legal process, retention, emergency numbers).
    pub company_template: Option<String>,
    /// Terms of service relevant to the incident.
    pub terms_of_service: Option<String>,
    /// A URL with further information for law enforcement.
    pub legal_url: Option<String>,
}

/// `reporter/reportingPerson`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportingPerson {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Phone numbers.
    pub phones: Vec<Phone>,
    /// The required email address (the schema's `person` allows more; one is enough).
    pub email: Email,
}

/// `reporter/contactPerson`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ContactPerson {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Phone numbers.
    pub phones: Vec<Phone>,
    /// Email addresses.
    pub emails: Vec<Email>,
}

/// `report/incidentSummary`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The type of incident.
    pub incident_type: IncidentType,
    /// The full application name where the content occurred.
    pub platform: Option<String>,
    /// A reason for urgency (e.g. immediate risk to a child); supplying one escalates
    /// the report, so only a reviewer sets it.
    pub escalate_to_high_priority: Option<String>,
    /// Tags on the report.
    pub annotations: ReportAnnotations,
    /// When the incident happened; must be in the past.
    pub occurred_at: Timestamp,
    /// More about `occurred_at` (e.g. "upload time; the post was seen later").
    pub occurred_at_description: Option<String>,
}

/// `incidentSummary/incidentType`: the schema's closed list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncidentType {
    /// "Child Pornography (possession, manufacture, and distribution)", the statute's
    /// term for child sexual abuse material.
    ChildPornography,
    /// "Child Sex Trafficking".
    ChildSexTrafficking,
    /// "Child Sex Tourism".
    ChildSexTourism,
    /// "Child Sexual Molestation".
    ChildSexualMolestation,
    /// "Misleading Domain Name".
    MisleadingDomainName,
    /// "Misleading Words or Digital Images on the Internet".
    MisleadingWordsOrDigitalImages,
    /// "Online Enticement of Children for Sexual Acts".
    OnlineEnticement,
    /// "Unsolicited Obscene Material Sent to a Child".
    UnsolicitedObsceneMaterialSentToChild,
}

impl IncidentType {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            IncidentType::ChildPornography => {
                "Child Pornography (possession, manufacture, and distribution)"
            }
            IncidentType::ChildSexTrafficking => "Child Sex Trafficking",
            IncidentType::ChildSexTourism => "Child Sex Tourism",
            IncidentType::ChildSexualMolestation => "Child Sexual Molestation",
            IncidentType::MisleadingDomainName => "Misleading Domain Name",
            IncidentType::MisleadingWordsOrDigitalImages => {
                "Misleading Words or Digital Images on the Internet"
            }
            IncidentType::OnlineEnticement => "Online Enticement of Children for Sexual Acts",
            IncidentType::UnsolicitedObsceneMaterialSentToChild => {
                "Unsolicited Obscene Material Sent to a Child"
            }
        }
    }

    /// Whether a referral of this type must carry at least one file.
    ///
    /// Only the material itself is the subject of a "Child Pornography" report: without
    /// the file (or, for a file the platform no longer holds, at least its record) the
    /// clearing house has nothing to review or match, so Guardrail refuses to file one
    /// as text-only. Every other type may be text-only (a sale advertised in a bio, an
    /// enticement in comments).
    pub fn files_required(self) -> bool {
        matches!(self, IncidentType::ChildPornography)
    }
}

/// `incidentSummary/reportAnnotations`: tags, each present or absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportAnnotations {
    /// Associated with sextortion.
    pub sextortion: bool,
    /// Associated with solicitation of child sexual abuse material.
    pub csam_solicitation: bool,
    /// An interaction between minors.
    pub minor_to_minor_interaction: bool,
    /// Spam.
    pub spam: bool,
    /// Sadistic online exploitation.
    pub sadistic_online_exploitation: bool,
}

/// `report/personOrUserReported`: the reported person and the accounts Guardrail
/// linked to them (DESIGN.md C6, enforcement on the person).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportedPerson {
    /// The account the incident happened on.
    pub account: Account,
    /// Other accounts of the same person (`associatedAccount`): backups named in bios,
    /// accounts sharing a device, email or phone.
    pub associated_accounts: Vec<AssociatedAccount>,
    /// Notes on the person not covered elsewhere.
    pub additional_info: Option<String>,
}

/// The identifiers of one account, as the platform knows them.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Account {
    /// The platform's unique id of the user (`espIdentifier`).
    pub esp_user_id: Option<String>,
    /// The platform product the account used (`espService`).
    pub esp_service: Option<String>,
    /// The screen name (handle).
    pub screen_name: Option<String>,
    /// Display names other than the screen name.
    pub display_names: Vec<String>,
    /// URLs identifying the account.
    pub profile_urls: Vec<String>,
    /// The account's bio as the platform shows it.
    pub profile_bio: Option<String>,
    /// Email addresses on the account.
    pub emails: Vec<Email>,
    /// Phone numbers on the account.
    pub phones: Vec<Phone>,
    /// IP addresses the account used, with the event and time.
    pub ip_capture_events: Vec<IpCaptureEvent>,
    /// When the platform permanently disabled the account, if it did.
    pub permanently_disabled_at: Option<Timestamp>,
}

/// `associatedAccount`: another account of the reported person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssociatedAccount {
    /// How the account relates to the person.
    pub kind: AssociatedAccountKind,
    /// The application the account is on, when it is not the reporting platform.
    pub platform: Option<String>,
    /// Its identifiers.
    pub account: Account,
    /// Why it is linked (e.g. "named as backup in the reported account's bio").
    pub additional_info: Option<String>,
}

/// `associatedAccount/@type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssociatedAccountKind {
    /// "Billing".
    Billing,
    /// "Linked": the usual case for accounts Guardrail resolved to the same person.
    Linked,
    /// "Business".
    Business,
    /// "Creator".
    Creator,
    /// "Parent/Guardian".
    ParentOrGuardian,
    /// "Other".
    Other,
}

impl AssociatedAccountKind {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            AssociatedAccountKind::Billing => "Billing",
            AssociatedAccountKind::Linked => "Linked",
            AssociatedAccountKind::Business => "Business",
            AssociatedAccountKind::Creator => "Creator",
            AssociatedAccountKind::ParentOrGuardian => "Parent/Guardian",
            AssociatedAccountKind::Other => "Other",
        }
    }
}

/// That the platform verified an email address or phone number, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verified {
    /// When it was last verified; must be in the past.
    pub at: Option<Timestamp>,
}

/// An email address (`email` type).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// The address; at most 255 characters, local part at most 64.
    pub address: String,
    /// Its kind.
    pub kind: Option<EmailKind>,
    /// Present when the platform verified it.
    pub verified: Option<Verified>,
}

impl Email {
    /// An address with no kind and no verification.
    pub fn new(address: impl Into<String>) -> Self {
        Email {
            address: address.into(),
            kind: None,
            verified: None,
        }
    }
}

/// `email/@type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EmailKind {
    /// "Home".
    Home,
    /// "Work".
    Work,
    /// "Business".
    Business,
    /// "Recovery".
    Recovery,
}

impl EmailKind {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            EmailKind::Home => "Home",
            EmailKind::Work => "Work",
            EmailKind::Business => "Business",
            EmailKind::Recovery => "Recovery",
        }
    }
}

/// A phone number (`phone` type).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    /// The number without the country calling code; at most 50 characters.
    pub number: String,
    /// Its kind.
    pub kind: Option<PhoneKind>,
    /// The country calling code, `+` and one to three digits.
    pub country_calling_code: Option<String>,
    /// An extension, digits only, at most 10.
    pub extension: Option<String>,
    /// Present when the platform verified it.
    pub verified: Option<Verified>,
}

impl Phone {
    /// A number with no kind, calling code, extension or verification.
    pub fn new(number: impl Into<String>) -> Self {
        Phone {
            number: number.into(),
            kind: None,
            country_calling_code: None,
            extension: None,
            verified: None,
        }
    }
}

/// `phone/@type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PhoneKind {
    /// "Mobile".
    Mobile,
    /// "Home".
    Home,
    /// "Business".
    Business,
    /// "Work".
    Work,
    /// "Fax".
    Fax,
    /// "Internet".
    Internet,
    /// "Recovery".
    Recovery,
}

impl PhoneKind {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            PhoneKind::Mobile => "Mobile",
            PhoneKind::Home => "Home",
            PhoneKind::Business => "Business",
            PhoneKind::Work => "Work",
            PhoneKind::Fax => "Fax",
            PhoneKind::Internet => "Internet",
            PhoneKind::Recovery => "Recovery",
        }
    }
}

/// `ipCaptureEvent`: an IP address an account used, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IpCaptureEvent {
    /// The address (a parsed address is a valid one, as the API requires).
    pub address: IpAddr,
    /// What the account did from it.
    pub event: Option<IpEvent>,
    /// When; must be in the past.
    pub at: Option<Timestamp>,
    /// Whether the platform believes the address is a proxy.
    pub possible_proxy: Option<bool>,
    /// The source port, 1..=65535.
    pub port: Option<u16>,
}

/// `ipCaptureEvent/eventName`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpEvent {
    /// "Login".
    Login,
    /// "Registration".
    Registration,
    /// "Purchase".
    Purchase,
    /// "Upload".
    Upload,
    /// "Other".
    Other,
    /// "Unknown".
    Unknown,
}

impl IpEvent {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            IpEvent::Login => "Login",
            IpEvent::Registration => "Registration",
            IpEvent::Purchase => "Purchase",
            IpEvent::Upload => "Upload",
            IpEvent::Other => "Other",
            IpEvent::Unknown => "Unknown",
        }
    }
}

/// One file of a referral: what the upload sends and what the file details describe.
/// Never the bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferralFile {
    /// The caller's key for the file, unique within the referral (e.g. the media id);
    /// names its upload and file-details steps. Non-empty, no `/`.
    pub key: String,
    /// The file name sent with the upload and as `fileName`.
    pub file_name: String,
    /// Size in bytes, as the caller will upload it.
    pub size_bytes: u64,
    /// MD5 of the bytes uploaded; the upload response's hash is checked against it.
    pub md5: Md5,
    /// SHA-1 of the bytes uploaded.
    pub sha1: Sha1,
    /// PDQ perceptual hash, when the file is an image Guardrail hashed.
    pub pdq: Option<Pdq>,
    /// The name the user uploaded it under.
    pub original_file_name: Option<String>,
    /// When the user uploaded it to the platform; must be in the past.
    pub uploaded_to_platform_at: Option<Timestamp>,
    /// The URL where the file was.
    pub location_of_file: Option<String>,
    /// Whether the platform viewed the whole file (a person, not only a hash match).
    pub viewed_by_platform: Option<bool>,
    /// Whether the file was publicly accessible.
    pub publicly_available: Option<bool>,
    /// Why the file is in the report.
    pub relevance: FileRelevance,
    /// Tags on the file.
    pub annotations: FileAnnotations,
    /// The industry classification scale (A1, A2, B1, B2); only on "Reported" files.
    pub industry_classification: Option<IndustryClassification>,
    /// The IP address the file was uploaded from.
    pub upload_ip: Option<IpCaptureEvent>,
    /// Notes on the file.
    pub additional_info: Vec<String>,
}

/// `fileDetails/fileRelevance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FileRelevance {
    /// "Reported": the content that motivates the report (the API's default).
    #[default]
    Reported,
    /// "Supplemental Reported": context for the report.
    SupplementalReported,
}

impl FileRelevance {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            FileRelevance::Reported => "Reported",
            FileRelevance::SupplementalReported => "Supplemental Reported",
        }
    }
}

/// `fileDetails/fileAnnotations`: tags, each present or absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileAnnotations {
    /// Anime, drawing, cartoon, virtual or hentai.
    pub anime_drawing_virtual_hentai: bool,
    /// Shared out of mimicry or other seemingly non-malicious intent.
    pub potential_meme: bool,
    /// Circulating rapidly from user to user.
    pub viral: bool,
    /// Believed to be self-produced.
    pub possible_self_production: bool,
    /// Depicts intentional physical harm.
    pub physical_harm: bool,
    /// Depicts graphic violence.
    pub violence_gore: bool,
    /// Involves an animal.
    pub bestiality: bool,
    /// Was streamed live.
    pub live_streaming: bool,
    /// Depicts an infant.
    pub infant: bool,
    /// Believed to be generated by AI.
    pub generative_ai: bool,
}

impl FileAnnotations {
    /// The present tags as element names, in the order the writer emits them.
    pub fn element_names(&self) -> Vec<&'static str> {
        [
            (
                self.anime_drawing_virtual_hentai,
                "animeDrawingVirtualHentai",
            ),
            (self.potential_meme, "potentialMeme"),
            (self.viral, "viral"),
            (self.possible_self_production, "possibleSelfProduction"),
            (self.physical_harm, "physicalHarm"),
            (self.violence_gore, "violenceGore"),
            (self.bestiality, "bestiality"),
            (self.live_streaming, "liveStreaming"),
            (self.infant, "infant"),
            (self.generative_ai, "generativeAi"),
        ]
        .into_iter()
        .filter_map(|(present, name)| present.then_some(name))
        .collect()
    }
}

impl ReportAnnotations {
    /// The present tags as element names, in the order the writer emits them.
    pub fn element_names(&self) -> Vec<&'static str> {
        [
            (self.sextortion, "sextortion"),
            (self.csam_solicitation, "csamSolicitation"),
            (self.minor_to_minor_interaction, "minorToMinorInteraction"),
            (self.spam, "spam"),
            (
                self.sadistic_online_exploitation,
                "sadisticOnlineExploitation",
            ),
        ]
        .into_iter()
        .filter_map(|(present, name)| present.then_some(name))
        .collect()
    }
}

/// `fileDetails/industryClassification`: the ESP-designated categorisation scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IndustryClassification {
    /// "A1".
    A1,
    /// "A2".
    A2,
    /// "B1".
    B1,
    /// "B2".
    B2,
}

impl IndustryClassification {
    /// The value as the schema spells it.
    pub fn as_schema_value(self) -> &'static str {
        match self {
            IndustryClassification::A1 => "A1",
            IndustryClassification::A2 => "A2",
            IndustryClassification::B1 => "B1",
            IndustryClassification::B2 => "B2",
        }
    }
}

/// Why a hex digest was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} digest {text:?}: expected {digits} hexadecimal digits")]
pub struct DigestError {
    /// Which digest ("MD5", "SHA-1", "PDQ").
    pub kind: &'static str,
    /// The refused text.
    pub text: String,
    /// How many hex digits the digest has.
    pub digits: usize,
}

macro_rules! hex_digest {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $digits:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the digest from hex (either case); stored and written in lowercase.
            pub fn parse(text: &str) -> Result<Self, DigestError> {
                if text.len() == $digits && text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                    Ok($name(text.to_ascii_lowercase()))
                } else {
                    Err(DigestError { kind: $kind, text: text.to_string(), digits: $digits })
                }
            }

            /// The digest in lowercase hex.
            pub fn as_hex(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, concat!($kind, "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = DigestError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(digest: $name) -> Self {
                digest.0
            }
        }
    };
}

hex_digest!(
    /// An MD5 digest, 32 hex digits.
    Md5, "MD5", 32
);
hex_digest!(
    /// A SHA-1 digest, 40 hex digits.
    Sha1, "SHA-1", 40
);
hex_digest!(
    /// A 256-bit PDQ hash, 64 hex digits (as `guardrail-pdq` prints it).
    Pdq, "PDQ", 64
);

mod check;

pub use check::{Problem, ReferralError, check_referral};
