//! Behavioural account recommendations: an engagement index and the item-to-item scoring
//! behind "suggested for you", "similar accounts" and the feed.
//!
//! What it is for: ranking accounts by co-engagement (people who followed, viewed, liked or
//! commented on X also engaged with Y), plus a recency-weighted direct term (accounts X itself
//! engaged with recently), which is how a profile's "similar accounts" carries whatever its
//! owner last looked at. What it must never do: know who is harmful. Exclusions are the
//! [`CandidateGate`]'s job and configuration's job (e.g. leaving views or reports out of
//! co-engagement), never a rule in here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use guardrail_types::{AccountId, Day, EngagementKind, PostId, Surface};

/// One account-to-account engagement at a logical time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Engagement {
    /// Who engaged.
    pub actor: AccountId,
    /// Whose account or post was engaged with.
    pub target: AccountId,
    /// Which kind of engagement.
    pub kind: EngagementKind,
    /// Logical time of the engagement.
    pub at: Day,
}

/// The hook a guardrail layer implements to gate candidates. The platform's own
/// default is [`AllowAll`]: behavioural discovery with no safety logic.
pub trait CandidateGate {
    /// Index time: may this engagement count as a co-engagement signal?
    fn admit_engagement(&self, engagement: &Engagement) -> bool {
        let _ = engagement;
        true
    }
    /// Serving time: may `candidate` be shown to `viewer` (if known) on `surface`?
    fn allow_candidate(
        &self,
        surface: Surface,
        viewer: Option<AccountId>,
        candidate: AccountId,
    ) -> bool {
        let _ = (surface, viewer, candidate);
        true
    }
}

/// The platform default gate: everything passes.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl CandidateGate for AllowAll {}

/// Tuning of the behavioural recommender. Weights are per engagement kind; a weight of 0
/// leaves that kind out of the index entirely (how a guardrail excludes views or reports).
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendConfig {
    /// Weight of a follow.
    pub follow_weight: f32,
    /// Weight of one profile view (the real platform counted a single view).
    pub view_weight: f32,
    /// Weight of a like.
    pub like_weight: f32,
    /// Weight of a comment.
    pub comment_weight: f32,
    /// Weight of a report (a report opens the profile, so it was a view).
    pub report_weight: f32,
    /// Weight of the direct term: accounts the seed itself engaged with, decayed by age.
    pub direct_weight: f32,
    /// Logical-time half-life of the recency decay on direct engagements.
    pub recency_half_life: f32,
    /// How many of a viewer's most recent engagements seed "suggested for you".
    pub seeds_per_viewer: usize,
    /// At most this many engagers of a seed are read (most recent first), bounding hub cost.
    pub max_engagers_per_seed: usize,
}

impl Default for RecommendConfig {
    fn default() -> Self {
        RecommendConfig {
            follow_weight: 1.0,
            view_weight: 1.0,
            like_weight: 0.5,
            comment_weight: 0.5,
            report_weight: 1.0,
            direct_weight: 3.0,
            recency_half_life: 7.0,
            seeds_per_viewer: 5,
            max_engagers_per_seed: 200,
        }
    }
}

impl RecommendConfig {
    fn weight(&self, kind: EngagementKind) -> f32 {
        match kind {
            EngagementKind::Follow => self.follow_weight,
            EngagementKind::View => self.view_weight,
            EngagementKind::Like => self.like_weight,
            EngagementKind::Comment => self.comment_weight,
            EngagementKind::Report => self.report_weight,
            // Blocks and reviewer visits are never interest, on any platform.
            EngagementKind::Block | EngagementKind::ReviewerVisit => 0.0,
        }
    }
}

/// A merged account-to-account edge: summed weight and the latest time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    other: AccountId,
    weight: f32,
    last_at: Day,
}

/// A ranked candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The candidate account.
    pub account: AccountId,
    /// Its score (higher is better; only comparable within one answer).
    pub score: f32,
}

/// The engagement index: merged out- and in-edges per account, plus follows (which the
/// feed and exclusion of already-followed accounts need).
#[derive(Debug, Clone)]
pub struct EngagementIndex {
    config: RecommendConfig,
    outgoing: Vec<Vec<Edge>>,
    incoming: Vec<Vec<Edge>>,
    in_weight: Vec<f32>,
    following: Vec<Vec<AccountId>>,
}

impl EngagementIndex {
    /// An empty index over `account_count` accounts.
    pub fn new(account_count: usize, config: RecommendConfig) -> Self {
        EngagementIndex {
            config,
            outgoing: vec![Vec::new(); account_count],
            incoming: vec![Vec::new(); account_count],
            in_weight: vec![0.0; account_count],
            following: vec![Vec::new(); account_count],
        }
    }

