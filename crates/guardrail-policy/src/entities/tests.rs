//! Entity links: linking, evidence, fan-out splits, labels and arrival order.

use super::*;

#[test]
fn bios_name_backup_handles() {
    let rows: [(&str, &[&str]); 5] = [
        ("backup @seller_two. dm", &["seller_two"]),
        ("new acc: follow backup seller.three", &["seller.three"]),
        ("my main: quux.main", &["quux.main"]),
        ("love my dog @rex and @rex", &["rex"]),
        ("no handles here", &[]),
    ];
    for (bio, expected) in rows {
        assert_eq!(handles_in_bio(bio), expected, "{bio}");
    }
    let mentions = bio_mentions("photos by @friend | backup acc @u1a2b3");
    assert_eq!(
        mentions,
        vec![
            BioMention {
                handle: "friend".into(),
                phrase: "@friend".into(),
                cued: false
            },
            BioMention {
                handle: "u1a2b3".into(),
                phrase: "backup acc @u1a2b3".into(),
                cued: true
            },
        ]
    );
}

fn label(at: u64) -> Label {
    Label {
        name: "csea.seller".into(),
        reason: "sold material".into(),
        actor: "reviewer-1".into(),
        applied_at: Timestamp(at),
        expires_at: None,
    }
}

#[test]
fn a_new_account_inherits_the_entitys_label() {
    let mut links = EntityLinks::new();
    let (old, new, unrelated) = (AccountId(10), AccountId(11), AccountId(12));
    links.add_handle(old, "quux_shop");
    links.label(old, label(100));
    // The new account names the old one in its bio and shares an email form.
    links.add_bio(new, "backup @quux_shop");
    links.add_identifier(
        new,
        Identifier::email("Q.u.u.x+2@gmail.com").expect("email"),
    );
    links.add_identifier(
        unrelated,
        Identifier::email("othersynth7@gmail.com").expect("email"),
    );
    assert_eq!(links.labels_at(new, Timestamp(200)).len(), 1);
    assert!(links.labels_at(unrelated, Timestamp(200)).is_empty());
    assert!(
        links.labels_at(new, Timestamp(50)).is_empty(),
        "not before it was applied"
    );
    // Linking by a handle named before its account existed.
    let (early, later) = (AccountId(20), AccountId(21));
    links.add_bio(early, "main @later_acc");
    links.add_handle(later, "later_acc");
    assert_eq!(links.entity_of(early), links.entity_of(later));
    // Shared payment handles and devices link too.
    links.add_identifier(
        AccountId(30),
        Identifier::payment("$QuuxPay").expect("payment"),
    );
    links.add_identifier(
        AccountId(31),
        Identifier::payment("quuxpay").expect("payment"),
    );
    assert_eq!(
        links.entity_of(AccountId(30)),
        links.entity_of(AccountId(31))
    );
}

#[test]
fn links_carry_kind_evidence_and_confidence() {
    let mut links = EntityLinks::new();
    let (seller, backup, friend) = (AccountId(1), AccountId(2), AccountId(3));
    links.add_handle(seller, "u1a2b3");
    links.add_bio(seller, "menu | backup @u1a2b8 | shoutout @friendly");
    links.add_identifier(
        seller,
        Identifier::email("Seller.Synth7@gmail.com").expect("email"),
    );
    links.add_identifier(seller, Identifier::phone("+1 202 555 0143").expect("phone"));
    links.add_handle(friend, "friendly");
    links.add_handle(backup, "u1a2b8");
    links.add_identifier(
        backup,
        Identifier::email("sellersynth7+b@gmail.com").expect("email"),
    );
    links.add_identifier(backup, Identifier::phone("+12025550143").expect("phone"));
    assert_eq!(links.members(backup), vec![seller, backup]);
    assert_eq!(
        links.members(friend),
        vec![friend],
        "a bare mention never merges"
    );
    let found = links.links(backup);
    let kinds: Vec<(LinkKind, bool)> = found.iter().map(|l| (l.kind, l.merged)).collect();
    assert_eq!(
        kinds,
        vec![
            (LinkKind::Email, true),
            (LinkKind::BioBackup, true),
            (LinkKind::Phone, true)
        ]
    );
    assert_eq!(found[0].evidence, "both use email sellersynth7@gmail.com");
    assert_eq!(found[0].confidence, 0.95);
    assert_eq!(
        found[1].evidence,
        "bio of 1 names @u1a2b8: \"backup @u1a2b8\""
    );
    assert!(found.iter().all(|l| l.b == seller || l.a == seller));
    let weak = links.links(friend);
    assert_eq!(weak.len(), 1);
    assert_eq!(weak[0].kind, LinkKind::BioMention);
    assert!(!weak[0].merged);
    assert_eq!(weak[0].confidence, 0.3);
    // A look-alike handle links nothing: u1a2b3 is not u1a2b8's bio target.
    let lookalike = AccountId(4);
    links.add_handle(lookalike, "u1a2b9");
    assert_eq!(links.members(lookalike), vec![lookalike]);
}

#[test]
fn a_bio_naming_a_former_handle_is_a_former_handle_link() {
    let mut links = EntityLinks::new();
    let (renamed, writer) = (AccountId(5), AccountId(6));
    links.add_handle(renamed, "old_name");
    links.add_handle(renamed, "new_name");
    links.add_bio(writer, "alt @old_name");
    assert_eq!(links.members(writer), vec![renamed, writer]);
    assert_eq!(links.links(writer)[0].kind, LinkKind::FormerHandle);
    assert_eq!(links.links(writer)[0].confidence, 0.8);
}

