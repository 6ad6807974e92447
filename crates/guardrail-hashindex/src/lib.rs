//! Hash banks and exact Hamming matching for PDQ hashes.
//!
//! A platform matches every upload's PDQ hash (and its seven rotations and flips)
//! against shared lists of known abuse imagery. This crate holds those lists as banks
//! that load by memory map with no parse step ([`bank`]), imports and exports the
//! formats lists are exchanged in ([`formats`]), and matches exactly: a SIMD flat scan
//! with run-time CPU dispatch ([`scan`]), and a multi-index for very large banks
//! ([`mih`]) that returns exactly what the flat scan returns; each query hash takes
//! whichever of the two an estimate from the multi-index's bucket sizes says is cheaper
//! ([`plan`]), so clusters of near-duplicates never make the index slower than a scan. Banks grow and shrink
//! without rebuilds, negative banks of known benign images suppress matches, and an
//! update that suddenly matches a flood of uploads is held for an admin ([`index`]).
//!
//! Never approximate: a missed match is a missed child. The flat scan is the oracle and
//! the property tests hold the multi-index to it.
//!
//! IO is limited to [`open_bank`], which maps a file; everything else works on bytes.

pub mod bank;
pub mod formats;
pub mod index;
pub mod mih;
pub mod plan;
pub mod scan;

pub use bank::{
    AlignedBytes, BankBytes, BankConfig, BankError, BankKind, Entry, OwnedEntries, Storage,
    encode_bank, write_bank,
};
pub use index::{
    Bank, BankMatch, FloodCheck, HeldUpdate, Outcome, QuarantinePolicy, Query, Strategy,
    UpdateAlreadyHeld, UpdateDecision, check_flood, match_upload,
};
pub use plan::{CostModel, Path, QueryPlan, Reason, SearchPlan, SearchStats};

/// Opens a bank file by memory map.
pub fn open_bank(path: &std::path::Path) -> Result<Bank, BankError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| BankError::Io {
        path: name.clone(),
        source,
    })?;
    // SAFETY: the map is read-only; a bank file replaced under a running process is
    // replaced by rename (as `bank import` writes it), never modified in place.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| BankError::Io {
        path: name.clone(),
        source,
    })?;
    let bytes = BankBytes::new(map, &name)?;
    let config = bytes.config().clone();
    Ok(Bank::new(config, Box::new(bytes)))
}
