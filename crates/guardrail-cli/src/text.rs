//! `guardrail text`: the text guard on the command line.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use guardrail_text::{
    Policy, TextDecision, TextPlace, TextVerdict, check_bytes, filter_suggestions, normalize,
    normalize_options,
};
use serde::Serialize;

use crate::inputs::load_policy;

/// Arguments of `guardrail text`.
#[derive(Debug, Args)]
pub struct TextArgs {
    #[command(subcommand)]
    command: TextCommand,
}

#[derive(Debug, Subcommand)]
enum TextCommand {
    /// Check text: one verdict per input line (or per argument).
    ///
    /// Reads lines from standard input unless texts are given as arguments. Lines need
    /// not be valid UTF-8: bad bytes are replaced and reported, never fatal.
    Check(CheckArgs),
    /// Show how a text is normalised: the folded view and the term view.
    Explain(ExplainArgs),
    /// Filter autocomplete candidates (one per stdin line) for a typed prefix.
    Suggest(SuggestArgs),
    /// Load a policy file and report its rules, or the first error with file and line.
    Policy(PolicyArgs),
}

#[derive(Debug, Args)]
struct PolicySource {
    /// Policy file (TOML). Defaults to the shipped policy of publicly reported terms.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

impl PolicySource {
    fn load(&self) -> Result<Policy> {
        match &self.policy {
            None => Ok(Policy::default_policy()),
            Some(path) => load_policy(path),
        }
    }
}

/// Places of text by their names (one list, kept in `guardrail-types`).
fn place_values() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(TextPlace::ALL.map(TextPlace::name))
}

fn parse_place(name: &str) -> TextPlace {
    // Clap has already checked the name against `place_values`.
    name.parse().unwrap_or(TextPlace::Search)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FailOn {
    Restrict,
    Block,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    policy: PolicySource,
    /// Where the text sits (search, hashtag, autocomplete, bio, caption, comment,
    /// username); places treat tiers differently. `--place` is the same flag.
    #[arg(long, alias = "place", default_value = "search", value_parser = place_values())]
    surface: String,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 if any input gets this verdict or a stricter one.
    #[arg(long, value_enum, value_name = "VERDICT")]
    fail_on: Option<FailOn>,
    /// Texts to check; without them, lines are read from standard input.
    texts: Vec<String>,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// The text to explain.
    text: String,
    /// Where the text sits (hashtag and username split CamelCase everywhere).
    #[arg(long, alias = "place", default_value = "search", value_parser = place_values())]
    surface: String,
}

#[derive(Debug, Args)]
struct SuggestArgs {
    #[command(flatten)]
    policy: PolicySource,
    /// The prefix the user typed.
    #[arg(long)]
    prefix: String,
    /// One JSON object per candidate instead of the kept candidates.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PolicyArgs {
    /// The policy file to check.
    file: PathBuf,
}

/// Runs `guardrail text`.
pub fn run(args: TextArgs) -> Result<ExitCode> {
    match args.command {
        TextCommand::Check(args) => run_check(args),
        TextCommand::Explain(args) => run_explain(args),
        TextCommand::Suggest(args) => run_suggest(args),
        TextCommand::Policy(args) => run_policy(args),
    }
}

#[derive(Serialize)]
struct VerdictLine<'a> {
    input: String,
    verdict: TextDecision,
    /// The place's name under the CLI's original field name.
    surface: TextPlace,
    #[serde(flatten)]
    detail: &'a TextVerdict,
}

fn run_check(args: CheckArgs) -> Result<ExitCode> {
    let policy = args.policy.load()?;
    let place = parse_place(&args.surface);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let threshold = args.fail_on.map(|f| match f {
        FailOn::Restrict => TextDecision::Restrict,
        FailOn::Block => TextDecision::Block,
    });
    let mut failed = false;
    let mut emit = |input: &[u8], out: &mut BufWriter<io::StdoutLock>| -> Result<()> {
        let verdict = check_bytes(&policy, place, input);
        if threshold.is_some_and(|t| verdict.decision >= t) {
            failed = true;
        }
        if args.json {
            let line = VerdictLine {
                input: String::from_utf8_lossy(input).into_owned(),
                verdict: verdict.decision,
                surface: verdict.place,
                detail: &verdict,
            };
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
        } else {
            write_plain(out, input, &verdict)?;
        }
        Ok(())
    };
    if args.texts.is_empty() {
        let stdin = io::stdin();
        let mut reader = stdin.lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .context("cannot read standard input")?;
            if read == 0 {
                break;
            }
            if line.last() == Some(&b'\n') {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            }
            emit(&line, &mut out)?;
        }
    } else {
        for text in &args.texts {
            emit(text.as_bytes(), &mut out)?;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `DECISION<TAB>INPUT<TAB>rule@start..end(tier,category,stages) ...`
fn write_plain(out: &mut impl Write, input: &[u8], verdict: &TextVerdict) -> Result<()> {
    let shown = String::from_utf8_lossy(input);
    let shown: String = if shown.chars().count() > 120 {
        shown.chars().take(117).chain("...".chars()).collect()
    } else {
        shown.into_owned()
    };
    write!(out, "{}\t{}", verdict.decision, shown.escape_debug())?;
    if verdict.decision != TextDecision::Allow {
        write!(out, "\tdecided_by={}", verdict.decided_by)?;
    }
    if verdict.risk_score > 0.0 {
        write!(out, "\trisk={:.2}", verdict.risk_score)?;
    }
    for found in &verdict.matches {
        let stages: Vec<&str> = found.stages.iter().map(|s| s.name()).collect();
        write!(
            out,
            "\t{}@{}..{}({},{}{}{})",
            found.rule,
            found.span.start,
            found.span.end,
            found.tier.name(),
            found.category,
            if stages.is_empty() { "" } else { "," },
            stages.join("+"),
        )?;
    }
    for diagnostic in &verdict.diagnostics {
        write!(out, "\tdiagnostic: {}", diagnostic.message)?;
    }
    writeln!(out)?;
    Ok(())
}

fn run_explain(args: ExplainArgs) -> Result<ExitCode> {
    let place = parse_place(&args.surface);
    let normalized = normalize(args.text.as_bytes(), &normalize_options(place));
    println!("input:     {}", args.text.escape_debug());
    println!("folded:    {}", normalized.folded().escape_debug());
    println!("term view: {}", normalized.term_text().escape_debug());
    for diagnostic in normalized.diagnostics() {
        println!("note:      {}", diagnostic.message);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_suggest(args: SuggestArgs) -> Result<ExitCode> {
    let policy = args.policy.load()?;
    let stdin = io::stdin();
    let mut candidates = Vec::new();
    for line in stdin.lock().lines() {
        candidates.push(line.context("cannot read candidates from standard input")?);
    }
    let result = filter_suggestions(&policy, &args.prefix, candidates.iter().map(String::as_str));
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        for outcome in &result.candidates {
            serde_json::to_writer(&mut out, outcome)?;
            writeln!(out)?;
        }
    } else {
        for kept in result.kept() {
            writeln!(out, "{kept}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn run_policy(args: PolicyArgs) -> Result<ExitCode> {
    let policy = load_policy(&args.file)?;
    println!(
        "{}: {} terms, {} patterns, ok",
        policy.name(),
        policy.terms().len(),
        policy.patterns().len()
    );
    Ok(ExitCode::SUCCESS)
}
