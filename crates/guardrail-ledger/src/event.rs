//! The event vocabulary: what a platform tells Guardrail, and what Guardrail records about
//! its own work (reports, reviews, enforcement, labels, rule sets, decisions).
//!
//! Every event is one JSON object with an envelope — `id` (client-supplied, the key of
//! idempotency), `type`, `at` (platform time, Unix seconds) — and the fields of its type
//! (`docs/events.md` lists them). Ids of accounts and posts are strings, because
//! platforms' ids are not all numbers. Fields this version does not know are kept: the
//! stored body is the whole object in canonical form ([`canonical_body`]). Types it does
//! not know are refused.
//!
//! What parsing must never do: half-accept a batch silently. [`parse_batch`] returns every
//! event that is well formed and, for each one that is not, an error naming its index (and
//! line, for NDJSON), the field and what was expected.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Seconds an event's `at` may lie ahead of the receiver's clock before it is refused.
pub const DEFAULT_MAX_FUTURE_SECONDS: u64 = 24 * 3_600;

/// The subject of a report: an account or a post.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// An account, by the platform's id.
    Account(String),
    /// A post, by the platform's id.
    Post(String),
}

/// An account was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountCreated {
    /// The platform's account id.
    pub account: String,
    /// Public handle.
    pub handle: String,
    /// Age declared at sign-up.
    pub declared_age: u8,
    /// Bio text.
    #[serde(default)]
    pub bio: String,
    /// Email addresses on the account.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers on the account.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Device ids seen at sign-up.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Payment handles on the account.
    #[serde(default)]
    pub payment_handles: Vec<String>,
    /// Declared gender (`woman`, `man`, `other`), if the platform records one.
    #[serde(default)]
    pub gender: Option<String>,
    /// Two-letter country code, if known.
    #[serde(default)]
    pub country: Option<String>,
    /// Declared interests.
    #[serde(default)]
    pub interests: Vec<String>,
    /// A public business account.
    #[serde(default)]
    pub business: bool,
}

/// An account changed its handle, bio or identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileUpdated {
    /// The account.
    pub account: String,
    /// The new handle, if it changed.
    #[serde(default)]
    pub handle: Option<String>,
    /// The new bio, if it changed.
    #[serde(default)]
    pub bio: Option<String>,
    /// Identifiers added to the account.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers added.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Devices added.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Payment handles added.
    #[serde(default)]
    pub payment_handles: Vec<String>,
}

/// One account acting on another: follow, unfollow, block, view, report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAction {
    /// Who acted.
    pub account: String,
    /// The account acted on.
    pub target: String,
}

/// A post was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostPublished {
    /// The author.
    pub account: String,
    /// The platform's post id.
    pub post: String,
    /// Caption text.
    #[serde(default)]
    pub text: String,
    /// Hashtags (with or without `#`).
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Media hashes, `pdq:HEX`.
    #[serde(default)]
    pub media_hashes: Vec<String>,
    /// The post features a minor (declared, or by the platform's classifier).
    #[serde(default)]
    pub features_minor: Option<bool>,
}

/// An account liked or commented on a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostAction {
    /// Who acted.
    pub account: String,
    /// The post.
    pub post: String,
    /// The comment's text.
    #[serde(default)]
    pub text: String,
}

/// An account searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchMade {
    /// Who searched.
    pub account: String,
    /// The query text.
    pub query: String,
}

/// A report was received (the body of `POST /v1/reports`, stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportReceived {
    /// Guardrail's report id.
    pub report: String,
    /// The reporter's idempotency key.
    pub client_key: String,
    /// Who reported (an account id, or a system name).
    pub reporter: String,
    /// What is reported.
    pub subject: Subject,
    /// The category id (`child_sexual_exploitation`, ...).
    pub category: String,
    /// The reporter's words.
    #[serde(default)]
    pub text: String,
    /// Media hashes the reporter attached.
    #[serde(default)]
    pub media_hashes: Vec<String>,
    /// Priority at intake (0 is the highest), after automatic triage.
    #[serde(default)]
    pub priority: u8,
    /// Why the priority is what it is, in words.
    #[serde(default)]
    pub triage: Vec<String>,
    /// Hash of the submitted body (the same key with another body is a conflict).
    #[serde(default)]
    pub body_hash: String,
}

