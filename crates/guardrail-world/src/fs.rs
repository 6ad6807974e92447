//! The file-system edge: writing a world folder's public tables and loading them back.
//!
//! What it is for: the folder layout of `docs/world-format.md` — `meta.json` and the public
//! tables at the top — and format detection per table (`.csv` or `.jsonl`, the same loader
//! for both). What it must never do: open `truth/`. Ground truth belongs to the generator
//! (`guardrail-sim`), which writes and reads it through [`write_table`] and [`load_table`].

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::format::{Format, LoadError, Record, read_records, write_records};
use crate::world::{World, WorldMeta};

/// Public tables of a world folder, in write order (file stems).
pub const PUBLIC_TABLES: [&str; 9] = [
    "accounts", "posts", "follows", "views", "likes", "comments", "searches", "reports", "blocks",
];
/// Writes one table as `<dir>/<stem>.<csv|jsonl>`, streamed through a buffered writer.
pub fn write_table<R: Record>(
    dir: &Path,
    stem: &str,
    format: Format,
    records: &[R],
) -> io::Result<()> {
    let path = dir.join(format!("{stem}.{}", format.extension()));
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    write_records(&mut out, format, records)?;
    out.flush()
}

/// Writes a world folder's public part: `meta.json` and the public tables. `on_table` is
/// called after each table with its stem.
pub fn write_public_tables(
    dir: &Path,
    world: &World,
    format: Format,
    on_table: &mut dyn FnMut(&str),
) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let meta = serde_json::to_string_pretty(&world.meta).map_err(io::Error::other)?;
    fs::write(dir.join("meta.json"), meta + "\n")?;
    write_table(dir, "accounts", format, &world.accounts)?;
    on_table("accounts");
    write_table(dir, "posts", format, &world.posts)?;
    on_table("posts");
    for (stem, edges) in [
        ("follows", &world.follows),
        ("views", &world.views),
        ("reports", &world.reports),
        ("blocks", &world.blocks),
    ] {
        write_table(dir, stem, format, edges)?;
        on_table(stem);
    }
    for (stem, edges) in [("likes", &world.likes), ("comments", &world.comments)] {
        write_table(dir, stem, format, edges)?;
        on_table(stem);
    }
    write_table(dir, "searches", format, &world.searches)?;
    on_table("searches");
    Ok(())
}

/// Finds `<stem>.csv` or `<stem>.jsonl` in `dir` (exactly one must exist).
fn find_table(dir: &Path, stem: &str) -> Result<PathBuf, LoadError> {
    let candidates: Vec<PathBuf> = ["csv", "jsonl"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(LoadError::Io {
            origin: dir.join(format!("{stem}.csv")).display().to_string(),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                format!("no {stem}.csv or {stem}.jsonl"),
            ),
        }),
        _ => Err(LoadError::Io {
            origin: dir.join(stem).display().to_string(),
            source: io::Error::other(format!("both {stem}.csv and {stem}.jsonl exist; keep one")),
        }),
    }
}

/// Loads one table from `<dir>/<stem>.csv` or `<dir>/<stem>.jsonl` (exactly one must exist).
pub fn load_table<R: Record>(dir: &Path, stem: &str) -> Result<Vec<R>, LoadError> {
    let path = find_table(dir, stem)?;
    let origin = path.display().to_string();
    let file = File::open(&path).map_err(|source| LoadError::Io {
        origin: origin.clone(),
        source,
    })?;
    read_records(BufReader::with_capacity(1 << 20, file), &origin)
}

/// Loads the public part of a world folder (never `truth/`). `meta.json` is optional for
/// worlds exported from elsewhere. Ids must be dense: account `i` on line `i`.
pub fn load_world(dir: &Path) -> Result<World, LoadError> {
    let meta_path = dir.join("meta.json");
    let meta = if meta_path.is_file() {
        let origin = meta_path.display().to_string();
        let text = fs::read_to_string(&meta_path).map_err(|source| LoadError::Io {
            origin: origin.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| LoadError::Invalid {
            origin,
            line: e.line(),
            field: "meta".to_string(),
            message: e.to_string(),
        })?
    } else {
        WorldMeta {
            synthetic: false,
            seed: 0,
            format_version: 1,
            days: 30,
        }
    };
    let world = World {
        meta,
        accounts: load_table(dir, "accounts")?,
        posts: load_table(dir, "posts")?,
        follows: load_table(dir, "follows")?,
        views: load_table(dir, "views")?,
        likes: load_table(dir, "likes")?,
        comments: load_table(dir, "comments")?,
        searches: load_table(dir, "searches")?,
        reports: load_table(dir, "reports")?,
        blocks: load_table(dir, "blocks")?,
    };
    check_dense(dir, &world)?;
    Ok(world)
}

fn check_dense(dir: &Path, world: &World) -> Result<(), LoadError> {
    let bad = |stem: &str, line: usize, field: &str, message: String| LoadError::Invalid {
        origin: dir.join(stem).display().to_string(),
        line,
        field: field.to_string(),
        message,
    };
    if let Some(i) = world
        .accounts
        .iter()
        .enumerate()
        .position(|(i, a)| a.id.index() != i)
    {
        return Err(bad(
            "accounts",
            i + 2,
            "id",
            format!("expected dense ids: id {i} on data row {}", i + 1),
        ));
    }
    if let Some(i) = world
        .posts
        .iter()
        .enumerate()
        .position(|(i, p)| p.id.index() != i)
    {
        return Err(bad(
            "posts",
            i + 2,
            "id",
            format!("expected dense ids: id {i} on data row {}", i + 1),
        ));
    }
    let n = world.accounts.len();
    for (stem, edges) in [
        ("follows", &world.follows),
        ("views", &world.views),
        ("reports", &world.reports),
        ("blocks", &world.blocks),
    ] {
        if let Some(i) = edges
            .iter()
            .position(|e| e.src.index() >= n || e.dst.index() >= n)
        {
            return Err(bad(
                stem,
                i + 2,
                "src/dst",
                format!("account id out of range (there are {n} accounts)"),
            ));
        }
    }
    if let Some(i) = world.posts.iter().position(|p| p.author.index() >= n) {
        return Err(bad(
            "posts",
            i + 2,
            "author",
            format!("account id out of range (there are {n} accounts)"),
        ));
    }
    let posts = world.posts.len();
    for (stem, edges) in [("likes", &world.likes), ("comments", &world.comments)] {
        if let Some(i) = edges.iter().position(|e| e.account.index() >= n) {
            return Err(bad(
                stem,
                i + 2,
                "account",
                format!("account id out of range (there are {n} accounts)"),
            ));
        }
        if let Some(i) = edges.iter().position(|e| e.post.index() >= posts) {
            return Err(bad(
                stem,
                i + 2,
                "post",
                format!("post id out of range (there are {posts} posts)"),
            ));
        }
    }
    if let Some(i) = world.searches.iter().position(|s| s.account.index() >= n) {
        return Err(bad(
            "searches",
            i + 2,
            "account",
            format!("account id out of range (there are {n} accounts)"),
        ));
    }
    Ok(())
}
