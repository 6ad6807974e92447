//! Canonical forms of the identifiers that link accounts to people: emails and phone
//! numbers, written many ways, each reduced to the one form that names the same mailbox or
//! line.
//!
//! What it is for: entity links ([`crate::entities`]) and the offender registry
//! ([`crate::registry`]) compare canonical forms, so `Syn.Thetic7+ig@gmail.com` and
//! `synthetic7@gmail.com` are one mailbox and `+1 (202) 555-0143` and `+12025550143` one line.
//!
//! What it must never do: merge what a provider keeps apart. Dots and `+tags` are dropped
//! only for providers known to ignore them ([`EmailRules`], a configured list); every other
//! domain is strict, because at a strict provider `ri.ver@` and `river@` are two people.
//! And a phone number that is not plausible (no country code, unknown country code, wrong
//! length) is refused rather than guessed: a wrong guess links strangers.

use std::collections::BTreeSet;

/// Providers whose mailboxes ignore dots in the local part (`s.ynth@` is `synth@`).
///
/// Gmail (and its old `googlemail.com` name) is the one large provider documented to do
/// this. `postmail.invalid` is the generator's invented provider that behaves the same way
/// (`.invalid` can never be a real domain, so listing it costs nothing on real data).
pub const DOTS_IGNORED: &[&str] = &["gmail.com", "googlemail.com", "postmail.invalid"];

/// Providers that deliver `name+tag@` to `name@` (sub-addressing).
///
/// Gmail, Outlook.com and its older Hotmail and Live names, iCloud, Fastmail and Proton
/// document plus-addressing. Yahoo is absent on purpose: its disposable addresses use `-`,
/// and `a+b@yahoo.com` is not `a@yahoo.com`. `postmail.invalid` and `boxmail.invalid` are
/// the generator's invented providers with sub-addressing.
pub const PLUS_TAGS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
    "postmail.invalid",
    "boxmail.invalid",
];

/// Domains that are another name of the same mailboxes.
pub const DOMAIN_ALIASES: &[(&str, &str)] = &[("googlemail.com", "gmail.com")];

/// Which providers get the lenient email rule (dots or `+tags` ignored). Every domain not
/// listed is strict: only case is folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRules {
    dots_ignored: BTreeSet<String>,
    plus_tags: BTreeSet<String>,
}

impl Default for EmailRules {
    /// [`DOTS_IGNORED`] and [`PLUS_TAGS`].
    fn default() -> Self {
        EmailRules::new(DOTS_IGNORED.iter().copied(), PLUS_TAGS.iter().copied())
    }
}

impl EmailRules {
    /// Lenient rules for the given domains (lower-cased), strict for all others.
    pub fn new<'a>(
        dots_ignored: impl IntoIterator<Item = &'a str>,
        plus_tags: impl IntoIterator<Item = &'a str>,
    ) -> EmailRules {
        EmailRules {
            dots_ignored: dots_ignored.into_iter().map(str::to_lowercase).collect(),
            plus_tags: plus_tags.into_iter().map(str::to_lowercase).collect(),
        }
    }

    /// Strict everywhere: only case is folded.
    pub fn strict() -> EmailRules {
        EmailRules::new([], [])
    }

    /// The canonical form of an email address, or `None` if it is not one.
    ///
    /// Case is folded everywhere (local parts are case-sensitive in the standard, but no
    /// provider of note treats them so, and evaders rely on case changes); a known alias
    /// domain is renamed; `+tags` are dropped and dots removed only where the provider
    /// does the same.
    pub fn canonical(&self, raw: &str) -> Option<String> {
        canonical_with(
            raw,
            |domain| self.dots_ignored.contains(domain),
            |domain| self.plus_tags.contains(domain),
        )
    }
}

/// The canonical form of an email under the default rules ([`EmailRules::default`]).
pub fn canonical_email(raw: &str) -> Option<String> {
    canonical_with(
        raw,
        |domain| DOTS_IGNORED.contains(&domain),
        |domain| PLUS_TAGS.contains(&domain),
    )
}

