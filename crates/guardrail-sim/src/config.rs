//! The world configuration: sizes, proportions and behaviour parameters, read from TOML.
//!
//! What it is for: every knob of the generator in one documented struct, with defaults that
//! reproduce the published failures. Unknown fields are rejected so a typo never silently
//! falls back to a default. What it must never do: hold a metric or a target; the
//! experiments' figures must come out of these behaviours, never be set here.

use guardrail_types::{Locator, SourceError, SourceErrorKind};
use serde::{Deserialize, Serialize};

/// Everything the generator reads. Shares are fractions of all accounts unless noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorldConfig {
    /// Number of accounts in the world.
    pub accounts: u32,
    /// Logical days the generated history spans (time unit of every `_at` field is one day).
    pub days: u32,
    /// Share of ordinary accounts whose declared age is 13–17.
    pub minor_share: f64,
    /// Share of ordinary accounts that declare themselves women (the rest split men / other
    /// as `other_gender_share`).
    pub women_share: f64,
    /// Share of ordinary accounts with another or no declared gender.
    pub other_gender_share: f64,
    /// Mean number of accounts an ordinary account follows (log-normal, so heavy-tailed).
    pub mean_follows: f64,
    /// Pareto exponent of account popularity (who gets followed): smaller is more skewed.
    pub popularity_exponent: f64,
    /// Share of parent-run accounts posting photos of their children (dance, gymnastics, cheer).
    pub parent_run_share: f64,
    /// Number of benign tight niche communities (embroidery, spelunking, a school's parents, ...).
    pub niche_communities: u32,
    /// Members per niche community.
    pub niche_size: u32,
    /// Probability that two members of a niche community follow each other.
    pub niche_density: f64,
    /// Share of adult-content accounts.
    pub adult_content_share: f64,
    /// Share of safety advocates (each opens one abusive account once, to report it).
    pub advocate_share: f64,
    /// Share of brands and advertisers (public business accounts).
    pub brand_share: f64,
    /// Share of seller accounts in the hidden network.
    pub seller_share: f64,
    /// Share of buyer accounts in the hidden network.
    pub buyer_share: f64,
    /// Share of aggregator accounts in the hidden network.
    pub aggregator_share: f64,
    /// Number of rings the network is organised in (sellers and buyers mostly stay in one).
    pub network_rings: u32,
    /// Probability that a buyer follows a given seller of its own ring.
    pub buyer_follows_ring_seller: f64,
    /// Number of sellers outside its ring a buyer follows.
    pub buyer_follows_other_sellers: u32,
    /// Probability that a buyer follows a given other buyer of its ring.
    pub buyer_follows_ring_buyer: f64,
    /// Parent-run accounts each buyer follows.
    pub buyer_follows_parent_run: u32,
    /// Adult-content accounts each buyer follows.
    pub buyer_follows_adult_content: u32,
    /// Minor accounts each buyer follows.
    pub buyer_follows_minors: u32,
    /// Share of buyers who declare themselves men.
    pub buyer_men_share: f64,
    /// Probability that a buyer likes a given post that features a minor in its follows.
    pub buyer_likes_minor_posts: f64,
    /// Probability that an ordinary account likes a given post in its follows.
    pub ordinary_like_rate: f64,
    /// Share of network accounts that camouflage: clean bios, no coded hashtags, extra
    /// benign follows.
    pub camouflage_share: f64,
    /// Benign follows each camouflaged network account adds.
    pub camouflage_benign_follows: u32,
    /// Share of sellers that already list a backup account in their bio.
    pub backup_share: f64,
    /// Mean profile views per ordinary account over the history.
    pub mean_views: f64,
    /// Mean posts per ordinary account.
    pub mean_posts: f64,
    /// Posts per parent-run account (each features a minor).
    pub parent_run_posts: u32,
    /// Posts per seller.
    pub seller_posts: u32,
    /// Share of ordinary accounts whose interests include the child-activity topics
    /// (parenting, dance, gymnastics, cheer), for women; men use `men_child_topic_share`.
    pub women_child_topic_share: f64,
    /// Same as `women_child_topic_share`, for men.
    pub men_child_topic_share: f64,
    /// Parent-run accounts each ordinary adult with a child-activity interest follows.
    pub child_topic_parent_follows: u32,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            accounts: 10_000,
            days: 30,
            minor_share: 0.15,
            women_share: 0.5,
            other_gender_share: 0.02,
            mean_follows: 20.0,
            popularity_exponent: 1.6,
            parent_run_share: 0.015,
            niche_communities: 3,
            niche_size: 40,
            niche_density: 0.6,
            adult_content_share: 0.01,
            advocate_share: 0.003,
            brand_share: 0.005,
            seller_share: 0.02,
            buyer_share: 0.03,
            aggregator_share: 0.003,
            network_rings: 4,
            buyer_follows_ring_seller: 0.5,
            buyer_follows_other_sellers: 3,
            buyer_follows_ring_buyer: 0.1,
            buyer_follows_parent_run: 30,
            buyer_follows_adult_content: 5,
            buyer_follows_minors: 2,
            buyer_men_share: 0.92,
            buyer_likes_minor_posts: 0.6,
            ordinary_like_rate: 0.15,
            camouflage_share: 0.3,
            camouflage_benign_follows: 10,
            backup_share: 0.6,
            mean_views: 10.0,
            mean_posts: 3.0,
            parent_run_posts: 10,
            seller_posts: 6,
            women_child_topic_share: 0.35,
            men_child_topic_share: 0.05,
            child_topic_parent_follows: 4,
        }
    }
}

