//! The metrics experiments report, as one typed vocabulary.
//!
//! What it is for: every figure an experiment fills, a target reads, or a report prints is
//! a [`Metric`], named once. An experiment cannot fill a metric with a typo, and a target
//! cannot read one that no experiment fills (a test checks both ways). Serialised, a metric
//! is its name, so `audit run --json` shows `{"metrics": {"rebuild_rate": 0.1, ...}}`.
//!
//! What it must never hold: a value. Values are measured by the experiments.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! metrics {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// A metric an experiment reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Metric {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Metric {
            /// Every metric.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            /// The metric's name in reports and JSON.
            pub fn name(self) -> &'static str {
                match self {
                    $(Metric::$variant => $name,)*
                }
            }
        }
    };
}

metrics! {
    /// E1: share of network accounts in a fresh probe's top 10 after viewing one seller.
    NetworkShareTop10AfterOneView => "network_share_top10_after_one_view",
    /// E1: suggestions shown to the fresh probes in all.
    SuggestionsShownTop10AfterOneView => "suggestions_shown_top10_after_one_view",
    /// E1: the same one-view probe with an ordinary history.
    NetworkShareTop10AfterOneViewWithHistory => "network_share_top10_after_one_view_with_history",
    /// E1: suggestions shown to the probes with history.
    SuggestionsShownTop10AfterOneViewWithHistory => "suggestions_shown_top10_after_one_view_with_history",
    /// E1: share of network posts in the feed after following five suggestions.
    NetworkShareFeedAfterFollow5 => "network_share_feed_after_follow_5",
    /// E1: share of all accounts that are in the network.
    NetworkBaseRate => "network_base_rate",
    /// E1: share of probes whose first suggestion is a network account.
    ProbesWithNetworkAtRank1 => "probes_with_network_at_rank_1",
    /// E1: share of an advocate's visitors shown a network account on her profile.
    BystanderLeakRate => "bystander_leak_rate",
    /// E1: visitors of advocates measured.
    BystanderVisitors => "bystander_visitors",
    /// E1: held-out follows of niche accounts found again in the top 10.
    BenignHitRateAt10 => "benign_hit_rate_at_10",
    /// E1: the same for ordinary and parent-run accounts.
    OrdinaryHitRateAt10 => "ordinary_hit_rate_at_10",
    /// E1: smallest share of its suggestion reach a parent-run or niche account keeps.
    ParentNicheMinReachKept => "parent_niche_min_reach_kept",
    /// E1: parent-run and niche accounts that keep less than 95% of their reach.
    ParentNicheAccountsLosingOver5pct => "parent_niche_accounts_losing_over_5pct",
    /// E1: of those, adults.
    ParentNicheAdultAccountsLosingOver5pct => "parent_niche_adult_accounts_losing_over_5pct",
    /// E1: smallest share of reach an adult parent-run or niche account keeps.
    ParentNicheAdultMinReachKept => "parent_niche_adult_min_reach_kept",
    /// E1: total reach of the measured accounts, on over off.
    ParentNicheTotalReachKept => "parent_niche_total_reach_kept",
    /// E1: parent-run and niche accounts measured.
    ParentNicheAccountsMeasured => "parent_niche_accounts_measured",
    /// E2: results a banned-term search reaches ("see results anyway"), per term.
    BlockedQueryResults => "blocked_query_results",
    /// E2: share of banned-term searches shown an interstitial.
    InterstitialShare => "interstitial_share",
    /// E2: share of prefixes whose autocomplete offers a variant of a banned term.
    AutocompleteVariantRate => "autocomplete_variant_rate",
    /// E2: share of sellers an auditor reaches by search alone.
    SellerReachViaSearch => "seller_reach_via_search",
    /// E2: sellers in the world.
    SellersTotal => "sellers_total",
    /// E3: share of sellers still up after the takedown.
    SurvivingSellerShare => "surviving_seller_share",
    /// E3: active sellers a month later over sellers before.
    ActiveSellerShareAfterMonth => "active_seller_share_after_month",
    /// E3: sellers who came back with a backup or a new account.
    NewSellerAccounts => "new_seller_accounts",
    /// E3: share of returned sellers' accounts in buyers' suggestions a month later.
    RebuildRate => "rebuild_rate",
    /// E3: share of backups that buyers were shown.
    BackupAccountsResurfaced => "backup_accounts_resurfaced",
    /// E3: share of backups refused to everyone right after the takedown.
    BackupAccountsCaught => "backup_accounts_caught",
    /// E4: share of men among the eligible audience.
    EligibleShareMen => "eligible_share_men",
    /// E4: lower end of its 95% interval.
    EligibleShareMenCiLow => "eligible_share_men_ci_low",
    /// E4: upper end of its 95% interval.
    EligibleShareMenCiHigh => "eligible_share_men_ci_high",
    /// E4: share of the child-photo ad's impressions delivered to men.
    DeliveredShareMenChildPhoto => "delivered_share_men_child_photo",
    /// E4: lower end of its 95% interval.
    DeliveredShareMenChildPhotoCiLow => "delivered_share_men_child_photo_ci_low",
    /// E4: upper end of its 95% interval.
    DeliveredShareMenChildPhotoCiHigh => "delivered_share_men_child_photo_ci_high",
    /// E4: impressions of the child-photo ad.
    ImpressionsChildPhoto => "impressions_child_photo",
    /// E4: share of the product-only ad's impressions delivered to men.
    DeliveredShareMenProductPhoto => "delivered_share_men_product_photo",
    /// E4: lower end of its 95% interval.
    DeliveredShareMenProductPhotoCiLow => "delivered_share_men_product_photo_ci_low",
    /// E4: upper end of its 95% interval.
    DeliveredShareMenProductPhotoCiHigh => "delivered_share_men_product_photo_ci_high",
    /// E4: impressions of the product-only ad.
    ImpressionsProductPhoto => "impressions_product_photo",
    /// E4: share of the child-photo ad's impressions delivered to network accounts.
    RiskFlaggedImpressionShare => "risk_flagged_impression_share",
    /// E4: lower end of its 95% interval.
    RiskFlaggedImpressionShareCiLow => "risk_flagged_impression_share_ci_low",
    /// E4: upper end of its 95% interval.
    RiskFlaggedImpressionShareCiHigh => "risk_flagged_impression_share_ci_high",
    /// E4: share of network accounts among the eligible audience.
    RiskFlaggedEligibleShare => "risk_flagged_eligible_share",
    /// E4: impressions of the child-photo ad to viewers the guardrail layer flags as risky
    /// (in a run with guardrails off, the flags of Guardrail's default layer, for scoring).
    RiskFlaggedImpressions => "risk_flagged_impressions",
    /// E4: targeted viewers the layer excluded from the child-photo ad.
    ExcludedFromChildPhoto => "excluded_from_child_photo",
    /// E5: share of men among the eligible audience of the paired ads.
    EligibleShareMenE5 => "eligible_share_men_e5",
    /// E5: |delivered - eligible| share of men, child photo, under the layer's control.
    DeliveredGapChildPhoto => "delivered_gap_child_photo",
    /// E5: the same for the product-only photo.
    DeliveredGapProductPhoto => "delivered_gap_product_photo",
    /// E5: total variation (larger of gender and age range), child photo, layer's control.
    TotalVariationChildPhoto => "total_variation_child_photo",
    /// E5: the same for the product-only photo.
    TotalVariationProductPhoto => "total_variation_product_photo",
    /// E5: gap in the share of men with no control.
    DeliveredGapChildPhotoNoControl => "delivered_gap_child_photo_no_control",
    /// E5: gap with the layer's control (the same as `delivered_gap_child_photo`, named for
    /// the comparison table).
    DeliveredGapChildPhotoControlled => "delivered_gap_child_photo_controlled",
    /// E5: gap with the budget split per group.
    DeliveredGapChildPhotoSplitBudget => "delivered_gap_child_photo_split_budget",
    /// E5: people reached with the layer's control over people reached without.
    ReachKept => "reach_kept",
    /// E5: the same with the budget split per group.
    ReachKeptSplitBudget => "reach_kept_split_budget",
    /// E5: cost per person reached with the layer's control over that without.
    CostPerPersonReachedRatio => "cost_per_person_reached_ratio",
    /// E5: the same with the budget split per group.
    CostPerPersonReachedRatioSplitBudget => "cost_per_person_reached_ratio_split_budget",
    /// E5: expected engagements (advertiser value) with the layer's control over without.
    AdvertiserValueKept => "advertiser_value_kept",
    /// E5: the same with the budget split per group.
    AdvertiserValueKeptSplitBudget => "advertiser_value_kept_split_budget",
    /// E5: impressions delivered with the layer's control over without.
    ImpressionsKept => "impressions_kept",
    /// E5: the same with the budget split per group.
    ImpressionsKeptSplitBudget => "impressions_kept_split_budget",
    /// E5: ads measured for the VRS bound (at least the impressions floor).
    AdsMeasured => "ads_measured",
    /// E5: share of those within 0.10 total variation of their eligible audience.
    AdsWithinVrsBound => "ads_within_vrs_bound",
    /// E6: share of sampled adults shown an unconnected minor in their suggestions.
    MinorSuggestionsToUnconnectedAdults => "minor_suggestions_to_unconnected_adults",
    /// E6: share of predators' contacts with minors that began with a suggestion.
    InappropriateContactViaSuggestions => "inappropriate_contact_via_suggestions",
    /// E6: share that began with a search result.
    InappropriateContactViaSearch => "inappropriate_contact_via_search",
    /// E6: contacts in all.
    InappropriateContacts => "inappropriate_contacts",
    /// Any run with guardrails on: decisions the layer made.
    Decisions => "decisions",
    /// Decisions that dropped the candidate.
    DecisionsDropped => "decisions_dropped",
    /// Decisions that rested on a missing signal taken as unsafe.
    DecisionsFailClosed => "decisions_fail_closed",
    /// Decisions replayed through shadow mode and backfill.
    DecisionsReplayed => "decisions_replayed",
    /// Hashtags restricted as variants of blocked ones.
    VariantTagsRestricted => "variant_tags_restricted",
    /// Replayed decisions where shadow mode would have done something else.
    ShadowMismatches => "shadow_mismatches",
    /// Replayed decisions where backfill reports something else.
    BackfillMismatches => "backfill_mismatches",
}

impl Metric {
    /// The metric with this name.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == name)
    }
}

// Metrics sort by name, so tables and JSON list them alphabetically.
impl Ord for Metric {
    fn cmp(&self, other: &Self) -> Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialOrd for Metric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so tables can align names with `{:<44}`.
        f.pad(self.name())
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// An experiment's figures.
pub type Metrics = BTreeMap<Metric, f64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
        for &metric in Metric::ALL {
            assert_eq!(Metric::from_name(metric.name()), Some(metric));
        }
    }
}
