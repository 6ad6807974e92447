//! Who may call: bearer tokens with scopes, and console users with passwords.
//!
//! What it is for: a token is `grd.<id>.<secret>`; the ledger keeps its id, scope and the
//! blake3 hash of its secret (a `token_created` event), never the secret. A request's
//! token is looked up by id and its secret compared with the stored hash in constant time.
//! Console passwords are argon2id PHC strings (`user_created`). Creating a token or a user
//! is an event, so the whole fleet sees it, and a revocation (`token_revoked`) too.
//!
//! What it must never do: read a token from anywhere but the `Authorization` header (never
//! the query string, which ends up in logs), keep a secret or a password in memory longer
//! than the check, or let a revoked or expired token through.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use guardrail_ledger::event::{Event, Payload, TokenCreated, UserCreated};
use std::collections::BTreeMap;

use guardrail_ledger::state::{LedgerState, TokenRecord, UserRecord};
use rand::RngCore;
use subtle::ConstantTimeEq;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// A platform's services: events, decisions, matching, report intake.
    Service,
    /// Moderators: reports and enforcement.
    Reviewer,
    /// Investigators: the network map and accounts' risk.
    Investigator,
    /// Operators: everything, plus re-maps and ledger verification.
    Admin,
}

impl Scope {
    /// Every scope, in the order documentation lists them.
    pub const ALL: [Scope; 4] = [
        Scope::Service,
        Scope::Reviewer,
        Scope::Investigator,
        Scope::Admin,
    ];

    /// The scope's name in tokens, events and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Service => "service",
            Scope::Reviewer => "reviewer",
            Scope::Investigator => "investigator",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token of this scope may use a route that needs `needed`. Admin may do
    /// everything; an investigator may read what a reviewer reads.
    pub fn allows(self, needed: Scope) -> bool {
        self == needed
            || self == Scope::Admin
            || (self == Scope::Investigator && needed == Scope::Reviewer)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scope name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}; expected service, reviewer, investigator or admin")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(text: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| UnknownScope(text.to_string()))
    }
}

/// Why a request is not authenticated (401) or not allowed (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token: send `Authorization: Bearer grd.<id>.<secret>`")]
    Missing,
    /// Not a token of ours, unknown, revoked, expired, or the secret does not match.
    #[error("the bearer token is not valid ({0})")]
    Invalid(&'static str),
    /// A valid token without the scope the route needs.
    #[error("this route needs the {needed} scope; the token has {held}")]
    Forbidden {
        /// The scope the route needs.
        needed: Scope,
        /// The token's scope.
        held: Scope,
    },
}

/// Who is calling, once the token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's public id.
    pub token: String,
    /// Its scope.
    pub scope: Scope,
}

impl Caller {
    /// How the caller is recorded as an actor in events.
    pub fn actor(&self) -> String {
        format!("token:{}", self.token)
    }
}

const PREFIX: &str = "grd";

fn secret_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// Checks a bearer token against the ledger's tokens at time `now`, for a route that needs
/// `needed`.
pub fn authenticate(
    tokens: &BTreeMap<String, TokenRecord>,
    authorization: Option<&str>,
    needed: Scope,
    now: u64,
) -> Result<Caller, AuthError> {
    let header = authorization.ok_or(AuthError::Missing)?;
    let (kind, token) = header.trim().split_once(' ').ok_or(AuthError::Missing)?;
    if !kind.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let mut parts = token.trim().splitn(3, '.');
    let (Some(PREFIX), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Invalid("not a Guardrail token"));
    };
    let record = tokens.get(id).ok_or(AuthError::Invalid("unknown token"))?;
    let presented = secret_hash(secret);
    if !bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())) {
        return Err(AuthError::Invalid("wrong secret"));
    }
    if record.revoked_at.is_some() {
        return Err(AuthError::Invalid("revoked"));
    }
    if record.expires_at.is_some_and(|at| at <= now) {
        return Err(AuthError::Invalid("expired"));
    }
    let scope: Scope = record
        .scope
        .parse()
        .map_err(|_| AuthError::Invalid("unknown scope"))?;
    if !scope.allows(needed) {
        return Err(AuthError::Forbidden {
            needed,
            held: scope,
        });
    }
    Ok(Caller {
        token: id.to_string(),
        scope,
    })
}

