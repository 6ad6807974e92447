//! `cargo bench -p guardrail-text --bench text_guard`: the text guard side by side with
//! `rustrict` (the established evasion-aware Rust filter, with our terms added to it),
//! in one run, on the same inputs.
//!
//! 1. Throughput on one core over a generated corpus of one million mixed inputs
//!    (hashtags, search queries, bios), with the default policy and with a
//!    10,000-term policy; hashtag-length strings separately.
//! 2. Memory: heap held by each compiled policy, and resident memory growth.
//! 3. Hits and false hits on the evasion table (`tests/data/evasion_table.tsv`).
//!
//! Set `GUARDRAIL_BENCH_INPUTS` to change the corpus size (default 1,000,000).

#[path = "../tests/common/evasion_table.rs"]
mod evasion_table;

use std::hint::black_box;
use std::time::Instant;

use guardrail_text::{Policy, TextDecision, TextPlace, check};
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;
use rustrict::{Censor, Trie, Type};

const EVASION_POLICY: &str = include_str!("../tests/data/evasion_policy.toml");

fn main() {
    // `cargo test --benches` runs bench targets with `--bench`-less args; keep that quick.
    let quick = std::env::args().any(|a| a == "--test")
        || std::env::var_os("GUARDRAIL_BENCH_QUICK").is_some();
    let inputs: usize = std::env::var("GUARDRAIL_BENCH_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2_000 } else { 1_000_000 });
    let mut rng = ChaCha8Rng::seed_from_u64(20261123);
    let words = syllable_words(&mut rng, 5_000);
    let big_terms = syllable_words(&mut rng, 10_000)
        .into_iter()
        .map(|w| format!("{w}{}", &words[rng.gen_range(0..words.len())][..2]))
        .collect::<Vec<_>>();
    let corpus = corpus(&mut rng, &words, &big_terms, inputs);
    let hashtags: Vec<&String> = corpus.iter().filter(|s| s.starts_with('#')).collect();
    let mean_hashtag =
        hashtags.iter().map(|s| s.len()).sum::<usize>() as f64 / hashtags.len().max(1) as f64;

    println!(
        "# text guard benchmark: {} inputs ({} hashtags, mean {:.1} bytes), one core",
        corpus.len(),
        hashtags.len(),
        mean_hashtag
    );
    let rss_start = resident_kib();
    let default_policy = Policy::default_policy();
    let rss_default = resident_kib();
    let big_policy = Policy::from_toml(&big_policy_toml(&big_terms), "bench-10k.toml")
        .expect("10k policy compiles");
    let rss_big = resident_kib();
    let rustrict_trie: &'static Trie = {
        let mut trie = Trie::default();
        for term in &big_terms {
            trie.set(term, Type::SEXUAL & Type::SEVERE);
        }
        for term in evasion_terms() {
            trie.set(&term, Type::SEXUAL & Type::SEVERE);
        }
        Box::leak(Box::new(trie))
    };
    let rss_rustrict = resident_kib();

    println!();
    println!("## throughput (strings per second, best of 3)");
    println!("| engine | policy | corpus | strings/s | ns/string |");
    println!("|---|---|---|---:|---:|");
    let runs = if quick { 1 } else { 3 };
    let all: Vec<&String> = corpus.iter().collect();
    for (name, set) in [("hashtags", &hashtags), ("mixed", &all)] {
        let rate = best_rate(runs, set, |s| {
            check(&default_policy, TextPlace::Hashtag, s).decision != TextDecision::Allow
        });
        row("guardrail", "default (public terms)", name, rate);
        let rate = best_rate(runs, set, |s| {
            check(&big_policy, TextPlace::Hashtag, s).decision != TextDecision::Allow
        });
        row("guardrail", "10,000 terms", name, rate);
        let rate = best_rate(runs, set, |s| {
            guardrail_text::normalize_str(s).folded().len() > 1_000_000
        });
        row("guardrail", "normalisation only", name, rate);
        if std::env::var_os("GUARDRAIL_BENCH_NO_PEER").is_some() {
            continue;
        }
        let rate = best_rate(runs, set, |s| {
            Censor::from_str(s)
                .with_trie(rustrict_trie)
                .analyze()
                .is(Type::SEVERE)
        });
        row("rustrict 0.7", "built-in + 10,000 terms", name, rate);
    }

    println!();
    println!("## memory");
    println!("| engine | policy | heap of compiled policy | resident growth |");
    println!("|---|---|---:|---:|");
    println!(
        "| guardrail | default | {} KiB | {} KiB |",
        default_policy.memory_usage() / 1024,
        rss_default.saturating_sub(rss_start)
    );
    println!(
        "| guardrail | 10,000 terms | {} KiB | {} KiB |",
        big_policy.memory_usage() / 1024,
        rss_big.saturating_sub(rss_default)
    );
    println!(
        "| rustrict 0.7 | built-in + 10,000 terms | n/a | {} KiB |",
        rss_rustrict.saturating_sub(rss_big)
    );

    println!();
    println!(
        "## evasion table ({} rows): hits and false hits",
        evasion_table::rows().len()
    );
    let evasion_policy =
        Policy::from_toml(EVASION_POLICY, "evasion_policy.toml").expect("evasion policy");
    let evasion_trie: &'static Trie = {
        let mut trie = Trie::default();
        for term in evasion_terms() {
            trie.set(&term, Type::SEXUAL & Type::SEVERE);
        }
        Box::leak(Box::new(trie))
    };
    let mut scores = [[0usize; 4]; 2]; // [engine][hit, miss, false hit, clean]
    let mut disagreements = Vec::new();
    for (rule, what, input) in evasion_table::rows() {
        let ours = check(&evasion_policy, TextPlace::Search, &input)
            .matches
            .iter()
            .any(|m| rule.as_deref() == Some(&*m.rule) || rule.is_none());
        let theirs = Censor::from_str(&input)
            .with_trie(evasion_trie)
            .analyze()
            .is(Type::SEVERE);
        for (engine, flagged) in [(0, ours), (1, theirs)] {
            let slot = match (rule.is_some(), flagged) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            scores[engine][slot] += 1;
        }
        if ours != theirs {
            disagreements.push(format!(
                "{what}: guardrail {}, rustrict {}",
                verdict_word(rule.is_some(), ours),
                verdict_word(rule.is_some(), theirs)
            ));
        }
    }
    println!(
        "| engine | evasions caught | evasions missed | false hits on benign rows | benign clean |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (engine, name) in [(0, "guardrail"), (1, "rustrict 0.7 (+ same terms)")] {
        let [hit, miss, false_hit, clean] = scores[engine];
        println!("| {name} | {hit} | {miss} | {false_hit} | {clean} |");
    }
    println!();
    println!("Rows where they disagree:");
    for line in disagreements {
        println!("- {line}");
    }
}