#[test]
fn a_shared_public_device_links_nobody_and_splits_what_it_joined() {
    let mut links = EntityLinks::new();
    let library = Identifier::device("lib-terminal-1").expect("device");
    let people: Vec<AccountId> = (100..110).map(AccountId).collect();
    // Two of them are one person by their phone.
    let phone = Identifier::phone("+44 7700 900123").expect("phone");
    links.add_identifier(people[1], phone.clone());
    links.add_identifier(people[2], phone);
    links.label(people[0], label(10));
    for (index, &person) in people.iter().enumerate() {
        links.add_identifier(person, library.clone());
        if index < DEFAULT_FAN_OUT {
            assert!(links.members(people[0]).contains(&person));
        }
    }
    // Over the fan-out: split again, keeping the phone link and the label where applied.
    assert_eq!(links.members(people[1]), vec![people[1], people[2]]);
    for &person in people.iter().skip(3) {
        assert_eq!(links.members(person), vec![person]);
    }
    assert_eq!(links.labels_at(people[0], Timestamp(20)).len(), 1);
    assert!(links.labels_at(people[4], Timestamp(20)).is_empty());
    let weak = links.links(people[5]);
    assert_eq!(weak.len(), WEAK_LISTED.min(people.len() - 1));
    assert!(weak.iter().all(|l| !l.merged && l.kind == LinkKind::Device));
    assert!(weak[0].evidence.contains("shared by 10 accounts"));
    assert!((weak[0].confidence - 0.9 * 5.0 / 10.0).abs() < 1e-12);
}

#[test]
fn the_order_accounts_arrive_in_does_not_change_the_entities() {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    // (account, handle, bio, identifiers)
    let accounts: Vec<(u32, String, String, Vec<Identifier>)> = (0..40u32)
        .map(|i| {
            let mut ids = vec![Identifier::device(&format!("d{}", i % 20)).expect("d")];
            if i % 3 == 0 {
                ids.push(Identifier::device("shared-tablet").expect("d"));
            }
            if i % 7 == 0 {
                ids.push(Identifier::email(&format!("p.{}@gmail.com", i % 2)).expect("e"));
            }
            let bio = if i % 5 == 0 {
                format!("backup @h{}", (i + 9) % 40)
            } else {
                format!("hi @h{}", (i + 1) % 40)
            };
            (i, format!("h{i}"), bio, ids)
        })
        .collect();
    let build = |order: &[usize]| {
        let mut links = EntityLinks::new();
        for &row in order {
            let (id, handle, bio, ids) = &accounts[row];
            let account = AccountId(*id);
            links.add_handle(account, handle);
            links.add_bio(account, bio);
            for identifier in ids {
                links.add_identifier(account, identifier.clone());
            }
        }
        (0..40)
            .map(|i| links.members(AccountId(i)))
            .collect::<Vec<_>>()
    };
    let forward: Vec<usize> = (0..40).collect();
    let expected = build(&forward);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for _ in 0..20 {
        let mut order = forward.clone();
        order.shuffle(&mut rng);
        assert_eq!(build(&order), expected);
    }
    // The shared tablet (14 accounts) joined nobody: 3 is one person with 23 (device d3).
    assert_eq!(expected[3], vec![AccountId(3), AccountId(23)]);
}

#[test]
fn a_label_reaching_a_new_account_says_through_which_links() {
    let mut links = EntityLinks::new();
    let (seller, backup, second) = (AccountId(1), AccountId(2), AccountId(3));
    links.add_handle(seller, "quux_shop");
    links.add_bio(seller, "menu | backup @quux_two");
    links.label(seller, label(100));
    links.add_handle(backup, "quux_two");
    links.add_handle(second, "quux_three");
    links.add_identifier(backup, Identifier::device("and-7").expect("device"));
    links.add_identifier(second, Identifier::device("and-7").expect("device"));
    let on_seller = links.explain_labels(seller, Timestamp(200));
    assert_eq!(on_seller.len(), 1);
    assert!(on_seller[0].path.is_empty() && on_seller[0].confidence == 1.0);
    assert_eq!(
        on_seller[0].describe(seller),
        "label csea.seller (sold material; applied by reviewer-1) is on account 1 itself"
    );
    let explained = links.explain_labels(second, Timestamp(200));
    assert_eq!(explained.len(), 1);
    let kinds: Vec<LinkKind> = explained[0].path.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, vec![LinkKind::Device, LinkKind::BioBackup]);
    assert!((explained[0].confidence - 0.9 * 0.85).abs() < 1e-12);
    assert_eq!(
        explained[0].describe(second),
        "label csea.seller (sold material; applied by reviewer-1) was applied to account 1, \
         linked to account 3 (confidence 0.77) by 3 and 2: both use device and-7; \
         then 1 and 2: bio of 1 names @quux_two: \"backup @quux_two\""
    );
    assert!(
        links.explain_labels(second, Timestamp(50)).is_empty(),
        "not yet applied"
    );
    assert!(
        links
            .explain_labels(AccountId(9), Timestamp(200))
            .is_empty()
    );
}
