//! Tests of the event vocabulary: parsing, canonical bodies, errors, documentation.

use super::*;

fn limits() -> ParseLimits {
    ParseLimits {
        now: 1_764_400_000,
        max_future_seconds: DEFAULT_MAX_FUTURE_SECONDS,
    }
}

#[test]
fn the_documented_examples_parse() {
    let ndjson = br#"{"id": "e-1", "type": "account_created", "at": 1764400000, "account": "9000001", "handle": "river_fan", "declared_age": 41, "bio": "...", "emails": ["a@example.invalid"], "phones": [], "devices": ["d-1"], "payment_handles": []}
{"id": "e-2", "type": "profile_updated", "at": 1764400001, "account": "9000001", "handle": "river_fan2", "bio": "new"}
{"id": "e-3", "type": "follow", "at": 1764400002, "account": "9000001", "target": "45"}
{"id": "e-4", "type": "post", "at": 1764400003, "account": "9000001", "post": "p-77", "text": "hi", "hashtags": ["a"], "media_hashes": ["pdq:00"], "features_minor": false}
{"id": "e-5", "type": "like", "at": 1764400004, "account": "9000001", "post": "p-77", "text": ""}

{"id": "e-6", "type": "search", "at": 1764400005, "account": "9000001", "query": "q", "client_extra": {"kept": true}}
"#;
    let batch = parse_batch(ndjson, &limits());
    assert!(batch.errors.is_empty(), "{:?}", batch.errors);
    let kinds: Vec<&str> = batch.events.iter().map(|(_, e)| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            "account_created",
            "profile_updated",
            "follow",
            "post",
            "like",
            "search"
        ]
    );
    // Unknown fields are kept in the stored body.
    let search = &batch.events[5].1;
    assert!(String::from_utf8_lossy(&search.body).contains("\"client_extra\":{\"kept\":true}"));
    // The same events as a JSON array.
    let array = format!(
        "[{}]",
        String::from_utf8_lossy(ndjson)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(",")
    );
    let again = parse_batch(array.as_bytes(), &limits());
    assert_eq!(again.events.len(), 6);
    assert_eq!(again.events[3].1, batch.events[3].1);
}

#[test]
fn bad_events_are_named_by_index_line_and_field() {
    let now = limits().now;
    let input = format!(
        "{{\"id\":\"a\",\"type\":\"follow\",\"at\":1,\"account\":\"1\",\"target\":\"2\"}}\n\
         {{\"id\":\"b\",\"type\":\"teleport\",\"at\":1}}\n\
         {{\"id\":\"c\",\"type\":\"follow\",\"at\":1,\"account\":\"1\"}}\n\
         {{\"id\":\"d\",\"type\":\"follow\",\"at\":{},\"account\":\"1\",\"target\":\"2\"}}\n\
         not json\n\
         {{\"type\":\"follow\",\"at\":1}}\n\
         {{\"id\":\"g\",\"type\":\"follow\",\"at\":-5,\"account\":\"1\",\"target\":\"2\"}}\n\
         {{\"id\":\"h\",\"type\":\"account_created\",\"at\":1,\"account\":\"1\",\"handle\":\"x\",\"declared_age\":\"old\"}}\n",
        now + 10 * 86_400
    );
    let batch = parse_batch(input.as_bytes(), &limits());
    assert_eq!(batch.events.len(), 1);
    let got: Vec<(usize, Option<usize>, Option<&str>, EventErrorKind)> = batch
        .errors
        .iter()
        .map(|e| (e.index, e.line, e.field.as_deref(), e.kind))
        .collect();
    assert_eq!(
        got,
        [
            (1, Some(2), Some("type"), EventErrorKind::UnknownType),
            (2, Some(3), Some("target"), EventErrorKind::MissingField),
            (3, Some(4), Some("at"), EventErrorKind::FutureTimestamp),
            (4, Some(5), None, EventErrorKind::Malformed),
            (5, Some(6), Some("id"), EventErrorKind::MissingField),
            (6, Some(7), Some("at"), EventErrorKind::InvalidField),
            (7, Some(8), None, EventErrorKind::InvalidField),
        ]
    );
    let shown = batch.errors[0].to_string();
    assert!(
        shown.starts_with("event 1 (line 2): field `type`: unknown event type \"teleport\""),
        "{shown}"
    );
}

#[test]
fn bodies_are_canonical_and_round_trip() {
    let a = parse_batch(
        br#"{"at":5,"target":"2","type":"follow","account":"1","id":"x"}"#,
        &limits(),
    );
    let b = parse_batch(
        br#"{"id":"x","type":"follow","at":5,"account":"1","target":"2"}"#,
        &limits(),
    );
    assert_eq!(a.events[0].1.body, b.events[0].1.body);
    let back = Event::from_body(&a.events[0].1.body).expect("stored body reads back");
    assert_eq!(back, a.events[0].1);
    let built = Event::new(
        "x",
        5,
        Payload::Follow(AccountAction {
            account: "1".into(),
            target: "2".into(),
        }),
    );
    assert_eq!(built.body, a.events[0].1.body);
}
#[test]
fn every_event_type_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.md"))
        .expect("docs/events.md");
    let missing: Vec<&str> = EVENT_TYPES
        .iter()
        .copied()
        .filter(|kind| !doc.contains(&format!("### `{kind}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/events.md does not document {missing:?}"
    );
}
