//! A map that remembers which entries changed.
//!
//! The center keeps its seats and sessions in [`Tracked`] maps: reading is
//! free (it derefs to the `HashMap`), but the only ways to change an entry
//! — [`Tracked::get_mut`], [`Tracked::insert`], [`Tracked::remove`] — note
//! its key. After each command, whatever follows from a change (routing's
//! free lists, the figures, the wallboard's rows, the media bridges) looks
//! at the entries that changed, not at the whole floor; and no code path
//! can change an entry without it being seen.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;

#[derive(Debug)]
pub struct Tracked<V> {
    map: HashMap<String, V>,
    changed: HashSet<String>,
}

impl<V> Default for Tracked<V> {
    fn default() -> Self {
        Tracked {
            map: HashMap::new(),
            changed: HashSet::new(),
        }
    }
}

impl<V> Deref for Tracked<V> {
    type Target = HashMap<String, V>;
    fn deref(&self) -> &HashMap<String, V> {
        &self.map
    }
}

impl<V> Tracked<V> {
    pub fn new() -> Tracked<V> {
        Tracked::default()
    }

    /// The entry, to change: its key is noted.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let v = self.map.get_mut(key)?;
        if !self.changed.contains(key) {
            self.changed.insert(key.to_string());
        }
        Some(v)
    }

    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        self.changed.insert(key.clone());
        self.map.insert(key, value)
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let v = self.map.remove(key)?;
        self.changed.insert(key.to_string());
        Some(v)
    }

    /// The keys changed (inserted, changed or removed) since the last call.
    pub fn take_changed(&mut self) -> HashSet<String> {
        std::mem::take(&mut self.changed)
    }

    /// Whether anything changed since the last [`Tracked::take_changed`].
    pub fn any_changed(&self) -> bool {
        !self.changed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_changing_is_noted_and_reading_is_not() {
        let mut m: Tracked<u32> = Tracked::new();
        m.insert("a".into(), 1);
        m.insert("b".into(), 2);
        assert_eq!(m.take_changed().len(), 2);
        assert!(!m.any_changed());
        // Reading through Deref notes nothing.
        assert_eq!(m.get("a"), Some(&1));
        assert_eq!(m.values().sum::<u32>(), 3);
        assert!(!m.any_changed());
        // Asking for a missing key notes nothing either.
        assert!(m.get_mut("zz").is_none());
        assert!(!m.any_changed());
        if let Some(v) = m.get_mut("a") {
            *v = 5;
        }
        m.remove("b");
        assert!(m.remove("b").is_none());
        let changed = m.take_changed();
        assert_eq!(changed, HashSet::from(["a".to_string(), "b".to_string()]));
        assert_eq!(m["a"], 5);
        assert!(m.take_changed().is_empty());
    }
}
