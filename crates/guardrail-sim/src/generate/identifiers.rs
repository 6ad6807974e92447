//! Phase 9: what the platform knows about each account but does not show — sign-up
//! emails, a phone, devices, payment handles — and how the people behind accounts share
//! them.
//!
//! Every account gets one or two emails on invented `.invalid` providers (a few big ones
//! shared by most accounts: sharing a provider says nothing), most get a phone in E.164 form
//! from the ranges regulators keep for fiction, every one a device. A seller's backup
//! account shares things with its seller the way evaders do: most reuse the device, the
//! phone or the payment handle, some an email written with dots, a `+tag` or other case
//! (only where the provider ignores those), some share nothing but the bio that names them,
//! a few nothing at all. Benign accounts collide too: a parent-run account's tablet is also
//! a child's, library computers are used by dozens, and some mailboxes look like others
//! (`quiet.river42` and `quiet.river47`, a handle with one character changed, `ri.ver` and
//! `river` at a provider where dots count). The ground truth of who is one person and which
//! benign look-alikes are not is returned apart, for `truth/`.
//!
//! What it must never do: draw from another phase's stream (every existing table stays
//! byte-identical with or without this phase), use a real domain or a number outside the
//! fiction ranges, or put a role in a public field.

use std::collections::HashSet;

use guardrail_types::AccountId;
use guardrail_world::{Account, IdentifierKind, IdentifierRecord};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::roles::Cast;
use super::{Stream, stream};
use crate::truth::{CollisionKind, CollisionRecord, EntityRecord, Role};

/// Email providers: domain, share of mailboxes, whether the provider ignores dots in the
/// local part, whether it delivers `name+tag@` to `name@`. Guardrail's default email rules
/// (`guardrail_policy::canonical`) list the same behaviour for these invented domains.
const PROVIDERS: [(&str, f64, bool, bool); 4] = [
    ("postmail.invalid", 0.42, true, true),
    ("boxmail.invalid", 0.26, false, true),
    ("quillpost.invalid", 0.21, false, false),
    ("nimbusmail.invalid", 0.11, false, false),
];
/// Share of emails on a personal domain (`<word><nn>.invalid`, strict).
const PERSONAL_DOMAIN_SHARE: f64 = 0.05;
/// Words for mailbox names and personal domains (ordinary words, no names).
const WORDS_A: [&str; 20] = [
    "quiet", "sunny", "brave", "lucky", "misty", "amber", "cozy", "swift", "mellow", "bright",
    "silver", "velvet", "golden", "rusty", "breezy", "little", "happy", "wild", "calm", "dusty",
];
const WORDS_B: [&str; 20] = [
    "river", "meadow", "pebble", "comet", "maple", "harbor", "lantern", "willow", "sparrow",
    "otter", "canyon", "biscuit", "pepper", "clover", "ember", "falcon", "juniper", "marble",
    "nutmeg", "thistle",
];
/// Share of accounts with a second email.
const SECOND_EMAIL_SHARE: f64 = 0.3;
/// Share of accounts with a phone.
const PHONE_SHARE: f64 = 0.85;
/// Share of accounts with a second personal device.
const SECOND_DEVICE_SHARE: f64 = 0.25;
/// Share of ordinary, niche, parent-run and advocate accounts with a payment handle
/// (sellers, brands and adult-content accounts all have one).
const PAYMENT_SHARE: f64 = 0.1;
/// Payment services, as sellers' bios name them.
const PAYMENT_SERVICES: [&str; 3] = ["quil", "zenpay", "movr"];

/// Of backups their seller's bio names: share that share nothing else with it.
const BIO_ONLY_SHARE: f64 = 0.3;
/// Of backups no bio names: share that share nothing at all (careful evaders; no
/// linker can find them from these tables).
const UNTRACEABLE_SHARE: f64 = 0.05;
/// What a backup shares with its seller, by weight: device, phone, payment handle, an
/// email variant.
const SHARED_WEIGHTS: [f64; 4] = [0.4, 0.25, 0.2, 0.15];
/// Chance a backup shares a second kind as well.
const SECOND_SHARED_SHARE: f64 = 0.3;