/// A report's priority changed (automatic triage may only raise it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPrioritized {
    /// The report.
    pub report: String,
    /// The new priority (0 is the highest).
    pub priority: u8,
    /// Who changed it.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// An alert: something needs a person (an SLA passed, a step cannot run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRaised {
    /// What the alert is about: a report id, a referral id.
    pub subject: String,
    /// The kind (`sla_first_action`, `sla_final`, `step_blocked`, `cap_tripped`...).
    pub kind: String,
    /// What happened, in words.
    pub detail: String,
}

/// A step of a referral to the clearing house (submit, upload, file info, finish).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralStep {
    /// The referral.
    pub referral: String,
    /// The report it refers.
    pub report: String,
    /// The step (`open`, `submit`, `upload`, `fileinfo`, `finish`, `retract`).
    pub step: String,
    /// The attempt number of this step.
    pub attempt: u32,
    /// `succeeded`, `failed`, `not_applicable`, `blocked`.
    pub outcome: String,
    /// What happened, in words (the clearing house's report id, the failure).
    pub detail: String,
    /// The flow's own record of the step (the referral as started, the answer that came
    /// back), from which the flow is rebuilt after a restart; absent on older events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<serde_json::Value>,
}

/// Someone read child-safety evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceViewed {
    /// Who.
    pub actor: String,
    /// With which role.
    pub role: String,
    /// Whose evidence (a report, an account, a post).
    pub subject: String,
    /// What was shown (`case`, `media:HASH`, `network`...).
    pub what: String,
    /// Why (the case they work, the action they take).
    pub why: String,
}

/// A new offender registry list was imported (keyed hashes only, never addresses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryImported {
    /// The list's version (its import time or the registry's number).
    pub version: String,
    /// Keyed hashes of the canonical addresses, hex.
    pub hashes: Vec<String>,
    /// Who imported it.
    pub actor: String,
    /// HMAC of a fixed message under the key, hex: never the key, but a service with
    /// another key knows the list is not for it.
    #[serde(default)]
    pub key_check: String,
}

/// A report moved from one state to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportTransition {
    /// The report.
    pub report: String,
    /// The state it leaves.
    pub from: String,
    /// The state it enters.
    pub to: String,
    /// Who moved it (a reviewer, or `system`).
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// A reviewer decided about an account or post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// What was reviewed.
    pub subject: Subject,
    /// Who decided.
    pub reviewer: String,
    /// The decision (`violation`, `no_violation`, `escalate`...).
    pub decision: String,
    /// Why.
    pub reason: String,
}

/// An enforcement action on an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnforcementAction {
    /// The account.
    pub account: String,
    /// What was done (`takedown`, `restrict`, `warn`...).
    pub action: String,
    /// Who or what did it (a reviewer, or an automated rule).
    pub actor: String,
    /// Why.
    pub reason: String,
    /// The automated rule, when a rule acted.
    #[serde(default)]
    pub rule: Option<String>,
}

/// A label on the person behind an account (its entity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelApplied {
    /// An account of the entity.
    pub account: String,
    /// The label.
    pub label: String,
    /// Why.
    pub reason: String,
    /// Who applied it.
    pub actor: String,
    /// When it lapses (Unix seconds), if ever.
    #[serde(default)]
    pub expires_at: Option<u64>,
}

