//! Fetching the one URL a `url=` parameter names, for hashing (`GET /h/hash`,
//! `GET /m/lookup?url=`, `POST /c/bank/<bank>/content?url=`).
//!
//! A hash service that fetches URLs on request is a server-side request forgery target,
//! so this module fetches only the URL given: http or https, no redirects, no proxy, no
//! cookies, a size limit checked against `Content-Length` and again while streaming, a
//! timeout, and (unless the policy allows it, as the replay test does for its loopback
//! fixture server) never an address that is loopback, private, link-local or otherwise
//! not public. Addresses are checked where they are connected to (the resolver), so a
//! name that resolves to an internal address is refused too. It must never fetch more
//! than one URL per call, keep what it fetched, or send credentials anywhere.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::ApiError;

/// HMA's default `MAX_REMOTE_FILE_SIZE`: 100 MiB.
pub const DEFAULT_MAX_FETCH_BYTES: u64 = 100 * 1024 * 1024;

/// What a URL fetch may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Largest body fetched, in bytes (beyond it: 413 `Content too large`).
    pub max_bytes: u64,
    /// Time allowed for the whole fetch (HMA: 30 s).
    pub timeout: Duration,
    /// HMA's `ALLOWED_HOSTNAMES`: when not empty, only these hosts and their subdomains.
    /// (HMA also always allows github.com and raw.githubusercontent.com "for testing";
    /// Guardrail does not.)
    pub allowed_hosts: Vec<String>,
    /// Whether loopback, private, link-local and other non-public addresses may be
    /// fetched. Off in production; the replay test turns it on for its fixture server.
    pub allow_private_addresses: bool,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            max_bytes: DEFAULT_MAX_FETCH_BYTES,
            timeout: Duration::from_secs(30),
            allowed_hosts: Vec::new(),
            allow_private_addresses: false,
        }
    }
}

/// Why the URL fetcher could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the URL fetcher: {reason}")]
pub struct FetcherSetupError {
    reason: String,
}

/// A fetched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The response's `Content-Type` header ("" when absent).
    pub media_type: String,
    /// The body.
    pub bytes: Vec<u8>,
}

/// The HTTP client with the policy built in.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
}

const UNSAFE_URL: &str = "Invalid or unsafe URL provided";

impl Fetcher {
    /// A fetcher for a policy.
    pub fn new(policy: FetchPolicy) -> Result<Fetcher, FetcherSetupError> {
        let setup = |reason: String| FetcherSetupError { reason };
        let tls = tls_config().map_err(setup)?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: policy.allow_private_addresses,
            }))
            .build()
            .map_err(|error| setup(error_chain(&error)))?;
        Ok(Fetcher { client, policy })
    }

    /// Checks a URL against the policy without fetching it: HMA's `is_valid_url`, plus
    /// the address rule for IP literals (names are checked when resolved).
    pub fn check_url(&self, text: &str) -> Result<Url, ApiError> {
        let url = Url::parse(text).map_err(|_| ApiError::bad(UNSAFE_URL))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ApiError::bad(UNSAFE_URL));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_ascii_lowercase(),
            Some(url::Host::Ipv4(address)) => {
                self.check_address(IpAddr::V4(address))?;
                address.to_string()
            }
            Some(url::Host::Ipv6(address)) => {
                self.check_address(IpAddr::V6(address))?;
                address.to_string()
            }
            None => return Err(ApiError::bad(UNSAFE_URL)),
        };
        let allowed = self.policy.allowed_hosts.is_empty()
            || self.policy.allowed_hosts.iter().any(|allowed| {
                let allowed = allowed.to_ascii_lowercase();
                host == allowed || host.ends_with(&format!(".{allowed}"))
            });
        if !allowed {
            return Err(ApiError::bad(UNSAFE_URL));
        }
        Ok(url)
    }

    fn check_address(&self, address: IpAddr) -> Result<(), ApiError> {
        if self.policy.allow_private_addresses || is_public(address) {
            Ok(())
        } else {
            Err(ApiError::bad(UNSAFE_URL))
        }
    }

    /// Fetches a URL within the policy.
    pub async fn fetch(&self, text: &str) -> Result<Fetched, ApiError> {
        let url = self.check_url(text)?;
        let failed = |why: String| ApiError::bad(format!("Failed to fetch URL: {why}"));
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|error| failed(error_chain(&error)))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(failed(format!(
                "{status} for url: {url} (redirects are not followed)"
            )));
        }
        if !status.is_success() {
            return Err(failed(format!("{status} for url: {url}")));
        }
        let too_large = || ApiError::TooLarge("Content too large".to_string());
        if response
            .content_length()
            .is_some_and(|length| length > self.policy.max_bytes)
        {
            return Err(too_large());
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| failed(error_chain(&error)))?
        {
            if bytes.len() as u64 + chunk.len() as u64 > self.policy.max_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched { media_type, bytes })
    }
}

