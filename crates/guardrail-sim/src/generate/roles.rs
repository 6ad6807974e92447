//! Phase 1: who is who. Every account gets a hidden role (ordinary, parent-run, niche,
//! adult content, advocate, brand, seller, buyer, aggregator), a ring or community, and
//! for network accounts whether it camouflages; some sellers get backups named later in
//! their bios. The slots are shuffled so that ids say nothing about roles.
//!
//! What it must never do: write anything public. Its output is ground truth.

use guardrail_types::AccountId;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{Stream, stream};
use crate::config::WorldConfig;
use crate::truth::{ALL_ROLES, BackupRecord, Role, RoleRecord};

/// The cast of a world: roles, rings and backups (ground truth, in generator form).
pub(super) struct Cast {
    /// One record per account, by id.
    pub roles: Vec<RoleRecord>,
    /// Account numbers by role, in id order (indexed by [`role_index`]).
    pub by_role: Vec<Vec<u32>>,
    /// Whether each account is a backup seller (created on the last day).
    pub is_backup: Vec<bool>,
    /// Sellers that are not backups.
    pub primaries: Vec<u32>,
    /// Backups and the seller whose bio names each.
    pub backups: Vec<BackupRecord>,
}

impl Cast {
    /// The accounts of a role.
    pub fn of(&self, role: Role) -> &[u32] {
        &self.by_role[role_index(role)]
    }

    /// An account's role record.
    pub fn record(&self, account: u32) -> &RoleRecord {
        &self.roles[account as usize]
    }
}

/// A role's position in [`ALL_ROLES`].
pub(super) fn role_index(role: Role) -> usize {
    ALL_ROLES.iter().position(|r| *r == role).unwrap_or(0)
}

/// Casts `n` accounts.
pub(super) fn cast(config: &WorldConfig, seed: u64, n: usize) -> Cast {
    let count = |share: f64| ((n as f64) * share).round() as usize;
    let mut rng = stream(seed, Stream::Roles);
    let sellers = count(config.seller_share);
    let backups = ((sellers as f64) * config.backup_share).round() as usize;
    // role, group, camouflaged, is_backup
    let mut slots: Vec<(Role, u32, bool, bool)> = Vec::with_capacity(n);
    let rings = config.network_rings.max(1);
    let push_network = |slots: &mut Vec<_>, role: Role, how_many: usize, rng: &mut ChaCha8Rng| {
        for i in 0..how_many {
            let camouflaged = rng.gen_bool(config.camouflage_share);
            slots.push((role, (i as u32) % rings, camouflaged, false));
        }
    };
    push_network(&mut slots, Role::Seller, sellers, &mut rng);
    push_network(&mut slots, Role::Buyer, count(config.buyer_share), &mut rng);
    push_network(
        &mut slots,
        Role::Aggregator,
        count(config.aggregator_share),
        &mut rng,
    );
    for i in 0..backups {
        slots.push((Role::Seller, (i as u32) % rings, false, true));
    }
    for (role, share) in [
        (Role::ParentRun, config.parent_run_share),
        (Role::AdultContent, config.adult_content_share),
        (Role::Advocate, config.advocate_share),
        (Role::Brand, config.brand_share),
    ] {
        slots.extend((0..count(share).max(1)).map(|_| (role, 0, false, false)));
    }
    for community in 0..config.niche_communities {
        slots.extend((0..config.niche_size).map(|_| (Role::Niche, community, false, false)));
    }
    slots.truncate(n);
    while slots.len() < n {
        slots.push((Role::Ordinary, 0, false, false));
    }
    slots.shuffle(&mut rng);
    let roles: Vec<RoleRecord> = slots
        .iter()
        .enumerate()
        .map(|(id, &(role, group, camouflaged, _))| RoleRecord {
            account: AccountId(id as u32),
            role,
            group,
            camouflaged,
        })
        .collect();
    let mut by_role = vec![Vec::new(); ALL_ROLES.len()];
    for record in &roles {
        by_role[role_index(record.role)].push(record.account.0);
    }
    // Primary sellers and their backups, ring by ring.
    let is_backup: Vec<bool> = slots.iter().map(|s| s.3).collect();
    let primaries: Vec<u32> = by_role[role_index(Role::Seller)]
        .iter()
        .copied()
        .filter(|&a| !is_backup[a as usize])
        .collect();
    let backup_ids: Vec<u32> = by_role[role_index(Role::Seller)]
        .iter()
        .copied()
        .filter(|&a| is_backup[a as usize])
        .collect();
    let mut backup_records = Vec::new();
    for (k, &backup) in backup_ids.iter().enumerate() {
        let same_ring: Vec<u32> = primaries
            .iter()
            .copied()
            .filter(|&p| roles[p as usize].group == roles[backup as usize].group)
            .collect();
        if let Some(&original) = same_ring.get(k / rings as usize % same_ring.len().max(1)) {
            backup_records.push(BackupRecord {
                account: AccountId(backup),
                backup_of: AccountId(original),
            });
        }
    }
    Cast {
        roles,
        by_role,
        is_backup,
        primaries,
        backups: backup_records,
    }
}
