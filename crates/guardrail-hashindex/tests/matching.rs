//! The multi-index, the per-query choice between it and the flat scan, and the
//! incremental bank against brute force; bank files round-trip, negative banks and
//! flood quarantine.

use guardrail_hashindex::bank::Storage;
use guardrail_hashindex::{
    AlignedBytes, Bank, BankBytes, BankConfig, BankKind, CostModel, Entry, Path, QuarantinePolicy,
    Query, Reason, Strategy, UpdateDecision, check_flood, encode_bank, match_upload,
};
use guardrail_pdq::PdqHash;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn entry(hash: PdqHash, id: usize) -> Entry {
    Entry {
        hash,
        source: "test-list".into(),
        entry_id: format!("e{id}"),
        added_at: id as i64,
    }
}

/// A hash `flips` bits away from `base`.
fn perturb(base: PdqHash, flips: usize, rng: &mut ChaCha8Rng) -> PdqHash {
    let mut bytes = base.0;
    for _ in 0..flips {
        let bit = rng.gen_range(0..256);
        bytes[bit / 8] ^= 1 << (bit % 8);
    }
    PdqHash(bytes)
}

/// A hash exactly `flips` bits from `base`, the flips dealt round-robin over the sixteen
/// 16-bit slots (slot `k % 16`, bit `k / 16` within it).
fn spread_flips(base: PdqHash, flips: usize) -> PdqHash {
    let mut bytes = base.0;
    for k in 0..flips {
        let bit = (k % 16) * 16 + k / 16;
        bytes[bit / 8] ^= 1 << (bit % 8);
    }
    PdqHash(bytes)
}