    /// Builds the index from engagements; the gate decides at index time which count.
    pub fn build(
        account_count: usize,
        engagements: impl IntoIterator<Item = Engagement>,
        config: RecommendConfig,
        gate: &dyn CandidateGate,
    ) -> Self {
        let mut index = EngagementIndex::new(account_count, config);
        for engagement in engagements {
            index.add(&engagement, gate);
        }
        index
    }

    /// Number of accounts the index covers.
    pub fn account_count(&self) -> usize {
        self.outgoing.len()
    }

    /// Grows the index to cover `account_count` accounts (new accounts join with no edges).
    pub fn grow_to(&mut self, account_count: usize) {
        if account_count > self.outgoing.len() {
            self.outgoing.resize(account_count, Vec::new());
            self.incoming.resize(account_count, Vec::new());
            self.in_weight.resize(account_count, 0.0);
            self.following.resize(account_count, Vec::new());
        }
    }

    /// Adds one engagement. Out-of-range ids and self-engagement are ignored (the index
    /// never fails on data); so are engagements the gate does not admit or whose kind has
    /// weight 0.
    pub fn add(&mut self, engagement: &Engagement, gate: &dyn CandidateGate) {
        let (actor, target) = (engagement.actor.index(), engagement.target.index());
        let count = self.outgoing.len();
        if actor >= count || target >= count || actor == target {
            return;
        }
        if engagement.kind == EngagementKind::Follow
            && !self.following[actor].contains(&engagement.target)
        {
            self.following[actor].push(engagement.target);
        }
        let weight = self.config.weight(engagement.kind);
        if weight <= 0.0 || !gate.admit_engagement(engagement) {
            return;
        }
        merge_edge(
            &mut self.outgoing[actor],
            engagement.target,
            weight,
            engagement.at,
        );
        merge_edge(
            &mut self.incoming[target],
            engagement.actor,
            weight,
            engagement.at,
        );
        self.in_weight[target] += weight;
    }

    /// Removes every edge to and from `account` (a takedown), keeping the id slot.
    pub fn remove_account(&mut self, account: AccountId) {
        let index = account.index();
        if index >= self.outgoing.len() {
            return;
        }
        for edge in std::mem::take(&mut self.outgoing[index]) {
            let other = edge.other.index();
            self.incoming[other].retain(|e| e.other != account);
            self.in_weight[other] = (self.in_weight[other] - edge.weight).max(0.0);
        }
        for edge in std::mem::take(&mut self.incoming[index]) {
            self.outgoing[edge.other.index()].retain(|e| e.other != account);
        }
        self.in_weight[index] = 0.0;
        for list in &mut self.following {
            list.retain(|&a| a != account);
        }
        self.following[index].clear();
    }

    /// The accounts `account` follows.
    pub fn following(&self, account: AccountId) -> &[AccountId] {
        self.following
            .get(account.index())
            .map_or(&[], Vec::as_slice)
    }

    fn recency(&self, now: Day, at: Day) -> f32 {
        let age = now.number().saturating_sub(at.number()) as f32;
        (-age * std::f32::consts::LN_2 / self.config.recency_half_life.max(1e-3)).exp()
    }
}

fn merge_edge(edges: &mut Vec<Edge>, other: AccountId, weight: f32, at: Day) {
    if let Some(edge) = edges.iter_mut().find(|e| e.other == other) {
        edge.weight += weight;
        edge.last_at = edge.last_at.max(at);
    } else {
        edges.push(Edge {
            other,
            weight,
            last_at: at,
        });
    }
}

/// A multiplicative hasher for `u32` keys: score maps are hot and keyed by dense ids, where
/// SipHash's DoS resistance buys nothing (ids are ours, not an attacker's) and costs most of
/// the time of a suggestion.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type ScoreMap = HashMap<AccountId, f32, BuildHasherDefault<IdHasher>>;

