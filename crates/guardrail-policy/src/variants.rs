//! Variant clusters: a hashtag that travels with blocked hashtags, or with accounts
//! that were later actioned, is restricted at once and queued for review.
//!
//! The published failure: after a sweep, new variants of banned tags were back within
//! days, and autocomplete suggested them. No list names a variant on the day it is
//! coined, but its company gives it away. Restriction is immediate (autocomplete and
//! related hashtags honour it on the next call); lifting it is a reviewer's decision.
//! Every restriction is an automated action, so it counts against the rule's cap.

use std::collections::BTreeMap;

use guardrail_text::{Policy, TextDecision, TextPlace, check, normalize_str};
use guardrail_types::Timestamp;
use serde::Serialize;

use crate::caps::{ActionLimiter, CapTripped};

/// The rule id restrictions are recorded and capped under.
pub const VARIANT_RULE: &str = "variant-cluster";

/// When a co-occurring tag becomes a variant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VariantConfig {
    /// Posts in which the tag appeared with a blocked tag (or by an actioned account).
    pub min_bad_posts: u32,
    /// Share of the tag's posts that are such posts.
    pub min_bad_share: f64,
}

impl Default for VariantConfig {
    fn default() -> Self {
        VariantConfig {
            min_bad_posts: 3,
            min_bad_share: 0.5,
        }
    }
}

/// Why a tag is restricted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantRestriction {
    /// The tag as first seen.
    pub tag: String,
    /// Posts with a blocked tag or by an actioned account.
    pub bad_posts: u32,
    /// All posts seen with the tag.
    pub posts: u32,
    /// The blocked tags it travelled with most.
    pub companions: Vec<String>,
    /// When it was restricted (logical seconds).
    pub restricted_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
struct TagStats {
    display: String,
    posts: u32,
    bad_posts: u32,
    companions: BTreeMap<String, u32>,
}

/// Co-occurrence statistics and the restrictions they led to.
#[derive(Debug, Clone, Default)]
pub struct VariantClusters {
    config: VariantConfig,
    stats: BTreeMap<String, TagStats>,
    restricted: BTreeMap<String, VariantRestriction>,
    review_queue: Vec<String>,
}

/// The key a tag is counted under: its term view, so disguised spellings of one tag
/// share statistics.
fn tag_key(tag: &str) -> String {
    normalize_str(tag).term_text()
}

impl VariantClusters {
    /// Empty statistics.
    pub fn new(config: VariantConfig) -> VariantClusters {
        VariantClusters {
            config,
            ..VariantClusters::default()
        }
    }

    /// Observes one post's hashtags. `author_actioned` says whether the author's entity
    /// has been actioned. Returns the tags newly restricted by this post.
    pub fn observe_post(
        &mut self,
        policy: &Policy,
        tags: &[&str],
        author_actioned: bool,
        at: Timestamp,
        limiter: &mut ActionLimiter,
    ) -> Result<Vec<String>, CapTripped> {
        let blocked: Vec<&str> = tags
            .iter()
            .copied()
            .filter(|tag| check(policy, TextPlace::Hashtag, tag).decision == TextDecision::Block)
            .collect();
        let mut newly = Vec::new();
        for tag in tags {
            if blocked.contains(tag) {
                continue;
            }
            let key = tag_key(tag);
            if key.is_empty() {
                continue;
            }
            let stats = self.stats.entry(key.clone()).or_insert_with(|| TagStats {
                display: tag.to_string(),
                ..TagStats::default()
            });
            stats.posts += 1;
            if !blocked.is_empty() || author_actioned {
                stats.bad_posts += 1;
                for companion in &blocked {
                    *stats.companions.entry(companion.to_string()).or_insert(0) += 1;
                }
            }
            let qualifies = stats.bad_posts >= self.config.min_bad_posts
                && f64::from(stats.bad_posts) >= self.config.min_bad_share * f64::from(stats.posts);
            if qualifies && !self.restricted.contains_key(&key) {
                limiter.try_act(VARIANT_RULE, at)?;
                let mut companions: Vec<(String, u32)> = stats
                    .companions
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
                companions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                self.restricted.insert(
                    key.clone(),
                    VariantRestriction {
                        tag: stats.display.clone(),
                        bad_posts: stats.bad_posts,
                        posts: stats.posts,
                        companions: companions.into_iter().take(3).map(|(k, _)| k).collect(),
                        restricted_at: at,
                    },
                );
                self.review_queue.push(key);
                newly.push(tag.to_string());
            }
        }
        Ok(newly)
    }

