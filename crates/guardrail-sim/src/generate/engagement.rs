//! Phase 6: likes and comments on the posts of followed accounts. Buyers and aggregators
//! like posts that feature minors far more than anything else; everyone else likes at an
//! ordinary rate; some likes come with a comment.
//!
//! What it must never do: engage with a post before it exists.

use guardrail_types::{AccountId, Day, PostId};
use guardrail_world::{AccountEdge, PostEdge};
use rand::Rng;

use super::posts::Posts;
use super::roles::Cast;
use super::{Stream, stream};
use crate::config::WorldConfig;
use crate::truth::Role;

/// Draws likes and comments.
pub(super) fn likes_and_comments(
    config: &WorldConfig,
    seed: u64,
    cast: &Cast,
    posts: &Posts,
    follows: &[AccountEdge],
    days: u32,
) -> (Vec<PostEdge>, Vec<PostEdge>) {
    let mut rng = stream(seed, Stream::Likes);
    let mut likes: Vec<PostEdge> = Vec::new();
    let mut comments: Vec<PostEdge> = Vec::new();
    for edge in follows {
        let liker_role = cast.roles[edge.src.index()].role;
        for &post in posts.by_author[edge.dst.index()].iter().take(8) {
            let post_record = &posts.posts[post as usize];
            let rate = match (liker_role, post_record.features_minor) {
                (Role::Buyer | Role::Aggregator, true) => config.buyer_likes_minor_posts,
                (Role::Buyer | Role::Aggregator, false) => 0.1,
                _ => config.ordinary_like_rate,
            };
            if rng.gen_bool(rate.clamp(0.0, 1.0)) {
                let at = Day(post_record.created_at.0.max(edge.at.0).min(days - 1));
                let like = PostEdge {
                    account: AccountId(edge.src.0),
                    post: PostId(post),
                    at,
                };
                likes.push(like);
                if rng.gen_bool(0.15) {
                    comments.push(like);
                }
            }
        }
    }
    (likes, comments)
}
