//! Where the ledger lives: the `--db` text of every command, parsed once.
//!
//! Accepted forms (DESIGN.md §6): `sqlite:///abs/path.db`, `sqlite://relative.db`,
//! `sqlite:path.db`, a plain path (SQLite), and `postgres://…` / `postgresql://…`,
//! including the socket form `postgres:///db?host=/run/dir`. With no `--db`,
//! [`DbUrl::from_env_or_default`] reads `$GUARDRAIL_DB`, else `guardrail.db` in the
//! current directory.
//!
//! What it must never do: guess. A scheme it does not know, an in-memory SQLite database
//! (not durable, and invisible to the store's second connection) or a SQLite URL with
//! parameters is refused with the reason, and a password never appears in an error or in
//! `Display`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The environment variable naming the database when no `--db` is given.
pub const DB_ENV: &str = "GUARDRAIL_DB";

/// The database used when neither `--db` nor `$GUARDRAIL_DB` is given.
pub const DEFAULT_DB_PATH: &str = "guardrail.db";

/// A parsed database location.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// One SQLite file (relative paths are resolved against the current directory when
    /// the store opens).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, kept as given (sqlx parses it).
    Postgres(String),
}

/// The two database engines the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, embedded: the default.
    Sqlite,
    /// PostgreSQL: for a fleet.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// Why a database URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DbUrlError {
    /// Nothing was given.
    #[error(
        "database URL is empty: give a file path, sqlite:///abs/path.db, sqlite://relative.db or postgres://…"
    )]
    Empty,
    /// `sqlite:` with nothing after it.
    #[error("database URL {url:?}: no file path after the `sqlite:` scheme")]
    MissingPath {
        /// The text given.
        url: String,
    },
    /// `sqlite::memory:` or `mode=memory`.
    #[error(
        "database URL {url:?}: an in-memory SQLite database is not durable and cannot be shared by the store's connections; give a file path"
    )]
    InMemory {
        /// The text given.
        url: String,
    },
    /// A SQLite URL with `?…`.
    #[error(
        "database URL {url:?}: SQLite URLs take no parameters (found `?{query}`); the store sets WAL and synchronous=FULL itself"
    )]
    SqliteParameters {
        /// The text given.
        url: String,
        /// What followed `?`.
        query: String,
    },
    /// A `%` escape that is not two hex digits or decodes to invalid UTF-8.
    #[error("database URL {url:?}: bad percent-escape in the path: {why}")]
    BadEscape {
        /// The text given.
        url: String,
        /// What was wrong.
        why: String,
    },
    /// A scheme other than `sqlite:` or `postgres:`.
    #[error(
        "database URL {url:?}: unknown scheme `{scheme}`; use a file path, sqlite://… or postgres://…"
    )]
    UnknownScheme {
        /// The text given (password removed).
        url: String,
        /// The scheme found.
        scheme: String,
    },
    /// sqlx refused the PostgreSQL URL.
    #[error("database URL {url}: not a valid PostgreSQL URL: {why}")]
    Postgres {
        /// The text given, password removed.
        url: String,
        /// sqlx's reason.
        why: String,
    },
    /// `$GUARDRAIL_DB` held a bad URL.
    #[error("${DB_ENV}: {0}")]
    FromEnv(Box<DbUrlError>),
}