    /// The restriction on a tag (any spelling of it), if one is in force.
    pub fn restriction(&self, tag: &str) -> Option<&VariantRestriction> {
        self.restricted.get(&tag_key(tag))
    }

    /// Tags waiting for a reviewer, oldest first.
    pub fn review_queue(&self) -> Vec<&VariantRestriction> {
        self.review_queue
            .iter()
            .filter_map(|key| self.restricted.get(key))
            .collect()
    }

    /// A reviewer cleared a tag: lift its restriction and forget its history.
    pub fn clear(&mut self, tag: &str) {
        let key = tag_key(tag);
        self.restricted.remove(&key);
        self.stats.remove(&key);
        self.review_queue.retain(|k| *k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::ActionCaps;

    #[test]
    fn a_tag_that_travels_with_blocked_tags_is_restricted_at_once() {
        let policy = Policy::default_policy();
        let mut clusters = VariantClusters::new(VariantConfig::default());
        let mut limiter = ActionLimiter::new(ActionCaps::default());
        // A popular tag is used in ordinary posts long before sellers pick it up.
        for post in 0..20u64 {
            clusters
                .observe_post(
                    &policy,
                    &["#sunset", "#beach"],
                    false,
                    Timestamp(post),
                    &mut limiter,
                )
                .expect("cap");
        }
        let mut restricted_after = None;
        for post in 0..5u64 {
            let newly = clusters
                .observe_post(
                    &policy,
                    &["#pedobait", "#zorbquux", "#sunset"],
                    false,
                    Timestamp(100 + post),
                    &mut limiter,
                )
                .expect("under the cap");
            if newly.iter().any(|t| t == "#zorbquux") && restricted_after.is_none() {
                restricted_after = Some(post);
            }
        }
        assert_eq!(
            restricted_after,
            Some(2),
            "restricted on the third bad post"
        );
        // Any spelling of the tag is restricted.
        let restriction = clusters
            .restriction("#Z0RBQUUX")
            .expect("variant restricted");
        assert_eq!(restriction.companions, ["#pedobait"]);
        assert!(clusters.restriction("#beach").is_none());
        assert!(
            clusters.restriction("#sunset").is_none(),
            "5 bad of 25 posts is under half"
        );
        assert_eq!(clusters.review_queue().len(), 1);
        clusters.clear("#zorbquux");
        assert!(clusters.restriction("#zorbquux").is_none());
    }

    #[test]
    fn posts_by_actioned_accounts_count_and_the_cap_holds() {
        let policy = Policy::default_policy();
        let mut clusters = VariantClusters::new(VariantConfig {
            min_bad_posts: 1,
            min_bad_share: 0.5,
        });
        let mut limiter = ActionLimiter::new(ActionCaps {
            per_rule_per_hour: 2,
        });
        let tags = ["#aaaqx", "#bbbqx", "#cccqx"];
        let mut outcomes = Vec::new();
        for (index, tag) in tags.iter().enumerate() {
            outcomes.push(clusters.observe_post(
                &policy,
                &[tag],
                true,
                Timestamp(index as u64),
                &mut limiter,
            ));
        }
        assert!(outcomes[0].is_ok() && outcomes[1].is_ok());
        assert!(
            outcomes[2].is_err(),
            "the third restriction in the hour trips the cap"
        );
        assert_eq!(limiter.alerts().len(), 1);
        assert!(clusters.restriction("#cccqx").is_none());
    }
}