/// A label was lifted before it lapsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelExpired {
    /// An account of the entity.
    pub account: String,
    /// The label.
    pub label: String,
    /// Who lifted it.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// A discovery rule set was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesPublished {
    /// The rule set's version (increasing).
    pub version: u64,
    /// The rules, as TOML.
    pub toml: String,
    /// Who published it.
    pub actor: String,
}

/// A text policy (terms and patterns, the platform's ban list) was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyPublished {
    /// The policy's version (increasing).
    pub version: u64,
    /// The policy, as TOML.
    pub toml: String,
    /// Who published it.
    pub actor: String,
}

/// An API token was created (its secret is never stored: only a hash of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCreated {
    /// The token's public id (the part of the token before its secret).
    pub token: String,
    /// Its scope (`service`, `reviewer`, `investigator`, `admin`).
    pub scope: String,
    /// blake3 of the secret, hex.
    pub secret_hash: String,
    /// When it stops working (Unix seconds), if ever.
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// Who created it.
    pub actor: String,
}

/// An API token was revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRevoked {
    /// The token's public id.
    pub token: String,
    /// Who revoked it.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// A console user was created (the password is stored as an argon2 hash only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    /// The login name.
    pub name: String,
    /// The role (`reviewer`, `investigator`, `admin`).
    pub role: String,
    /// The argon2 hash of the password (PHC string).
    pub password_hash: String,
    /// Who created it.
    pub actor: String,
}

/// A hash bank changed (a bank created, updated or deleted, content added or removed,
/// through the HMA-compatible routes): the change as the bank store records it, so banks
/// are rebuilt from the ledger on start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankChanged {
    /// The change, as `guardrail-hma`'s `BankChange` JSON (tagged by `change`).
    pub change: Value,
    /// Who made it.
    pub actor: String,
}

/// A decision, logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionLogged {
    /// The surface.
    pub surface: String,
    /// What was enforced.
    pub action: String,
    /// The rule that decided.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// The rule set version.
    pub rules_version: u64,
    /// The snapshot version the decision read.
    pub snapshot: u64,
    /// The request as recorded (signals read), for replay.
    pub request: Value,
}

/// The kinds of events, with their fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// An account was created.
    AccountCreated(AccountCreated),
    /// A profile changed.
    ProfileUpdated(ProfileUpdated),
    /// `account` follows `target`.
    Follow(AccountAction),
    /// `account` stopped following `target`.
    Unfollow(AccountAction),
    /// `account` blocked `target`.
    Block(AccountAction),
    /// `account` opened `target`'s profile.
    View(AccountAction),
    /// `account` reported `target` through the platform's own flow.
    ReportAccount(AccountAction),
    /// A post was published.
    Post(PostPublished),
    /// A like.
    Like(PostAction),
    /// A comment.
    Comment(PostAction),
    /// A search.
    Search(SearchMade),
    /// A report was received by Guardrail.
    ReportReceived(ReportReceived),
    /// A report changed state.
    ReportTransition(ReportTransition),
    /// A reviewer's decision.
    ReviewDecision(ReviewDecision),
    /// An enforcement action.
    Enforcement(EnforcementAction),
    /// A label was applied to an entity.
    LabelApplied(LabelApplied),
    /// A label was lifted.
    LabelExpired(LabelExpired),
    /// A rule set was published.
    RulesPublished(RulesPublished),
    /// A decision was logged.
    DecisionLogged(DecisionLogged),
    /// A report's priority changed.
    ReportPrioritized(ReportPrioritized),
    /// An alert was raised.
    AlertRaised(AlertRaised),
    /// A referral step ran (or could not).
    ReferralStep(ReferralStep),
    /// Someone read child-safety evidence.
    EvidenceViewed(EvidenceViewed),
    /// An offender registry list was imported.
    RegistryImported(RegistryImported),
    /// A text policy was published.
    PolicyPublished(PolicyPublished),
    /// An API token was created.
    TokenCreated(TokenCreated),
    /// An API token was revoked.
    TokenRevoked(TokenRevoked),
    /// A console user was created.
    UserCreated(UserCreated),
    /// A hash bank changed.
    BankChanged(BankChanged),
}