/// A new token: the event that records it, and the token itself (shown once).
#[derive(Debug)]
pub struct NewToken {
    /// The `token_created` event to store.
    pub event: Event,
    /// The whole token, `grd.<id>.<secret>`.
    pub token: String,
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// Mints a token of `scope` at time `now` by `actor`.
pub fn new_token(scope: Scope, now: u64, expires_at: Option<u64>, actor: &str) -> NewToken {
    let id = random_hex(8);
    let secret = random_hex(24);
    let event = Event::new(
        format!("token-created:{id}"),
        now,
        Payload::TokenCreated(TokenCreated {
            token: id.clone(),
            scope: scope.name().to_string(),
            secret_hash: secret_hash(&secret),
            expires_at,
            actor: actor.to_string(),
        }),
    );
    NewToken {
        event,
        token: format!("{PREFIX}.{id}.{secret}"),
    }
}

/// Why a console user cannot be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// A name must be short and plain.
    #[error("user name {0:?}: use 1-64 letters, digits, '.', '-' or '_'")]
    BadName(String),
    /// Console users are people: no service role.
    #[error("role {0:?}: a console user is a reviewer, an investigator or an admin")]
    BadRole(String),
    /// Too short to resist guessing.
    #[error("the password must have at least 12 characters")]
    WeakPassword,
    /// The hasher failed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The `user_created` event for a console user (the password is kept as argon2id only).
pub fn new_user(
    name: &str,
    role: Scope,
    password: &str,
    now: u64,
    actor: &str,
) -> Result<Event, UserError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err(UserError::BadName(name.to_string()));
    }
    if role == Scope::Service {
        return Err(UserError::BadRole(role.name().to_string()));
    }
    if password.chars().count() < 12 {
        return Err(UserError::WeakPassword);
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| UserError::Hash(e.to_string()))?
        .to_string();
    Ok(Event::new(
        format!("user-created:{name}"),
        now,
        Payload::UserCreated(UserCreated {
            name: name.to_string(),
            role: role.name().to_string(),
            password_hash: hash,
            actor: actor.to_string(),
        }),
    ))
}

/// Checks a console login; answers the user's role when the password matches.
pub fn check_password(state: &LedgerState, name: &str, password: &str) -> Option<Scope> {
    verify_password(state.users.get(name)?, password)
}

/// Checks a password against one user's record (argon2: slow on purpose; callers on an
/// async worker run it off the worker).
pub fn verify_password(user: &UserRecord, password: &str) -> Option<Scope> {
    let hash = PasswordHash::new(&user.password_hash).ok()?;
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .ok()?;
    user.role.parse().ok()
}

/// A user that exists for no one: a login with an unknown name is checked against it, so
/// the answer takes as long as for a known name and the time does not tell which names
/// exist.
pub fn nobody() -> &'static UserRecord {
    static NOBODY: std::sync::OnceLock<UserRecord> = std::sync::OnceLock::new();
    NOBODY.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        UserRecord {
            // Service is never a console role: even a matching password lets no one in.
            role: Scope::Service.name().to_string(),
            password_hash: Argon2::default()
                .hash_password(random_hex(16).as_bytes(), &salt)
                .map(|h| h.to_string())
                .unwrap_or_default(),
            created_at: 0,
        }
    })
}