/// Item-to-item scores for one seed account: co-engagement (cosine-normalised) plus a
/// recency-weighted direct term for the accounts the seed engaged with and that engaged it.
fn item_scores(index: &EngagementIndex, seed: AccountId, now: Day) -> ScoreMap {
    let mut scores = ScoreMap::default();
    let Some(engagers) = index.incoming.get(seed.index()) else {
        return scores;
    };
    let mut recent: Vec<&Edge> = engagers.iter().collect();
    recent.sort_by(|a, b| b.last_at.cmp(&a.last_at).then(a.other.cmp(&b.other)));
    recent.truncate(index.config.max_engagers_per_seed);
    for engager in recent {
        for edge in &index.outgoing[engager.other.index()] {
            if edge.other != seed {
                *scores.entry(edge.other).or_default() +=
                    engager.weight.min(2.0) * edge.weight.min(2.0);
            }
        }
    }
    let seed_norm = index.in_weight[seed.index()].max(1.0).sqrt();
    for (account, score) in scores.iter_mut() {
        *score /= seed_norm * index.in_weight[account.index()].max(1.0).sqrt();
    }
    let direct = index.config.direct_weight;
    for edge in &index.outgoing[seed.index()] {
        *scores.entry(edge.other).or_default() +=
            direct * index.recency(now, edge.last_at) * edge.weight.min(2.0) / 2.0;
    }
    for edge in engagers {
        *scores.entry(edge.other).or_default() +=
            direct * 0.5 * index.recency(now, edge.last_at) * edge.weight.min(2.0) / 2.0;
    }
    scores
}

fn top_k(scores: ScoreMap, k: usize, keep: impl Fn(AccountId) -> bool) -> Vec<Scored> {
    let mut ranked: Vec<Scored> = scores
        .into_iter()
        .filter(|(account, score)| *score > 0.0 && keep(*account))
        .map(|(account, score)| Scored { account, score })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.account.cmp(&b.account)));
    ranked.truncate(k);
    ranked
}

/// The "similar accounts" strip on `profile`'s page, as shown to `viewer` (if known).
pub fn similar_accounts(
    index: &EngagementIndex,
    profile: AccountId,
    viewer: Option<AccountId>,
    now: Day,
    k: usize,
    gate: &dyn CandidateGate,
) -> Vec<Scored> {
    let scores = item_scores(index, profile, now);
    top_k(scores, k, |candidate| {
        candidate != profile
            && Some(candidate) != viewer
            && viewer.is_none_or(|v| !index.following(v).contains(&candidate))
            && gate.allow_candidate(Surface::SimilarAccounts, viewer, candidate)
    })
}

/// "Suggested for you" for `viewer`: item-to-item from the viewer's most recent
/// engagements, each seed weighted by its recency; followed accounts are left out.
pub fn suggested_for_you(
    index: &EngagementIndex,
    viewer: AccountId,
    now: Day,
    k: usize,
    gate: &dyn CandidateGate,
) -> Vec<Scored> {
    let Some(own) = index.outgoing.get(viewer.index()) else {
        return Vec::new();
    };
    let mut seeds: Vec<Edge> = own.clone();
    seeds.sort_by(|a, b| b.last_at.cmp(&a.last_at).then(a.other.cmp(&b.other)));
    seeds.truncate(index.config.seeds_per_viewer);
    let mut total = ScoreMap::default();
    for seed in seeds {
        let seed_weight = 0.5 + index.recency(now, seed.last_at);
        let scores = item_scores(index, seed.other, now);
        let best = scores.values().copied().fold(0.0_f32, f32::max).max(1e-6);
        for (account, score) in scores {
            *total.entry(account).or_default() += seed_weight * score / best;
        }
    }
    let following = index.following(viewer);
    top_k(total, k, |candidate| {
        candidate != viewer
            && !following.contains(&candidate)
            && gate.allow_candidate(Surface::AccountSuggestions, Some(viewer), candidate)
    })
}