/// Share of parent-run accounts whose tablet is also a child's.
const HOUSEHOLD_SHARE: f64 = 0.6;
/// Library and school computers: one per this many accounts, each used by this range.
const ACCOUNTS_PER_PUBLIC_DEVICE: usize = 1000;
const PUBLIC_DEVICE_USERS: (usize, usize) = (6, 40);
/// Look-alike mailbox pairs of each kind (look-alike name, same name pattern, dots at a
/// strict provider): one pair per this many accounts.
const ACCOUNTS_PER_DECOY_PAIR: usize = 200;
/// Draws before giving up on a unique value (large worlds run out of fiction numbers).
const TRIES: usize = 16;

/// The identifiers of a world and their ground truth.
pub(super) struct Identities {
    /// Public rows, by account, then kind (email, phone, device, payment).
    pub records: Vec<IdentifierRecord>,
    /// The person behind each account.
    pub entities: Vec<EntityRecord>,
    /// Benign pairs that share or resemble something but are different people.
    pub collisions: Vec<CollisionRecord>,
}

/// One account's identifiers while they are drawn.
#[derive(Default, Clone)]
struct Held {
    /// (local part, domain), as written.
    emails: Vec<(String, String)>,
    phone: Option<String>,
    devices: Vec<String>,
    payments: Vec<String>,
}

/// Phone numbers reserved for fiction: a prefix (country code included) and how many
/// digits follow it. North America keeps 555-0100 to 555-0199 in every area code; Ofcom
/// keeps drama ranges in London, Leeds to Glasgow and on mobiles; ACMA keeps 5550 xxxx in
/// four geographic areas.
enum Pool {
    /// +1, an area code, then 555 01xx.
    NorthAmerica,
    /// (prefix, digits after it).
    Blocks(&'static [(&'static str, u32)]),
}

const UK_DRAMA: [(&str, u32); 15] = [
    ("447700900", 3),
    ("442079460", 3),
    ("441134960", 3),
    ("441144960", 3),
    ("441154960", 3),
    ("441164960", 3),
    ("441174960", 3),
    ("441184960", 3),
    ("441214960", 3),
    ("441314960", 3),
    ("441414960", 3),
    ("441514960", 3),
    ("441614960", 3),
    ("441914980", 3),
    ("441632960", 3),
];
const AU_FICTION: [(&str, u32); 4] = [
    ("6125550", 4),
    ("6135550", 4),
    ("6175550", 4),
    ("6185550", 4),
];

