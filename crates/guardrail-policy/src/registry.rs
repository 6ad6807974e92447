//! The offender registry: the weekly list of email addresses of convicted offenders that
//! the platform receives, kept only as keyed hashes, and matched against the emails of
//! accounts.
//!
//! What it is for: an account whose email is on the list opens a high-priority case for a
//! human (the caller does that with each [`RegistryMatch`]). Emails are compared in their
//! canonical form ([`EmailRules`]), so `S.Ynthetic7+x@gmail.com` on an account matches
//! `synthetic7@gmail.com` on the list. Each canonical email is stored as HMAC-SHA-256 under a key
//! from configuration; a newer list replaces the one in force, with counts of what was
//! added and removed.
//!
//! What it must never do: keep the addresses. They exist only inside [`Registry::import`]
//! (copies made there are wiped before it returns, best effort: the allocator is not
//! ours), never appear in errors (a bad line is named by its number), in `Debug` output
//! or in the stored form ([`StoredRegistry`]: hashes, the list's date and a check value
//! of the key, never the key). Without the key the hashes cannot be tested against
//! guessed addresses, so the key is configuration, never stored with them. Pure: no IO,
//! no clock.

use std::collections::BTreeSet;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use guardrail_types::Timestamp;

use crate::canonical::{EmailRules, wipe_string};

/// Shortest key accepted: 32 bytes, SHA-256's output size (RFC 2104's recommendation for
/// the minimum HMAC key length).
pub const MIN_KEY_BYTES: usize = 32;

/// Domain separation: what is hashed is this prefix and the canonical email.
const EMAIL_CONTEXT: &[u8] = b"guardrail offender registry v1 email\0";
/// The message whose HMAC tells whether a stored registry was made with the same key.
const KEY_CHECK: &[u8] = b"guardrail offender registry v1 key check";
/// Bad lines named in one error (the count says how many more).
const BAD_LINES_NAMED: usize = 20;

type HmacSha256 = Hmac<Sha256>;

/// The secret key of the registry's hashes. Its bytes never appear in `Debug` output and
/// are wiped when it is dropped (best effort).
pub struct RegistryKey(Vec<u8>);

impl RegistryKey {
    /// A key from raw bytes (at least [`MIN_KEY_BYTES`]).
    pub fn new(bytes: Vec<u8>) -> Result<RegistryKey, RegistryError> {
        if bytes.len() < MIN_KEY_BYTES {
            let length = bytes.len();
            wipe(bytes);
            return Err(RegistryError::KeyTooShort { bytes: length });
        }
        Ok(RegistryKey(bytes))
    }

    /// A key from hexadecimal text (as configuration holds it).
    pub fn from_hex(text: &str) -> Result<RegistryKey, RegistryError> {
        let bytes = decode_hex(text.trim()).ok_or(RegistryError::KeyNotHex)?;
        RegistryKey::new(bytes)
    }

    fn mac(&self, context: &[u8], message: &[u8]) -> [u8; 32] {
        mac(&self.0, context, message)
    }
}

impl fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistryKey(<redacted>)")
    }
}

impl Drop for RegistryKey {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

fn mac(key: &[u8], context: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut hmac) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    hmac.update(context);
    hmac.update(message);
    hmac.finalize().into_bytes().into()
}

/// Overwrites a key's bytes before freeing them (best effort, as [`wipe_string`]).
fn wipe(bytes: Vec<u8>) {
    let mut bytes = bytes;
    bytes.fill(0);
    std::hint::black_box(&bytes);
}