fn verdict_word(should_hit: bool, flagged: bool) -> &'static str {
    match (should_hit, flagged) {
        (true, true) => "caught",
        (true, false) => "missed",
        (false, true) => "false hit",
        (false, false) => "clean",
    }
}

fn row(engine: &str, policy: &str, corpus: &str, rate: f64) {
    println!(
        "| {engine} | {policy} | {corpus} | {:.0} | {:.0} |",
        rate,
        1e9 / rate
    );
}

fn best_rate(runs: usize, inputs: &[&String], mut f: impl FnMut(&str) -> bool) -> f64 {
    let mut best = 0.0f64;
    // GUARDRAIL_BENCH_ONLY=N runs only the N-th measurement (for profiling one of them).
    thread_local!(static SEEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });
    let index = SEEN.with(|seen| {
        seen.set(seen.get() + 1);
        seen.get()
    });
    if std::env::var("GUARDRAIL_BENCH_ONLY").is_ok_and(|only| only != index.to_string()) {
        return f64::NAN;
    }
    for _ in 0..runs {
        let started = Instant::now();
        let mut flagged = 0usize;
        for input in inputs {
            flagged += usize::from(black_box(f(black_box(input))));
        }
        black_box(flagged);
        let rate = inputs.len() as f64 / started.elapsed().as_secs_f64();
        best = best.max(rate);
    }
    best
}

/// Pronounceable invented words: placeholders for vocabulary and for policy terms.
fn syllable_words(rng: &mut ChaCha8Rng, count: usize) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "st", "tr", "pl", "gr", "sh", "ch",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou", "ee", "oa"];
    (0..count)
        .map(|_| {
            let syllables = rng.gen_range(1..=3);
            (0..syllables)
                .map(|_| {
                    format!(
                        "{}{}",
                        ONSETS.choose(rng).unwrap_or(&"b"),
                        VOWELS.choose(rng).unwrap_or(&"a")
                    )
                })
                .collect::<String>()
        })
        .collect()
}

/// One million inputs: half hashtags, three tenths queries, two tenths bios; about one
/// in fifty carries a policy term, some disguised.
fn corpus(rng: &mut ChaCha8Rng, words: &[String], terms: &[String], count: usize) -> Vec<String> {
    let disguise = |rng: &mut ChaCha8Rng, term: &str| -> String {
        match rng.gen_range(0..4) {
            0 => term.to_string(),
            1 => term
                .chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("."),
            2 => term.replace('e', "3").replace('o', "0"),
            _ => term.to_uppercase(),
        }
    };
    let pick = |rng: &mut ChaCha8Rng| -> String {
        if rng.gen_bool(0.02) {
            let term = &terms[rng.gen_range(0..terms.len())];
            disguise(rng, term)
        } else {
            words[rng.gen_range(0..words.len())].clone()
        }
    };
    (0..count)
        .map(|i| match i % 10 {
            0..=4 => {
                let n = rng.gen_range(1..=3);
                let parts: Vec<String> = (0..n).map(|_| pick(rng)).collect();
                let camel: String = parts.iter().map(|p| capitalise(p)).collect();
                format!("#{camel}")
            }
            5..=7 => (0..rng.gen_range(2..=4))
                .map(|_| pick(rng))
                .collect::<Vec<_>>()
                .join(" "),
            _ => {
                let mut bio = (0..rng.gen_range(8..=20))
                    .map(|_| pick(rng))
                    .collect::<Vec<_>>()
                    .join(" ");
                bio.push_str(" 🌸 dm for collabs");
                bio
            }
        })
        .collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn big_policy_toml(terms: &[String]) -> String {
    let mut toml = String::from(guardrail_text::DEFAULT_POLICY_TOML);
    for (index, term) in terms.iter().enumerate() {
        let tier = ["block", "restrict", "signal"][index % 3];
        toml.push_str(&format!("\n[[term]]\nid = \"bench-{index}\"\ntext = \"{term}\"\ntier = \"{tier}\"\ncategory = \"bench.placeholder\"\n"));
    }
    toml
}

/// The literal texts of the evasion policy's terms, for rustrict's trie.
fn evasion_terms() -> Vec<String> {
    EVASION_POLICY
        .lines()
        .filter_map(|line| line.strip_prefix("text = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(str::to_string)
        .collect()
}

/// Resident set size in KiB (Linux), or 0 where unknown.
fn resident_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
