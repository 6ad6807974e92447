//! The offender registry in the service: sign-ups and identifier changes matched against
//! the list the ledger imported last, a match opening a high-priority case for a person.
//!
//! What it is for: platforms receive the registries' email lists every week and still let
//! convicted offenders hold accounts. `guardrail registry import` stores the list as keyed
//! hashes; here the service holds the key (from its configuration), rebuilds the registry
//! when a new list is folded, answers `/v1/signup/decide` with the matches, and turns an
//! `account_created` or `profile_updated` event whose email is on the list into a
//! `report_received` event in `offender_registry_match` (priority 0, a person decides).
//!
//! What it must never do: act publicly on a match (it opens a case; a reviewer decides),
//! log or return an address, or read a list hashed under another key as matching nothing
//! (that is an error the answer says).

use std::fmt;
use std::sync::{Arc, Mutex};

use guardrail_ledger::event::{Event, Payload, Subject};
use guardrail_ledger::state::LedgerState;
use guardrail_policy::registry::{Registry, RegistryKey};
use guardrail_reports::{Intake, ReportSubmission, TriageInputs, intake};

use crate::ledger_io::ledger_registry;

/// The registry key as the configuration holds it (hex); never printed.
#[derive(Clone)]
pub struct RegistrySecret(String);

impl RegistrySecret {
    /// A key from its hex text, checked now so a bad key stops the service at start.
    pub fn from_hex(text: &str) -> Result<RegistrySecret, String> {
        RegistryKey::from_hex(text).map_err(|e| e.to_string())?;
        Ok(RegistrySecret(text.trim().to_string()))
    }

    fn key(&self) -> Result<RegistryKey, String> {
        RegistryKey::from_hex(&self.0).map_err(|e| e.to_string())
    }
}

impl fmt::Debug for RegistrySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistrySecret(<redacted>)")
    }
}

/// The registry in force, rebuilt when the ledger's list changes.
#[derive(Debug, Default)]
pub struct RegistryCache {
    cached: Mutex<Option<(String, Arc<Registry>)>>,
}

/// What the registry says about a set of emails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryCheck {
    /// No key configured or no list imported: nothing can be checked (said, not hidden).
    NotConfigured(String),
    /// The list cannot be read with this key.
    Unusable(String),
    /// Checked: how many of the emails are on the list, and the list's version.
    Checked {
        /// Emails on the list.
        matches: usize,
        /// The list's version (its issue time).
        version: String,
    },
}

impl RegistryCache {
    /// Matches `emails` against the list in `state` under `secret`.
    pub fn check(
        &self,
        secret: Option<&RegistrySecret>,
        state: &LedgerState,
        emails: &[String],
    ) -> RegistryCheck {
        let Some(secret) = secret else {
            return RegistryCheck::NotConfigured(
                "no registry key is configured ($GUARDRAIL_REGISTRY_KEY)".into(),
            );
        };
        let Some((version, _)) = &state.registry else {
            return RegistryCheck::NotConfigured("no offender list has been imported".into());
        };
        let mut cached = match self.cached.lock() {
            Ok(cached) => cached,
            Err(poisoned) => poisoned.into_inner(),
        };
        let registry = match cached.as_ref() {
            Some((held, registry)) if held == version => registry.clone(),
            _ => {
                let built = secret
                    .key()
                    .and_then(|key| ledger_registry(state, key).map_err(|e| e.to_string()));
                match built {
                    Ok(Some(registry)) => {
                        let registry = Arc::new(registry);
                        *cached = Some((version.clone(), registry.clone()));
                        registry
                    }
                    Ok(None) => {
                        return RegistryCheck::NotConfigured(
                            "no offender list has been imported".into(),
                        );
                    }
                    Err(reason) => return RegistryCheck::Unusable(reason),
                }
            }
        };
        RegistryCheck::Checked {
            matches: registry.matches(emails).len(),
            version: version.clone(),
        }
    }

    /// The cases to open for `events` just stored: one `report_received` per account whose
    /// new emails are on the list in force (once per account and list).
    pub fn cases(
        &self,
        secret: Option<&RegistrySecret>,
        state: &LedgerState,
        events: &[Event],
        now: u64,
    ) -> Vec<Event> {
        let mut out = Vec::new();
        for event in events {
            let (account, emails) = match &event.payload {
                Payload::AccountCreated(created) => (&created.account, &created.emails),
                Payload::ProfileUpdated(updated) => (&updated.account, &updated.emails),
                _ => continue,
            };
            if emails.is_empty() {
                continue;
            }
            let RegistryCheck::Checked { matches, version } = self.check(secret, state, emails)
            else {
                continue;
            };
            if matches == 0 {
                continue;
            }
            let submission = ReportSubmission {
                client_key: format!("offender-registry:{account}:{version}"),
                reporter: "system:offender-registry".into(),
                subject: Subject::Account(account.clone()),
                category: "offender_registry_match".into(),
                text: format!(
                    "{matches} email(s) on this account are on the offender registry's list issued at {version}; a person reviews the account (no automatic public action)"
                ),
                media_hashes: Vec::new(),
            };
            if let Ok(Intake::New { event, .. }) =
                intake(state, &submission, &TriageInputs::default(), now)
            {
                out.push(*event);
            }
        }
        out
    }
}