/// Why a list, a key or a stored registry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Lines that are not email addresses; the registry in force is unchanged.
    #[error("offender list: {} bad line(s), list not imported (the one in force stays): {}", .count, describe(.lines, *.count))]
    BadLines {
        /// The first bad lines (at most twenty), in order.
        lines: Vec<BadLine>,
        /// How many bad lines there are in all.
        count: usize,
    },
    /// A list with no address (an empty or truncated download).
    #[error("offender list: no addresses (an empty list would lift every match; not imported)")]
    Empty,
    /// Older than the list in force.
    #[error(
        "offender list issued at {issued} is older than the one in force ({current}); not imported"
    )]
    Stale {
        /// The list offered.
        issued: u64,
        /// The list in force.
        current: u64,
    },
    /// The key is too short.
    #[error("registry key: {bytes} bytes, at least {MIN_KEY_BYTES} required")]
    KeyTooShort {
        /// Its length.
        bytes: usize,
    },
    /// The key's text is not hexadecimal.
    #[error("registry key: expected hexadecimal digits")]
    KeyNotHex,
    /// A stored registry was made with another key.
    #[error("stored registry: made with another key (its key check differs)")]
    KeyMismatch,
    /// A stored hash is not 64 hexadecimal digits.
    #[error("stored registry: hash {index} is not 64 hexadecimal digits")]
    BadStoredHash {
        /// Its position.
        index: usize,
    },
}

fn describe(lines: &[BadLine], count: usize) -> String {
    let mut text = lines
        .iter()
        .map(|l| format!("line {}: {}", l.line, l.reason))
        .collect::<Vec<_>>()
        .join("; ");
    if count > lines.len() {
        text.push_str(&format!("; and {} more", count - lines.len()));
    }
    text
}

/// A line of a list that is not an address: its number and why, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub reason: &'static str,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Distinct canonical addresses on the new list.
    pub entries: usize,
    /// On the new list and not on the old one.
    pub added: usize,
    /// On the old list and not on the new one.
    pub removed: usize,
    /// On both.
    pub unchanged: usize,
    /// Lines naming an address already on the list (after canonicalisation).
    pub duplicates: usize,
    /// When the new list was issued.
    pub issued: Timestamp,
}

/// One of the emails asked about is on the list in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RegistryMatch {
    /// Its position in the slice given to [`Registry::matches`].
    pub index: usize,
    /// When the list that matched was issued.
    pub list_issued: Timestamp,
}

/// A registry as stored: hashes, the list's date and a check value of the key (never the
/// key, never an address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRegistry {
    /// When the list in force was issued (none: no list yet).
    pub issued: Option<Timestamp>,
    /// HMAC of a fixed message under the key, hex: a registry loaded with another key
    /// is refused instead of silently matching nothing.
    pub key_check: String,
    /// The keyed hashes, hex, sorted.
    pub hashes: Vec<String>,
}

/// The offender registry in force: keyed hashes of canonical emails.
pub struct Registry {
    key: RegistryKey,
    rules: EmailRules,
    hashes: BTreeSet<[u8; 32]>,
    issued: Option<Timestamp>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("entries", &self.hashes.len())
            .field("issued", &self.issued)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry under `key`, canonicalising emails with the default rules.
    pub fn new(key: RegistryKey) -> Registry {
        Registry::with_rules(key, EmailRules::default())
    }

    /// An empty registry under `key` with the given email rules (they must be the rules
    /// the platform links accounts with, or `a.b@` and `ab@` may match one way only).
    pub fn with_rules(key: RegistryKey, rules: EmailRules) -> Registry {
        Registry {
            key,
            rules,
            hashes: BTreeSet::new(),
            issued: None,
        }
    }

    /// Distinct addresses on the list in force.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether no list is in force (or it was empty).
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// When the list in force was issued.
    pub fn issued(&self) -> Option<Timestamp> {
        self.issued
    }

