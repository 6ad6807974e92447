//! The world generator: a deterministic synthetic platform from a seed and a
//! [`WorldConfig`].
//!
//! What it is for: accounts of every kind the issue lists, the hidden network (rings of
//! sellers, buyers and aggregators, with camouflage and backups), and their behaviour —
//! follows, posts, views, likes, comments, searches, reports, blocks — over logical days.
//! Each concern draws from its own ChaCha stream, so changing how (say) likes are drawn does
//! not reshuffle who follows whom. What it must never do: read a clock, touch the file
//! system, or let ground truth leak into the public [`World`] (roles shape behaviour; the
//! records only carry what a platform would see).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::WorldConfig;
use crate::truth::{BackupRecord, GroundTruth, Role, RoleRecord};
use crate::vocabulary::{
    BANNED_BASES, EMOJI_CODES, FILE_SERVICE, LEET_WORDS, token_records, variants,
};
use crate::world::{Account, AccountEdge, Gender, Post, PostEdge, SearchEvent, World, WorldMeta};

/// Topics children's activities are posted under; ads targeting them reach mostly women.
pub const CHILD_TOPICS: [&str; 4] = ["parenting", "dance", "gymnastics", "cheer"];
/// Topics women choose more often in this world (besides child topics).
const WOMEN_TOPICS: [&str; 5] = ["fashion", "beauty", "cooking", "yoga", "travel"];
/// Topics men choose more often in this world.
const MEN_TOPICS: [&str; 5] = ["football", "gaming", "cars", "fitness", "music"];
/// Niche community topics (benign and tight).
const NICHE_TOPICS: [&str; 6] = [
    "embroidery",
    "spelunking",
    "schoolparents",
    "birding",
    "bonsai",
    "chess",
];
const COUNTRIES: [&str; 6] = ["us", "gb", "ca", "au", "in", "br"];
const CLEAN_BIOS: [&str; 6] = [
    "coffee and sunsets",
    "living one day at a time",
    "photos of my week",
    "weekend hiker",
    "music lover",
    "just here to look around",
];

/// Independent random streams, one per concern.
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

struct Lists {
    by_role: Vec<Vec<u32>>,
    minors: Vec<u32>,
    child_topic: Vec<u32>,
}

fn role_index(role: Role) -> usize {
    crate::truth::ALL_ROLES
        .iter()
        .position(|r| *r == role)
        .unwrap_or(0)
}

