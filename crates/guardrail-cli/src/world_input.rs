//! Loading a world folder and the text policy its platform deploys, shared by the
//! commands that work on worlds (`graph map`, `graph evaluate`, `decide`, `audit`).

use std::path::Path;

use anyhow::{Context, Result};
use guardrail_sim::{World, fs};
use guardrail_text::Policy;

/// Loads the public tables of a world folder (never `truth/`).
pub fn load_world(dir: &Path) -> Result<World> {
    fs::load_world(dir).with_context(|| format!("cannot load world {}", dir.display()))
}

/// The policy given with `--policy`, else the world's own `policy.toml`, else Guardrail's
/// default policy of publicly reported terms.
pub fn load_world_policy(dir: &Path, explicit: Option<&Path>) -> Result<Policy> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let own = dir.join(guardrail_deploy::POLICY_FILE);
            if !own.is_file() {
                eprintln!(
                    "note: {} has no {}; using the default text policy",
                    dir.display(),
                    guardrail_deploy::POLICY_FILE
                );
                return Ok(Policy::default_policy());
            }
            own
        }
    };
    let source = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read policy {}", path.display()))?;
    Ok(Policy::from_toml(&source, &path.display().to_string())?)
}