/// Every event type name, in documentation order.
pub const EVENT_TYPES: [&str; 29] = [
    "account_created",
    "profile_updated",
    "follow",
    "unfollow",
    "block",
    "view",
    "report_account",
    "post",
    "like",
    "comment",
    "search",
    "report_received",
    "report_transition",
    "review_decision",
    "enforcement",
    "label_applied",
    "label_expired",
    "rules_published",
    "decision_logged",
    "report_prioritized",
    "alert_raised",
    "referral_step",
    "evidence_viewed",
    "registry_imported",
    "policy_published",
    "token_created",
    "token_revoked",
    "user_created",
    "bank_changed",
];

/// One event: envelope, typed payload, and the canonical body it is stored as.
#[derive(Clone, PartialEq)]
pub struct Event {
    /// Client-supplied id: the same id is the same event.
    pub id: String,
    /// Platform time, Unix seconds.
    pub at: u64,
    /// The typed fields.
    pub payload: Payload,
    /// The whole object in canonical JSON (sorted keys), unknown fields included.
    pub body: Vec<u8>,
}

impl Event {
    /// Builds an event from a payload (canonical body included).
    pub fn new(id: impl Into<String>, at: u64, payload: Payload) -> Event {
        let id = id.into();
        let mut object = match serde_json::to_value(&payload) {
            Ok(Value::Object(object)) => object,
            // A payload always serialises to an object; this keeps the envelope anyway.
            _ => Map::new(),
        };
        object.insert("id".into(), Value::String(id.clone()));
        object.insert("at".into(), Value::from(at));
        let body = canonical_body(&Value::Object(object));
        Event {
            id,
            at,
            payload,
            body,
        }
    }

    /// The event's type name.
    pub fn kind(&self) -> &'static str {
        kind_of(&self.payload)
    }

    /// Reads a stored body back.
    pub fn from_body(body: &[u8]) -> Result<Event, EventError> {
        let value: Value = serde_json::from_slice(body).map_err(|error| EventError {
            index: 0,
            line: None,
            field: None,
            kind: EventErrorKind::Malformed,
            message: format!("stored body is not JSON: {error}"),
        })?;
        // The stored bytes are the canonical body they were written as (the chain hashes
        // them): keep them rather than serialise the whole object again.
        checked_event(value, 0, None, None, Some(body))
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body repeats the payload; show it as text only when it holds more (unknown
        // fields), so test failures stay readable.
        f.debug_struct("Event")
            .field("id", &self.id)
            .field("at", &self.at)
            .field("payload", &self.payload)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

// An event serialises as its stored body (the whole object, unknown fields included), and
// deserialises through the same checks as an event arriving in a batch.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value: Value = serde_json::from_slice(&self.body).map_err(serde::ser::Error::custom)?;
        value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        event_from_value(value, 0, None, None).map_err(serde::de::Error::custom)
    }
}

/// The type name of a payload.
pub fn kind_of(payload: &Payload) -> &'static str {
    match payload {
        Payload::AccountCreated(_) => "account_created",
        Payload::ProfileUpdated(_) => "profile_updated",
        Payload::Follow(_) => "follow",
        Payload::Unfollow(_) => "unfollow",
        Payload::Block(_) => "block",
        Payload::View(_) => "view",
        Payload::ReportAccount(_) => "report_account",
        Payload::Post(_) => "post",
        Payload::Like(_) => "like",
        Payload::Comment(_) => "comment",
        Payload::Search(_) => "search",
        Payload::ReportReceived(_) => "report_received",
        Payload::ReportTransition(_) => "report_transition",
        Payload::ReviewDecision(_) => "review_decision",
        Payload::Enforcement(_) => "enforcement",
        Payload::LabelApplied(_) => "label_applied",
        Payload::LabelExpired(_) => "label_expired",
        Payload::RulesPublished(_) => "rules_published",
        Payload::DecisionLogged(_) => "decision_logged",
        Payload::ReportPrioritized(_) => "report_prioritized",
        Payload::AlertRaised(_) => "alert_raised",
        Payload::ReferralStep(_) => "referral_step",
        Payload::EvidenceViewed(_) => "evidence_viewed",
        Payload::RegistryImported(_) => "registry_imported",
        Payload::PolicyPublished(_) => "policy_published",
        Payload::TokenCreated(_) => "token_created",
        Payload::TokenRevoked(_) => "token_revoked",
        Payload::UserCreated(_) => "user_created",
        Payload::BankChanged(_) => "bank_changed",
    }
}

