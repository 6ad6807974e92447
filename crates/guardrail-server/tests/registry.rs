//! The offender registry and entity labels at sign-up, over HTTP: a sign-up whose email is
//! on the registry's list (in any written form the provider treats as the same address) is
//! sent to review and, once the account is created, a high-priority case opens for a person
//! — once, however often the batch is sent; a sign-up that links to a labelled entity
//! inherits the label and says through which link; a list hashed under another key is
//! refused loudly (fail closed to review), never read as matching nothing.

mod common;

use axum::http::StatusCode;
use common::*;
use guardrail_ledger::event::{Event, LabelApplied, Payload, RegistryImported};
use guardrail_policy::registry::{Registry, RegistryKey};
use guardrail_server::registry::RegistrySecret;
use serde_json::json;

const KEY: &str = "5f1e0c2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e";
const OTHER_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";

fn registry_event(key: &str, issued: u64) -> Event {
    let mut registry = Registry::new(RegistryKey::from_hex(key).expect("a key"));
    registry
        .import(
            "# weekly list (invented addresses)\noffender.example+x@gmail.com\nsecond@example.invalid\n",
            guardrail_types::Timestamp(issued),
        )
        .expect("the list imports");
    let stored = registry.stored();
    Event::new(
        format!("registry:{issued}"),
        T0 + 10,
        Payload::RegistryImported(RegistryImported {
            version: issued.to_string(),
            hashes: stored.hashes,
            actor: "test".into(),
            key_check: stored.key_check,
        }),
    )
}

async fn harness(key: &str) -> Harness {
    let h = Harness::start(ServeConfig {
        registry_key: Some(RegistrySecret::from_hex(key).expect("a key")),
        ..ServeConfig::default()
    })
    .await;
    h.ready().await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_matches_open_one_case_for_a_person_and_labels_reach_new_accounts() {
    let h = harness(KEY).await;
    h.service
        .append(vec![registry_event(KEY, T0)])
        .await
        .expect("stored");

    // (emails, expected registry field, expected action)
    let rows = [
        (vec!["OffenderExample+new@gmail.com"], "match", "review"),
        (vec!["offender.example@googlemail.com"], "match", "review"),
        (vec!["someone.else@example.invalid"], "no match", "allow"),
        (vec![], "no match", "allow"),
    ];
    for (emails, registry, action) in rows {
        let (status, answer) = h
            .post(
                "/v1/signup/decide",
                Scope::Service,
                json!({"handle": "new_person", "bio": "gardening", "emails": emails}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["registry"], registry, "{emails:?}: {answer}");
        assert_eq!(answer["action"], action, "{emails:?}: {answer}");
        assert!(
            !answer.to_string().contains("offender.example"),
            "no address is echoed: {answer}"
        );
    }

    // The account is created with that email: one case, priority 0, for a person.
    let created = json!([{"id": "reg-a1", "type": "account_created", "at": T0 + 20, "account": "201",
        "handle": "returning", "declared_age": 40, "bio": "", "emails": ["Offender.Example+y@gmail.com"]}]);
    for _ in 0..2 {
        let (status, stored) = h.post("/v1/events", Scope::Service, created.clone()).await;
        assert_eq!(status, StatusCode::OK, "{stored}");
    }
    let case = guardrail_reports::report_id(&format!("offender-registry:201:{T0}"));
    let (status, report) = h
        .call(
            "GET",
            &format!("/v1/reports/{case}"),
            Some(Scope::Reviewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["category"], "offender_registry_match");
    assert_eq!(report["priority"], 0);
    assert_eq!(report["state"], "received", "a person decides: {report}");
    let cases = h
        .service
        .ledger()
        .map(|s| {
            s.reports
                .values()
                .filter(|r| r.category == "offender_registry_match")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(cases, 1, "sending the batch twice opens one case");

    // A label on 102 reaches a new account sharing its email.
    h.service
        .append(vec![Event::new(
            "label-102",
            T0 + 30,
            Payload::LabelApplied(LabelApplied {
                account: "102".into(),
                label: "csam_seller".into(),
                reason: "sold content in DMs".into(),
                actor: "person:rev-1".into(),
                expires_at: None,
            }),
        )])
        .await
        .expect("stored");
    let (_, answer) = h
        .post(
            "/v1/signup/decide",
            Scope::Service,
            json!({"handle": "fresh_start", "emails": ["shared@example.invalid"]}),
        )
        .await;
    assert_eq!(answer["action"], "review", "{answer}");
    let labels = answer["inherited_labels"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        labels
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("csam_seller")
                && l.contains("on account 102")
                && l.contains("the new account and account 102"))),
        "{answer}"
    );
    // The entity as the linker sees it: 103 shares 102's email, so 102's label reaches
    // it through that link, with the evidence and a confidence.
    let (status, entity) = h
        .call("GET", "/v1/entities/103", Some(Scope::Reviewer), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{entity}");
    assert_eq!(entity["accounts"], json!(["103", "102"]), "{entity}");
    assert!(
        entity["links"].as_array().is_some_and(|links| links
            .iter()
            .any(|l| l["to"] == "102" && l["merged"] == true)),
        "{entity}"
    );
    assert!(
        entity["actions"].as_array().is_some_and(|actions| actions
            .iter()
            .any(|a| a["label"] == "csam_seller" && a["account"] == "102")),
        "{entity}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_under_another_key_fails_closed_and_says_why() {
    let h = harness(KEY).await;
    h.service
        .append(vec![registry_event(OTHER_KEY, T0)])
        .await
        .expect("stored");
    let (_, answer) = h
        .post(
            "/v1/signup/decide",
            Scope::Service,
            json!({"handle": "new_person", "emails": ["someone@example.invalid"]}),
        )
        .await;
    assert_eq!(answer["action"], "review", "{answer}");
    assert!(
        answer["registry"]
            .as_str()
            .is_some_and(|r| r.starts_with("not checked")),
        "{answer}"
    );
}
