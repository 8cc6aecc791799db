//! The pure scheduling core of a dag template: a dependency queue.
//!
//! [`DependencyQueue`] knows keys and the keys each one waits for; it hands out the keys whose dependencies have
//! all finished ([`DependencyQueue::dequeue`]), in the order they were queued, and learns that a key is done
//! through [`DependencyQueue::finish`]. It does not know what a task is, how it runs, or what a finished
//! dependency means for the task that waits on it (that is the `depends` logic in [`crate::expr`]): the engine
//! owns those. No IO, no async: every order it produces is tested exactly.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;

/// A set of keys, each waiting for other keys to finish.
#[derive(Debug, Clone)]
pub struct DependencyQueue<K> {
    /// Every key queued, in queue order, with how many of its dependencies have not finished.
    entries: Vec<(K, usize)>,
    /// For a key not finished yet: the entries that wait on it.
    dependents: HashMap<K, Vec<usize>>,
    /// Entries whose dependencies have all finished and that were not handed out yet, by queue order.
    ready: BTreeSet<usize>,
    /// Entries waiting on at least one dependency.
    blocked: usize,
    /// Keys handed out and not finished.
    active: HashSet<K>,
    /// Keys finished.
    finished: HashSet<K>,
}

impl<K> Default for DependencyQueue<K> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            dependents: HashMap::new(),
            ready: BTreeSet::new(),
            blocked: 0,
            active: HashSet::new(),
            finished: HashSet::new(),
        }
    }
}

impl<K: Clone + Eq + Hash> DependencyQueue<K> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key`, ready once every key in `deps` has finished. A dependency that already finished counts as
    /// done; one that is never queued keeps `key` waiting for ever (the caller validates names first).
    pub fn queue(&mut self, key: K, deps: impl IntoIterator<Item = K>) {
        let index = self.entries.len();
        let mut remaining = 0;
        let mut seen = HashSet::new();
        for dep in deps {
            if self.finished.contains(&dep) || !seen.insert(dep.clone()) {
                continue;
            }
            remaining += 1;
            self.dependents.entry(dep).or_default().push(index);
        }
        if remaining == 0 {
            self.ready.insert(index);
        } else {
            self.blocked += 1;
        }
        self.entries.push((key, remaining));
    }

    /// Hands out the first queued key whose dependencies have all finished, or `None` if there is none now.
    pub fn dequeue(&mut self) -> Option<K> {
        let index = self.ready.pop_first()?;
        let key = self.entries[index].0.clone();
        self.active.insert(key.clone());
        Some(key)
    }

    /// Hands out every key that is ready now, in queue order.
    pub fn dequeue_all(&mut self) -> Vec<K> {
        std::iter::from_fn(|| self.dequeue()).collect()
    }

    /// Records that `key` is done: keys waiting on it may become ready.
    pub fn finish(&mut self, key: &K) {
        self.active.remove(key);
        if !self.finished.insert(key.clone()) {
            return;
        }
        for index in self.dependents.remove(key).unwrap_or_default() {
            let remaining = &mut self.entries[index].1;
            *remaining -= 1;
            if *remaining == 0 {
                self.blocked -= 1;
                self.ready.insert(index);
            }
        }
    }

    /// Keys handed out and not finished.
    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// Whether every key has been handed out and finished.
    pub fn is_done(&self) -> bool {
        self.ready.is_empty() && self.blocked == 0 && self.active.is_empty()
    }

    /// Whether keys remain that can never become ready (nothing is active or ready, yet keys wait): a cycle or
    /// a dependency that was never queued.
    pub fn is_stuck(&self) -> bool {
        self.active.is_empty() && self.ready.is_empty() && self.blocked > 0
    }

    /// The keys still waiting on a dependency, in queue order.
    pub fn waiting(&self) -> impl Iterator<Item = &K> {
        self.entries
            .iter()
            .filter(|(_, remaining)| *remaining > 0)
            .map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diamond_order() {
        let mut q = DependencyQueue::new();
        q.queue("A", []);
        q.queue("B", ["A"]);
        q.queue("C", ["A"]);
        q.queue("D", ["B", "C"]);
        assert_eq!(q.dequeue_all(), vec!["A"]);
        assert_eq!(q.dequeue(), None);
        q.finish(&"A");
        assert_eq!(q.dequeue_all(), vec!["B", "C"]);
        q.finish(&"C");
        assert_eq!(q.dequeue(), None);
        q.finish(&"B");
        assert_eq!(q.dequeue_all(), vec!["D"]);
        assert!(!q.is_done());
        q.finish(&"D");
        assert!(q.is_done());
    }

    #[test]
    fn several_roots_keep_queue_order() {
        let mut q = DependencyQueue::new();
        q.queue("C", ["A"]);
        q.queue("B", []);
        q.queue("A", []);
        q.queue("D", ["A", "B"]);
        assert_eq!(q.dequeue_all(), vec!["B", "A"]);
        q.finish(&"A");
        assert_eq!(q.dequeue_all(), vec!["C"]);
        q.finish(&"B");
        assert_eq!(q.dequeue_all(), vec!["D"]);
    }

    #[test]
    fn finished_dependency_counts_when_queued_late() {
        let mut q = DependencyQueue::new();
        q.queue("A", []);
        assert_eq!(q.dequeue(), Some("A"));
        q.finish(&"A");
        q.queue("B", ["A"]);
        assert_eq!(q.dequeue(), Some("B"));
    }

    #[test]
    fn cycle_is_stuck() {
        let mut q = DependencyQueue::new();
        q.queue("A", ["B"]);
        q.queue("B", ["A"]);
        assert_eq!(q.dequeue(), None);
        assert!(q.is_stuck());
        assert_eq!(q.waiting().copied().collect::<Vec<_>>(), vec!["A", "B"]);
    }

    #[test]
    fn ten_thousand_node_chain_drains_in_order() {
        let mut q = DependencyQueue::new();
        for i in 0..10_000u32 {
            q.queue(i, i.checked_sub(1));
        }
        for i in 0..10_000u32 {
            assert_eq!(q.dequeue(), Some(i));
            assert_eq!(q.dequeue(), None);
            q.finish(&i);
        }
        assert!(q.is_done());
    }
}