/// Like [`generate`], reporting progress.
pub fn generate_with_progress(
    config: &WorldConfig,
    seed: u64,
    progress: &mut dyn Progress,
) -> (World, GroundTruth) {
    let n = config.accounts as usize;
    let days = config.days.max(1);
    let count = |share: f64| ((n as f64) * share).round() as usize;

    // 1. Roles, shuffled so ids say nothing.
    let mut rng = stream(seed, Stream::Roles);
    let sellers = count(config.seller_share);
    let backups = ((sellers as f64) * config.backup_share).round() as usize;
    let mut slots: Vec<(Role, u32, bool, bool)> = Vec::with_capacity(n); // role, group, camouflaged, is_backup
    let rings = config.network_rings.max(1);
    let push_network = |slots: &mut Vec<_>, role: Role, how_many: usize, rng: &mut ChaCha8Rng| {
        for i in 0..how_many {
            let camouflaged = rng.gen_bool(config.camouflage_share);
            slots.push((role, (i as u32) % rings, camouflaged, false));
        }
    };
    push_network(&mut slots, Role::Seller, sellers, &mut rng);
    push_network(&mut slots, Role::Buyer, count(config.buyer_share), &mut rng);
    push_network(
        &mut slots,
        Role::Aggregator,
        count(config.aggregator_share),
        &mut rng,
    );
    for i in 0..backups {
        slots.push((Role::Seller, (i as u32) % rings, false, true));
    }
    for (role, share) in [
        (Role::ParentRun, config.parent_run_share),
        (Role::AdultContent, config.adult_content_share),
        (Role::Advocate, config.advocate_share),
        (Role::Brand, config.brand_share),
    ] {
        slots.extend((0..count(share).max(1)).map(|_| (role, 0, false, false)));
    }
    for community in 0..config.niche_communities {
        slots.extend((0..config.niche_size).map(|_| (Role::Niche, community, false, false)));
    }
    slots.truncate(n);
    while slots.len() < n {
        slots.push((Role::Ordinary, 0, false, false));
    }
    slots.shuffle(&mut rng);
    let roles: Vec<RoleRecord> = slots
        .iter()
        .enumerate()
        .map(|(id, &(role, group, camouflaged, _))| RoleRecord {
            account: id as u32,
            role,
            group,
            camouflaged,
        })
        .collect();
    let mut by_role = vec![Vec::new(); crate::truth::ALL_ROLES.len()];
    for record in &roles {
        by_role[role_index(record.role)].push(record.account);
    }
    // Primary sellers and their backups, ring by ring.
    let is_backup: Vec<bool> = slots.iter().map(|s| s.3).collect();
    let primaries: Vec<u32> = by_role[role_index(Role::Seller)]
        .iter()
        .copied()
        .filter(|&a| !is_backup[a as usize])
        .collect();
    let backup_ids: Vec<u32> = by_role[role_index(Role::Seller)]
        .iter()
        .copied()
        .filter(|&a| is_backup[a as usize])
        .collect();
    let mut backup_records = Vec::new();
    for (k, &backup) in backup_ids.iter().enumerate() {
        let same_ring: Vec<u32> = primaries
            .iter()
            .copied()
            .filter(|&p| roles[p as usize].group == roles[backup as usize].group)
            .collect();
        if let Some(&original) = same_ring.get(k / rings as usize % same_ring.len().max(1)) {
            backup_records.push(BackupRecord {
                account: backup,
                backup_of: original,
            });
        }
    }
    progress.update("roles", n as u64, n as u64);

    // 2. Attributes and bios.
    let mut rng = stream(seed, Stream::Attributes);
    let handles: Vec<String> = (0..n)
        .map(|id| format!("u{:x}{:03}", rng.r#gen::<u32>() & 0xfffff, id % 1000))
        .collect();
    let backup_of_original: std::collections::HashMap<u32, u32> = backup_records
        .iter()
        .map(|b| (b.backup_of, b.account))
        .collect();
    let mut minors = Vec::new();
    let mut child_topic = Vec::new();
    let mut accounts = Vec::with_capacity(n);
    for (id, record) in roles.iter().enumerate() {
        let id32 = id as u32;
        let (mut age, gender) = match record.role {
            Role::Ordinary | Role::Niche => {
                let age = if rng.gen_bool(config.minor_share) {
                    rng.gen_range(13..18)
                } else {
                    rng.gen_range(18..70)
                };
                (
                    age,
                    draw_gender(&mut rng, config.women_share, config.other_gender_share),
                )
            }
            Role::ParentRun => (rng.gen_range(28..46), draw_gender(&mut rng, 0.85, 0.0)),
            Role::Buyer | Role::Aggregator => (
                rng.gen_range(20..65),
                draw_gender(&mut rng, 1.0 - config.buyer_men_share, 0.0),
            ),
            Role::Seller => (18, draw_gender(&mut rng, 0.5, 0.1)),
            Role::Advocate => (rng.gen_range(30..60), draw_gender(&mut rng, 0.8, 0.0)),
            Role::Brand | Role::AdultContent => {
                (rng.gen_range(21..40), draw_gender(&mut rng, 0.6, 0.2))
            }
        };
        if record.role == Role::Brand {
            age = 30;
        }
        let mut interests: Vec<String> = Vec::new();
        let child_share = match gender {
            Gender::Woman => config.women_child_topic_share,
            Gender::Man => config.men_child_topic_share,
            Gender::Other => (config.women_child_topic_share + config.men_child_topic_share) / 2.0,
        };
        match record.role {
            Role::Ordinary | Role::Advocate => {
                if record.role == Role::Advocate || (age >= 18 && rng.gen_bool(child_share)) {
                    interests.push(CHILD_TOPICS[rng.gen_range(0..CHILD_TOPICS.len())].to_string());
                    child_topic.push(id32);
                }
                let pool = if gender == Gender::Man {
                    &MEN_TOPICS
                } else {
                    &WOMEN_TOPICS
                };
                for _ in 0..2 {
                    let topic = if rng.gen_bool(0.75) {
                        pool[rng.gen_range(0..5)]
                    } else {
                        NICHE_TOPICS[rng.gen_range(3..6)]
                    };
                    if !interests.iter().any(|t| t == topic) {
                        interests.push(topic.to_string());
                    }
                }
            }
            Role::Niche => {
                interests.push(NICHE_TOPICS[record.group as usize % NICHE_TOPICS.len()].to_string())
            }
            Role::ParentRun => {
                interests.push("parenting".to_string());
                interests.push(CHILD_TOPICS[rng.gen_range(1..4)].to_string());
            }
            Role::Brand => interests.push(WOMEN_TOPICS[rng.gen_range(0..2)].to_string()),
            Role::Buyer | Role::Aggregator | Role::Seller | Role::AdultContent => {
                interests.push(MEN_TOPICS[rng.gen_range(0..5)].to_string());
            }
        }
        if age < 18 {
            minors.push(id32);
        }
        let bio = match record.role {
            Role::Seller if !record.camouflaged => seller_bio(
                &mut rng,
                backup_of_original
                    .get(&id32)
                    .map(|&b| handles[b as usize].as_str()),
            ),
            Role::Seller | Role::Buyer | Role::Aggregator | Role::Ordinary => {
                CLEAN_BIOS[rng.gen_range(0..CLEAN_BIOS.len())].to_string()
            }
            Role::ParentRun => format!(
                "mom of a little {} star, account run by parent",
                interests[1]
            ),
            Role::Niche => format!("{} club member", interests[0]),
            Role::Advocate => "child safety advocate, parent, reporting what I find".to_string(),
            Role::Brand => format!("official {} brand", interests[0]),
            Role::AdultContent => "grownups only 18+".to_string(),
        };
        accounts.push(Account {
            id: id32,
            handle: handles[id].clone(),
            declared_age: age,
            gender,
            country: COUNTRIES[rng.gen_range(0..COUNTRIES.len())].to_string(),
            interests,
            business: record.role == Role::Brand,
            created_at: if is_backup[id] { days - 1 } else { 0 },
            bio,
        });
    }
    let lists = Lists {
        by_role,
        minors,
        child_topic,
    };
    progress.update("accounts", n as u64, n as u64);

    // 3. Posts.
    let mut rng = stream(seed, Stream::Posts);
    let mut posts: Vec<Post> = Vec::new();
    for record in &roles {
        let author = record.account;
        let how_many = match record.role {
            Role::ParentRun => config.parent_run_posts,
            Role::Seller if is_backup[author as usize] => 0,
            Role::Seller => config.seller_posts,
            Role::Brand | Role::AdultContent => 8,
            Role::Buyer | Role::Aggregator | Role::Advocate => 1,
            Role::Ordinary | Role::Niche => poisson_like(&mut rng, config.mean_posts),
        };
        for _ in 0..how_many {
            let account = &accounts[author as usize];
            let (hashtags, caption, features_minor) = post_content(&mut rng, record, account);
            posts.push(Post {
                id: posts.len() as u32,
                author,
                created_at: rng.gen_range(0..days),
                features_minor,
                hashtags,
                caption,
            });
        }
    }
    let mut posts_by_author: Vec<Vec<u32>> = vec![Vec::new(); n];
    for post in &posts {
        posts_by_author[post.author as usize].push(post.id);
    }
    progress.update("posts", posts.len() as u64, posts.len() as u64);

    // 4. Follows.
    let mut rng = stream(seed, Stream::Follows);
    let popular_pool: Vec<u32> = roles
        .iter()
        // Parent-run accounts are found through their topics (child-topic followers below),
        // not through general popularity.
        .filter(|r| matches!(r.role, Role::Ordinary | Role::Brand | Role::AdultContent))
        .map(|r| r.account)
        .collect();
    let popularity = Popularity::new(&popular_pool, config.popularity_exponent, &mut rng);
    let of = |role: Role| &lists.by_role[role_index(role)];
    let mut follows: Vec<AccountEdge> = Vec::new();
    let follow = |follows: &mut Vec<AccountEdge>, src: u32, dst: u32, rng: &mut ChaCha8Rng| {
        if src != dst {
            follows.push(AccountEdge {
                src,
                dst,
                at: rng.gen_range(0..days.saturating_sub(2).max(1)),
            });
        }
    };
    // Members of each ring by role, computed once (ring lookups are per network account).
    let mut rings_of: std::collections::HashMap<(usize, u32), Vec<u32>> =
        std::collections::HashMap::new();
    for record in roles
        .iter()
        .filter(|r| r.role.in_network() || r.role == Role::Niche)
    {
        rings_of
            .entry((role_index(record.role), record.group))
            .or_default()
            .push(record.account);
    }
    let empty: Vec<u32> = Vec::new();
    let ring_members = |role: Role, ring: u32| -> &Vec<u32> {
        rings_of.get(&(role_index(role), ring)).unwrap_or(&empty)
    };
    for record in &roles {
        let src = record.account;
        match record.role {
            Role::Ordinary => {
                let k = lognormal_count(&mut rng, config.mean_follows);
                let minor = accounts[src as usize].declared_age < 18;
                for _ in 0..k {
                    let dst = if minor && rng.gen_bool(0.6) && !lists.minors.is_empty() {
                        lists.minors[rng.gen_range(0..lists.minors.len())]
                    } else {
                        popularity.sample(&mut rng)
                    };
                    follow(&mut follows, src, dst, &mut rng);
                }
                if lists.child_topic.binary_search(&src).is_ok() {
                    for _ in 0..config.child_topic_parent_follows {
                        if let Some(&dst) = of(Role::ParentRun).choose(&mut rng) {
                            follow(&mut follows, src, dst, &mut rng);
                        }
                    }
                    if rng.gen_bool(0.05)
                        && let Some(&dst) = of(Role::Advocate).choose(&mut rng)
                    {
                        follow(&mut follows, src, dst, &mut rng);
                    }
                }
            }
            Role::Niche => {
                for &other in ring_members(Role::Niche, record.group) {
                    if roles[other as usize].group == record.group
                        && other != src
                        && rng.gen_bool(config.niche_density)
                    {
                        follow(&mut follows, src, other, &mut rng);
                    }
                }
                for _ in 0..5 {
                    follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                }
            }
            Role::ParentRun | Role::Brand | Role::AdultContent => {
                for _ in 0..10 {
                    follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                }
            }
            Role::Advocate => {
                for _ in 0..20 {
                    let dst = if rng.gen_bool(0.5) {
                        of(Role::ParentRun).choose(&mut rng).copied()
                    } else {
                        lists.child_topic.choose(&mut rng).copied()
                    };
                    if let Some(dst) = dst {
                        follow(&mut follows, src, dst, &mut rng);
                    }
                }
            }
            Role::Seller => {
                if is_backup[src as usize] {
                    continue;
                }
                for &other in ring_members(Role::Seller, record.group) {
                    if !is_backup[other as usize] && rng.gen_bool(0.3) {
                        follow(&mut follows, src, other, &mut rng);
                    }
                }
                for &aggregator in ring_members(Role::Aggregator, record.group) {
                    follow(&mut follows, src, aggregator, &mut rng);
                }
                if record.camouflaged {
                    for _ in 0..config.camouflage_benign_follows {
                        follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                    }
                }
            }
            Role::Buyer => {
                for &seller in ring_members(Role::Seller, record.group) {
                    if !is_backup[seller as usize] && rng.gen_bool(config.buyer_follows_ring_seller)
                    {
                        follow(&mut follows, src, seller, &mut rng);
                    }
                }
                for _ in 0..config.buyer_follows_other_sellers {
                    if let Some(&seller) = primaries.choose(&mut rng) {
                        follow(&mut follows, src, seller, &mut rng);
                    }
                }
                for &other in ring_members(Role::Buyer, record.group) {
                    if rng.gen_bool(config.buyer_follows_ring_buyer) {
                        follow(&mut follows, src, other, &mut rng);
                    }
                }
                for &aggregator in ring_members(Role::Aggregator, record.group) {
                    if rng.gen_bool(0.5) {
                        follow(&mut follows, src, aggregator, &mut rng);
                    }
                }
                for (role, how_many) in [
                    (Role::ParentRun, config.buyer_follows_parent_run),
                    (Role::AdultContent, config.buyer_follows_adult_content),
                ] {
                    for _ in 0..how_many {
                        if let Some(&dst) = of(role).choose(&mut rng) {
                            follow(&mut follows, src, dst, &mut rng);
                        }
                    }
                }
                for _ in 0..config.buyer_follows_minors {
                    if let Some(&dst) = lists.minors.choose(&mut rng) {
                        follow(&mut follows, src, dst, &mut rng);
                    }
                }
                let benign = if record.camouflaged {
                    config.camouflage_benign_follows + 5
                } else {
                    5
                };
                for _ in 0..benign {
                    follow(&mut follows, src, popularity.sample(&mut rng), &mut rng);
                }
            }
            Role::Aggregator => {
                for seller in &primaries {
                    let same_ring = roles[*seller as usize].group == record.group;
                    if rng.gen_bool(if same_ring { 0.8 } else { 0.1 }) {
                        follow(&mut follows, src, *seller, &mut rng);
                    }
                }
            }
        }
        if src % 4096 == 0 {
            progress.update("follows", u64::from(src), n as u64);
        }
    }
    // Buyers who read a seller's bio follow the backup it names, now and then.
    for backup in &backup_records {
        for &buyer in ring_members(Role::Buyer, roles[backup.account as usize].group) {
            if rng.gen_bool(0.05) {
                follows.push(AccountEdge {
                    src: buyer,
                    dst: backup.account,
                    at: days - 1,
                });
            }
        }
    }
    follows.sort_by_key(|e| (e.src, e.dst, e.at));
    follows.dedup_by_key(|e| (e.src, e.dst));
    progress.update("follows", n as u64, n as u64);

    // 5. Views: ordinary browsing, buyers returning to sellers, advocates' one glance.
    let mut rng = stream(seed, Stream::Views);
    let mut views: Vec<AccountEdge> = Vec::new();
    let mut reports: Vec<AccountEdge> = Vec::new();
    let mut out_follows: Vec<Vec<u32>> = vec![Vec::new(); n];
    for edge in &follows {
        out_follows[edge.src as usize].push(edge.dst);
    }
    for record in &roles {
        let src = record.account;
        match record.role {
            Role::Advocate => {
                if let Some(&seller) = primaries.choose(&mut rng) {
                    views.push(AccountEdge {
                        src,
                        dst: seller,
                        at: days - 1,
                    });
                    reports.push(AccountEdge {
                        src,
                        dst: seller,
                        at: days - 1,
                    });
                }
            }
            Role::Buyer | Role::Aggregator => {
                for &dst in &out_follows[src as usize] {
                    if roles[dst as usize].role.in_network()
                        || accounts[dst as usize].declared_age < 18
                    {
                        for _ in 0..rng.gen_range(1..4) {
                            views.push(AccountEdge {
                                src,
                                dst,
                                at: rng.gen_range(0..days),
                            });
                        }
                    }
                }
            }
            _ => {
                let k = poisson_like(&mut rng, config.mean_views);
                for _ in 0..k {
                    let followed = &out_follows[src as usize];
                    let dst = if !followed.is_empty() && rng.gen_bool(0.7) {
                        followed[rng.gen_range(0..followed.len())]
                    } else {
                        popularity.sample(&mut rng)
                    };
                    if dst != src {
                        views.push(AccountEdge {
                            src,
                            dst,
                            at: rng.gen_range(0..days),
                        });
                    }
                }
            }
        }
    }
    // Followers of an advocate visit her profile.
    for edge in &follows {
        if roles[edge.dst as usize].role == Role::Advocate {
            views.push(AccountEdge {
                src: edge.src,
                dst: edge.dst,
                at: days - 1,
            });
        }
    }
    progress.update("views", views.len() as u64, views.len() as u64);

    // 6. Likes and comments on the posts of followed accounts.
    let mut rng = stream(seed, Stream::Likes);
    let mut likes: Vec<PostEdge> = Vec::new();
    let mut comments: Vec<PostEdge> = Vec::new();
    for edge in &follows {
        let liker_role = roles[edge.src as usize].role;
        for &post in posts_by_author[edge.dst as usize].iter().take(8) {
            let post_record = &posts[post as usize];
            let rate = match (liker_role, post_record.features_minor) {
                (Role::Buyer | Role::Aggregator, true) => config.buyer_likes_minor_posts,
                (Role::Buyer | Role::Aggregator, false) => 0.1,
                _ => config.ordinary_like_rate,
            };
            if rng.gen_bool(rate.clamp(0.0, 1.0)) {
                let at = post_record.created_at.max(edge.at).min(days - 1);
                likes.push(PostEdge {
                    account: edge.src,
                    post,
                    at,
                });
                if rng.gen_bool(0.15) {
                    comments.push(PostEdge {
                        account: edge.src,
                        post,
                        at,
                    });
                }
            }
        }
    }
    progress.update("likes", likes.len() as u64, likes.len() as u64);

    // 7. Searches.
    let mut rng = stream(seed, Stream::Searches);
    let mut searches = Vec::new();
    for record in &roles {
        let account = &accounts[record.account as usize];
        let queries: Vec<String> = match record.role {
            Role::Buyer | Role::Aggregator => (0..3)
                .map(|_| {
                    let base = BANNED_BASES[rng.gen_range(0..BANNED_BASES.len())];
                    let forms = variants(base);
                    if rng.gen_bool(0.5) {
                        base.to_string()
                    } else {
                        forms[rng.gen_range(0..forms.len())].0.clone()
                    }
                })
                .collect(),
            _ if rng.gen_bool(0.3) => account.interests.iter().take(1).cloned().collect(),
            _ => Vec::new(),
        };
        for query in queries {
            searches.push(SearchEvent {
                account: record.account,
                at: rng.gen_range(0..days),
                query,
            });
        }
    }

    // 8. Reports and blocks: minors followed by buyers sometimes push back.
    let mut rng = stream(seed, Stream::Reports);
    let mut blocks = Vec::new();
    for edge in &follows {
        if roles[edge.src as usize].role == Role::Buyer
            && accounts[edge.dst as usize].declared_age < 18
        {
            if rng.gen_bool(0.15) {
                blocks.push(AccountEdge {
                    src: edge.dst,
                    dst: edge.src,
                    at: edge.at,
                });
            }
            if rng.gen_bool(0.1) {
                reports.push(AccountEdge {
                    src: edge.dst,
                    dst: edge.src,
                    at: edge.at,
                });
            }
        }
    }
    reports.sort_by_key(|e| (e.at, e.src, e.dst));
    views.sort_by_key(|e| (e.at, e.src, e.dst));
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
        accounts,
        posts,
        follows,
        views,
        likes,
        comments,
        searches,
        reports,
        blocks,
    };
    let truth = GroundTruth {
        roles,
        backups: backup_records,
        tokens: token_records(),
    };
    (world, truth)
}

fn draw_gender(rng: &mut ChaCha8Rng, women: f64, other: f64) -> Gender {
    let x: f64 = rng.r#gen();
    if x < other {
        Gender::Other
    } else if x < other + women * (1.0 - other) {
        Gender::Woman
    } else {
        Gender::Man
    }
}

fn poisson_like(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    // A geometric count with the given mean: cheap, heavy enough tail for activity.
    if mean <= 0.0 {
        return 0;
    }
    let p = 1.0 / (1.0 + mean);
    let mut k = 0;
    while !rng.gen_bool(p) && k < 1000 {
        k += 1;
    }
    k
}

fn lognormal_count(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    // Log-normal with sigma 1 and the requested mean: a heavy tail of follow counts.
    let sigma = 1.0_f64;
    let mu = mean.max(1.0).ln() - sigma * sigma / 2.0;
    let (u1, u2): (f64, f64) = (rng.r#gen::<f64>().max(1e-12), rng.r#gen());
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    ((mu + sigma * normal).exp().round() as u32).clamp(1, 5000)
}

/// Sampling accounts in proportion to a Pareto popularity weight (power-law in-degree).
struct Popularity {
    accounts: Vec<u32>,
    cumulative: Vec<f64>,
}

impl Popularity {
    fn new(accounts: &[u32], exponent: f64, rng: &mut ChaCha8Rng) -> Self {
        let mut total = 0.0;
        let cumulative = accounts
            .iter()
            .map(|_| {
                let u: f64 = rng.r#gen::<f64>().max(1e-9);
                total += u.powf(-1.0 / exponent).min(1e4);
                total
            })
            .collect();
        Popularity {
            accounts: accounts.to_vec(),
            cumulative,
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.r#gen::<f64>() * total;
        let index = self
            .cumulative
            .partition_point(|&c| c < x)
            .min(self.accounts.len().saturating_sub(1));
        self.accounts.get(index).copied().unwrap_or(0)
    }
}

fn seller_bio(rng: &mut ChaCha8Rng, backup_handle: Option<&str>) -> String {
    let mut parts = vec![
        format!("{}{}", EMOJI_CODES[0], EMOJI_CODES[1]),
        if rng.gen_bool(0.5) {
            format!("on chapter {}", rng.gen_range(12..17))
        } else {
            // The reversed-age code: "age 41 ⬅️" reads backwards as 14.
            format!("age {}1 {}", rng.gen_range(2..8), EMOJI_CODES[2])
        },
        format!("{} menu", LEET_WORDS[rng.gen_range(0..LEET_WORDS.len())]),
        format!(
            "pay ${}-{:04}",
            ["quil", "zenpay", "movr"][rng.gen_range(0..3)],
            rng.gen_range(0..10_000)
        ),
        format!("{FILE_SERVICE}/{:x}", rng.r#gen::<u32>() & 0xffff),
    ];
    if let Some(handle) = backup_handle {
        parts.push(format!("backup @{handle}"));
    }
    parts.join(" | ")
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for role in crate::truth::ALL_ROLES {
            assert!(
                truth.roles.iter().any(|r| r.role == role),
                "{role:?} missing"
            );
        }
        let n = world.accounts.len() as u32;
        assert!(
            world
                .follows
                .iter()
                .all(|e| e.src < n && e.dst < n && e.src != e.dst && e.at < world.meta.days)
        );
        assert!(
            world
                .likes
                .iter()
                .all(|e| (e.post as usize) < world.posts.len())
        );
        assert!(!truth.backups.is_empty());
        // Some sellers camouflage: their bios carry none of the coded vocabulary.
        let tokens = crate::vocabulary::token_records();
        let coded = |bio: &str| tokens.iter().any(|t| bio.contains(&t.token));
        let sellers: Vec<&RoleRecord> = truth
            .roles
            .iter()
            .filter(|r| {
                r.role == Role::Seller && world.accounts[r.account as usize].created_at == 0
            })
            .collect();
        assert!(
            sellers
                .iter()
                .any(|r| r.camouflaged && !coded(&world.accounts[r.account as usize].bio))
        );
        assert!(
            sellers
                .iter()
                .any(|r| !r.camouflaged && coded(&world.accounts[r.account as usize].bio))
        );
    }
}