    /// Replaces the list in force with `list` (one address per line; blank lines and `#`
    /// comments, whole-line or after the address, are skipped), issued at `issued`.
    ///
    /// All or nothing: a single bad line, an empty list or a list older than the one in
    /// force is refused and the registry stays as it was. The addresses are hashed and
    /// their copies wiped before this returns.
    pub fn import(&mut self, list: &str, issued: Timestamp) -> Result<ImportReport, RegistryError> {
        if let Some(current) = self.issued
            && issued < current
        {
            return Err(RegistryError::Stale {
                issued: issued.0,
                current: current.0,
            });
        }
        let mut hashes = BTreeSet::new();
        let (mut bad, mut bad_count, mut lines_read) = (Vec::new(), 0, 0);
        let list = list.strip_prefix('\u{feff}').unwrap_or(list);
        for (index, line) in list.lines().enumerate() {
            let text = match line.find('#') {
                Some(at) if at == 0 || line[..at].ends_with(char::is_whitespace) => &line[..at],
                _ => line,
            }
            .trim();
            if text.is_empty() {
                continue;
            }
            lines_read += 1;
            match self.rules.canonical(text) {
                Some(canonical) => {
                    hashes.insert(self.key.mac(EMAIL_CONTEXT, canonical.as_bytes()));
                    wipe_string(canonical);
                }
                None => {
                    bad_count += 1;
                    if bad.len() < BAD_LINES_NAMED {
                        bad.push(BadLine {
                            line: index + 1,
                            reason: why_not_email(text),
                        });
                    }
                }
            }
        }
        if bad_count > 0 {
            return Err(RegistryError::BadLines {
                lines: bad,
                count: bad_count,
            });
        }
        if hashes.is_empty() {
            return Err(RegistryError::Empty);
        }
        let unchanged = hashes.intersection(&self.hashes).count();
        let report = ImportReport {
            entries: hashes.len(),
            added: hashes.len() - unchanged,
            removed: self.hashes.len() - unchanged,
            unchanged,
            duplicates: lines_read - hashes.len(),
            issued,
        };
        self.hashes = hashes;
        self.issued = Some(issued);
        Ok(report)
    }

    /// The emails (an account's, in any written form) that are on the list in force.
    pub fn matches(&self, emails: &[String]) -> Vec<RegistryMatch> {
        let Some(issued) = self.issued else {
            return Vec::new();
        };
        emails
            .iter()
            .enumerate()
            .filter_map(|(index, email)| {
                let canonical = self.rules.canonical(email)?;
                let hash = self.key.mac(EMAIL_CONTEXT, canonical.as_bytes());
                wipe_string(canonical);
                self.hashes.contains(&hash).then_some(RegistryMatch {
                    index,
                    list_issued: issued,
                })
            })
            .collect()
    }

    /// The stored form: hashes, date, key check; no key, no address.
    pub fn stored(&self) -> StoredRegistry {
        StoredRegistry {
            issued: self.issued,
            key_check: encode_hex(&self.key.mac(KEY_CHECK, b"")),
            hashes: self.hashes.iter().map(|h| encode_hex(h)).collect(),
        }
    }

    /// A registry from its stored form and the key it was made with.
    pub fn from_stored(
        stored: &StoredRegistry,
        key: RegistryKey,
        rules: EmailRules,
    ) -> Result<Registry, RegistryError> {
        if encode_hex(&key.mac(KEY_CHECK, b"")) != stored.key_check.to_lowercase() {
            return Err(RegistryError::KeyMismatch);
        }
        let mut hashes = BTreeSet::new();
        for (index, text) in stored.hashes.iter().enumerate() {
            let bytes = decode_hex(text)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(RegistryError::BadStoredHash { index })?;
            hashes.insert(bytes);
        }
        Ok(Registry {
            key,
            rules,
            hashes,
            issued: stored.issued,
        })
    }
}