impl DbUrl {
    /// Parses the `--db` text.
    pub fn parse(text: &str) -> Result<DbUrl, DbUrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DbUrlError::Empty);
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return parse_postgres(text);
        }
        if lower.starts_with("sqlite:") {
            return parse_sqlite(text);
        }
        if let Some(scheme) = scheme_of(text) {
            return Err(DbUrlError::UnknownScheme {
                url: redact(text),
                scheme: scheme.to_string(),
            });
        }
        Ok(DbUrl::Sqlite(PathBuf::from(text)))
    }

    /// `$GUARDRAIL_DB` if set and not empty, else `guardrail.db` in the current directory.
    pub fn from_env_or_default() -> Result<DbUrl, DbUrlError> {
        DbUrl::from_env_value(std::env::var(DB_ENV).ok())
    }

    fn from_env_value(value: Option<String>) -> Result<DbUrl, DbUrlError> {
        match value {
            Some(text) if !text.trim().is_empty() => {
                DbUrl::parse(&text).map_err(|error| DbUrlError::FromEnv(Box::new(error)))
            }
            _ => Ok(DbUrl::Sqlite(PathBuf::from(DEFAULT_DB_PATH))),
        }
    }

    /// A SQLite file.
    pub fn sqlite(path: impl Into<PathBuf>) -> DbUrl {
        DbUrl::Sqlite(path.into())
    }

    /// Which engine.
    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL handed to sqlx (the SQLite path made absolute and percent-encoded, with
    /// `mode=rwc` when `create` is set). Contains the password of a PostgreSQL URL: do not
    /// print it.
    pub fn to_sqlx_url(&self, create: bool) -> Result<String, DbUrlError> {
        match self {
            DbUrl::Postgres(url) => Ok(url.clone()),
            DbUrl::Sqlite(path) => {
                let absolute =
                    std::path::absolute(path).map_err(|error| DbUrlError::BadEscape {
                        url: path.display().to_string(),
                        why: format!("cannot make the path absolute: {error}"),
                    })?;
                let text = absolute.to_str().ok_or_else(|| DbUrlError::BadEscape {
                    url: absolute.display().to_string(),
                    why: "the path is not valid UTF-8".into(),
                })?;
                let mode = if create { "rwc" } else { "rw" };
                Ok(format!(
                    "sqlite://{}?mode={mode}",
                    percent_encode_path(text)
                ))
            }
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DbUrl::Sqlite(path) => Some(path),
            DbUrl::Postgres(_) => None,
        }
    }
}

impl FromStr for DbUrl {
    type Err = DbUrlError;

