//! The world generator: a deterministic synthetic platform from a seed and a
//! [`WorldConfig`].
//!
//! What it is for: accounts of every kind the issue lists, the hidden network (rings of
//! sellers, buyers and aggregators, with camouflage and backups), and their behaviour —
//! follows, posts, views, likes, comments, searches, reports, blocks — over logical days.
//! Generation runs in eight phases, one module each, in this order: [`roles`] (who is who,
//! shuffled so ids say nothing), [`profiles`] (ages, genders, interests, bios), [`posts`],
//! [`follows`], [`views`] (browsing, returns to sellers, advocates' one glance and report),
//! [`engagement`] (likes and comments), [`searches`], and [`pushback`] (minors blocking and
//! reporting the adults who follow them). Each phase draws from its own ChaCha stream, so
//! changing how (say) likes are drawn does not reshuffle who follows whom.
//!
//! What it must never do: read a clock, touch the file system, or let ground truth leak
//! into the public [`World`] (roles shape behaviour; the records only carry what a
//! platform would see).

mod engagement;
mod follows;
mod posts;
mod profiles;
mod pushback;
mod roles;
mod sampling;
mod searches;
mod views;

use guardrail_world::{World, WorldMeta};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::WorldConfig;
use crate::truth::GroundTruth;
use crate::vocabulary::token_records;

pub use profiles::CHILD_TOPICS;

/// Independent random streams, one per phase.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Stream {
    Roles = 1,
    Attributes = 2,
    Posts = 3,
    Follows = 4,
    Views = 5,
    Likes = 6,
    Searches = 7,
    Reports = 8,
}

fn stream(seed: u64, which: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(which as u64);
    rng
}

/// Optional progress reporting: called with (stage, done, total) as generation advances.
pub trait Progress {
    /// A stage advanced.
    fn update(&mut self, stage: &str, done: u64, total: u64);
}

/// No progress reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn update(&mut self, _stage: &str, _done: u64, _total: u64) {}
}

/// Generates the public world and its ground truth.
pub fn generate(config: &WorldConfig, seed: u64) -> (World, GroundTruth) {
    generate_with_progress(config, seed, &mut Silent)
}

/// Like [`generate`], reporting progress.
pub fn generate_with_progress(
    config: &WorldConfig,
    seed: u64,
    progress: &mut dyn Progress,
) -> (World, GroundTruth) {
    let n = config.accounts as usize;
    let days = config.days.max(1);

    let cast = roles::cast(config, seed, n);
    progress.update("roles", n as u64, n as u64);

    let people = profiles::profiles(config, seed, &cast, days);
    progress.update("accounts", n as u64, n as u64);

    let posts = posts::posts(config, seed, &cast, &people.accounts, days);
    progress.update("posts", posts.posts.len() as u64, posts.posts.len() as u64);

    let follows = follows::follows(config, seed, &cast, &people, days, progress);
    progress.update("follows", n as u64, n as u64);

    let mut browsing = views::views(config, seed, &cast, &people.accounts, &follows, days);
    progress.update(
        "views",
        browsing.views.len() as u64,
        browsing.views.len() as u64,
    );

    let (mut likes, mut comments) =
        engagement::likes_and_comments(config, seed, &cast, &posts, &follows.edges, days);
    progress.update("likes", likes.len() as u64, likes.len() as u64);

    let mut searches = searches::searches(seed, &cast, &people.accounts, days);

    let blocks = pushback::pushback(
        seed,
        &cast,
        &people.accounts,
        &follows.edges,
        &mut browsing.reports,
    );

    browsing.reports.sort_by_key(|e| (e.at, e.src, e.dst));
    browsing.views.sort_by_key(|e| (e.at, e.src, e.dst));
    likes.sort_by_key(|e| (e.at, e.account, e.post));
    comments.sort_by_key(|e| (e.at, e.account, e.post));
    searches.sort_by_key(|s| (s.at, s.account));

    let world = World {
        meta: WorldMeta {
            synthetic: true,
            seed,
            format_version: 1,
            days,
        },
        accounts: people.accounts,
        posts: posts.posts,
        follows: follows.edges,
        views: browsing.views,
        likes,
        comments,
        searches,
        reports: browsing.reports,
        blocks,
    };
    let truth = GroundTruth {
        roles: cast.roles,
        backups: cast.backups,
        tokens: token_records(),
    };
    (world, truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::truth::{ALL_ROLES, Role, RoleRecord};

    #[test]
    fn the_same_seed_gives_the_same_world_and_another_seed_does_not() {
        let config = WorldConfig {
            accounts: 2_000,
            ..WorldConfig::default()
        };
        let (a, truth_a) = generate(&config, 7);
        let (b, truth_b) = generate(&config, 7);
        let (c, _) = generate(&config, 8);
        assert_eq!(a, b);
        assert_eq!(truth_a, truth_b);
        assert_ne!(a.follows, c.follows);
    }

    #[test]
    fn every_kind_is_present_and_edges_are_in_range() {
        let config = WorldConfig {
            accounts: 3_000,
            ..WorldConfig::default()
        };
        let (world, truth) = generate(&config, 1);
        for role in ALL_ROLES {
            assert!(
                truth.roles.iter().any(|r| r.role == role),
                "{role:?} missing"
            );
        }
        let n = world.accounts.len();
        assert!(world.follows.iter().all(|e| e.src.index() < n
            && e.dst.index() < n
            && e.src != e.dst
            && e.at.0 < world.meta.days));
        assert!(
            world
                .likes
                .iter()
                .all(|e| e.post.index() < world.posts.len())
        );
        assert!(!truth.backups.is_empty());
        // Some sellers camouflage: their bios carry none of the coded vocabulary.
        let tokens = crate::vocabulary::token_records();
        let coded = |bio: &str| tokens.iter().any(|t| bio.contains(&t.token));
        let sellers: Vec<&RoleRecord> = truth
            .roles
            .iter()
            .filter(|r| {
                r.role == Role::Seller && world.accounts[r.account.index()].created_at.0 == 0
            })
            .collect();
        assert!(
            sellers
                .iter()
                .any(|r| r.camouflaged && !coded(&world.accounts[r.account.index()].bio))
        );
        assert!(
            sellers
                .iter()
                .any(|r| !r.camouflaged && coded(&world.accounts[r.account.index()].bio))
        );
    }
}
