//! A sum tree: priorities in the leaves, sums in the inner nodes, so that sampling an index with
//! probability proportional to its priority and updating a priority both take O(log n).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SumTree {
    capacity: usize,
    /// Node i has children 2i+1 and 2i+2; leaves start at `leaf_start`. f64 keeps the sums exact
    /// enough over millions of updates.
    nodes: Vec<f64>,
    leaf_start: usize,
}

impl SumTree {
    pub fn new(capacity: usize) -> Self {
        let leaves = capacity.max(1).next_power_of_two();
        Self { capacity, nodes: vec![0.0; 2 * leaves - 1], leaf_start: leaves - 1 }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn total(&self) -> f64 {
        self.nodes[0]
    }

    pub fn get(&self, index: usize) -> f64 {
        self.nodes[self.leaf_start + index]
    }

    pub fn set(&mut self, index: usize, priority: f64) {
        assert!(index < self.capacity, "index {index} beyond capacity {}", self.capacity);
        assert!(priority >= 0.0 && priority.is_finite(), "priority must be finite and ≥ 0, got {priority}");
        let mut node = self.leaf_start + index;
        let delta = priority - self.nodes[node];
        self.nodes[node] = priority;
        while node > 0 {
            node = (node - 1) / 2;
            self.nodes[node] += delta;
        }
    }

    /// The leaf whose cumulative range holds `mass` ∈ [0, total).
    pub fn find(&self, mut mass: f64) -> usize {
        let mut node = 0;
        while node < self.leaf_start {
            let left = 2 * node + 1;
            if mass < self.nodes[left] || self.nodes[left + 1] <= 0.0 {
                node = left;
            } else {
                mass -= self.nodes[left];
                node = left + 1;
            }
        }
        (node - self.leaf_start).min(self.capacity - 1)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn sampling_follows_the_priorities() {
        let mut tree = SumTree::new(5);
        for (i, p) in [1.0, 0.0, 3.0, 6.0, 0.0].into_iter().enumerate() {
            tree.set(i, p);
        }
        assert_eq!(tree.total(), 10.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0usize; 5];
        let n = 200_000;
        for _ in 0..n {
            counts[tree.find(rng.random::<f64>() * tree.total())] += 1;
        }
        assert_eq!(counts[1], 0, "zero priority is never drawn");
        assert_eq!(counts[4], 0);
        for (i, expected) in [(0, 0.1), (2, 0.3), (3, 0.6)] {
            let share = counts[i] as f64 / n as f64;
            assert!((share - expected).abs() < 0.01, "index {i}: {share} vs {expected}");
        }
    }

    #[test]
    fn updates_keep_the_total_consistent() {
        let mut tree = SumTree::new(7);
        for i in 0..7 {
            tree.set(i, i as f64);
        }
        tree.set(3, 10.0);
        tree.set(6, 0.0);
        assert_eq!(tree.total(), 0.0 + 1.0 + 2.0 + 10.0 + 4.0 + 5.0);
        assert_eq!(tree.find(0.5), 1);
        assert_eq!(tree.find(3.5), 3);
        assert_eq!(tree.find(21.9), 5);
    }
}
