//! The black-box harness on the built-in platform behind the contract's seam: the
//! contract's semantics (ids, all-or-nothing batches, blocks, the post extension, reset),
//! the experiments through it (the flood reproduced off, removed on, and benign reach
//! kept), and the report (every figure drawn, nothing loaded from outside the page).

use guardrail_audit::black_box::experiments::{self, BlackBoxError};
use guardrail_audit::black_box::series::Longitudinal;
use guardrail_audit::black_box::{
    BuiltIn, ContractEvent, DiscoverySystem, Guarded, Persona, Quiet, SystemError,
};
use guardrail_audit::report::{self, ReportPlan};
use guardrail_audit::{Experiment, ExperimentConfig, Metric, On};
use guardrail_sim::{GroundTruth, WorldConfig, generate};
use guardrail_types::{AccountId, PostId};
use guardrail_world::World;

fn world() -> (World, GroundTruth) {
    generate(&WorldConfig::default().scaled_to(2_000), 5)
}

fn seller(truth: &GroundTruth) -> AccountId {
    truth
        .roles
        .iter()
        .find(|r| r.role == guardrail_sim::Role::Seller)
        .map(|r| r.account)
        .expect("the world has sellers")
}

#[test]
fn the_builtin_system_keeps_the_contract() {
    let (world, truth) = world();
    let n = world.accounts.len() as u32;
    let mut system = BuiltIn::build(&world, &ExperimentConfig::default().recommend);
    let probe = system
        .create_persona(&Persona::adult_probe("p".into()))
        .expect("persona");
    assert_eq!(
        probe,
        AccountId(n),
        "persona ids continue after the world's accounts"
    );
    let fresh = system.suggestions(probe, 10).expect("suggestions");
    // All or nothing: a bad event refuses the whole batch and applies none of it.
    let bad = [
        ContractEvent::View(probe, seller(&truth)),
        ContractEvent::Follow(probe, AccountId(n + 99)),
    ];
    match system.send_events(&bad) {
        Err(SystemError::Refused {
            status: 400,
            detail,
            ..
        }) => {
            assert!(detail.starts_with("[1].target"), "{detail}")
        }
        other => panic!("expected a 400 naming [1].target, got {other:?}"),
    }
    assert_eq!(system.suggestions(probe, 10).expect("suggestions"), fresh);
    system
        .send_events(&[ContractEvent::View(probe, seller(&truth))])
        .expect("view");
    let after_view = system.suggestions(probe, 10).expect("suggestions");
    assert_ne!(after_view, fresh, "events change later answers");
    let blocked = after_view[0];
    system
        .send_events(&[ContractEvent::Block(probe, blocked)])
        .expect("block");
    assert!(
        !system
            .suggestions(probe, 10)
            .expect("suggestions")
            .contains(&blocked)
    );
    // The post extension: a new tag is offered by autocomplete at once.
    let posts = system
        .send_events(&[ContractEvent::Post {
            account: probe,
            hashtags: vec!["zyxwnewtag".into()],
            caption: String::new(),
        }])
        .expect("post");
    assert_eq!(posts, vec![PostId(world.posts.len() as u32)]);
    assert_eq!(
        system.autocomplete(probe, "zyxw", 5).expect("autocomplete"),
        vec!["zyxwnewtag".to_string()]
    );
    // Reset: back to the state right after start.
    system.reset().expect("reset");
    assert!(
        system.autocomplete(probe, "zyxw", 5).is_err(),
        "the persona is gone"
    );
    let again = system
        .create_persona(&Persona::adult_probe("p".into()))
        .expect("persona");
    assert_eq!(again, probe);
    assert_eq!(system.suggestions(again, 10).expect("suggestions"), fresh);
}

