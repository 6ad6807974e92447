//! Phase 3: posts. Parent-run accounts post their children's activities (flagged by the
//! platform's classifier as featuring a minor), sellers who do not camouflage post banned
//! tags and their variants with coded captions, brands and adult-content accounts post
//! their own, ordinary accounts post about their first interest.
//!
//! What it must never do: tag a post with its author's role.

use guardrail_types::{AccountId, Day, PostId};
use guardrail_world::{Account, Post};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::roles::Cast;
use super::sampling::poisson_like;
use super::{Stream, stream};
use crate::config::WorldConfig;
use crate::truth::{Role, RoleRecord};
use crate::vocabulary::{BANNED_BASES, EMOJI_CODES, LEET_WORDS, variants};

/// The posts and, per author, their ids in posting order.
pub(super) struct Posts {
    /// Every post, by id.
    pub posts: Vec<Post>,
    /// Post ids by author.
    pub by_author: Vec<Vec<u32>>,
}

/// Draws every account's posts.
pub(super) fn posts(
    config: &WorldConfig,
    seed: u64,
    cast: &Cast,
    accounts: &[Account],
    days: u32,
) -> Posts {
    let mut rng = stream(seed, Stream::Posts);
    let mut posts: Vec<Post> = Vec::new();
    for record in &cast.roles {
        let author = record.account.0;
        let how_many = match record.role {
            Role::ParentRun => config.parent_run_posts,
            Role::Seller if cast.is_backup[author as usize] => 0,
            Role::Seller => config.seller_posts,
            Role::Brand | Role::AdultContent => 8,
            Role::Buyer | Role::Aggregator | Role::Advocate => 1,
            Role::Ordinary | Role::Niche => poisson_like(&mut rng, config.mean_posts),
        };
        for _ in 0..how_many {
            let account = &accounts[author as usize];
            let (hashtags, caption, features_minor) = post_content(&mut rng, record, account);
            posts.push(Post {
                id: PostId(posts.len() as u32),
                author: AccountId(author),
                created_at: Day(rng.gen_range(0..days)),
                features_minor,
                hashtags,
                caption,
            });
        }
    }
    let mut by_author: Vec<Vec<u32>> = vec![Vec::new(); accounts.len()];
    for post in &posts {
        by_author[post.author.index()].push(post.id.0);
    }
    Posts { posts, by_author }
}

fn post_content(
    rng: &mut ChaCha8Rng,
    record: &RoleRecord,
    account: &Account,
) -> (Vec<String>, String, bool) {
    let topic = account
        .interests
        .first()
        .cloned()
        .unwrap_or_else(|| "life".to_string());
    match record.role {
        Role::ParentRun => {
            let activity = account
                .interests
                .get(1)
                .cloned()
                .unwrap_or_else(|| "dance".to_string());
            (
                vec![
                    activity,
                    ["recital", "competition", "practice"][rng.gen_range(0..3)].to_string(),
                ],
                "so proud of my little one today".to_string(),
                true,
            )
        }
        Role::Seller if !record.camouflaged => {
            let base = BANNED_BASES[rng.gen_range(0..BANNED_BASES.len())];
            let forms = variants(base);
            let mut tags = vec![
                forms[rng.gen_range(0..forms.len())].0.clone(),
                forms[rng.gen_range(0..forms.len())].0.clone(),
            ];
            if rng.gen_bool(0.3) {
                tags.push(base.to_string());
            }
            tags.dedup();
            (
                tags,
                format!(
                    "new {} {} dm",
                    LEET_WORDS[rng.gen_range(0..LEET_WORDS.len())],
                    EMOJI_CODES[1]
                ),
                false,
            )
        }
        Role::Brand => (
            vec![topic, "newcollection".to_string()],
            "our new collection is here".to_string(),
            false,
        ),
        Role::AdultContent => (
            vec!["grownupsonly".to_string()],
            "18+ only".to_string(),
            false,
        ),
        _ => (
            vec![topic.clone()],
            format!("a day of {topic}"),
            account.declared_age < 18,
        ),
    }
}