/// The canonical form of a JSON value: compact, object keys sorted.
pub fn canonical_body(value: &Value) -> Vec<u8> {
    // serde_json's map is ordered by key (the `preserve_order` feature is off), so
    // serialising a `Value` sorts every object's keys at every depth.
    serde_json::to_vec(value).unwrap_or_default()
}

/// What is wrong with one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventErrorKind {
    /// Not JSON, or not an object.
    Malformed,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong type or an invalid value.
    InvalidField,
    /// The `type` is not one this version knows.
    UnknownType,
    /// `at` lies too far ahead of the receiver's clock.
    FutureTimestamp,
}

impl EventErrorKind {
    /// The kind's name in error bodies.
    pub fn name(self) -> &'static str {
        match self {
            EventErrorKind::Malformed => "malformed",
            EventErrorKind::MissingField => "missing_field",
            EventErrorKind::InvalidField => "invalid_field",
            EventErrorKind::UnknownType => "unknown_type",
            EventErrorKind::FutureTimestamp => "future_timestamp",
        }
    }
}

/// One event that cannot be accepted: where it is in the batch and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct EventError {
    /// 0-based index of the event in the batch.
    pub index: usize,
    /// 1-based line, for NDJSON batches.
    pub line: Option<usize>,
    /// The field at fault.
    pub field: Option<String>,
    /// What kind of fault.
    pub kind: EventErrorKind,
    /// What was expected.
    pub message: String,
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {}", self.index)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The events of a batch that are well formed, and the errors of those that are not.
#[derive(Debug, Clone, Default)]
pub struct ParsedBatch {
    /// Accepted events, in batch order, with their index in the batch.
    pub events: Vec<(usize, Event)>,
    /// One error per refused event.
    pub errors: Vec<EventError>,
}

/// Limits applied while parsing.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// The receiver's clock, Unix seconds.
    pub now: u64,
    /// How far ahead of `now` an event may be.
    pub max_future_seconds: u64,
}

/// Parses a batch: a JSON array of events, or NDJSON (one object per line; blank lines
/// ignored). Each event is checked on its own.
pub fn parse_batch(input: &[u8], limits: &ParseLimits) -> ParsedBatch {
    let mut batch = ParsedBatch::default();
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| input[i]);
    if start == Some(b'[') {
        match serde_json::from_slice::<Vec<Value>>(input) {
            Ok(values) => {
                for (index, value) in values.into_iter().enumerate() {
                    accept(
                        &mut batch,
                        event_from_value(value, index, None, Some(limits)),
                        index,
                    );
                }
            }
            Err(error) => batch.errors.push(EventError {
                index: 0,
                line: Some(error.line()),
                field: None,
                kind: EventErrorKind::Malformed,
                message: format!("the batch is not a JSON array of events: {error}"),
            }),
        }
        return batch;
    }
    let mut index = 0;
    for (number, line) in input.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = match serde_json::from_slice::<Value>(line) {
            Ok(value) => event_from_value(value, index, Some(number + 1), Some(limits)),
            Err(error) => Err(EventError {
                index,
                line: Some(number + 1),
                field: None,
                kind: EventErrorKind::Malformed,
                message: format!("not a JSON object: {error}"),
            }),
        };
        accept(&mut batch, parsed, index);
        index += 1;
    }
    batch
}

