use std::collections::BTreeMap;
use guardrail_deploy::{Guard, platform_policy};
use guardrail_policy::RuleSet;
use guardrail_sim::truth::Role;
use guardrail_sim::vocabulary::BANNED_BASES;
use guardrail_sim::{WorldConfig, generate};

fn main() {
    let (world, truth) = generate(&WorldConfig::default(), 1);
    let guard = Guard::build(&world, platform_policy(&BANNED_BASES).unwrap(), RuleSet::default_rules()).unwrap();
    let mut c: BTreeMap<String, usize> = BTreeMap::new();
    for r in truth.roles.iter().filter(|r| r.role == Role::Ordinary) {
        let s = guard.signals_of(r.account);
        let n = s.network.as_ref().unwrap();
        let t = s.text.as_ref().unwrap();
        let key = format!("score>=0.2:{} tier:{:?} rules:{:?} minors:{:?}", n.score >= 0.2, t.worst_tier, t.rules, s.blocks_reports_from_minors);
        if n.score >= 0.2 || t.worst_tier.is_some() { *c.entry(key).or_default() += 1; }
    }
    println!("{c:#?}");
    let m = guard.map();
    let ex: Vec<_> = m.suspects.iter().filter(|s| truth.role(s.node) == Role::Ordinary && s.score >= 1.2).take(3).map(|s| (s.score, s.evidence.signals.clone())).collect();
    println!("{ex:#?}");
}