    fn from_str(text: &str) -> Result<DbUrl, DbUrlError> {
        DbUrl::parse(text)
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            DbUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

fn parse_postgres(text: &str) -> Result<DbUrl, DbUrlError> {
    // sqlx is the one parser of PostgreSQL URLs; asking it now moves its errors from the
    // first connection to the command line.
    match sqlx::postgres::PgConnectOptions::from_str(text) {
        Ok(_) => Ok(DbUrl::Postgres(text.to_string())),
        Err(error) => Err(DbUrlError::Postgres {
            url: redact(text),
            why: error.to_string(),
        }),
    }
}

fn parse_sqlite(text: &str) -> Result<DbUrl, DbUrlError> {
    // "sqlite:" is 7 ASCII bytes, checked case-insensitively by the caller.
    let rest = &text[7..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path == ":memory:" || query.is_some_and(|query| query.contains("mode=memory")) {
        return Err(DbUrlError::InMemory { url: text.into() });
    }
    if let Some(query) = query {
        return Err(DbUrlError::SqliteParameters {
            url: text.into(),
            query: query.into(),
        });
    }
    if path.is_empty() {
        return Err(DbUrlError::MissingPath { url: text.into() });
    }
    let decoded = percent_decode(path).map_err(|why| DbUrlError::BadEscape {
        url: text.into(),
        why,
    })?;
    Ok(DbUrl::Sqlite(PathBuf::from(decoded)))
}

/// The scheme of `text` if it looks like `scheme://`.
fn scheme_of(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// `text` with the password of `scheme://user:password@host` replaced by `***`.
pub(crate) fn redact(text: &str) -> String {
    let Some(start) = text.find("://").map(|at| at + 3) else {
        return text.to_string();
    };
    let authority_end = text[start..]
        .find(['/', '?'])
        .map_or(text.len(), |at| start + at);
    let authority = &text[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let userinfo = &authority[..at];
    match userinfo.split_once(':') {
        Some((user, _password)) => format!(
            "{}{user}:***{}",
            &text[..start],
            &text[start + at..] // from '@' on
        ),
        None => text.to_string(),
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("`%` at byte {index} is not followed by two hex digits"))?;
            out.push(hex);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded path is not valid UTF-8".to_string())
}

fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<DbUrl, &str>) {
        match (DbUrl::parse(text), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
            (Err(error), Err(fragment)) => {
                let message = error.to_string();
                assert!(
                    message.contains(fragment),
                    "{text}: {message:?} lacks {fragment:?}"
                );
            }
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn every_documented_form_parses() {
        let sqlite = |p: &str| Ok(DbUrl::Sqlite(PathBuf::from(p)));
        check("sqlite:///abs/path.db", sqlite("/abs/path.db"));
        check("sqlite://relative.db", sqlite("relative.db"));
        check("sqlite://dir/relative.db", sqlite("dir/relative.db"));
        check("sqlite:plain.db", sqlite("plain.db"));
        check("SQLITE:///Case.db", sqlite("/Case.db"));
        check("sqlite:///with%20space.db", sqlite("/with space.db"));
        check("guardrail.db", sqlite("guardrail.db"));
        check(
            "/var/lib/guardrail/ledger.db",
            sqlite("/var/lib/guardrail/ledger.db"),
        );
        check("  ./x.db  ", sqlite("./x.db"));
        for url in [
            "postgres://user:pw@localhost:5432/guardrail",
            "postgresql://localhost/guardrail",
            "postgres:///guardrail?host=/tmp/pgdir",
            "postgres:///guardrail?host=/tmp/pgdir&port=6543&user=guardrail",
        ] {
            check(url, Ok(DbUrl::Postgres(url.into())));
        }
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        check("", Err("empty"));
        check("   ", Err("empty"));
        check("sqlite://", Err("no file path"));
        check("sqlite::memory:", Err("in-memory"));
        check("sqlite://x.db?mode=memory", Err("in-memory"));
        check("sqlite://x.db?mode=rwc", Err("take no parameters"));
        check("sqlite:///bad%zzescape.db", Err("two hex digits"));
        check("mysql://root@localhost/db", Err("unknown scheme `mysql`"));
        check(
            "postgres://localhost:notaport/db",
            Err("not a valid PostgreSQL URL"),
        );
    }

    #[test]
    fn the_environment_names_the_database_else_the_default_file() {
        let default = Ok(DbUrl::Sqlite(PathBuf::from("guardrail.db")));
        assert_eq!(DbUrl::from_env_value(None), default);
        assert_eq!(DbUrl::from_env_value(Some("  ".into())), default);
        assert_eq!(
            DbUrl::from_env_value(Some("sqlite:///x/y.db".into())),
            Ok(DbUrl::Sqlite(PathBuf::from("/x/y.db")))
        );
        let error = DbUrl::from_env_value(Some("redis://x".into())).expect_err("bad scheme");
        assert!(error.to_string().starts_with("$GUARDRAIL_DB: "), "{error}");
    }

    #[test]
    fn passwords_never_show() {
        let text = "postgres://guard:s3cret@db.example.invalid:5432/ledger";
        let url = DbUrl::parse(text).expect("valid");
        assert_eq!(
            url.to_string(),
            "postgres://guard:***@db.example.invalid:5432/ledger"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        let error = DbUrl::parse("postgres://guard:s3cret@host:bad/db").expect_err("bad port");
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert_eq!(
            redact("postgres:///db?host=/tmp"),
            "postgres:///db?host=/tmp"
        );
    }

    #[test]
    fn sqlite_paths_become_absolute_encoded_urls() {
        let url = DbUrl::sqlite("/tmp/a b#c.db");
        assert_eq!(
            url.to_sqlx_url(true).expect("utf-8"),
            "sqlite:///tmp/a%20b%23c.db?mode=rwc"
        );
        let relative = DbUrl::sqlite("rel.db").to_sqlx_url(false).expect("cwd");
        assert!(relative.starts_with("sqlite:///"), "{relative}");
        assert!(relative.ends_with("/rel.db?mode=rw"), "{relative}");
    }
}