/// Overwrites a string that held an address before it is freed (best effort:
/// `black_box` keeps the compiler from dropping the writes; the allocator's own copies are
/// out of reach). Canonical forms pass through offender lists, so no copy made here is
/// left behind readable.
pub(crate) fn wipe_string(text: String) {
    let mut bytes = text.into_bytes();
    bytes.fill(0);
    std::hint::black_box(&bytes);
}

fn canonical_with(
    raw: &str,
    dots_ignored: impl Fn(&str) -> bool,
    plus_tags: impl Fn(&str) -> bool,
) -> Option<String> {
    let address = raw.trim().to_lowercase();
    let canonical = canonical_of_lowered(&address, dots_ignored, plus_tags);
    wipe_string(address);
    canonical
}

fn canonical_of_lowered(
    address: &str,
    dots_ignored: impl Fn(&str) -> bool,
    plus_tags: impl Fn(&str) -> bool,
) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        });
    let local_ok = !local.is_empty()
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>' | ','));
    if !domain_ok || !local_ok {
        return None;
    }
    let domain = DOMAIN_ALIASES
        .iter()
        .find(|(alias, _)| *alias == domain)
        .map_or(domain, |(_, name)| name);
    let mut local = local.to_string();
    if plus_tags(domain) {
        local.truncate(local.find('+').unwrap_or(local.len()));
    }
    if dots_ignored(domain) {
        local.retain(|c| c != '.');
    }
    if local.is_empty() {
        return None;
    }
    let canonical = format!("{local}@{domain}");
    wipe_string(local);
    Some(canonical)
}

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// A character that is not a digit nor formatting (` -.()/` and a leading `+`).
    #[error("unexpected character {0:?} (digits, spaces, - . ( ) / and a leading + only)")]
    BadCharacter(char),
    /// Neither `+`/`00` nor a default country: the country code cannot be known.
    #[error("no country code (write +<code>..., or give the account's country)")]
    NoCountryCode,
    /// The default country is not in the table.
    #[error("unknown country {0:?}")]
    UnknownCountry(String),
    /// The digits after `+` start with no known country calling code.
    #[error("unknown country calling code in +{0}")]
    UnknownCallingCode(String),
    /// The national number has the wrong length for its country.
    #[error("+{code}: national number of {digits} digits, expected {min} to {max}")]
    WrongLength {
        /// The country calling code.
        code: &'static str,
        /// Digits after the calling code.
        digits: usize,
        /// Shortest plausible national number.
        min: usize,
        /// Longest plausible national number.
        max: usize,
    },
    /// Digits no line has (every digit the same; a North American area code or exchange
    /// starting with 0 or 1).
    #[error("not a plausible number: {0}")]
    Implausible(&'static str),
}