impl Pool {
    /// Countries without published fiction ranges (India, Brazil) get a North American
    /// fiction number, as a virtual number would be.
    fn of(country: &str) -> Pool {
        match country {
            "gb" => Pool::Blocks(&UK_DRAMA),
            "au" => Pool::Blocks(&AU_FICTION),
            _ => Pool::NorthAmerica,
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> String {
        match self {
            Pool::NorthAmerica => {
                // Area codes: 2-9, then 0-8, then any digit, but not N11.
                let area = loop {
                    let (a, b, c) = (
                        rng.gen_range(2..10),
                        rng.gen_range(0..9),
                        rng.gen_range(0..10),
                    );
                    if !(b == 1 && c == 1) {
                        break a * 100 + b * 10 + c;
                    }
                };
                format!("+1{area}55501{:02}", rng.gen_range(0..100))
            }
            Pool::Blocks(blocks) => {
                let (prefix, digits) = blocks[rng.gen_range(0..blocks.len())];
                let number = rng.gen_range(0..10u32.pow(digits));
                format!("+{prefix}{number:0width$}", width = digits as usize)
            }
        }
    }
}

/// The mailbox an address reaches, by the provider's own rules (the generator's truth).
fn mailbox(local: &str, domain: &str) -> String {
    let local = local.to_lowercase();
    let domain = domain.to_lowercase();
    let rules = PROVIDERS.iter().find(|p| p.0 == domain);
    let mut local = match rules {
        Some(&(_, _, _, true)) => local.split('+').next().unwrap_or("").to_string(),
        _ => local,
    };
    if matches!(rules, Some(&(_, _, true, _))) {
        local.retain(|c| c != '.');
    }
    format!("{local}@{domain}")
}

struct Drawer {
    rng: ChaCha8Rng,
    mailboxes: HashSet<String>,
    phones: HashSet<String>,
    devices: HashSet<String>,
    payments: HashSet<String>,
}

impl Drawer {
    fn provider(&mut self) -> String {
        if self.rng.gen_bool(PERSONAL_DOMAIN_SHARE) {
            let word = WORDS_B[self.rng.gen_range(0..WORDS_B.len())];
            return format!("{word}{}.invalid", self.rng.gen_range(10..100));
        }
        let x: f64 = self.rng.r#gen();
        let mut total = 0.0;
        for (domain, share, _, _) in PROVIDERS {
            total += share;
            if x < total {
                return domain.to_string();
            }
        }
        PROVIDERS[0].0.to_string()
    }

    fn local_part(&mut self, handle: &str) -> String {
        let a = WORDS_A[self.rng.gen_range(0..WORDS_A.len())];
        let b = WORDS_B[self.rng.gen_range(0..WORDS_B.len())];
        match self.rng.gen_range(0..10) {
            0..=2 => handle.to_string(),
            3..=7 => format!("{a}.{b}{}", self.rng.gen_range(10..100)),
            _ => format!("{a}{b}{}", self.rng.gen_range(1000..10_000)),
        }
    }

    /// Claims a mailbox; false if another account has it.
    fn claim(&mut self, local: &str, domain: &str) -> bool {
        self.mailboxes.insert(mailbox(local, domain))
    }

    fn email(&mut self, handle: &str) -> Option<(String, String)> {
        let domain = self.provider();
        let mut local = self.local_part(handle);
        for _ in 0..TRIES {
            if self.claim(&local, &domain) {
                return Some((local, domain));
            }
            local.push(char::from(b'0' + self.rng.gen_range(0..10u8)));
        }
        None
    }

    fn phone(&mut self, country: &str) -> Option<String> {
        let pool = Pool::of(country);
        (0..TRIES).find_map(|_| {
            let number = pool.draw(&mut self.rng);
            self.phones.insert(number.clone()).then_some(number)
        })
    }

    fn device(&mut self, kinds: &[&str]) -> String {
        loop {
            let kind = kinds[self.rng.gen_range(0..kinds.len())];
            let id = format!("{kind}-{:012x}", self.rng.r#gen::<u64>() & 0xffff_ffff_ffff);
            if self.devices.insert(id.clone()) {
                return id;
            }
        }
    }

    fn payment(&mut self, digits: u32) -> Option<String> {
        (0..TRIES).find_map(|_| {
            let service = PAYMENT_SERVICES[self.rng.gen_range(0..PAYMENT_SERVICES.len())];
            let number = self.rng.gen_range(0..10u32.pow(digits));
            let handle = format!("${service}-{number:0width$}", width = digits as usize);
            self.payments
                .insert(handle.to_lowercase())
                .then_some(handle)
        })
    }
}

/// The payment handle a bio names (`$quil-1234`), if any.
fn bio_payment(bio: &str) -> Option<&str> {
    bio.split_whitespace()
        .find(|w| w.starts_with('$') && w.len() > 1)
}

/// Draws every account's identifiers and the people behind them.
pub(super) fn identifiers(seed: u64, cast: &Cast, accounts: &[Account]) -> Identities {
    let n = accounts.len();
    let mut drawer = Drawer {
        rng: stream(seed, Stream::Identifiers),
        mailboxes: HashSet::new(),
        phones: HashSet::new(),
        devices: HashSet::new(),
        // Handles already in bios are taken: a benign account never gets a seller's.
        payments: accounts
            .iter()
            .filter_map(|a| bio_payment(&a.bio))
            .map(str::to_lowercase)
            .collect(),
    };
    let role = |account: usize| cast.roles[account].role;
    let mut held: Vec<Held> = Vec::with_capacity(n);
    for (index, account) in accounts.iter().enumerate() {
        let mut mine = Held::default();
        let emails = if drawer.rng.gen_bool(SECOND_EMAIL_SHARE) {
            2
        } else {
            1
        };
        for _ in 0..emails {
            if let Some(email) = drawer.email(&account.handle) {
                mine.emails.push(email);
            }
        }
        if drawer.rng.gen_bool(PHONE_SHARE) {
            mine.phone = drawer.phone(&account.country);
        }
        mine.devices.push(drawer.device(&["and", "ios"]));
        if drawer.rng.gen_bool(SECOND_DEVICE_SHARE) {
            mine.devices.push(drawer.device(&["web", "tab"]));
        }
        let pays = match role(index) {
            Role::Seller | Role::Brand | Role::AdultContent => true,
            _ => drawer.rng.gen_bool(PAYMENT_SHARE),
        };
        if pays {
            // A seller registers the handle its bio advertises.
            let from_bio = (role(index) == Role::Seller)
                .then(|| bio_payment(&account.bio).map(str::to_string))
                .flatten();
            let digits = if role(index).in_network() { 4 } else { 6 };
            if let Some(handle) = from_bio.or_else(|| drawer.payment(digits)) {
                mine.payments.push(handle);
            }
        }
        held.push(mine);
    }

    let mut persons: Vec<u32> = (0..n as u32).collect();
    for backup in &cast.backups {
        let (b, s) = (backup.account.index(), backup.backup_of.index());
        persons[b] = s as u32;
        let named = accounts[s]
            .bio
            .contains(&format!("@{}", accounts[b].handle));
        let shares_nothing = if named {
            drawer.rng.gen_bool(BIO_ONLY_SHARE)
        } else {
            drawer.rng.gen_bool(UNTRACEABLE_SHARE)
        };
        if shares_nothing {
            continue;
        }
        let mut kinds = vec![weighted(&mut drawer.rng, &SHARED_WEIGHTS)];
        if drawer.rng.gen_bool(SECOND_SHARED_SHARE) {
            let second = weighted(&mut drawer.rng, &SHARED_WEIGHTS);
            if second != kinds[0] {
                kinds.push(second);
            }
        }
        for kind in kinds {
            share_with_seller(&mut drawer, &mut held, (b, s), &accounts[s].country, kind);
        }
    }

    let mut collisions = Vec::new();
    let benign = |account: usize| !role(account).in_network();
    // Households: a parent-run account's tablet is also a child's.
    let mut minors: Vec<usize> = (0..n)
        .filter(|&a| benign(a) && accounts[a].declared_age < 18)
        .collect();
    minors.shuffle(&mut drawer.rng);
    for parent in (0..n).filter(|&a| role(a) == Role::ParentRun) {
        if !drawer.rng.gen_bool(HOUSEHOLD_SHARE) {
            continue;
        }
        let Some(child) = minors.pop() else { break };
        let tablet = held[parent].devices[0].clone();
        held[child].devices.push(tablet);
        collisions.push(collision(parent, child, CollisionKind::HouseholdDevice));
    }
    // Library and school computers.
    let everyone: Vec<usize> = (0..n).collect();
    for _ in 0..(n / ACCOUNTS_PER_PUBLIC_DEVICE).max(1) {
        let users = drawer
            .rng
            .gen_range(PUBLIC_DEVICE_USERS.0..=PUBLIC_DEVICE_USERS.1)
            .min(n);
        let device = drawer.device(&["pub"]);
        let chosen: Vec<usize> = everyone
            .choose_multiple(&mut drawer.rng, users)
            .copied()
            .collect();
        for &user in &chosen {
            held[user].devices.push(device.clone());
        }
        for &other in chosen.iter().skip(1) {
            collisions.push(collision(chosen[0], other, CollisionKind::PublicDevice));
        }
    }
    // Look-alike mailboxes between benign strangers.
    let pairs = (n / ACCOUNTS_PER_DECOY_PAIR).max(1);
    let benign_accounts: Vec<usize> = (0..n).filter(|&a| benign(a)).collect();
    for kind in [
        CollisionKind::LookalikeEmail,
        CollisionKind::NamePatternEmail,
        CollisionKind::StrictProviderDots,
    ] {
        for _ in 0..pairs {
            let (Some(&a), Some(&b)) = (
                benign_accounts.choose(&mut drawer.rng),
                benign_accounts.choose(&mut drawer.rng),
            ) else {
                break;
            };
            if a != b && decoy(&mut drawer, &mut held, &accounts[a].handle, a, b, kind) {
                collisions.push(collision(a, b, kind));
            }
        }
    }

    let mut records = Vec::new();
    for (index, mine) in held.iter().enumerate() {
        let account = AccountId(index as u32);
        let mut push = |kind: IdentifierKind, value: String| {
            if !records
                .iter()
                .rev()
                .take_while(|r: &&IdentifierRecord| r.account == account)
                .any(|r| r.kind == kind && r.value == value)
            {
                records.push(IdentifierRecord {
                    account,
                    kind,
                    value,
                });
            }
        };
        for (local, domain) in &mine.emails {
            push(IdentifierKind::Email, format!("{local}@{domain}"));
        }
        if let Some(phone) = &mine.phone {
            push(IdentifierKind::Phone, phone.clone());
        }
        for device in &mine.devices {
            push(IdentifierKind::Device, device.clone());
        }
        for payment in &mine.payments {
            push(IdentifierKind::Payment, payment.clone());
        }
    }
    let entities = persons
        .iter()
        .enumerate()
        .map(|(account, &person)| EntityRecord {
            account: AccountId(account as u32),
            person: AccountId(person),
        })
        .collect();
    Identities {
        records,
        entities,
        collisions,
    }
}

fn collision(a: usize, b: usize, kind: CollisionKind) -> CollisionRecord {
    CollisionRecord {
        a: AccountId(a as u32),
        b: AccountId(b as u32),
        kind,
    }
}

fn weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.r#gen::<f64>() * total;
    for (index, weight) in weights.iter().enumerate() {
        if x < *weight {
            return index;
        }
        x -= weight;
    }
    weights.len() - 1
}

/// The backup `b` takes something of its seller `s`: 0 device, 1 phone, 2 payment handle,
/// 3 an email written another way (only a way the provider ignores).
fn share_with_seller(
    drawer: &mut Drawer,
    held: &mut [Held],
    (b, s): (usize, usize),
    country: &str,
    kind: usize,
) {
    match kind {
        0 => {
            // The same phone in hand: the backup is made on the seller's device.
            held[b].devices = vec![held[s].devices[0].clone()];
        }
        1 => {
            if held[s].phone.is_none() {
                held[s].phone = drawer.phone(country);
            }
            held[b].phone = held[s].phone.clone();
        }
        2 => {
            if let Some(handle) = held[s].payments.first().cloned() {
                held[b].payments = vec![handle];
            }
        }
        _ => {
            let Some((local, domain)) = held[s].emails.first().cloned() else {
                return;
            };
            let rules = PROVIDERS.iter().find(|p| p.0 == domain);
            let dots = rules.is_some_and(|p| p.2);
            let tags = rules.is_some_and(|p| p.3);
            let mut ways = vec![0];
            if dots {
                ways.push(1);
            }
            if tags {
                ways.push(2);
            }
            let variant = match ways[drawer.rng.gen_range(0..ways.len())] {
                1 => {
                    let plain: String = local.chars().filter(|&c| c != '.').collect();
                    let at = drawer.rng.gen_range(1..plain.len().max(2));
                    let (head, tail) = plain.split_at(at.min(plain.len()));
                    format!("{head}.{tail}")
                }
                2 => format!(
                    "{local}+{}",
                    ["b", "backup", "2", "new"][drawer.rng.gen_range(0..4)]
                ),
                _ => local
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect(),
            };
            let domain = if drawer.rng.gen_bool(0.5) {
                domain.to_uppercase()
            } else {
                domain
            };
            held[b].emails = vec![(variant, domain)];
        }
    }
}

/// Gives `b` a mailbox that resembles one of `a`'s without being it; false when the
/// resemblance cannot be drawn (the mailbox is taken).
fn decoy(
    drawer: &mut Drawer,
    held: &mut [Held],
    handle_a: &str,
    a: usize,
    b: usize,
    kind: CollisionKind,
) -> bool {
    match kind {
        CollisionKind::LookalikeEmail => {
            // One character of a's mailbox name, or of its handle, changed.
            let (base, domain) = match held[a].emails.first() {
                Some((local, domain)) if drawer.rng.gen_bool(0.5) => {
                    (local.clone(), domain.clone())
                }
                _ => (handle_a.to_string(), "postmail.invalid".to_string()),
            };
            let chars: Vec<char> = base.chars().collect();
            let Some(position) = (0..chars.len())
                .rev()
                .find(|&i| chars[i].is_ascii_alphanumeric())
            else {
                return false;
            };
            let mut changed = chars.clone();
            changed[position] = if chars[position].is_ascii_digit() {
                char::from(b'0' + (chars[position] as u8 - b'0' + drawer.rng.gen_range(1..10)) % 10)
            } else {
                char::from(
                    b'a' + (chars[position].to_ascii_lowercase() as u8 - b'a'
                        + drawer.rng.gen_range(1..26))
                        % 26,
                )
            };
            let local: String = changed.into_iter().collect();
            if drawer.claim(&local, &domain) {
                held[b].emails.push((local, domain));
                true
            } else {
                false
            }
        }
        CollisionKind::NamePatternEmail => {
            let (x, y) = (
                WORDS_A[drawer.rng.gen_range(0..WORDS_A.len())],
                WORDS_B[drawer.rng.gen_range(0..WORDS_B.len())],
            );
            let (first, second) = (drawer.rng.gen_range(10..100), drawer.rng.gen_range(10..100));
            let domain = "postmail.invalid".to_string();
            let (local_a, local_b) = (format!("{x}.{y}{first}"), format!("{x}.{y}{second}"));
            if first == second || !drawer.claim(&local_a, &domain) {
                return false;
            }
            if !drawer.claim(&local_b, &domain) {
                return false;
            }
            held[a].emails.push((local_a, domain.clone()));
            held[b].emails.push((local_b, domain));
            true
        }
        _ => {
            // At a provider where dots count, `x.y` and `xy` are two people.
            let (x, y) = (
                WORDS_A[drawer.rng.gen_range(0..WORDS_A.len())],
                WORDS_B[drawer.rng.gen_range(0..WORDS_B.len())],
            );
            let number = drawer.rng.gen_range(100..1000);
            let domain = "quillpost.invalid".to_string();
            let (local_a, local_b) = (format!("{x}{y}{number}"), format!("{x}.{y}{number}"));
            if !drawer.claim(&local_a, &domain) || !drawer.claim(&local_b, &domain) {
                return false;
            }
            held[a].emails.push((local_a, domain.clone()));
            held[b].emails.push((local_b, domain));
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_follow_each_providers_rules() {
        assert_eq!(
            mailbox("Ri.Ver+x", "postmail.invalid"),
            "river@postmail.invalid"
        );
        assert_eq!(
            mailbox("ri.ver+x", "boxmail.invalid"),
            "ri.ver@boxmail.invalid"
        );
        assert_eq!(
            mailbox("ri.ver+x", "quillpost.invalid"),
            "ri.ver+x@quillpost.invalid"
        );
    }

    #[test]
    fn fiction_numbers_have_the_right_shape() {
        let mut rng = stream(1, Stream::Identifiers);
        for country in ["us", "gb", "au", "in"] {
            for _ in 0..200 {
                let number = Pool::of(country).draw(&mut rng);
                let digits = &number[1..];
                assert!(digits.chars().all(|c| c.is_ascii_digit()), "{number}");
                match country {
                    "gb" => assert!(number.starts_with("+44") && digits.len() == 12, "{number}"),
                    "au" => assert!(number.starts_with("+61") && digits.len() == 11, "{number}"),
                    _ => assert!(
                        number.starts_with("+1") && &digits[4..9] == "55501",
                        "{number}"
                    ),
                }
            }
        }
    }
}