/// The TLS client configuration of every outbound HTTPS call Guardrail makes: rustls over
/// ring with the platform's certificate roots.
pub fn tls_config() -> Result<rustls::ClientConfig, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    // ring, chosen explicitly rather than through a process-wide default provider, so
    // this crate neither depends on nor changes what the rest of the process installed.
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| format!("TLS protocol versions: {error}"))?;
    let builder = builder
        .with_platform_verifier()
        .map_err(|error| format!("platform certificate verifier: {error}"))?;
    Ok(builder.with_no_client_auth())
}

/// An error and its sources on one line (reqwest's own message hides the cause).
fn error_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether an address is one a fetch may reach without `allow_private_addresses`.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, ..] = address.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let benchmarking = a == 198 && (b == 18 || b == 19); // 198.18.0.0/15
    let reserved = a >= 240 || a == 0; // 240.0.0.0/4 and "this network"
    !(address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_multicast()
        || address.is_documentation()
        || shared
        || benchmarking
        || reserved)
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let first = address.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00; // fc00::/7
    let link_local = (first & 0xffc0) == 0xfe80; // fe80::/10
    let documentation = first == 0x2001 && address.segments()[1] == 0x0db8;
    !(address.is_loopback()
        || address.is_unspecified()
        || address.is_multicast()
        || unique_local
        || link_local
        || documentation)
}

/// A resolver that drops non-public addresses unless allowed: reqwest connects only to
/// what it returns, so a name pointing inside the network is refused at connect time.
#[derive(Debug)]
struct GuardedResolver {
    allow_private: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to addresses that may not be fetched")]
struct RefusedAddress {
    host: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| allow_private || is_public(address.ip()))
                .collect();
            if found.is_empty() {
                let refused: Box<dyn StdError + Send + Sync> = Box::new(RefusedAddress { host });
                return Err(refused);
            }
            let addresses: Addrs = Box::new(found.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(allowed_hosts: &[&str], allow_private_addresses: bool) -> Fetcher {
        Fetcher::new(FetchPolicy {
            allowed_hosts: allowed_hosts.iter().map(|h| h.to_string()).collect(),
            allow_private_addresses,
            ..FetchPolicy::default()
        })
        .expect("fetcher")
    }

    #[test]
    fn urls_are_checked_before_anything_is_fetched() {
        let open = fetcher(&[], false);
        let listed = fetcher(&["example.org"], false);
        let loopback_ok = fetcher(&[], true);
        let cases: &[(&Fetcher, &str, bool)] = &[
            (&open, "https://example.org/a.jpg", true),
            (&open, "http://example.org:8080/a.jpg", true),
            (&open, "ftp://example.org/a.jpg", false),
            (&open, "file:///etc/passwd", false),
            (&open, "not a url", false),
            (&open, "http://127.0.0.1:5000/a.jpg", false),
            (&open, "http://[::1]/a.jpg", false),
            (&open, "http://169.254.169.254/latest/meta-data", false),
            (&open, "http://10.1.2.3/a.jpg", false),
            (&open, "http://[::ffff:192.168.0.1]/a.jpg", false),
            (&listed, "https://cdn.example.org/a.jpg", true),
            (&listed, "https://example.org/a.jpg", true),
            (&listed, "https://badexample.org/a.jpg", false),
            (&listed, "https://raw.githubusercontent.com/a.jpg", false),
            (&loopback_ok, "http://127.0.0.1:5000/a.jpg", true),
        ];
        for (fetcher, url, allowed) in cases {
            let got = fetcher.check_url(url);
            assert_eq!(got.is_ok(), *allowed, "{url}: {got:?}");
            if let Err(error) = got {
                assert_eq!(error, ApiError::bad(UNSAFE_URL));
            }
        }
    }

    #[test]
    fn public_addresses_are_told_from_internal_ones() {
        let cases: &[(&str, bool)] = &[
            ("93.184.215.14", true),
            ("2606:4700::1111", true),
            ("127.0.0.1", false),
            ("0.0.0.0", false),
            ("100.64.0.1", false),
            ("172.16.5.4", false),
            ("192.168.1.1", false),
            ("255.255.255.255", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("::", false),
        ];
        for (text, public) in cases {
            let address: IpAddr = text.parse().expect("address");
            assert_eq!(is_public(address), *public, "{text}");
        }
    }
}
