//! Hashtag search, autocomplete by popularity, related hashtags by co-occurrence, and search
//! over hashtags, bios and captions, with the platform's interstitial for banned terms.
//!
//! What it is for: reproducing the search surfaces as the platform ran them, including the
//! "see results anyway" path behind an interstitial and an autocomplete that only removes
//! exact banned hashtags. What it must never do: decide on its own that a query is harmful;
//! that is [`QueryPolicy`]'s job, and a stronger policy plugs in there.

use std::collections::{BTreeMap, HashMap, HashSet};

use guardrail_types::{AccountId, PostId, Surface};

use crate::engagement::CandidateGate;

/// What the platform does with a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryDecision {
    /// Results are shown.
    Allow,
    /// A warning is shown with "see results anyway".
    Interstitial,
    /// No results at all.
    Block,
}

/// Decides per query; the platform default is [`ExactBanList`].
pub trait QueryPolicy {
    /// The decision for a search query or autocomplete suggestion.
    fn decide(&self, query: &str) -> QueryDecision;
    /// Whether `suggestion` may be offered for what the user typed (`prefix`) in
    /// autocomplete, or next to the hashtag `prefix` in related hashtags. The platform's
    /// default only removes suggestions it would not allow as queries.
    fn allow_suggestion(&self, prefix: &str, suggestion: &str) -> bool {
        let _ = prefix;
        self.decide(suggestion) == QueryDecision::Allow
    }
}

/// The platform's own rule: exact banned terms (case-insensitive, `#` ignored) get the
/// interstitial; anything else, including variants, is allowed.
#[derive(Debug, Clone, Default)]
pub struct ExactBanList {
    terms: HashSet<String>,
}

impl ExactBanList {
    /// A ban list over these terms.
    pub fn new<S: AsRef<str>>(terms: impl IntoIterator<Item = S>) -> Self {
        ExactBanList {
            terms: terms
                .into_iter()
                .map(|t| normalize_token(t.as_ref()))
                .collect(),
        }
    }
}

impl QueryPolicy for ExactBanList {
    fn decide(&self, query: &str) -> QueryDecision {
        if tokens(query).any(|t| self.terms.contains(&t)) {
            QueryDecision::Interstitial
        } else {
            QueryDecision::Allow
        }
    }
}

fn normalize_token(token: &str) -> String {
    token.trim_start_matches('#').to_lowercase()
}

/// Splits text into lowercase tokens on whitespace and ASCII punctuation other than `_`.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '_'))
        .filter(|t| !t.is_empty())
        .map(normalize_token)
}

/// The search index: hashtags with their posts, bio and caption tokens.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    hashtag_posts: BTreeMap<String, Vec<PostId>>,
    post_author: HashMap<PostId, AccountId>,
    caption_posts: HashMap<String, Vec<PostId>>,
    bio_accounts: HashMap<String, Vec<AccountId>>,
    cooccurrence: HashMap<String, HashMap<String, u32>>,
}

/// Search results: accounts and posts that match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// Matching accounts (bio match or author of a matching post), ascending.
    pub accounts: Vec<AccountId>,
    /// Matching posts, ascending.
    pub posts: Vec<PostId>,
}

/// The answer to one search: the decision and what the user can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOutcome {
    /// The policy's decision.
    pub decision: QueryDecision,
    /// Results shown directly, or after "see results anyway" when that was chosen.
    pub results: SearchResults,
}

/// Autocomplete suggestions for a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autocomplete {
    /// Hashtags (without `#`), most popular first.
    pub hashtags: Vec<String>,
}

impl SearchIndex {
    /// Adds a post with its hashtags and caption.
    pub fn add_post(
        &mut self,
        post: PostId,
        author: AccountId,
        hashtags: &[String],
        caption: &str,
    ) {
        self.post_author.insert(post, author);
        let tags: Vec<String> = hashtags
            .iter()
            .map(|t| normalize_token(t))
            .filter(|t| !t.is_empty())
            .collect();
        for tag in &tags {
            self.hashtag_posts
                .entry(tag.clone())
                .or_default()
                .push(post);
            for other in &tags {
                if other != tag {
                    *self
                        .cooccurrence
                        .entry(tag.clone())
                        .or_default()
                        .entry(other.clone())
                        .or_default() += 1;
                }
            }
        }
        for token in tokens(caption) {
            self.caption_posts.entry(token).or_default().push(post);
        }
    }

    /// Adds an account's bio.
    pub fn add_bio(&mut self, account: AccountId, bio: &str) {
        for token in tokens(bio) {
            let list = self.bio_accounts.entry(token).or_default();
            if list.last() != Some(&account) {
                list.push(account);
            }
        }
    }

    /// All results for a query, before any policy: hashtags starting with a query token,
    /// caption tokens and bio tokens equal to one.
    pub fn raw_results(&self, query: &str) -> SearchResults {
        let mut posts: Vec<PostId> = Vec::new();
        let mut accounts: Vec<AccountId> = Vec::new();
        for token in tokens(query) {
            for (_, tagged) in self
                .hashtag_posts
                .range(token.clone()..)
                .take_while(|(t, _)| t.starts_with(&token))
            {
                posts.extend(tagged);
            }
            posts.extend(self.caption_posts.get(&token).into_iter().flatten());
            accounts.extend(self.bio_accounts.get(&token).into_iter().flatten());
        }
        posts.sort_unstable();
        posts.dedup();
        accounts.extend(posts.iter().filter_map(|p| self.post_author.get(p)));
        accounts.sort_unstable();
        accounts.dedup();
        SearchResults { accounts, posts }
    }

