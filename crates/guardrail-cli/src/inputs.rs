//! Loading the files several commands share: world folders (`graph map`, `graph
//! evaluate`, `decide`, `audit`), text policies and discovery rules. Errors name the file.

use std::path::Path;

use anyhow::{Context, Result};
use guardrail_policy::RuleSet;
use guardrail_text::Policy;
use guardrail_world::World;

/// Loads the public tables of a world folder (never `truth/`).
pub fn load_world(dir: &Path) -> Result<World> {
    guardrail_world::load_world(dir).with_context(|| format!("cannot load world {}", dir.display()))
}

/// The policy given with `--policy`, else the world's own `policy.toml`, else Guardrail's
/// default policy of publicly reported terms.
pub fn load_world_policy(dir: &Path, explicit: Option<&Path>) -> Result<Policy> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let own = dir.join(guardrail_adapter::POLICY_FILE);
            if !own.is_file() {
                eprintln!(
                    "note: {} has no {}; using the default text policy",
                    dir.display(),
                    guardrail_adapter::POLICY_FILE
                );
                return Ok(Policy::default_policy());
            }
            own
        }
    };
    load_policy(&path)
}

/// A text policy file (TOML).
pub fn load_policy(path: &Path) -> Result<Policy> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read policy {}", path.display()))?;
    Ok(Policy::from_toml(&source, &path.display().to_string())?)
}

/// Discovery rules from a file, or the shipped rules.
pub fn load_rules(path: Option<&Path>) -> Result<RuleSet> {
    match path {
        None => Ok(RuleSet::default_rules()),
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read rules {}", path.display()))?;
            Ok(RuleSet::from_toml(&source, &path.display().to_string())?)
        }
    }
}
