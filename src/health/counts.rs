//! Counts added on the hot path without a lock, and without a locked instruction per count:
//! each thread has a home shard of counters (given once, in turn), which it claims for the
//! whole of one request with a single compare-and-swap and then adds to with plain loads and
//! stores. A thread that finds its home claimed (the ticker taking it, or another thread given
//! the same home) adds to a shared spill shard with atomic additions instead. The ticker claims
//! each home in turn to take its counts, so no count is lost or taken twice.
//!
//! Why not an atomic addition per count: a one-row request of 37 columns makes about 40 of
//! them, each a `lock`-prefixed instruction that waits for the store buffer to drain; they
//! were most of the cycles health monitoring cost a request.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Counters padded apart so that two shards never share a cache line.
const PADDING: usize = 16;

/// Slots of counters: one home shard per thread (as many as there are CPUs, at most 16), and
/// the spill shard.
#[derive(Debug)]
pub struct Shards {
    homes: Box<[Home]>,
    spill: Box<[AtomicU64]>,
    len: usize,
}

/// A home shard and the flag of whoever holds it. Aligned apart so that two threads claiming
/// their own homes never write the same cache line.
#[derive(Debug)]
#[repr(align(128))]
struct Home {
    claimed: AtomicBool,
    slots: Box<[AtomicU64]>,
}

impl Home {
    fn try_claim(&self) -> bool {
        self.claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn release(&self) {
        self.claimed.store(false, Ordering::Release);
    }
}

/// Where counts of one request go.
pub trait Sink {
    fn add(&mut self, slot: usize, n: u64);
}

fn counters(len: usize) -> Box<[AtomicU64]> {
    (0..len + PADDING).map(|_| AtomicU64::new(0)).collect()
}

impl Shards {
    /// `len` slots in each of as many home shards as there are CPUs, and in the spill shard.
    pub fn new(len: usize) -> Self {
        let n = std::thread::available_parallelism()
            .map_or(4, usize::from)
            .clamp(1, 16);
        let homes = (0..n)
            .map(|_| Home {
                claimed: AtomicBool::new(false),
                slots: counters(len),
            })
            .collect();
        Self {
            homes,
            spill: counters(len),
            len,
        }
    }

    /// This thread's home shard, claimed until the returned sink is dropped; the spill shard
    /// if the home is held elsewhere.
    #[inline]
    pub fn claim(&self) -> Claimed<'_> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        let home = &self.homes[HOME.with(|h| *h) % self.homes.len()];
        Claimed {
            home: home.try_claim().then_some(home),
            spill: &self.spill,
        }
    }

    /// Every slot's count since the last take, summed over the shards, each reset to 0. Waits
    /// for each home's holder, who holds it for one request's counting.
    pub fn take(&self) -> Vec<u64> {
        let mut out = vec![0; self.len];
        for home in &self.homes {
            while !home.try_claim() {
                std::thread::yield_now();
            }
            for (sum, slot) in out.iter_mut().zip(home.slots.iter()) {
                *sum += slot.load(Ordering::Relaxed);
                slot.store(0, Ordering::Relaxed);
            }
            home.release();
        }
        for (sum, slot) in out.iter_mut().zip(self.spill.iter()) {
            *sum += slot.swap(0, Ordering::Relaxed);
        }
        out
    }

    /// Bytes held by the counters.
    pub fn bytes(&self) -> usize {
        (self.homes.len() + 1) * (self.len + PADDING) * std::mem::size_of::<AtomicU64>()
    }
}

/// One request's hold on its thread's home shard (plain additions), or on the spill shard
/// (atomic additions) when the home was held elsewhere.
pub struct Claimed<'a> {
    home: Option<&'a Home>,
    spill: &'a [AtomicU64],
}

impl Sink for Claimed<'_> {
    #[inline]
    fn add(&mut self, slot: usize, n: u64) {
        match self.home {
            // Only the holder writes a home, so a load and a store cannot lose a count.
            Some(home) => {
                let counter = &home.slots[slot];
                counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
            }
            None => {
                self.spill[slot].fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        if let Some(home) = self.home {
            home.release();
        }
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
                        shards.claim().add(1, 1);
                    }
                    let mut sink = shards.claim();
                    sink.add(2, 5);
                    sink.add(2, 5);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(shards.take(), [0, 4000, 40]);
        assert_eq!(shards.take(), [0, 0, 0]);
    }

    #[test]
    fn a_held_home_sends_counts_to_the_spill_and_nothing_is_lost() {
        let shards = Shards::new(2);
        let mut first = shards.claim();
        // The same thread asks again while it holds its home: the second hold spills.
        let mut second = shards.claim();
        assert!(first.home.is_some() && second.home.is_none());
        first.add(0, 3);
        second.add(0, 4);
        second.add(1, 1);
        drop(second);
        drop(first);
        assert_eq!(shards.take(), [7, 1]);
    }

    #[test]
    fn takes_racing_with_counting_threads_count_every_addition_once() {
        let shards = std::sync::Arc::new(Shards::new(1));
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let shards = shards.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        shards.claim().add(0, 1);
                    }
                })
            })
            .collect();
        let reader = {
            let (shards, done) = (shards.clone(), done.clone());
            std::thread::spawn(move || {
                let mut total = 0;
                while !done.load(Ordering::Acquire) {
                    total += shards.take()[0];
                }
                total
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
        let taken = reader.join().unwrap() + shards.take()[0];
        assert_eq!(taken, 60_000);
    }
}