#[test]
fn e1_through_the_contract_floods_off_and_guardrail_removes_it_on() {
    let (world, truth) = world();
    let config = ExperimentConfig::default();
    let mut system = BuiltIn::build(&world, &config.recommend);
    let off = experiments::run(
        Experiment::E1,
        &world,
        &truth,
        &config,
        &mut system,
        "off",
        &mut Quiet,
    )
    .expect("e1 off");
    let get = |m: &guardrail_audit::Metrics, metric| m.get(&metric).copied().unwrap_or(f64::NAN);
    let base = get(&off.metrics, Metric::NetworkBaseRate);
    assert!(
        get(&off.metrics, Metric::NetworkShareTop10AfterOneView) > 5.0 * base,
        "{:?}",
        off.metrics
    );
    system.reset().expect("reset");
    let mut layer = On::build_default(&world);
    let mut guarded = Guarded::new(&mut system, &mut layer, &world);
    let on = experiments::run(
        Experiment::E1,
        &world,
        &truth,
        &config,
        &mut guarded,
        "on",
        &mut Quiet,
    )
    .expect("e1 on");
    assert!(
        guarded.withheld_items > 0,
        "the layer removed what the system showed"
    );
    assert_eq!(get(&on.metrics, Metric::NetworkShareTop10AfterOneView), 0.0);
    // The view of a seller is kept from the index, and the built-in recommender has no cold
    // start: the probes with an ordinary history show the layer does not silence them.
    assert!(
        get(
            &on.metrics,
            Metric::SuggestionsShownTop10AfterOneViewWithHistory
        ) > 0.0
    );
    assert!(
        get(
            &on.metrics,
            Metric::NetworkShareTop10AfterOneViewWithHistory
        ) <= 0.01
    );
    assert!(
        get(&on.metrics, Metric::ParentNicheAdultMinReachKept) >= 0.95,
        "{:?}",
        on.metrics
    );
    assert_eq!(get(&on.metrics, Metric::ShadowMismatches), 0.0);
    // Ads are not part of the contract.
    assert!(matches!(
        experiments::run(
            Experiment::E4,
            &world,
            &truth,
            &config,
            &mut system,
            "off",
            &mut Quiet
        ),
        Err(BlackBoxError::NotInContract(Experiment::E4))
    ));
}

#[test]
fn the_report_draws_every_figure_and_loads_nothing() {
    let (world, truth) = world();
    let config = ExperimentConfig {
        probes: 5,
        days_after: 4,
        ..ExperimentConfig::default()
    };
    let mut system = BuiltIn::build(&world, &config.recommend);
    let make_layer = || On::build_default(&world);
    let plan = ReportPlan {
        world: &world,
        truth: &truth,
        config: &config,
        system: &mut system,
        external: true,
        make_layer: &make_layer,
        longitudinal: Longitudinal {
            weeks: 2,
            ..Longitudinal::default()
        },
        curve_probes: 3,
        curve_follows: 4,
    };
    let built = report::build(plan, &mut Quiet).expect("report");
    assert!(built.runs_started_equal);
    assert_eq!(built.follow_curve.off.share.len(), 5);
    assert_eq!(built.longitudinal.on.weeks.len(), 3);
    assert!(built.longitudinal.on.weeks[2].variants_coined > 0);
    // Coined variants reach autocomplete off; on, Guardrail learns them from the posts.
    let last = |run: &guardrail_audit::black_box::series::LongitudinalRun| {
        run.weeks
            .last()
            .map_or(f64::NAN, |w| w.autocomplete_variant_rate)
    };
    assert!(
        last(&built.longitudinal.off) > 0.0,
        "{:?}",
        built.longitudinal.off
    );
    assert_eq!(
        last(&built.longitudinal.on),
        0.0,
        "{:?}",
        built.longitudinal.on
    );
    assert!(!built.decisions_by_rule.is_empty());
    assert!(
        built
            .anchors
            .iter()
            .any(|a| a.published.is_some() && a.off.is_some())
    );
    let html = report::html::render(&built);
    assert!(
        html.matches("<svg").count() >= 7,
        "every figure drawn inline"
    );
    for outside in ["<script", "<link", "src=", "href=", "url("] {
        assert!(!html.contains(outside), "found {outside}");
    }
    let json = serde_json::to_value(&built).expect("serialises");
    assert_eq!(json["kind"], "external");
}
