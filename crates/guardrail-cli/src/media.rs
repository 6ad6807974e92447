//! `guardrail media`: PDQ hashing of image files and matching against hash banks.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_hashindex::formats::{
    ExportFormat, HashLine, ImportOptions, ListFormat, export, import_list, read_hash_lines,
};
use guardrail_hashindex::{
    Bank, BankConfig, BankKind, Entry, Query, Strategy, encode_bank, match_upload, open_bank,
};
use guardrail_pdq::{DecodeOptions, Dihedral, PdqHasher};
use serde_json::json;

/// Arguments of `guardrail media`.
#[derive(Debug, Args)]
pub struct MediaArgs {
    #[command(subcommand)]
    command: MediaCommand,
}

#[derive(Debug, Subcommand)]
enum MediaCommand {
    /// Hash images: prints `HEX QUALITY PATH` per image, recursing into folders.
    Hash(HashArgs),
    /// Match images (or hex hashes) against hash banks, all 8 dihedrals at once.
    Match(MatchArgs),
    /// Import, export and inspect bank files.
    #[command(subcommand)]
    Bank(BankCommand),
}

#[derive(Debug, Args)]
struct ImageOptions {
    /// Resize images larger than 512 on a side to 512×512 first, as the reference
    /// `pdq-photo-hasher` does (off: hash at full size, as HMA and most lists do).
    #[arg(long)]
    squash_512: bool,
    /// Largest image accepted, in megapixels.
    #[arg(long, default_value_t = 64, value_name = "MP")]
    max_megapixels: u64,
}

impl ImageOptions {
    fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            max_pixels: self.max_megapixels * 1_000_000,
            squash_512: self.squash_512,
            ..DecodeOptions::default()
        }
    }
}

#[derive(Debug, Args)]
struct HashArgs {
    /// Also print the seven rotations and flips (one line each, named).
    #[arg(long)]
    dihedral: bool,
    /// One JSON object per image.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    image: ImageOptions,
    /// Image files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StrategyArg {
    /// Flat SIMD scan.
    Flat,
    /// Multi-index (built at load; exact), or the flat scan for query hashes whose
    /// buckets are crowded by clusters of near-duplicates (chosen per hash).
    Mih,
}

#[derive(Debug, Args)]
struct MatchArgs {
    /// Bank files to match against (positive and negative).
    #[arg(long = "bank", required = true, value_name = "FILE")]
    banks: Vec<PathBuf>,
    /// Largest distance that matches (default: each bank's own, normally 31).
    #[arg(long, value_name = "N")]
    threshold: Option<u32>,
    /// Lowest query quality matched (default: each bank's own floor, normally 50).
    #[arg(long, value_name = "Q")]
    min_quality: Option<u32>,
    /// One JSON object per query.
    #[arg(long)]
    json: bool,
    /// Match the hex hashes in this file (`HEX [QUALITY [PATH]]` per line) instead of images.
    #[arg(long, value_name = "FILE")]
    hashes: Option<PathBuf>,
    /// Search strategy; both give identical results.
    #[arg(long, value_enum, default_value = "flat")]
    strategy: StrategyArg,
    #[command(flatten)]
    image: ImageOptions,
    /// Image files or folders.
    paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum BankCommand {
    /// Build a bank file from hash lists (hex lists, python-threatexchange and HMA files).
    Import(ImportArgs),
    /// Print a bank's entries (CSV `hash,source,entry_id,added_at` by default).
    Export(ExportArgs),
    /// Print a bank's settings and size.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The bank file to write.
    #[arg(long, value_name = "BANK")]
    out: PathBuf,
    /// The bank's name (default: the file's stem).
    #[arg(long)]
    name: Option<String>,
    /// A negative bank: known benign images that suppress matches.
    #[arg(long)]
    negative: bool,
    /// Distance threshold stored in the bank.
    #[arg(long, default_value_t = 31)]
    threshold: u32,
    /// Quality floor stored in the bank.
    #[arg(long, default_value_t = 50)]
    quality_floor: u32,
    /// Source name for entries whose list names none (default: the list's file name).
    #[arg(long)]
    source: Option<String>,
    /// The lists' layout (default: detected from each list's first line).
    #[arg(long, value_enum, default_value = "auto")]
    format: ListFormatArg,
    /// Hash lists to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// List layouts `bank import` reads.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormatArg {
    /// Detect from the first line.
    Auto,
    /// One hex hash per line (extra fields ignored).
    Hex,
    /// CSV with a header naming the columns (ours, `threatexchange dataset --csv`, HMA).
    Csv,
    /// python-threatexchange local file: `SIGNAL_TYPE SIGNAL` per line.
    Pytx,
    /// HMA data file: `hash,id,timestamp,tags` without a header.
    Hma,
}

/// Layouts `bank export` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    /// `hash,source,entry_id,added_at` with a header: all provenance.
    Csv,
    /// One hex hash per line.
    Hex,
    /// `collab,signal_type,signal_str,category,tags`, as `threatexchange dataset --csv`.
    Pytx,
    /// `hash,id,timestamp,tags` without a header, as HMA data files.
    Hma,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The layout to write.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormatArg,
    /// The bank file.
    bank: PathBuf,
}

