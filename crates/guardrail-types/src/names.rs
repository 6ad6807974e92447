//! Parsing the names of closed vocabularies (surfaces, places, roles) with one error.
//!
//! What it must never do: accept a name that is not in the list, or answer without the
//! list of names it expected.

/// A name that is not one of a vocabulary's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {found:?}; expected one of {}", expected.join(", "))]
pub struct UnknownName {
    /// What kind of name (`surface`, `place`, ...).
    pub what: &'static str,
    /// The name given.
    pub found: String,
    /// Every valid name.
    pub expected: Vec<&'static str>,
}

/// Finds the value whose name is `name` among `all`.
pub(crate) fn parse_name<T: Copy>(
    what: &'static str,
    name: &str,
    all: &[T],
    name_of: impl Fn(T) -> &'static str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|value| name_of(*value) == name)
        .ok_or_else(|| UnknownName {
            what,
            found: name.to_string(),
            expected: all.iter().map(|value| name_of(*value)).collect(),
        })
}