impl WorldConfig {
    /// Parses a TOML document; `origin` names it in errors. Shares outside 0..=1 and a
    /// world too small for its communities are errors too.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, SourceError> {
        let locator = Locator::new(origin, text);
        let config: WorldConfig = toml::from_str(text).map_err(|error| {
            let span = error.span().unwrap_or(0..0);
            let line = text
                .get(..span.start)
                .map_or(1, |before| before.matches('\n').count() + 1);
            // The parser names unknown fields itself; for a bad value, name the key on that line.
            let message = error.message().trim().to_string();
            let key = text
                .lines()
                .nth(line - 1)
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| k.trim().to_string())
                .filter(|_| !message.contains('`'));
            locator.error(span, key, SourceErrorKind::Syntax, message)
        })?;
        config.validate().map_err(|(field, message)| {
            locator.error_at_key(field, SourceErrorKind::Invalid, message)
        })?;
        Ok(config)
    }

    /// Checks ranges; returns the offending field and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let shares = [
            ("minor_share", self.minor_share),
            ("women_share", self.women_share),
            ("other_gender_share", self.other_gender_share),
            ("parent_run_share", self.parent_run_share),
            ("niche_density", self.niche_density),
            ("adult_content_share", self.adult_content_share),
            ("advocate_share", self.advocate_share),
            ("brand_share", self.brand_share),
            ("seller_share", self.seller_share),
            ("buyer_share", self.buyer_share),
            ("aggregator_share", self.aggregator_share),
            ("buyer_follows_ring_seller", self.buyer_follows_ring_seller),
            ("buyer_follows_ring_buyer", self.buyer_follows_ring_buyer),
            ("buyer_men_share", self.buyer_men_share),
            ("buyer_likes_minor_posts", self.buyer_likes_minor_posts),
            ("ordinary_like_rate", self.ordinary_like_rate),
            ("camouflage_share", self.camouflage_share),
            ("backup_share", self.backup_share),
            ("women_child_topic_share", self.women_child_topic_share),
            ("men_child_topic_share", self.men_child_topic_share),
        ];
        for (field, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err((
                    field,
                    format!("expected a share between 0 and 1, got {value}"),
                ));
            }
        }
        let special = self.parent_run_share
            + self.adult_content_share
            + self.advocate_share
            + self.brand_share
            + self.seller_share
            + self.buyer_share
            + self.aggregator_share;
        if special > 0.5 {
            return Err((
                "seller_share",
                format!(
                    "special account kinds add up to {special:.3}; at most 0.5 leaves room for ordinary users"
                ),
            ));
        }
        if self.accounts < 1_000 {
            return Err((
                "accounts",
                format!("expected at least 1000 accounts, got {}", self.accounts),
            ));
        }
        let niche_total = u64::from(self.niche_communities) * u64::from(self.niche_size);
        if niche_total * 4 > u64::from(self.accounts) {
            return Err((
                "niche_size",
                "niche communities take more than a quarter of the world".to_string(),
            ));
        }
        if self.days == 0 || self.network_rings == 0 {
            return Err((
                if self.days == 0 {
                    "days"
                } else {
                    "network_rings"
                },
                "expected at least 1".to_string(),
            ));
        }
        if !(self.mean_follows > 0.0
            && self.mean_views >= 0.0
            && self.mean_posts >= 0.0
            && self.popularity_exponent > 0.5)
        {
            return Err((
                "mean_follows",
                "means must be positive and popularity_exponent above 0.5".to_string(),
            ));
        }
        Ok(())
    }

    /// The same world shape at `accounts` accounts (niche communities and network rings
    /// grow in number with the world, keeping their size).
    pub fn scaled_to(&self, accounts: u32) -> Self {
        let factor = f64::from(accounts) / f64::from(self.accounts.max(1));
        WorldConfig {
            accounts,
            niche_communities: ((f64::from(self.niche_communities) * factor).round() as u32).max(1),
            // Rings keep their size, so co-engagement inside a ring stays as tight.
            network_rings: ((f64::from(self.network_rings) * factor).round() as u32).max(1),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_error(text: &str, line: usize, needle: &str) {
        let error =
            WorldConfig::from_toml_str(text, "world.toml").expect_err("config must be rejected");
        let shown = error.to_string();
        assert_eq!(error.line, line, "{shown}");
        assert!(
            shown.starts_with("world.toml:") && shown.contains(needle),
            "{shown}"
        );
    }

    #[test]
    fn config_errors_name_file_line_and_field() {
        check_error("accounts = 5000\nseller_sharee = 0.1\n", 2, "seller_sharee");
        check_error("accounts = 5000\n\nminor_share = 1.5\n", 3, "minor_share");
        check_error("days = \"thirty\"\n", 1, "days");
        check_error("accounts = 10\n", 1, "accounts");
    }

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(
            WorldConfig::from_toml_str("", "x").expect("empty config parses"),
            WorldConfig::default()
        );
        let text = toml::to_string(&WorldConfig::default()).expect("serialises");
        assert_eq!(
            WorldConfig::from_toml_str(&text, "x").expect("round trip"),
            WorldConfig::default()
        );
    }
}
