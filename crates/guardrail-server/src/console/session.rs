//! Console sessions, CSRF tokens and login lockout.
//!
//! What it is for: a successful login gets a session keyed by a random 256-bit id (the
//! cookie's value) that carries the user, the role and the session's CSRF token; every
//! form posts that token back and it is compared in constant time. Failed logins are
//! counted per user name; too many inside the window lock the name out for a while, so a
//! password cannot be guessed at request speed.
//!
//! Sessions live in this process's memory: a restart logs everyone out, and replicas
//! behind a load balancer need sticky sessions. That is acceptable for a console a few
//! reviewers use; a shared store is the change if it ever is not.
//!
//! What it must never do: keep a password, accept a session past its expiry, or tell a
//! locked-out caller whether the password was right.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::auth::Scope;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "guardrail_session";
/// The login form's CSRF cookie (double-submit: there is no session yet to hold it).
pub const LOGIN_CSRF_COOKIE: &str = "guardrail_login_csrf";
/// How long a session lasts (a working shift).
pub const SESSION_SECONDS: u64 = 8 * 3_600;
/// Failed logins of one name inside [`FAILURE_WINDOW_SECONDS`] that lock it.
pub const MAX_FAILURES: u32 = 5;
/// The window failures are counted in.
pub const FAILURE_WINDOW_SECONDS: u64 = 15 * 60;
/// How long a locked name stays locked.
pub const LOCKOUT_SECONDS: u64 = 15 * 60;

/// One logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The login name.
    pub user: String,
    /// The role.
    pub role: Scope,
    /// The token every form of this session posts back.
    pub csrf: String,
    /// When it ends (Unix seconds).
    pub expires_at: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Failures {
    count: u32,
    first_at: u64,
    locked_until: u64,
}

/// Why a login is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    /// Unknown name or wrong password (not said which).
    BadCredentials,
    /// Too many failures: locked until this time.
    LockedOut {
        /// Unix seconds.
        until: u64,
    },
}

/// Every session and every name's failures.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Failures>>,
}

/// 32 random bytes as hex: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Sessions {
    /// Whether `user` is locked out at `now`.
    pub fn locked_until(&self, user: &str, now: u64) -> Option<u64> {
        lock(&self.failures)
            .get(user)
            .map(|f| f.locked_until)
            .filter(|&until| until > now)
    }

    /// Records a failed login of `user` at `now`; answers the lockout it caused, if any.
    pub fn fail(&self, user: &str, now: u64) -> LoginRefused {
        let mut failures = lock(&self.failures);
        // Bounded: names are attacker-chosen, so forget the oldest window's entries when
        // the table grows large.
        if failures.len() > 10_000 {
            failures
                .retain(|_, f| f.locked_until > now || now < f.first_at + FAILURE_WINDOW_SECONDS);
        }
        let entry = failures.entry(user.to_string()).or_default();
        if now >= entry.first_at + FAILURE_WINDOW_SECONDS {
            *entry = Failures {
                count: 0,
                first_at: now,
                locked_until: entry.locked_until,
            };
        }
        entry.count += 1;
        if entry.count >= MAX_FAILURES {
            entry.locked_until = now + LOCKOUT_SECONDS;
            entry.count = 0;
            entry.first_at = now;
            return LoginRefused::LockedOut {
                until: entry.locked_until,
            };
        }
        LoginRefused::BadCredentials
    }

    /// Opens a session for `user` at `now`; answers its id.
    pub fn open(&self, user: &str, role: Scope, now: u64) -> (String, Session) {
        lock(&self.failures).remove(user);
        let id = random_token();
        let session = Session {
            user: user.to_string(),
            role,
            csrf: random_token(),
            expires_at: now + SESSION_SECONDS,
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(id.clone(), session.clone());
        (id, session)
    }

    /// The live session with this id at `now`.
    pub fn get(&self, id: &str, now: u64) -> Option<Session> {
        let mut sessions = lock(&self.sessions);
        match sessions.get(id) {
            Some(session) if session.expires_at > now => Some(session.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        lock(&self.sessions).remove(id);
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, whole site. Not `Secure`: the
/// console is served over plain HTTP on localhost in development and tests, where a
/// browser drops `Secure` cookies; a deployment terminates TLS in front and should add
/// `Secure` there (a reverse proxy's cookie flags).
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_after_repeated_failures_and_expiry() {
        let sessions = Sessions::default();
        for attempt in 1..MAX_FAILURES {
            assert_eq!(
                sessions.fail("rev", 100 + u64::from(attempt)),
                LoginRefused::BadCredentials
            );
        }
        assert!(matches!(
            sessions.fail("rev", 200),
            LoginRefused::LockedOut { .. }
        ));
        assert!(sessions.locked_until("rev", 201).is_some());
        assert!(sessions.locked_until("other", 201).is_none());
        assert!(
            sessions
                .locked_until("rev", 200 + LOCKOUT_SECONDS)
                .is_none()
        );
        let (id, session) = sessions.open("rev", Scope::Reviewer, 1_000);
        assert_eq!(id.len(), 64);
        assert_eq!(sessions.get(&id, 1_001), Some(session));
        assert_eq!(sessions.get(&id, 1_000 + SESSION_SECONDS), None);
        assert_eq!(sessions.get("nope", 1_001), None);
    }

    #[test]
    fn cookies_and_tokens() {
        let header = "a=1; guardrail_session=abc; b=2";
        assert_eq!(cookie(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(header, "c"), None);
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", ""));
    }
}
