//! Phase 2: what each account shows the world. Declared age and gender, country,
//! interests (child topics for parents and for some ordinary adults, men's and women's
//! topics, niche topics), and a bio: sellers who do not camouflage write the coded
//! vocabulary (emoji codes, age codes, leet words, a payment handle, a file-service link and
//! the backup handle), everyone else writes something ordinary.
//!
//! What it must never do: put a role in a public field. A bio may read like a seller's
//! because sellers write such bios, never because the record says "seller".

use guardrail_types::{AccountId, Day, Gender};
use guardrail_world::Account;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::roles::Cast;
use super::{Stream, stream};
use crate::config::WorldConfig;
use crate::truth::Role;
use crate::vocabulary::{EMOJI_CODES, FILE_SERVICE, LEET_WORDS};

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

/// The public accounts and the lists later phases draw from.
pub(super) struct People {
    /// Every account's public record, by id.
    pub accounts: Vec<Account>,
    /// Declared minors, in id order.
    pub minors: Vec<u32>,
    /// Ordinary accounts and advocates with a child topic among their interests, in id order.
    pub child_topic: Vec<u32>,
}

/// Draws every account's public profile.
pub(super) fn profiles(config: &WorldConfig, seed: u64, cast: &Cast, days: u32) -> People {
    let n = cast.roles.len();
    let mut rng = stream(seed, Stream::Attributes);
    let handles: Vec<String> = (0..n)
        .map(|id| format!("u{:x}{:03}", rng.r#gen::<u32>() & 0xfffff, id % 1000))
        .collect();
    let backup_of_original: std::collections::HashMap<u32, u32> = cast
        .backups
        .iter()
        .map(|b| (b.backup_of.0, b.account.0))
        .collect();
    let mut minors = Vec::new();
    let mut child_topic = Vec::new();
    let mut accounts = Vec::with_capacity(n);
    for (id, record) in cast.roles.iter().enumerate() {
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
            id: AccountId(id32),
            handle: handles[id].clone(),
            declared_age: age,
            gender,
            country: COUNTRIES[rng.gen_range(0..COUNTRIES.len())].to_string(),
            interests,
            business: record.role == Role::Brand,
            created_at: Day(if cast.is_backup[id] { days - 1 } else { 0 }),
            bio,
        });
    }
    People {
        accounts,
        minors,
        child_topic,
    }
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