/// Clustered hashes, like real lists: a few originals and many near-duplicates.
fn clustered(rng: &mut ChaCha8Rng, count: usize) -> Vec<PdqHash> {
    let originals: Vec<PdqHash> = (0..(count / 20).max(1))
        .map(|_| PdqHash(rng.r#gen()))
        .collect();
    (0..count)
        .map(|i| {
            if i % 3 == 0 {
                PdqHash(rng.r#gen())
            } else {
                perturb(
                    originals[rng.gen_range(0..originals.len())],
                    rng.gen_range(0..40),
                    rng,
                )
            }
        })
        .collect()
}

/// A bank shaped to crowd the multi-index: a few giant clusters (a third of the bank
/// between them), many small ones, and uniform hashes. Returns the hashes and the
/// giant clusters' centres.
fn giant_clusters(rng: &mut ChaCha8Rng, count: usize) -> (Vec<PdqHash>, Vec<PdqHash>) {
    let giants: Vec<PdqHash> = (0..3).map(|_| PdqHash(rng.r#gen())).collect();
    let small: Vec<PdqHash> = (0..(count / 10).max(1))
        .map(|_| PdqHash(rng.r#gen()))
        .collect();
    let hashes = (0..count)
        .map(|i| match i % 6 {
            0 | 1 => perturb(giants[i % 3], rng.gen_range(0..24), rng),
            2 | 3 => perturb(
                small[rng.gen_range(0..small.len())],
                rng.gen_range(0..24),
                rng,
            ),
            _ => PdqHash(rng.r#gen()),
        })
        .collect();
    (hashes, giants)
}

/// A cost model that makes a flat scan of a test-sized bank dear (as it is on a bank of
/// millions), so that the chooser splits requests between the paths on small banks.
fn splitting_model() -> CostModel {
    CostModel {
        flat_block_ns: 100.0,
        flat_block_query_ns: 10.0,
        probe_ns: 1.0,
        candidate_ns: 10.0,
    }
}

fn brute_force(
    hashes: &[Option<PdqHash>],
    queries: &[PdqHash],
    threshold: u32,
) -> Vec<(usize, usize, u32)> {
    let mut out = Vec::new();
    for (position, hash) in hashes.iter().enumerate() {
        let Some(hash) = hash else { continue };
        for (query_index, query) in queries.iter().enumerate() {
            let d = hash.distance(query);
            if d <= threshold {
                out.push((position, query_index, d));
            }
        }
    }
    out.sort_unstable();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_multi_index_returns_exactly_what_the_flat_scan_returns(seed in any::<u64>(), count in 1usize..3_000, threshold in 0u32..48) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let hashes = clustered(&mut rng, count);
        let mut bank = Bank::from_entries(BankConfig::positive("p"), hashes.iter().enumerate().map(|(i, h)| entry(*h, i)));
        bank.build_multi_index().expect("builds");
        // Queries near bank entries, exactly at distances around the threshold, and random.
        let mut queries: Vec<PdqHash> = (0..6).map(|_| perturb(hashes[rng.gen_range(0..count)], rng.gen_range(0..(threshold as usize + 3)), &mut rng)).collect();
        queries.push(PdqHash(rng.r#gen()));
        // The multi-index's worst case: flips spread evenly over its sixteen slots, so
        // that at exactly the threshold only one slot is within the probe radius.
        let target = hashes[rng.gen_range(0..count)];
        queries.push(spread_flips(target, threshold as usize));
        queries.push(spread_flips(target, threshold as usize + 1));
        let flat = bank.search(&queries, threshold, Strategy::Flat, false);
        prop_assert!(flat.iter().any(|m| m.query == 7 && m.distance == threshold));
        for threads in [false, true] {
            let indexed = bank.search(&queries, threshold, Strategy::MultiIndex, threads);
            prop_assert_eq!(&flat, &indexed);
        }
        let expected = brute_force(&hashes.iter().map(|h| Some(*h)).collect::<Vec<_>>(), &queries, threshold);
        let found: Vec<(usize, usize, u32)> = flat.iter().map(|m| (m.position, m.query, m.distance)).collect();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn every_strategy_and_every_split_returns_what_brute_force_returns(seed in any::<u64>(), count in 1usize..3_000, threshold in 0u32..48, giant in any::<bool>(), split in any::<bool>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (hashes, centres) = if giant {
            giant_clusters(&mut rng, count)
        } else {
            ((0..count).map(|_| PdqHash(rng.r#gen())).collect(), vec![PdqHash(rng.r#gen())])
        };
        let mut bank = Bank::from_entries(BankConfig::positive("p"), hashes.iter().enumerate().map(|(i, h)| entry(*h, i)));
        if split {
            bank.set_cost_model(splitting_model());
        }
        // Near a giant cluster's centre, near single entries, at the threshold, and far.
        let mut queries: Vec<PdqHash> = centres.iter().map(|c| perturb(*c, rng.gen_range(0..(threshold as usize + 3)), &mut rng)).collect();
        queries.extend((0..3).map(|_| perturb(hashes[rng.gen_range(0..count)], rng.gen_range(0..(threshold as usize + 3)), &mut rng)));
        queries.push(spread_flips(hashes[rng.gen_range(0..count)], threshold as usize));
        queries.extend((0..2).map(|_| PdqHash(rng.r#gen())));
        let expected = brute_force(&hashes.iter().map(|h| Some(*h)).collect::<Vec<_>>(), &queries, threshold);
        let check = |bank: &Bank, strategy: Strategy, threads: bool| -> Vec<(usize, usize, u32)> {
            bank.search(&queries, threshold, strategy, threads).iter().map(|m| (m.position, m.query, m.distance)).collect()
        };
        // Before the index exists, the chooser scans.
        prop_assert_eq!(&check(&bank, Strategy::MultiIndex, false), &expected);
        prop_assert_eq!(bank.search_stats().count(Reason::NoIndex), queries.len() as u64);
        bank.build_multi_index().expect("builds");
        for strategy in [Strategy::Flat, Strategy::MultiIndexAlways, Strategy::MultiIndex] {
            for threads in [false, true] {
                prop_assert_eq!(&check(&bank, strategy, threads), &expected, "{:?}, threads {}", strategy, threads);
            }
        }
        // Every single-path plan and the chooser's own: forced per query hash, one by one.
        let plan = bank.explain(&queries, threshold, Strategy::MultiIndex);
        prop_assert_eq!(plan.queries.len(), queries.len());
        for (index, query) in queries.iter().enumerate() {
            let alone: Vec<(usize, u32)> = bank.search(std::slice::from_ref(query), threshold, Strategy::MultiIndex, false).iter().map(|m| (m.position, m.distance)).collect();
            let wanted: Vec<(usize, u32)> = expected.iter().filter(|m| m.1 == index).map(|m| (m.0, m.2)).collect();
            prop_assert_eq!(alone, wanted);
        }
        let stats = bank.search_stats();
        prop_assert_eq!(stats.queries(Path::Flat) + stats.queries(Path::MultiIndex), (queries.len() * (1 + 6 + 1)) as u64);
    }

    #[test]
    fn adds_and_removes_match_a_brute_force_model(seed in any::<u64>(), operations in proptest::collection::vec((any::<bool>(), any::<u16>()), 1..200)) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let base = clustered(&mut rng, 300);
        let mut bank = Bank::from_entries(BankConfig::positive("p"), base.iter().enumerate().map(|(i, h)| entry(*h, i)));
        bank.build_multi_index().expect("builds");
        let mut model: Vec<Option<PdqHash>> = base.iter().map(|h| Some(*h)).collect();
        for (add, pick) in operations {
            if add {
                let hash = perturb(base[pick as usize % base.len()], (pick % 20) as usize, &mut rng);
                let number = bank.add(entry(hash, model.len()));
                prop_assert_eq!(number, model.len());
                model.push(Some(hash));
            } else {
                let number = pick as usize % model.len();
                prop_assert_eq!(bank.remove(number), model[number].is_some());
                model[number] = None;
            }
        }
        let queries: Vec<PdqHash> = (0..4).map(|_| perturb(base[rng.gen_range(0..base.len())], rng.gen_range(0..35), &mut rng)).collect();
        bank.set_cost_model(splitting_model());
        for strategy in [Strategy::Flat, Strategy::MultiIndex, Strategy::MultiIndexAlways] {
            let found: Vec<(usize, usize, u32)> = bank.search(&queries, 31, strategy, false).iter().map(|m| (m.position, m.query, m.distance)).collect();
            prop_assert_eq!(&found, &brute_force(&model, &queries, 31));
        }
        prop_assert_eq!(bank.len(), model.iter().flatten().count());
    }
}

#[test]
fn bank_files_round_trip_and_bad_files_are_refused() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let entries: Vec<Entry> = clustered(&mut rng, 37)
        .into_iter()
        .enumerate()
        .map(|(i, h)| entry(h, i))
        .collect();
    let config = BankConfig {
        name: "ncmec-test".into(),
        kind: BankKind::Negative,
        threshold: 20,
        quality_floor: 60,
    };
    let bytes = encode_bank(&config, &entries);
    let bank = BankBytes::new(AlignedBytes::from(bytes.as_slice()), "test.bank").expect("valid");
    assert_eq!(bank.config(), &config);
    assert_eq!(bank.len(), 37);
    for (index, original) in entries.iter().enumerate() {
        assert_eq!(&bank.entry(index), original);
    }
    // (what, bytes, message fragment)
    let mut wrong_magic = bytes.clone();
    wrong_magic[0] = b'X';
    let mut wrong_version = bytes.clone();
    wrong_version[8] = 9;
    let rows: [(&str, Vec<u8>, &str); 4] = [
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "truncated"),
        ("tiny", bytes[..10].to_vec(), "header"),
        ("magic", wrong_magic, "magic"),
        ("version", wrong_version, "version"),
    ];
    for (what, bytes, fragment) in rows {
        let error = BankBytes::new(AlignedBytes::from(bytes.as_slice()), "bad.bank")
            .expect_err(what)
            .to_string();
        assert!(
            error.contains("bad.bank") && error.contains(fragment),
            "{what}: {error}"
        );
    }
}

#[test]
fn negative_banks_suppress_matches_and_quality_floors_hold() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let benign_logo = PdqHash(rng.r#gen());
    let abuse = PdqHash(rng.r#gen());
    let positive = Bank::from_entries(
        BankConfig::positive("shared-list"),
        [entry(benign_logo, 0), entry(abuse, 1)],
    );
    let negative = Bank::from_entries(
        BankConfig {
            name: "known-benign".into(),
            kind: BankKind::Negative,
            threshold: 31,
            quality_floor: 0,
        },
        [entry(perturb(benign_logo, 3, &mut rng), 0)],
    );
    let banks = [positive, negative];
    let logo_upload = Query {
        hashes: vec![perturb(benign_logo, 5, &mut rng)],
        quality: 90,
    };
    let outcome = match_upload(&banks, &logo_upload, None, None, Strategy::Flat);
    assert!(outcome.matches.is_empty());
    assert_eq!(outcome.suppressed.len(), 1);
    assert_eq!(outcome.benign[0].bank, "known-benign");
    let abuse_upload = Query {
        hashes: vec![perturb(abuse, 10, &mut rng)],
        quality: 90,
    };
    let outcome = match_upload(&banks, &abuse_upload, None, None, Strategy::MultiIndex);
    assert_eq!(outcome.matches.len(), 1);
    assert_eq!(outcome.matches[0].entry.entry_id, "e1");
    let flat_upload = Query {
        hashes: abuse_upload.hashes.clone(),
        quality: 40,
    };
    assert!(
        match_upload(&banks, &flat_upload, None, None, Strategy::Flat)
            .matches
            .is_empty(),
        "below the quality floor"
    );
}

#[test]
fn a_flooding_update_is_held_until_released_and_the_live_entries_keep_matching() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let uploads: Vec<PdqHash> = (0..1_000).map(|_| PdqHash(rng.r#gen())).collect();
    // A bad entry: near-duplicates of it are 5% of recent uploads (a logo, a blank frame).
    let common = uploads[0];
    let mut recent = uploads.clone();
    for slot in recent.iter_mut().take(50) {
        *slot = perturb(common, 4, &mut rng);
    }
    let check = check_flood(&[common], &recent, 31, QuarantinePolicy::default());
    assert!(check.quarantine, "{check:?}");
    assert_eq!(check.matched_uploads, 50);
    let quiet = check_flood(
        &[PdqHash(rng.r#gen())],
        &recent,
        31,
        QuarantinePolicy::default(),
    );
    assert!(!quiet.quarantine);
    assert_eq!(quiet.matched_uploads, 0);

    let known = PdqHash(rng.r#gen());
    let mut bank = Bank::from_entries(BankConfig::positive("list"), [entry(known, 0)]);
    let matches = |bank: &Bank, hash: PdqHash| {
        let query = Query {
            hashes: vec![hash],
            quality: 100,
        };
        bank.match_query(&query, None, None, Strategy::Flat).len()
    };
    let decision = bank
        .stage_update(vec![entry(common, 1)], &recent, QuarantinePolicy::default())
        .expect("nothing held yet");
    assert!(matches!(decision, UpdateDecision::Held(_)), "{decision:?}");
    let reason = &bank.held_update().expect("held").reason;
    assert!(
        reason.contains("match 50 of the last 1000 uploads"),
        "{reason}"
    );
    assert_eq!(matches(&bank, common), 0, "held entries do not match");
    assert_eq!(matches(&bank, known), 1, "live entries keep matching");
    assert!(
        bank.stage_update(vec![entry(known, 2)], &recent, QuarantinePolicy::default())
            .is_err(),
        "one held update at a time"
    );
    assert_eq!(bank.release_update(), [1]);
    assert_eq!(matches(&bank, common), 1, "released entries match");

    // A quiet update goes live at once; a rejected one never does.
    let fresh = PdqHash(rng.r#gen());
    assert_eq!(
        bank.stage_update(vec![entry(fresh, 3)], &recent, QuarantinePolicy::default()),
        Ok(UpdateDecision::Applied(vec![2]))
    );
    let flood = perturb(common, 2, &mut rng);
    bank.stage_update(vec![entry(flood, 4)], &recent, QuarantinePolicy::default())
        .expect("nothing held");
    let rejected = bank.reject_update().expect("was held");
    assert_eq!(rejected.entries[0].hash, flood);
    assert_eq!((matches(&bank, fresh), bank.len()), (1, 3));
}

#[test]
fn all_dihedrals_are_matched_in_one_pass() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let hashes: Vec<PdqHash> = (0..500).map(|_| PdqHash(rng.r#gen())).collect();
    let bank = Bank::from_entries(
        BankConfig::positive("p"),
        hashes.iter().enumerate().map(|(i, h)| entry(*h, i)),
    );
    // The upload is a rotated copy: only its fifth dihedral is near a bank entry.
    let mut dihedrals: Vec<PdqHash> = (0..8).map(|_| PdqHash(rng.r#gen())).collect();
    dihedrals[4] = perturb(hashes[123], 7, &mut rng);
    let found = bank.match_query(
        &Query {
            hashes: dihedrals,
            quality: 100,
        },
        None,
        None,
        Strategy::Flat,
    );
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].entry_number, found[0].query_hash), (123, 4));
}

/// The chooser with the model calibrated for this CPU: a query near a giant cluster of a
/// bank too large for the cache scans, a query far from every cluster probes, a small
/// bank scans without counting, and the stats count each choice with its reason.
#[test]
fn the_chooser_scans_near_giant_clusters_and_probes_elsewhere() {
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let (hashes, centres) = giant_clusters(&mut rng, 300_000);
    let mut bank = Bank::from_entries(
        BankConfig::positive("p"),
        hashes.iter().enumerate().map(|(i, h)| entry(*h, i)),
    );
    bank.build_multi_index().expect("builds");
    let near = perturb(centres[0], 6, &mut rng);
    let far = PdqHash(rng.r#gen());
    let plan = bank.explain(&[near, far], 31, Strategy::MultiIndex);
    assert_eq!(
        (plan.queries[0].reason, plan.queries[1].reason),
        (Reason::CrowdedBuckets, Reason::FewCandidates),
        "{plan:#?}"
    );
    assert!(plan.queries[0].candidates > Some(10_000), "{plan:#?}");
    assert!(plan.queries[1].candidates < Some(5_000), "{plan:#?}");
    let expected = brute_force(
        &hashes.iter().map(|h| Some(*h)).collect::<Vec<_>>(),
        &[near, far],
        31,
    );
    let found: Vec<(usize, usize, u32)> = bank
        .search(&[near, far], 31, Strategy::MultiIndex, false)
        .iter()
        .map(|m| (m.position, m.query, m.distance))
        .collect();
    assert_eq!(found, expected);
    assert!(found.len() > 1_000, "the near query meets its cluster");
    let stats = bank.search_stats();
    assert_eq!(
        (
            stats.count(Reason::CrowdedBuckets),
            stats.count(Reason::FewCandidates)
        ),
        (1, 1)
    );
    assert_eq!(
        (stats.queries(Path::Flat), stats.queries(Path::MultiIndex)),
        (1, 1)
    );
    // Forced strategies and a threshold beyond radius 2 are counted as such.
    bank.search(&[far], 31, Strategy::MultiIndexAlways, false);
    bank.search(&[far], 31, Strategy::Flat, false);
    bank.search(&[far], 48, Strategy::MultiIndex, false);
    let stats = bank.search_stats();
    assert_eq!(
        [
            stats.count(Reason::MultiIndexAsked),
            stats.count(Reason::FlatAsked),
            stats.count(Reason::RadiusTooLarge)
        ],
        [1, 1, 1]
    );

    let mut small = Bank::from_entries(
        BankConfig::positive("s"),
        hashes[..500].iter().enumerate().map(|(i, h)| entry(*h, i)),
    );
    small.build_multi_index().expect("builds");
    let plan = small.explain(&[near, far], 31, Strategy::MultiIndex);
    assert!(
        plan.queries
            .iter()
            .all(|q| q.reason == Reason::SmallBank && q.candidates.is_none()),
        "{plan:#?}"
    );
}
