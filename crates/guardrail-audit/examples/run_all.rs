//! Generates the default world for a seed (first argument, default 1) and prints every
//! experiment's metrics: a quick way to see what the mechanisms produce.

use guardrail_audit::{Experiment, ExperimentConfig, run};
use guardrail_sim::{WorldConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    let started = std::time::Instant::now();
    let (world, truth) = generate(&WorldConfig::default(), seed);
    eprintln!("generated in {:?}", started.elapsed());
    eprintln!(
        "accounts {} posts {} edges {}",
        world.accounts.len(),
        world.posts.len(),
        world.edge_count()
    );
    for name in Experiment::ALL {
        let started = std::time::Instant::now();
        let report = run(name, &world, &truth, &ExperimentConfig::default());
        eprintln!("{name} in {:?}", started.elapsed());
        for (metric, value) in &report.metrics {
            println!("{name} {metric} {value:.4}");
        }
    }
    Ok(())
}