fn accept(batch: &mut ParsedBatch, parsed: Result<Event, EventError>, index: usize) {
    match parsed {
        Ok(event) => batch.events.push((index, event)),
        Err(error) => batch.errors.push(error),
    }
}

/// Checks one event object: the envelope, the type, the type's fields, and the time.
pub fn event_from_value(
    value: Value,
    index: usize,
    line: Option<usize>,
    limits: Option<&ParseLimits>,
) -> Result<Event, EventError> {
    checked_event(value, index, line, limits, None)
}

/// [`event_from_value`], with the canonical body already at hand when it was read from
/// the ledger (`stored`).
fn checked_event(
    value: Value,
    index: usize,
    line: Option<usize>,
    limits: Option<&ParseLimits>,
    stored: Option<&[u8]>,
) -> Result<Event, EventError> {
    let fault = |field: Option<&str>, kind: EventErrorKind, message: String| EventError {
        index,
        line,
        field: field.map(str::to_string),
        kind,
        message,
    };
    let Value::Object(object) = value else {
        return Err(fault(
            None,
            EventErrorKind::Malformed,
            "expected a JSON object".into(),
        ));
    };
    let id = match object.get("id") {
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 256 => id.clone(),
        Some(Value::String(_)) => {
            return Err(fault(
                Some("id"),
                EventErrorKind::InvalidField,
                "expected a non-empty string of at most 256 bytes".into(),
            ));
        }
        Some(_) => {
            return Err(fault(
                Some("id"),
                EventErrorKind::InvalidField,
                "expected a string".into(),
            ));
        }
        None => {
            return Err(fault(
                Some("id"),
                EventErrorKind::MissingField,
                "every event needs a client-supplied id".into(),
            ));
        }
    };
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(_) => {
            return Err(fault(
                Some("type"),
                EventErrorKind::InvalidField,
                "expected a string".into(),
            ));
        }
        None => {
            return Err(fault(
                Some("type"),
                EventErrorKind::MissingField,
                format!("expected one of {}", EVENT_TYPES.join(", ")),
            ));
        }
    };
    if !EVENT_TYPES.contains(&kind.as_str()) {
        return Err(fault(
            Some("type"),
            EventErrorKind::UnknownType,
            format!(
                "unknown event type {kind:?}; expected one of {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let at = match object.get("at") {
        Some(value) => value.as_u64().ok_or_else(|| {
            fault(
                Some("at"),
                EventErrorKind::InvalidField,
                format!("expected Unix seconds (a non-negative integer), found {value}"),
            )
        })?,
        None => {
            return Err(fault(
                Some("at"),
                EventErrorKind::MissingField,
                "expected Unix seconds".into(),
            ));
        }
    };
    if let Some(limits) = limits
        && at > limits.now.saturating_add(limits.max_future_seconds)
    {
        return Err(fault(
            Some("at"),
            EventErrorKind::FutureTimestamp,
            format!(
                "{at} is more than {} s ahead of now ({})",
                limits.max_future_seconds, limits.now
            ),
        ));
    }
    let body_value = Value::Object(object);
    let body = match stored {
        Some(bytes) => bytes.to_vec(),
        None => canonical_body(&body_value),
    };
    let payload: Payload = serde_json::from_value(body_value).map_err(|error| {
        let message = error.to_string();
        let field = field_of(&message);
        let kind = if message.starts_with("missing field") {
            EventErrorKind::MissingField
        } else {
            EventErrorKind::InvalidField
        };
        fault(field.as_deref(), kind, message)
    })?;
    Ok(Event {
        id,
        at,
        payload,
        body,
    })
}

/// The field a serde message names (`missing field `x``, `unknown variant`, ...).
fn field_of(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests;