/// A password for a demo user: 20 random hex digits.
pub fn random_password() -> String {
    random_hex(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with(events: &[Event]) -> LedgerState {
        let mut state = LedgerState::new();
        for (i, event) in events.iter().enumerate() {
            state.apply(i as u64 + 1, event);
        }
        state
    }

    #[test]
    fn tokens_check_scope_secret_revocation_and_expiry() {
        let service = new_token(Scope::Service, 100, None, "test");
        let admin = new_token(Scope::Admin, 100, Some(1_000), "test");
        let state = state_with(&[service.event.clone(), admin.event.clone()]);
        let bearer = |t: &str| format!("Bearer {t}");
        type Case = (Option<String>, Scope, u64, Result<Scope, &'static str>);
        let cases: Vec<Case> = vec![
            (None, Scope::Service, 200, Err("missing")),
            (
                Some("Basic abc".into()),
                Scope::Service,
                200,
                Err("missing"),
            ),
            (
                Some(bearer("nonsense")),
                Scope::Service,
                200,
                Err("invalid"),
            ),
            (
                Some(bearer(&service.token)),
                Scope::Service,
                200,
                Ok(Scope::Service),
            ),
            (
                Some(bearer(&service.token)),
                Scope::Admin,
                200,
                Err("forbidden"),
            ),
            (
                Some(bearer(&admin.token)),
                Scope::Service,
                200,
                Ok(Scope::Admin),
            ),
            (
                Some(bearer(&admin.token)),
                Scope::Admin,
                1_000,
                Err("invalid"),
            ),
            (
                Some(bearer(&format!("{}x", service.token))),
                Scope::Service,
                200,
                Err("invalid"),
            ),
        ];
        for (header, needed, now, expected) in cases {
            let got = authenticate(&state.tokens, header.as_deref(), needed, now);
            let summary = match &got {
                Ok(caller) => Ok(caller.scope),
                Err(AuthError::Missing) => Err("missing"),
                Err(AuthError::Invalid(_)) => Err("invalid"),
                Err(AuthError::Forbidden { .. }) => Err("forbidden"),
            };
            assert_eq!(
                summary, expected,
                "{header:?} needing {needed} at {now}: {got:?}"
            );
        }
    }

    #[test]
    fn a_revoked_token_stops_working() {
        let token = new_token(Scope::Reviewer, 100, None, "test");
        let revoke = Event::new(
            "revoke",
            101,
            Payload::TokenRevoked(guardrail_ledger::event::TokenRevoked {
                token: match &token.event.payload {
                    Payload::TokenCreated(created) => created.token.clone(),
                    other => panic!("not a token event: {other:?}"),
                },
                actor: "test".into(),
                reason: "leaked".into(),
            }),
        );
        let header = format!("Bearer {}", token.token);
        let before = state_with(std::slice::from_ref(&token.event));
        assert!(authenticate(&before.tokens, Some(&header), Scope::Reviewer, 102).is_ok());
        let after = state_with(&[token.event.clone(), revoke]);
        assert_eq!(
            authenticate(&after.tokens, Some(&header), Scope::Reviewer, 102),
            Err(AuthError::Invalid("revoked"))
        );
    }

    #[test]
    fn passwords_are_checked_and_never_stored_plain() {
        let event = new_user("rev.one", Scope::Reviewer, "correct horse battery", 5, "t")
            .expect("a good user");
        let body = String::from_utf8_lossy(&event.body).into_owned();
        assert!(!body.contains("correct horse"), "{body}");
        let state = state_with(&[event]);
        assert_eq!(
            check_password(&state, "rev.one", "correct horse battery"),
            Some(Scope::Reviewer)
        );
        assert_eq!(check_password(&state, "rev.one", "wrong password!"), None);
        // Unknown names are checked against a user nobody can be.
        assert_eq!(verify_password(nobody(), "correct horse battery"), None);
        assert!(nobody().password_hash.starts_with("$argon2id$"));
        assert_eq!(
            check_password(&state, "nobody", "correct horse battery"),
            None
        );
        assert!(matches!(
            new_user("x", Scope::Reviewer, "short", 5, "t"),
            Err(UserError::WeakPassword)
        ));
        assert!(matches!(
            new_user("bad name", Scope::Admin, "long enough password", 5, "t"),
            Err(UserError::BadName(_))
        ));
    }
}