fn why_not_email(text: &str) -> &'static str {
    if !text.contains('@') {
        "not an email address (no @)"
    } else if text.chars().any(char::is_whitespace) {
        "not an email address (spaces inside)"
    } else {
        "not an email address"
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> RegistryKey {
        RegistryKey::new(vec![byte; 32]).expect("32 bytes")
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 test case 2 (key "Jefe"); the context is empty here.
        let out = mac(b"Jefe", b"", b"what do ya want for nothing?");
        assert_eq!(
            encode_hex(&out),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn an_import_matches_canonical_forms_and_replaces_the_old_list() {
        let mut registry = Registry::new(key(7));
        assert!(registry.matches(&["x@gmail.com".into()]).is_empty());
        let list = "# offender registry, week 48\n\nSyn.Thetic7@gmail.com\nsam@quillpost.invalid  # added this week\nsam@quillpost.invalid\n";
        let report = registry.import(list, Timestamp(100)).expect("imports");
        assert_eq!(
            (
                report.entries,
                report.added,
                report.removed,
                report.duplicates
            ),
            (2, 2, 0, 1)
        );
        let emails: Vec<String> = [
            "synthetic7+shop@gmail.com",
            "s.am@quillpost.invalid",
            "SAM@quillpost.invalid",
            "othersynth7@gmail.com",
        ]
        .map(String::from)
        .to_vec();
        let found: Vec<usize> = registry.matches(&emails).iter().map(|m| m.index).collect();
        assert_eq!(found, vec![0, 2], "dots count at a strict provider");
        let report = registry
            .import(
                "sam@quillpost.invalid\nnew@boxmail.invalid\n",
                Timestamp(200),
            )
            .expect("newer list");
        assert_eq!((report.added, report.removed, report.unchanged), (1, 1, 1));
        assert!(
            registry.matches(&emails[..1]).is_empty(),
            "removed from the list"
        );
        assert_eq!(registry.matches(&emails)[0].list_issued, Timestamp(200));
        // An older list is refused and changes nothing.
        let error = registry
            .import("syn.thetic7@gmail.com\n", Timestamp(150))
            .expect_err("stale");
        assert!(matches!(error, RegistryError::Stale { .. }));
        assert_eq!(registry.len(), 2);
    }

    #[test]
    fn bad_lines_are_named_by_number_without_their_text() {
        let mut registry = Registry::new(key(1));
        registry
            .import("a@gmail.com\n", Timestamp(1))
            .expect("first list");
        let list = "ok@gmail.com\nsecret-person at gmail\n\nwho@@\nfine@boxmail.invalid\n";
        let error = registry.import(list, Timestamp(2)).expect_err("bad lines");
        let text = error.to_string();
        assert_eq!(
            text,
            "offender list: 2 bad line(s), list not imported (the one in force stays): line 2: not an email address (no @); line 4: not an email address"
        );
        assert!(!text.contains("secret") && !format!("{error:?}").contains("secret"));
        assert_eq!(registry.issued(), Some(Timestamp(1)), "old list stays");
        assert!(
            !registry.matches(&["a@gmail.com".into()]).is_empty(),
            "old list still matches"
        );
        assert_eq!(
            registry.import("# nothing\n\n", Timestamp(3)),
            Err(RegistryError::Empty)
        );
    }

    #[test]
    fn addresses_never_reach_debug_or_the_stored_form() {
        let mut registry = Registry::new(key(3));
        registry
            .import("hidden.synth7@gmail.com\n", Timestamp(5))
            .expect("imports");
        let debug = format!("{registry:?}");
        assert!(
            !debug.contains("hidden") && debug.contains("entries: 1"),
            "{debug}"
        );
        assert_eq!(format!("{:?}", key(3)), "RegistryKey(<redacted>)");
        let stored = registry.stored();
        let json = format!("{stored:?}");
        assert!(!json.contains("hidden"));
        assert_eq!(stored.hashes.len(), 1);
        assert!(!stored.key_check.contains(&encode_hex(&[3u8; 32])));
        // The stored form with the same key matches again; with another key it is refused.
        let back = Registry::from_stored(&stored, key(3), EmailRules::default()).expect("same key");
        assert_eq!(back.matches(&["hiddensynth7@gmail.com".into()]).len(), 1);
        assert_eq!(
            Registry::from_stored(&stored, key(4), EmailRules::default()).err(),
            Some(RegistryError::KeyMismatch)
        );
        // Another key gives other hashes: the list cannot be compared across keys.
        let mut other = Registry::new(key(4));
        other
            .import("hidden.synth7@gmail.com\n", Timestamp(5))
            .expect("imports");
        assert_ne!(other.stored().hashes, stored.hashes);
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(
            RegistryKey::new(vec![0; 16]).err().map(|e| e.to_string()),
            Some("registry key: 16 bytes, at least 32 required".to_string())
        );
        assert_eq!(
            RegistryKey::from_hex("zz").err(),
            Some(RegistryError::KeyNotHex)
        );
        assert!(RegistryKey::from_hex(&"ab".repeat(32)).is_ok());
    }
}