/// Feed and explore for `viewer`: the newest posts of followed accounts, interleaved with
/// posts from suggested accounts (every fourth slot). `posts_by_author[a]` lists author
/// `a`'s posts as `(post, created_at)`. Returns `(post, author)` pairs.
pub fn feed(
    index: &EngagementIndex,
    posts_by_author: &[Vec<(PostId, Day)>],
    viewer: AccountId,
    now: Day,
    length: usize,
    gate: &dyn CandidateGate,
) -> Vec<(PostId, AccountId)> {
    let newest = |authors: &[AccountId]| {
        let mut posts: Vec<(Day, PostId, AccountId)> = authors
            .iter()
            .filter(|&&a| gate.allow_candidate(Surface::Feed, Some(viewer), a))
            .flat_map(|&a| {
                posts_by_author
                    .get(a.index())
                    .into_iter()
                    .flatten()
                    .filter(|(_, at)| *at <= now)
                    .map(move |&(p, at)| (at, p, a))
            })
            .collect();
        posts.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        posts
    };
    let followed = newest(index.following(viewer));
    let suggested: Vec<AccountId> = suggested_for_you(index, viewer, now, 10, gate)
        .into_iter()
        .map(|s| s.account)
        .collect();
    let explore = newest(&suggested);
    let (mut from_follows, mut from_explore) = (followed.into_iter(), explore.into_iter());
    let mut out = Vec::with_capacity(length);
    while out.len() < length {
        let slot_is_explore = out.len() % 4 == 3;
        let next = if slot_is_explore {
            from_explore.next().or_else(|| from_follows.next())
        } else {
            from_follows.next().or_else(|| from_explore.next())
        };
        match next {
            Some((_, post, author)) => out.push((post, author)),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(actor: u32, target: u32, at: u32) -> Engagement {
        Engagement {
            actor: AccountId(actor),
            target: AccountId(target),
            kind: EngagementKind::Follow,
            at: Day(at),
        }
    }

    fn view(actor: u32, target: u32, at: u32) -> Engagement {
        Engagement {
            actor: AccountId(actor),
            target: AccountId(target),
            kind: EngagementKind::View,
            at: Day(at),
        }
    }

    fn ids(scored: &[Scored]) -> Vec<u32> {
        scored.iter().map(|s| s.account.0).collect()
    }

    /// Two tight groups {0..5} and {10..15}; account 20 views 0 once.
    fn two_groups() -> Vec<Engagement> {
        let mut edges = Vec::new();
        for group in [0u32, 10] {
            for a in group..group + 5 {
                for b in group..group + 5 {
                    if a != b {
                        edges.push(follow(a, b, 1));
                    }
                }
            }
        }
        edges.push(view(20, 0, 5));
        edges
    }

    struct Deny(u32);
    impl CandidateGate for Deny {
        fn allow_candidate(&self, _: Surface, _: Option<AccountId>, candidate: AccountId) -> bool {
            candidate != AccountId(self.0)
        }
    }

    struct NoViews;
    impl CandidateGate for NoViews {
        fn admit_engagement(&self, engagement: &Engagement) -> bool {
            engagement.kind != EngagementKind::View
        }
    }

    fn check(gate: &dyn CandidateGate, viewer: u32, expected_members: &[u32]) {
        let index = EngagementIndex::build(30, two_groups(), RecommendConfig::default(), gate);
        let mut got = ids(&suggested_for_you(
            &index,
            AccountId(viewer),
            Day(6),
            10,
            gate,
        ));
        got.sort_unstable();
        assert_eq!(got, expected_members, "viewer {viewer}");
    }

    #[test]
    fn suggestions_table() {
        // One view of account 0 brings in its whole group, nobody from the other.
        check(&AllowAll, 20, &[1, 2, 3, 4]);
        // Members are not suggested who they already follow, but the one-time visitor of a
        // member is: engagers count as related accounts.
        check(&AllowAll, 1, &[20]);
        // A serving-time gate removes a candidate.
        check(&Deny(2), 20, &[1, 3, 4]);
        // An index-time gate that drops views leaves the one-view account with nothing.
        check(&NoViews, 20, &[]);
    }

    #[test]
    fn similar_accounts_carry_the_owners_recent_view() {
        let mut edges = two_groups();
        edges.push(follow(25, 11, 1));
        edges.push(view(25, 0, 9));
        let index = EngagementIndex::build(30, edges, RecommendConfig::default(), &AllowAll);
        let similar = similar_accounts(
            &index,
            AccountId(25),
            Some(AccountId(26)),
            Day(9),
            3,
            &AllowAll,
        );
        assert_eq!(ids(&similar).first(), Some(&0), "{similar:?}");
    }

    #[test]
    fn removing_an_account_removes_its_edges() {
        let mut index =
            EngagementIndex::build(30, two_groups(), RecommendConfig::default(), &AllowAll);
        index.remove_account(AccountId(1));
        let got = ids(&suggested_for_you(
            &index,
            AccountId(20),
            Day(6),
            10,
            &AllowAll,
        ));
        assert!(!got.contains(&1), "{got:?}");
        assert!(!got.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn suggestions_never_include_self_or_followed(edges in proptest::collection::vec((0u32..20, 0u32..20, 0u32..10, proptest::bool::ANY), 0..120), viewer in 0u32..20) {
            let engagements = edges.iter().map(|&(a, b, at, f)| if f { follow(a, b, at) } else { view(a, b, at) });
            let index = EngagementIndex::build(20, engagements, RecommendConfig::default(), &AllowAll);
            let viewer = AccountId(viewer);
            for s in suggested_for_you(&index, viewer, Day(10), 10, &AllowAll) {
                proptest::prop_assert!(s.account != viewer);
                proptest::prop_assert!(!index.following(viewer).contains(&s.account));
            }
        }
    }
}
