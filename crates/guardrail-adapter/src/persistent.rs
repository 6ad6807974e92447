//! Cheap-to-copy containers for published snapshots: a vector in shared chunks, and sets
//! and maps as a shared base plus a small layer of changes.
//!
//! What they are for: a writer changes a few accounts per batch of events and publishes a
//! new snapshot each time; copying every account's signals or every follow per publish
//! would cost as much as a rebuild. Copying one of these costs a few pointers; a change
//! copies one chunk, or goes into the layer until the layer is folded into a new base.
//!
//! What they must never do: let a published copy see a later change. Every write goes
//! through `Arc::make_mut` or into the writer's own layer.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

const CHUNK: usize = 256;

/// A vector in shared chunks of 256.
#[derive(Debug, Clone, Default)]
pub struct ChunkedVec<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T: Clone> ChunkedVec<T> {
    /// From a vector.
    pub fn from_vec(items: Vec<T>) -> ChunkedVec<T> {
        let len = items.len();
        let mut chunks = Vec::with_capacity(len.div_ceil(CHUNK));
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            chunks.push(Arc::new(items.by_ref().take(CHUNK).collect()));
        }
        ChunkedVec { chunks, len }
    }

    /// Number of items.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Item `index`.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// Item `index`, for writing (copies its chunk if a published copy shares it).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        let chunk = self.chunks.get_mut(index / CHUNK)?;
        Arc::make_mut(chunk).get_mut(index % CHUNK)
    }

    /// Appends an item.
    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => Arc::make_mut(chunk).push(item),
            _ => self.chunks.push(Arc::new(vec![item])),
        }
        self.len += 1;
    }

    /// Every item in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|chunk| chunk.iter())
    }
}

/// A set as a shared base plus the writer's additions and removals.
#[derive(Debug, Clone)]
pub struct LayeredSet<K: Eq + Hash> {
    base: Arc<HashSet<K>>,
    added: HashSet<K>,
    removed: HashSet<K>,
}

impl<K: Eq + Hash> Default for LayeredSet<K> {
    fn default() -> Self {
        LayeredSet {
            base: Arc::new(HashSet::new()),
            added: HashSet::new(),
            removed: HashSet::new(),
        }
    }
}

impl<K: Eq + Hash + Clone> LayeredSet<K> {
    /// From a set.
    pub fn from_set(base: HashSet<K>) -> LayeredSet<K> {
        LayeredSet {
            base: Arc::new(base),
            added: HashSet::new(),
            removed: HashSet::new(),
        }
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &K) -> bool {
        self.added.contains(key) || (self.base.contains(key) && !self.removed.contains(key))
    }

    /// Adds `key`.
    pub fn insert(&mut self, key: K) {
        self.removed.remove(&key);
        if !self.base.contains(&key) {
            self.added.insert(key);
        }
        self.fold_if_large();
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) {
        self.added.remove(key);
        if self.base.contains(key) {
            self.removed.insert(key.clone());
        }
        self.fold_if_large();
    }

    /// Every member (order unspecified).
    pub fn to_set(&self) -> HashSet<K> {
        self.base
            .iter()
            .filter(|k| !self.removed.contains(*k))
            .chain(self.added.iter())
            .cloned()
            .collect()
    }

    // A layer an eighth the size of the base costs about as much to copy as the base is
    // to rebuild; fold it in then, so copies stay cheap.
    fn fold_if_large(&mut self) {
        if self.added.len() + self.removed.len() > 1_024.max(self.base.len() / 8) {
            let merged = self.to_set();
            *self = LayeredSet::from_set(merged);
        }
    }
}

/// A map as a shared base plus the writer's changes (`None` removes).
#[derive(Debug, Clone)]
pub struct LayeredMap<K: Eq + Hash, V> {
    base: Arc<HashMap<K, V>>,
    changed: HashMap<K, Option<V>>,
}

impl<K: Eq + Hash, V> Default for LayeredMap<K, V> {
    fn default() -> Self {
        LayeredMap {
            base: Arc::new(HashMap::new()),
            changed: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> LayeredMap<K, V> {
    /// From a map.
    pub fn from_map(base: HashMap<K, V>) -> LayeredMap<K, V> {
        LayeredMap {
            base: Arc::new(base),
            changed: HashMap::new(),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        match self.changed.get(key) {
            Some(change) => change.as_ref(),
            None => self.base.get(key),
        }
    }

    /// Sets `key`.
    pub fn insert(&mut self, key: K, value: V) {
        self.changed.insert(key, Some(value));
        self.fold_if_large();
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) {
        self.changed.insert(key.clone(), None);
        self.fold_if_large();
    }

    /// Every entry (order unspecified).
    pub fn to_map(&self) -> HashMap<K, V> {
        let mut merged: HashMap<K, V> = self
            .base
            .iter()
            .filter(|(k, _)| !self.changed.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in &self.changed {
            if let Some(v) = v {
                merged.insert(k.clone(), v.clone());
            }
        }
        merged
    }

    fn fold_if_large(&mut self) {
        if self.changed.len() > 1_024.max(self.base.len() / 8) {
            let merged = self.to_map();
            *self = LayeredMap::from_map(merged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn layered_containers_behave_like_plain_ones(ops in proptest::collection::vec((0u8..3, 0u16..3000), 0..4000)) {
            let mut set = LayeredSet::default();
            let mut plain_set = HashSet::new();
            let mut map = LayeredMap::default();
            let mut plain_map = HashMap::new();
            let mut vec = ChunkedVec::from_vec(Vec::new());
            let mut plain_vec = Vec::new();
            let mut published = Vec::new();
            for (op, key) in ops {
                match op {
                    0 => { set.insert(key); plain_set.insert(key); map.insert(key, u32::from(key) * 2); plain_map.insert(key, u32::from(key) * 2); vec.push(key); plain_vec.push(key); }
                    1 => { set.remove(&key); plain_set.remove(&key); map.remove(&key); plain_map.remove(&key); }
                    _ => {
                        if let Some(item) = vec.get_mut(usize::from(key)) { *item = key.wrapping_add(1); }
                        if let Some(item) = plain_vec.get_mut(usize::from(key)) { *item = key.wrapping_add(1); }
                        published.push((vec.clone(), plain_vec.clone()));
                    }
                }
            }
            prop_assert_eq!(set.to_set(), plain_set);
            prop_assert_eq!(map.to_map(), plain_map);
            prop_assert_eq!(vec.iter().copied().collect::<Vec<_>>(), plain_vec);
            // Published copies never see later writes.
            for (copy, plain) in published {
                prop_assert_eq!(copy.iter().copied().collect::<Vec<_>>(), plain);
            }
        }
    }
}