/// Country calling codes with the two-letter countries they serve and the plausible
/// lengths of their national significant numbers (after the calling code, without the
/// trunk `0`), after the ITU-T E.164 assignments and national numbering plans.
///
/// The table covers the countries this project's worlds and first deployments use and the
/// largest others; a number under a code not listed is refused (extend the table rather
/// than guess). Lengths are ranges because several plans mix lengths (Germany, Austria).
pub const CALLING_CODES: &[(&str, &[&str], usize, usize)] = &[
    ("1", &["us", "ca"], 10, 10),
    ("7", &["ru", "kz"], 10, 10),
    ("20", &["eg"], 9, 10),
    ("27", &["za"], 9, 9),
    ("30", &["gr"], 10, 10),
    ("31", &["nl"], 9, 9),
    ("32", &["be"], 8, 9),
    ("33", &["fr"], 9, 9),
    ("34", &["es"], 9, 9),
    ("36", &["hu"], 8, 9),
    ("39", &["it"], 6, 11),
    ("40", &["ro"], 9, 9),
    ("41", &["ch"], 9, 9),
    ("43", &["at"], 4, 13),
    ("44", &["gb"], 9, 10),
    ("45", &["dk"], 8, 8),
    ("46", &["se"], 7, 9),
    ("47", &["no"], 8, 8),
    ("48", &["pl"], 9, 9),
    ("49", &["de"], 6, 13),
    ("51", &["pe"], 8, 9),
    ("52", &["mx"], 10, 10),
    ("54", &["ar"], 10, 10),
    ("55", &["br"], 10, 11),
    ("56", &["cl"], 9, 9),
    ("57", &["co"], 10, 10),
    ("60", &["my"], 9, 10),
    ("61", &["au"], 9, 9),
    ("62", &["id"], 8, 12),
    ("63", &["ph"], 8, 10),
    ("64", &["nz"], 8, 10),
    ("65", &["sg"], 8, 8),
    ("66", &["th"], 8, 9),
    ("81", &["jp"], 9, 10),
    ("82", &["kr"], 8, 10),
    ("84", &["vn"], 9, 10),
    ("86", &["cn"], 10, 11),
    ("90", &["tr"], 10, 10),
    ("91", &["in"], 10, 10),
    ("92", &["pk"], 9, 10),
    ("233", &["gh"], 9, 9),
    ("234", &["ng"], 8, 10),
    ("254", &["ke"], 9, 9),
    ("351", &["pt"], 9, 9),
    ("353", &["ie"], 7, 9),
    ("358", &["fi"], 5, 12),
    ("380", &["ua"], 9, 9),
    ("420", &["cz"], 9, 9),
    ("852", &["hk"], 8, 8),
    ("880", &["bd"], 10, 10),
    ("966", &["sa"], 9, 9),
    ("971", &["ae"], 8, 9),
    ("972", &["il"], 8, 9),
];

/// E.164's limit on a whole number (country code and national number).
const E164_MAX_DIGITS: usize = 15;

