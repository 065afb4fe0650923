//! Counts added on the hot path without a lock, and without two threads fighting over one
//! cache line: each thread adds to its own shard of atomic counters (a thread is given a shard
//! once, in turn), and the ticker takes every shard's counts at once. A batch adds its rows up
//! in a plain array first ([`Tally`]) and then adds each count it touched once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Counters padded apart so that two shards never share a cache line.
const PADDING: usize = 16;

/// Slots of counters, one shard per thread (up to the number of CPUs, at most 16).
#[derive(Debug)]
pub struct Shards {
    shards: Box<[Box<[AtomicU64]>]>,
    len: usize,
}

/// Where counts of one request go: straight to the shard, or first to a tally.
pub trait Sink {
    fn add(&mut self, slot: usize, n: u64);
}

impl Shards {
    /// `len` slots in each of as many shards as there are CPUs.
    pub fn new(len: usize) -> Self {
        let n = std::thread::available_parallelism()
            .map_or(4, usize::from)
            .clamp(1, 16);
        let shards = (0..n)
            .map(|_| (0..len + PADDING).map(|_| AtomicU64::new(0)).collect())
            .collect();
        Self { shards, len }
    }

    /// This thread's shard.
    #[inline]
    pub fn local(&self) -> Direct<'_> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        let index = SHARD.with(|s| *s) % self.shards.len();
        Direct(&self.shards[index][..self.len])
    }

    /// Every slot's count since the last take, summed over the shards, each reset to 0.
    pub fn take(&self) -> Vec<u64> {
        let mut out = vec![0; self.len];
        for shard in &self.shards {
            for (sum, slot) in out.iter_mut().zip(shard.iter()) {
                *sum += slot.swap(0, Ordering::Relaxed);
            }
        }
        out
    }

    /// The slots of one shard.
    pub fn slots(&self) -> usize {
        self.len
    }

    /// Bytes held by the counters.
    pub fn bytes(&self) -> usize {
        self.shards.len() * (self.len + PADDING) * std::mem::size_of::<AtomicU64>()
    }
}

/// A thread's shard, added to directly: for a request of one row.
pub struct Direct<'a>(&'a [AtomicU64]);

impl Sink for Direct<'_> {
    #[inline]
    fn add(&mut self, slot: usize, n: u64) {
        self.0[slot].fetch_add(n, Ordering::Relaxed);
    }
}

/// A request's counts added up before they reach the shard: for a batch, whose rows mostly hit
/// the same slots.
pub struct Tally(Vec<u64>);

impl Tally {
    pub fn new(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// Adds every count to `shard`, one atomic addition per slot touched.
    pub fn flush(self, shard: Direct<'_>) {
        for (slot, &n) in self.0.iter().enumerate() {
            if n > 0 {
                shard.0[slot].fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

impl Sink for Tally {
    #[inline]
    fn add(&mut self, slot: usize, n: u64) {
        self.0[slot] += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_count_into_shards_and_a_take_sums_and_resets_them() {
        let shards = std::sync::Arc::new(Shards::new(3));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let shards = shards.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        shards.local().add(1, 1);
                    }
                    let mut tally = Tally::new(3);
                    tally.add(2, 5);
                    tally.add(2, 5);
                    tally.flush(shards.local());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(shards.take(), [0, 4000, 40]);
        assert_eq!(shards.take(), [0, 0, 0]);
    }
}