    /// A search as a user runs it: the policy decides; behind an interstitial the results are
    /// reachable only if `see_results_anyway`; accounts are gated at serving time.
    pub fn search(
        &self,
        policy: &dyn QueryPolicy,
        gate: &dyn CandidateGate,
        viewer: Option<AccountId>,
        query: &str,
        see_results_anyway: bool,
    ) -> SearchOutcome {
        let decision = policy.decide(query);
        let reachable = match decision {
            QueryDecision::Allow => true,
            QueryDecision::Interstitial => see_results_anyway,
            QueryDecision::Block => false,
        };
        let mut results = if reachable {
            self.raw_results(query)
        } else {
            SearchResults::default()
        };
        results
            .accounts
            .retain(|&a| gate.allow_candidate(Surface::Search, viewer, a));
        let allowed: HashSet<AccountId> = results.accounts.iter().copied().collect();
        results
            .posts
            .retain(|p| self.post_author.get(p).is_some_and(|a| allowed.contains(a)));
        SearchOutcome { decision, results }
    }

    /// Hashtag autocomplete: hashtags starting with `prefix`, by number of posts, without
    /// those the policy does not allow outright (the platform removed exact banned tags).
    pub fn autocomplete(&self, policy: &dyn QueryPolicy, prefix: &str, k: usize) -> Autocomplete {
        let prefix = normalize_token(prefix);
        let mut candidates: Vec<(&String, usize)> = self
            .hashtag_posts
            .range(prefix.clone()..)
            .take_while(|(t, _)| t.starts_with(&prefix))
            .filter(|(t, _)| policy.allow_suggestion(&prefix, t))
            .map(|(t, posts)| (t, posts.len()))
            .collect();
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        Autocomplete {
            hashtags: candidates
                .into_iter()
                .take(k)
                .map(|(t, _)| t.clone())
                .collect(),
        }
    }

    /// Hashtags most often used together with `hashtag`, as the policy lets them be
    /// listed (nothing at all next to a hashtag it blocks).
    pub fn related_hashtags(
        &self,
        policy: &dyn QueryPolicy,
        hashtag: &str,
        k: usize,
    ) -> Vec<String> {
        let key = normalize_token(hashtag);
        if policy.decide(&key) == QueryDecision::Block {
            return Vec::new();
        }
        let Some(related) = self.cooccurrence.get(&key) else {
            return Vec::new();
        };
        let mut ranked: Vec<(&String, &u32)> = related
            .iter()
            .filter(|(tag, _)| policy.allow_suggestion(&key, tag))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        ranked.into_iter().take(k).map(|(t, _)| t.clone()).collect()
    }

    /// Every hashtag in the index with its post count.
    pub fn hashtags(&self) -> impl Iterator<Item = (&str, usize)> {
        self.hashtag_posts
            .iter()
            .map(|(t, p)| (t.as_str(), p.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::AllowAll;

    fn index() -> SearchIndex {
        let mut index = SearchIndex::default();
        let tags = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        index.add_post(
            PostId(0),
            AccountId(1),
            &tags(&["zorblat", "dance"]),
            "hello",
        );
        index.add_post(PostId(1), AccountId(2), &tags(&["zorblatboys"]), "");
        index.add_post(
            PostId(2),
            AccountId(2),
            &tags(&["zorblatboys", "dance"]),
            "",
        );
        index.add_post(PostId(3), AccountId(3), &tags(&["dance"]), "zorblat here");
        index.add_bio(AccountId(4), "embroidery and zorblat");
        index
    }

    fn check_search(query: &str, anyway: bool, decision: QueryDecision, accounts: &[u32]) {
        let accounts: Vec<AccountId> = accounts.iter().copied().map(AccountId).collect();
        let policy = ExactBanList::new(["zorblat"]);
        let outcome = index().search(&policy, &AllowAll, None, query, anyway);
        assert_eq!(outcome.decision, decision, "{query}");
        assert_eq!(outcome.results.accounts, accounts, "{query}");
    }

    #[test]
    fn search_table() {
        check_search("zorblat", false, QueryDecision::Interstitial, &[]);
        check_search("#Zorblat", true, QueryDecision::Interstitial, &[1, 2, 3, 4]);
        check_search("zorblatboys", false, QueryDecision::Allow, &[2]);
        check_search("dance", false, QueryDecision::Allow, &[1, 2, 3]);
    }

    #[test]
    fn autocomplete_drops_only_the_exact_banned_tag() {
        let policy = ExactBanList::new(["zorblat"]);
        assert_eq!(
            index().autocomplete(&policy, "zor", 5).hashtags,
            vec!["zorblatboys".to_string()]
        );
        assert_eq!(
            index().related_hashtags(&ExactBanList::default(), "dance", 1),
            vec!["zorblat".to_string()]
        );
    }
}
