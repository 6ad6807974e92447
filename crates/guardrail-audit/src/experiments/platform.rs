//! The platform's discovery systems built from a world's public tables: the engagement
//! index behind suggestions, similar accounts and the feed, and hashtag, bio and caption
//! search.
//!
//! What it must never take: ground truth. [`Platform::build`] takes a [`World`] alone.

use guardrail_recommend::{
    AllowAll, CandidateGate, Engagement, EngagementIndex, EngagementKind, RecommendConfig,
    SearchIndex,
};
use guardrail_types::{Day, PostId};
use guardrail_world::World;

/// The platform's discovery systems built from public data only.
#[derive(Debug, Clone)]
pub struct Platform {
    /// The engagement index behind suggestions, similar accounts and feed.
    pub index: EngagementIndex,
    /// Hashtag, bio and caption search.
    pub search: SearchIndex,
    /// Posts by author, for the feed.
    pub posts_by_author: Vec<Vec<(PostId, Day)>>,
    /// "Now": the first day after the history.
    pub now: Day,
}

/// Every public engagement of a world as recommender input (likes and comments point at the
/// post's author).
pub fn engagements(world: &World) -> Vec<Engagement> {
    let mut out = Vec::with_capacity(world.edge_count());
    let account_edges = [
        (&world.follows, EngagementKind::Follow),
        (&world.views, EngagementKind::View),
        (&world.reports, EngagementKind::Report),
    ];
    for (edges, kind) in account_edges {
        out.extend(edges.iter().map(|e| Engagement {
            actor: e.src,
            target: e.dst,
            kind,
            at: e.at,
        }));
    }
    for (edges, kind) in [
        (&world.likes, EngagementKind::Like),
        (&world.comments, EngagementKind::Comment),
    ] {
        out.extend(edges.iter().filter_map(|e| {
            let author = world.post(e.post)?.author;
            Some(Engagement {
                actor: e.account,
                target: author,
                kind,
                at: e.at,
            })
        }));
    }
    out.sort_by_key(|e| e.at);
    out
}

impl Platform {
    /// Builds the discovery systems from the public world. Takes no ground truth.
    pub fn build(world: &World, recommend: &RecommendConfig) -> Self {
        Platform::build_from(world, engagements(world), recommend, &AllowAll)
    }

    /// Builds the discovery systems with a gate deciding which engagements enter the index.
    pub fn build_gated(
        world: &World,
        recommend: &RecommendConfig,
        gate: &dyn CandidateGate,
    ) -> Self {
        Platform::build_from(world, engagements(world), recommend, gate)
    }

    pub(super) fn build_from(
        world: &World,
        engagements: Vec<Engagement>,
        recommend: &RecommendConfig,
        gate: &dyn CandidateGate,
    ) -> Self {
        let index =
            EngagementIndex::build(world.accounts.len(), engagements, recommend.clone(), gate);
        let mut search = SearchIndex::default();
        for post in &world.posts {
            search.add_post(post.id, post.author, &post.hashtags, &post.caption);
        }
        for account in &world.accounts {
            search.add_bio(account.id, &account.bio);
        }
        Platform {
            index,
            search,
            posts_by_author: world.posts_by_author(),
            now: world.end(),
        }
    }
}
