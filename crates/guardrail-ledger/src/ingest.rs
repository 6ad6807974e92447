//! A world's public tables as ledger events, in time order: how a generated world (or a
//! platform's export in the world format) enters the ledger through the same path as live
//! events.
//!
//! Day `d` of the world becomes Unix time [`WORLD_EPOCH`]` + d × 86,400`. Within a day,
//! accounts are created first, then posts are published, then follows, views, likes,
//! comments, searches, reports and blocks, each table in file order. Account ids become
//! their decimal strings, posts `p-<id>`; event ids name the table and the row, so ingesting
//! the same world twice stores nothing new.
//!
//! What it must never do: read ground truth. It takes a [`World`], which has none.

use guardrail_types::{Day, SECONDS_PER_DAY};
use guardrail_world::World;

use crate::event::{
    AccountAction, AccountCreated, Event, Payload, PostAction, PostPublished, SearchMade,
};

/// Unix time of a world's day 0: 2025-11-29 00:00 UTC.
pub const WORLD_EPOCH: u64 = 1_764_374_400;

/// Unix time of a world's day.
pub fn world_time(day: Day) -> u64 {
    WORLD_EPOCH + day.number() * SECONDS_PER_DAY
}

/// The platform id a world account gets in the ledger.
pub fn account_key(id: guardrail_types::AccountId) -> String {
    id.0.to_string()
}

/// The platform id a world post gets in the ledger.
pub fn post_key(id: guardrail_types::PostId) -> String {
    format!("p-{}", id.0)
}

/// Every public record of `world` as an event, sorted by time (stable within a day in the
/// order the module doc gives).
pub fn world_events(world: &World) -> Vec<Event> {
    // (day, table rank, row) orders the stream; the row keeps file order within a table.
    let mut keyed: Vec<(Day, u8, usize, Event)> = Vec::with_capacity(
        world.accounts.len() + world.posts.len() + world.edge_count() + world.searches.len(),
    );
    for (row, account) in world.accounts.iter().enumerate() {
        let at = world_time(account.created_at);
        keyed.push((
            account.created_at,
            0,
            row,
            Event::new(
                format!("accounts-{row}"),
                at,
                Payload::AccountCreated(AccountCreated {
                    account: account_key(account.id),
                    handle: account.handle.clone(),
                    declared_age: account.declared_age,
                    bio: account.bio.clone(),
                    emails: Vec::new(),
                    phones: Vec::new(),
                    devices: Vec::new(),
                    payment_handles: Vec::new(),
                    gender: Some(account.gender.as_str().to_string()),
                    country: Some(account.country.clone()),
                    interests: account.interests.clone(),
                    business: account.business,
                }),
            ),
        ));
    }
    for (row, post) in world.posts.iter().enumerate() {
        keyed.push((
            post.created_at,
            1,
            row,
            Event::new(
                format!("posts-{row}"),
                world_time(post.created_at),
                Payload::Post(PostPublished {
                    account: account_key(post.author),
                    post: post_key(post.id),
                    text: post.caption.clone(),
                    hashtags: post.hashtags.clone(),
                    media_hashes: Vec::new(),
                    features_minor: Some(post.features_minor),
                }),
            ),
        ));
    }
    type MakeAction = fn(AccountAction) -> Payload;
    let account_tables: [(&str, u8, &[guardrail_world::AccountEdge], MakeAction); 4] = [
        ("follows", 2, &world.follows, Payload::Follow),
        ("views", 3, &world.views, Payload::View),
        ("reports", 7, &world.reports, Payload::ReportAccount),
        ("blocks", 8, &world.blocks, Payload::Block),
    ];
    for (table, rank, edges, make) in account_tables {
        for (row, edge) in edges.iter().enumerate() {
            keyed.push((
                edge.at,
                rank,
                row,
                Event::new(
                    format!("{table}-{row}"),
                    world_time(edge.at),
                    make(AccountAction {
                        account: account_key(edge.src),
                        target: account_key(edge.dst),
                    }),
                ),
            ));
        }
    }
    type MakeTouch = fn(PostAction) -> Payload;
    let post_tables: [(&str, u8, &[guardrail_world::PostEdge], MakeTouch); 2] = [
        ("likes", 4, &world.likes, Payload::Like),
        ("comments", 5, &world.comments, Payload::Comment),
    ];
    for (table, rank, edges, make) in post_tables {
        for (row, edge) in edges.iter().enumerate() {
            keyed.push((
                edge.at,
                rank,
                row,
                Event::new(
                    format!("{table}-{row}"),
                    world_time(edge.at),
                    make(PostAction {
                        account: account_key(edge.account),
                        post: post_key(edge.post),
                        text: String::new(),
                    }),
                ),
            ));
        }
    }
    for (row, search) in world.searches.iter().enumerate() {
        keyed.push((
            search.at,
            6,
            row,
            Event::new(
                format!("searches-{row}"),
                world_time(search.at),
                Payload::Search(SearchMade {
                    account: account_key(search.account),
                    query: search.query.clone(),
                }),
            ),
        ));
    }
    keyed.sort_by_key(|(day, rank, row, _)| (*day, *rank, *row));
    keyed.into_iter().map(|(_, _, _, event)| event).collect()
}