#[derive(Debug, Args)]
struct InfoArgs {
    /// The bank file.
    bank: PathBuf,
}

/// Runs `guardrail media`.
pub fn run(args: MediaArgs) -> Result<ExitCode> {
    match args.command {
        MediaCommand::Hash(args) => run_hash(args),
        MediaCommand::Match(args) => run_match(args),
        MediaCommand::Bank(BankCommand::Import(args)) => run_import(args),
        MediaCommand::Bank(BankCommand::Export(args)) => run_export(args),
        MediaCommand::Bank(BankCommand::Info(args)) => run_info(args),
    }
}

/// Files under the given paths, folders walked recursively in name order.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if metadata.is_dir() {
            let mut children: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .collect();
            children.sort();
            files.extend(collect_files(&children)?);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn progress(count: usize) -> indicatif::ProgressBar {
    if count >= 100 && io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(count as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} images {per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// Largest image file read; bigger files are refused before reading.
const MAX_FILE_BYTES: u64 = 256 << 20;

fn read_image(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        bail!(
            "{}: file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn run_hash(args: HashArgs) -> Result<ExitCode> {
    let files = collect_files(&args.paths)?;
    let options = args.image.decode_options();
    let bar = progress(files.len());
    let mut hasher = PdqHasher::new();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    for path in &files {
        bar.inc(1);
        let shown = path.display();
        let result = read_image(path).and_then(|bytes| {
            hasher
                .hash_encoded_dihedral(&bytes, &options)
                .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
        });
        match result {
            Ok(output) => {
                if args.json {
                    let mut value = json!({"path": shown.to_string(), "hash": output.hashes[0].to_hex(), "quality": output.quality});
                    if args.dihedral {
                        value["dihedral"] = Dihedral::ALL
                            .iter()
                            .zip(output.hashes.iter())
                            .map(|(d, h)| (d.name().to_string(), json!(h.to_hex())))
                            .collect::<serde_json::Map<_, _>>()
                            .into();
                    }
                    writeln!(out, "{value}")?;
                } else if args.dihedral {
                    for (dihedral, hash) in Dihedral::ALL.iter().zip(output.hashes.iter()) {
                        writeln!(out, "{hash} {} {shown} {}", output.quality, dihedral.name())?;
                    }
                } else {
                    // The line `media match --hashes` reads back (`formats::read_hash_lines`).
                    let line = HashLine {
                        hash: output.hashes[0],
                        quality: output.quality,
                        label: shown.to_string(),
                    };
                    writeln!(out, "{line}")?;
                }
            }
            Err(error) => {
                failures += 1;
                bar.suspend(|| eprintln!("guardrail: {error:#}"));
                if args.json {
                    writeln!(
                        out,
                        "{}",
                        json!({"path": shown.to_string(), "error": format!("{error:#}")})
                    )?;
                }
            }
        }
    }
    bar.finish_and_clear();
    out.flush()?;
    Ok(if failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Queries from a hash file: `HEX [QUALITY [PATH]]` per line.
fn queries_from_file(path: &Path) -> Result<Vec<(String, Query)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let lines = read_hash_lines(text.as_bytes(), &path.display().to_string())?;
    Ok(lines
        .into_iter()
        .map(|line| {
            (
                line.label,
                Query {
                    hashes: vec![line.hash],
                    quality: line.quality,
                },
            )
        })
        .collect())
}

fn run_match(args: MatchArgs) -> Result<ExitCode> {
    let strategy = match args.strategy {
        StrategyArg::Flat => Strategy::Flat,
        StrategyArg::Mih => Strategy::MultiIndex,
    };
    let mut banks = Vec::new();
    for path in &args.banks {
        let mut bank = open_bank(path)?;
        if strategy == Strategy::MultiIndex {
            bank.build_multi_index()?;
        }
        banks.push(bank);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    let report = |label: &str, query: &Query, out: &mut BufWriter<io::StdoutLock>| -> Result<()> {
        let outcome = match_upload(&banks, query, args.threshold, args.min_quality, strategy);
        let dihedral_name = |index: usize| {
            if query.hashes.len() == 8 {
                Dihedral::ALL[index].name()
            } else {
                "orig"
            }
        };
        if args.json {
            let matches: Vec<serde_json::Value> = outcome
                .matches
                .iter()
                .map(|m| json!({"hash": m.entry.hash.to_hex(), "distance": m.distance, "dihedral": dihedral_name(m.query_hash), "bank": m.bank, "entry": m.entry.entry_id, "source": m.entry.source, "added_at": m.entry.added_at}))
                .collect();
            let mut value = json!({"query": query.hashes[0].to_hex(), "path": label, "quality": query.quality, "matches": matches});
            if !outcome.suppressed.is_empty() {
                value["suppressed_by_negative_bank"] = json!(
                    outcome
                        .benign
                        .iter()
                        .map(|m| format!("{}:{}", m.bank, m.entry.entry_id))
                        .collect::<Vec<_>>()
                );
            }
            writeln!(out, "{value}")?;
        } else {
            writeln!(
                out,
                "{} {} {label}: {} match(es)",
                query.hashes[0],
                query.quality,
                outcome.matches.len()
            )?;
            for m in &outcome.matches {
                writeln!(
                    out,
                    "  {} distance {} dihedral {} bank {} entry {}",
                    m.entry.hash,
                    m.distance,
                    dihedral_name(m.query_hash),
                    m.bank,
                    m.entry.entry_id
                )?;
            }
            if !outcome.suppressed.is_empty() {
                writeln!(
                    out,
                    "  {} match(es) suppressed: known benign ({})",
                    outcome.suppressed.len(),
                    outcome.benign[0].bank
                )?;
            }
        }
        Ok(())
    };
    if let Some(path) = &args.hashes {
        for (label, query) in queries_from_file(path)? {
            report(&label, &query, &mut out)?;
        }
    }
    let files = collect_files(&args.paths)?;
    let options = args.image.decode_options();
    let mut hasher = PdqHasher::new();
    let bar = progress(files.len());
    for path in &files {
        bar.inc(1);
        let shown = path.display().to_string();
        match read_image(path).and_then(|bytes| {
            hasher
                .hash_encoded_dihedral(&bytes, &options)
                .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
        }) {
            Ok(output) => report(
                &shown,
                &Query {
                    hashes: output.hashes.to_vec(),
                    quality: output.quality,
                },
                &mut out,
            )?,
            Err(error) => {
                failures += 1;
                bar.suspend(|| eprintln!("guardrail: {error:#}"));
            }
        }
    }
    bar.finish_and_clear();
    if args.hashes.is_none() && args.paths.is_empty() {
        bail!("give image paths, or --hashes FILE");
    }
    out.flush()?;
    Ok(if failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_import(args: ImportArgs) -> Result<ExitCode> {
    let mut entries: Vec<Entry> = Vec::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let source = args.source.clone().unwrap_or_else(|| {
            file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        });
        let options = ImportOptions {
            format: match args.format {
                ListFormatArg::Auto => ListFormat::Auto,
                ListFormatArg::Hex => ListFormat::Hex,
                ListFormatArg::Csv => ListFormat::Csv,
                ListFormatArg::Pytx => ListFormat::PytxFile,
                ListFormatArg::Hma => ListFormat::HmaDatafile,
            },
            default_source: &source,
            kind: if args.negative {
                BankKind::Negative
            } else {
                BankKind::Positive
            },
        };
        match import_list(&text, &options) {
            Ok(found) => {
                // Skipped rows are normal in shared lists (other signal types, opinions
                // for the other kind of bank) but are said aloud, never dropped silently.
                if found.skipped_other_signal_types > 0 {
                    eprintln!(
                        "guardrail: {}: skipped {} row(s) of other signal types",
                        file.display(),
                        found.skipped_other_signal_types
                    );
                }
                if found.skipped_by_category > 0 {
                    eprintln!(
                        "guardrail: {}: skipped {} row(s) whose category does not belong in a {} bank",
                        file.display(),
                        found.skipped_by_category,
                        options.kind
                    );
                }
                entries.extend(found.entries);
            }
            Err(errors) => {
                for error in errors.iter().take(20) {
                    eprintln!("guardrail: {}:{}", file.display(), error);
                }
                bail!(
                    "{}: {} bad line(s); nothing was imported",
                    file.display(),
                    errors.len()
                );
            }
        }
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map_or_else(|| "bank".to_string(), |s| s.to_string_lossy().into_owned())
    });
    let config = BankConfig {
        name,
        kind: if args.negative {
            BankKind::Negative
        } else {
            BankKind::Positive
        },
        threshold: args.threshold,
        quality_floor: args.quality_floor,
    };
    let bytes = encode_bank(&config, &entries);
    // Write beside the target and rename, so a process mapping the old file never sees
    // a half-written one.
    let partial = args.out.with_extension("partial");
    std::fs::write(&partial, &bytes)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("cannot move {} into place", args.out.display()))?;
    println!(
        "{}: {} entries, {} bank \"{}\", threshold {}, quality floor {}",
        args.out.display(),
        entries.len(),
        config.kind,
        config.name,
        config.threshold,
        config.quality_floor
    );
    Ok(ExitCode::SUCCESS)
}

fn run_export(args: ExportArgs) -> Result<ExitCode> {
    let bank = open_bank(&args.bank)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let format = match args.format {
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Hex => ExportFormat::Hex,
        ExportFormatArg::Pytx => ExportFormat::PytxDataset,
        ExportFormatArg::Hma => ExportFormat::HmaDatafile,
    };
    let text = export(bank.entries().map(|(_, e)| e), format, bank.config().kind);
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn run_info(args: InfoArgs) -> Result<ExitCode> {
    let bank: Bank = open_bank(&args.bank)?;
    let config = bank.config();
    let size = std::fs::metadata(&args.bank).map(|m| m.len()).unwrap_or(0);
    let mut sources: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (_, entry) in bank.entries() {
        *sources.entry(entry.source).or_insert(0) += 1;
    }
    println!("bank:          {}", config.name);
    println!("file:          {} ({size} bytes)", args.bank.display());
    println!("kind:          {}", config.kind);
    println!("entries:       {}", bank.len());
    println!("threshold:     {}", config.threshold);
    println!("quality floor: {}", config.quality_floor);
    for (source, count) in sources {
        println!("source:        {source} ({count})");
    }
    Ok(ExitCode::SUCCESS)
}