/// The E.164 form (`+` and digits) of a phone number, or why it is not plausible.
///
/// International forms (`+44 7700 900123`, `0044 7700 900123`) need no country; a national
/// form (`(202) 555-0143`, `07700 900123`) needs the account's `default_country` (two
/// letters), whose trunk prefix (`1` in North America, `0` elsewhere) is dropped. The
/// calling code must be in [`CALLING_CODES`] and the national number of a length its
/// plan allows.
pub fn canonical_phone(raw: &str, default_country: Option<&str>) -> Result<String, PhoneError> {
    let text = raw.trim();
    let (international, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            other => return Err(PhoneError::BadCharacter(other)),
        }
    }
    let international = international || digits.starts_with("00");
    let full = if international {
        digits
            .strip_prefix("00")
            .filter(|_| !text.starts_with('+'))
            .unwrap_or(&digits)
            .to_string()
    } else {
        let country = default_country.ok_or(PhoneError::NoCountryCode)?;
        let country = country.trim().to_lowercase();
        let code = CALLING_CODES
            .iter()
            .find(|(_, countries, _, _)| countries.contains(&country.as_str()))
            .map(|(code, ..)| *code)
            .ok_or(PhoneError::UnknownCountry(country))?;
        let trunk = if code == "1" { '1' } else { '0' };
        let national = if code == "1" {
            // A North American number is ten digits; eleven start with the trunk `1`.
            if digits.len() == 11 {
                digits.strip_prefix(trunk).unwrap_or(&digits)
            } else {
                &digits
            }
        } else {
            digits.strip_prefix(trunk).unwrap_or(&digits)
        };
        format!("{code}{national}")
    };
    let Some(&(code, _, min, max)) = CALLING_CODES
        .iter()
        .find(|(code, ..)| full.starts_with(code))
    else {
        return Err(PhoneError::UnknownCallingCode(full));
    };
    let national = &full[code.len()..];
    if national.len() < min || national.len() > max || full.len() > E164_MAX_DIGITS {
        return Err(PhoneError::WrongLength {
            code,
            digits: national.len(),
            min,
            max,
        });
    }
    let bytes = national.as_bytes();
    if bytes.iter().all(|&b| b == bytes[0]) {
        return Err(PhoneError::Implausible("every digit the same"));
    }
    if code == "1" && (matches!(bytes[0], b'0' | b'1') || matches!(bytes[3], b'0' | b'1')) {
        return Err(PhoneError::Implausible(
            "a North American area code and exchange start with 2-9",
        ));
    }
    if code != "1" && bytes[0] == b'0' {
        return Err(PhoneError::Implausible(
            "the trunk 0 is not part of an international number",
        ));
    }
    Ok(format!("+{full}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lenient_only_where_the_provider_is() {
        let rows = [
            ("Syn.Thetic7+ig2@GMail.com", Some("synthetic7@gmail.com")),
            ("syn.thetic7@googlemail.com", Some("synthetic7@gmail.com")),
            ("synthetic7@gmail.com", Some("synthetic7@gmail.com")),
            // Outlook sub-addresses but keeps dots.
            ("syn.thetic7+x@outlook.com", Some("syn.thetic7@outlook.com")),
            // Strict: a dot and a +tag are part of the mailbox's name.
            (
                "Syn.Thetic7+ig2@Example.com",
                Some("syn.thetic7+ig2@example.com"),
            ),
            ("a+b@yahoo.com", Some("a+b@yahoo.com")),
            ("ri.ver@quillpost.invalid", Some("ri.ver@quillpost.invalid")),
            (
                "r.i.v.e.r+2@postmail.invalid",
                Some("river@postmail.invalid"),
            ),
            ("river+2@boxmail.invalid", Some("river@boxmail.invalid")),
            ("ri.ver@boxmail.invalid", Some("ri.ver@boxmail.invalid")),
            ("not-an-email", None),
            ("@example.com", None),
            ("+tag@gmail.com", None),
            ("...@gmail.com", None),
            ("a b@example.com", None),
            ("ab@localhost", None),
            ("ab@example..com", None),
        ];
        for (raw, expected) in rows {
            assert_eq!(canonical_email(raw).as_deref(), expected, "{raw}");
            assert_eq!(
                EmailRules::default().canonical(raw).as_deref(),
                expected,
                "{raw}"
            );
        }
        let configured = EmailRules::new(["example.com"], ["example.com"]);
        assert_eq!(
            configured
                .canonical("Syn.Thetic7+ig2@Example.com")
                .as_deref(),
            Some("synthetic7@example.com")
        );
        assert_eq!(
            EmailRules::strict()
                .canonical("Syn.Thetic7+x@gmail.com")
                .as_deref(),
            Some("syn.thetic7+x@gmail.com")
        );
    }

    #[test]
    fn phones_become_e164_or_are_refused() {
        let ok = [
            ("+1 (202) 555-0143", None, "+12025550143"),
            ("+12025550143", None, "+12025550143"),
            ("001 202 555 0143", None, "+12025550143"),
            ("(202) 555-0143", Some("us"), "+12025550143"),
            ("1-202-555-0143", Some("CA"), "+12025550143"),
            ("07700 900123", Some("gb"), "+447700900123"),
            ("+44 20 7946 0123", None, "+442079460123"),
            ("+61 2 5550 1234", None, "+61255501234"),
            ("02 5550 1234", Some("au"), "+61255501234"),
            ("+91 98765 43210", None, "+919876543210"),
            ("+55 11 91234 5678", None, "+5511912345678"),
        ];
        for (raw, country, expected) in ok {
            assert_eq!(
                canonical_phone(raw, country).as_deref(),
                Ok(expected),
                "{raw}"
            );
        }
        let refused = [
            ("202 555 0143", None, "no country code"),
            ("+1 202 555 014", None, "national number of 9 digits"),
            ("+999 1234 5678", None, "unknown country calling code"),
            (
                "+1 555 555 5555",
                None,
                "not a plausible number: every digit",
            ),
            ("+1 102 555 0143", None, "area code and exchange"),
            ("+44 0770 090 012", None, "trunk 0"),
            ("+1 202 555 0143 ext 2", None, "unexpected character 'e'"),
            ("0201234567", Some("zz"), "unknown country \"zz\""),
            ("+49 1234567890123456", None, "national number of 16 digits"),
        ];
        for (raw, country, message) in refused {
            let error = canonical_phone(raw, country).expect_err(raw).to_string();
            assert!(error.contains(message), "{raw}: {error}");
        }
    }
}
