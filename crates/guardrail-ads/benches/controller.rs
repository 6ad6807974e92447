//! `cargo bench -p guardrail-ads --bench controller`: the delivery controller's cost per
//! impression decision, one core, with criterion. Target: at least 1,000,000 decisions/s.
//!
//! Three loops over the same stream of one million viewers (drawn once, 70% women, mixed
//! ages): `floor` only reads each viewer's group and counts it (the least any per-impression
//! step can cost); `controller` makes the controller's decision (quota check, record) and
//! reads the group's bid boost, ending a round every 400 decisions; `controller+monitor`
//! also records the impression in the streaming monitor. The throughput of each is the
//! decisions per second criterion prints.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use guardrail_ads::{
    AccountId, AgeRange, AlertBound, Controller, ControllerConfig, Gender, Group, Monitor, Viewer,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DECISIONS: usize = 1_000_000;

fn viewers() -> Vec<Viewer> {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    (0..DECISIONS as u32)
        .map(|i| Viewer {
            account: AccountId(i),
            gender: if rng.gen_bool(0.7) {
                Gender::Woman
            } else {
                Gender::Man
            },
            age: rng.gen_range(18..70),
            interests: 1,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let viewers = viewers();
    let groups: Vec<Group> = viewers.iter().map(Viewer::group).collect();
    let mut eligible = [0u64; Group::COUNT];
    for g in &groups {
        eligible[g.index()] += 1;
    }
    let mut group_bench = c.benchmark_group("controller");
    group_bench.throughput(Throughput::Elements(DECISIONS as u64));
    group_bench.bench_function("floor", |b| {
        b.iter(|| {
            let mut counts = [0u64; Group::COUNT];
            for v in &viewers {
                counts[black_box(v).group().index()] += 1;
            }
            black_box(counts)
        })
    });
    group_bench.bench_function("controller", |b| {
        b.iter(|| {
            let mut controller = Controller::new(&eligible, ControllerConfig::default());
            let mut boost = 0.0;
            for (i, v) in viewers.iter().enumerate() {
                let group = black_box(v).group();
                boost += controller.boost(group);
                controller.decide(group);
                if i % 400 == 399 {
                    controller.end_round(false);
                }
            }
            black_box((boost, controller.delivered()[0]))
        })
    });
    group_bench.bench_function("controller+monitor", |b| {
        b.iter(|| {
            let mut controller = Controller::new(&eligible, ControllerConfig::default());
            let mut monitor = Monitor::new(groups.iter().copied(), AlertBound::default());
            for (i, v) in viewers.iter().enumerate() {
                let group = black_box(v).group();
                if controller.decide(group) {
                    monitor.record(group);
                }
                if i % 400 == 399 {
                    controller.end_round(false);
                }
            }
            black_box(monitor.impressions())
        })
    });
    group_bench.finish();
    // Keep the import of AgeRange meaningful: groups span every adult range.
    assert!(groups.iter().any(|g| g.age() == AgeRange::From65));
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
