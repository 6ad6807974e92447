//! Random counts and popularity sampling shared by the phases.
//!
//! What it must never do: draw from a stream it was not handed; every draw comes from the
//! phase's own generator, so phases stay independent.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A geometric count with the given mean: cheap, heavy enough tail for activity.
pub(super) fn poisson_like(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
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

/// Log-normal with sigma 1 and the requested mean: a heavy tail of follow counts.
pub(super) fn lognormal_count(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let sigma = 1.0_f64;
    let mu = mean.max(1.0).ln() - sigma * sigma / 2.0;
    let (u1, u2): (f64, f64) = (rng.r#gen::<f64>().max(1e-12), rng.r#gen());
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    ((mu + sigma * normal).exp().round() as u32).clamp(1, 5000)
}

/// Sampling accounts in proportion to a Pareto popularity weight (power-law in-degree).
pub(super) struct Popularity {
    accounts: Vec<u32>,
    cumulative: Vec<f64>,
}

impl Popularity {
    pub(super) fn new(accounts: &[u32], exponent: f64, rng: &mut ChaCha8Rng) -> Self {
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

    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.r#gen::<f64>() * total;
        let index = self
            .cumulative
            .partition_point(|&c| c < x)
            .min(self.accounts.len().saturating_sub(1));
        self.accounts.get(index).copied().unwrap_or(0)
    }
}
