//! The figures that matter, in one table: for each headline metric, the published
//! finding it answers to and the target Guardrail must meet with guardrails on.
//!
//! What it is for: `guardrail demo` and the audit report print the rows with a published
//! anchor (off and on side by side) and the rows with a target (met or not); tests assert
//! the targets. What it must never do: hold a measured value, or a target no experiment
//! can measure (a test checks every row's metric is filled by its experiment).

use crate::experiments::Experiment;
use crate::metrics::Metric;

/// What the "on" run must reach, and how to check it.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// How the target reads in tables.
    pub wanted: &'static str,
    /// Whether `(off, on)` meets it.
    pub met: fn(off: f64, on: f64) -> bool,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The experiment that measures the metric.
    pub experiment: Experiment,
    /// The metric.
    pub metric: Metric,
    /// The published finding the metric answers to, if any.
    pub published: Option<&'static str>,
    /// The target with guardrails on, if any.
    pub target: Option<Target>,
}

const fn row(
    experiment: Experiment,
    metric: Metric,
    published: Option<&'static str>,
    target: Option<Target>,
) -> Row {
    Row {
        experiment,
        metric,
        published,
        target,
    }
}

const AT_MOST_ONE_PERCENT: Target = Target {
    wanted: "<= 0.01",
    met: |_, on| on <= 0.01,
};
const ZERO: Target = Target {
    wanted: "0",
    met: |_, on| on == 0.0,
};

use Experiment::{E1, E2, E3, E4, E5, E6};

/// Every headline metric, in the order reports print them.
pub const TABLE: &[Row] = &[
    row(
        E1,
        Metric::NetworkShareTop10AfterOneView,
        Some("WSJ/SIO 2023: one view, immediately shown more sellers and buyers"),
        Some(AT_MOST_ONE_PERCENT),
    ),
    row(
        E1,
        Metric::NetworkShareTop10AfterOneViewWithHistory,
        None,
        Some(AT_MOST_ONE_PERCENT),
    ),
    row(
        E1,
        Metric::NetworkShareFeedAfterFollow5,
        Some("WSJ 2023: following a handful floods the account"),
        Some(AT_MOST_ONE_PERCENT),
    ),
    row(
        E1,
        Metric::BystanderLeakRate,
        Some("WSJ 2023: an advocate's visitors were shown the account she reported"),
        Some(AT_MOST_ONE_PERCENT),
    ),
    row(
        E1,
        Metric::BenignHitRateAt10,
        Some("quality kept for tight benign communities (no published figure)"),
        Some(Target {
            wanted: ">= 97% of off",
            met: |off, on| on >= 0.97 * off,
        }),
    ),
    row(
        E1,
        Metric::ParentNicheAccountsLosingOver5pct,
        None,
        Some(Target {
            wanted: "0 accounts",
            met: |_, on| on == 0.0,
        }),
    ),
    row(
        E1,
        Metric::ParentNicheAdultAccountsLosingOver5pct,
        None,
        Some(Target {
            wanted: "0 accounts (adults)",
            met: |_, on| on == 0.0,
        }),
    ),
    row(
        E2,
        Metric::BlockedQueryResults,
        Some("SIO 2023: interstitial with 'see results anyway'"),
        Some(ZERO),
    ),
    row(
        E2,
        Metric::AutocompleteVariantRate,
        Some("WSJ Dec 2023: autocomplete offered new variants of banned terms"),
        Some(AT_MOST_ONE_PERCENT),
    ),
    row(
        E2,
        Metric::SellerReachViaSearch,
        Some("SIO 2023: 405 sellers found through hashtags alone"),
        None,
    ),
    row(
        E3,
        Metric::SurvivingSellerShare,
        Some("SIO 2023: 31 of 405 (7.7%) still up a month later"),
        None,
    ),
    row(
        E3,
        Metric::ActiveSellerShareAfterMonth,
        Some("SIO 2023: hundreds of new accounts appeared"),
        None,
    ),
    row(
        E3,
        Metric::RebuildRate,
        Some("SIO 2023: viewing one remaining account led to new ones"),
        Some(AT_MOST_ONE_PERCENT),
    ),
    row(
        E3,
        Metric::BackupAccountsResurfaced,
        Some("SIO/Ars 2023: backup accounts named in bios"),
        Some(Target {
            wanted: "<= 0.10 (90% caught)",
            met: |_, on| on <= 0.10,
        }),
    ),
    row(
        E4,
        Metric::EligibleShareMen,
        Some("NYT 2024: targeting estimated as mostly women"),
        None,
    ),
    row(
        E4,
        Metric::DeliveredShareMenChildPhoto,
        Some("NYT 2024: about 80-95% men for photos with the child"),
        None,
    ),
    row(
        E4,
        Metric::DeliveredShareMenProductPhoto,
        Some("NYT 2024: 64% men for product-only photos"),
        None,
    ),
    row(
        E4,
        Metric::RiskFlaggedImpressionShare,
        Some("NYT 2024: ads drew solicitations from convicted offenders"),
        None,
    ),
    row(
        E4,
        Metric::RiskFlaggedImpressions,
        Some("issue 15: ads featuring minors never reach risk-flagged viewers"),
        Some(ZERO),
    ),
    row(
        E5,
        Metric::DeliveredGapChildPhoto,
        Some("issue 15: delivered share of men within 5 points of the eligible audience"),
        Some(Target {
            wanted: "<= 0.05",
            met: |_, on| on <= 0.05,
        }),
    ),
    row(
        E5,
        Metric::AdsWithinVrsBound,
        Some("Meta VRS settlement: 91.7% of housing ads within 10% by sex"),
        Some(Target {
            wanted: ">= 0.917",
            met: |_, on| on >= 0.917,
        }),
    ),
    row(
        E5,
        Metric::ReachKept,
        Some("without levelling down (no published figure)"),
        Some(Target {
            wanted: ">= 0.95",
            met: |_, on| on >= 0.95,
        }),
    ),
    row(E5, Metric::CostPerPersonReachedRatio, None, None),
    row(E5, Metric::AdvertiserValueKept, None, None),
    row(
        E6,
        Metric::MinorSuggestionsToUnconnectedAdults,
        Some("Ofcom: target 0"),
        Some(ZERO),
    ),
    row(
        E6,
        Metric::InappropriateContactViaSuggestions,
        Some("NM AG 2023: PYMK up to 75% of inappropriate adult-minor contact"),
        None,
    ),
];

/// The rows with a published anchor, in table order.
pub fn published() -> impl Iterator<Item = (&'static Row, &'static str)> {
    TABLE
        .iter()
        .filter_map(|row| row.published.map(|text| (row, text)))
}

/// The rows with a target, in table order.
pub fn targets() -> impl Iterator<Item = (&'static Row, Target)> {
    TABLE.iter().filter_map(|row| row.target.map(|t| (row, t)))
}
