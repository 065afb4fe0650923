//! A ring of time buckets: counts kept over a sliding window in memory fixed at start, the
//! newest bucket the current (partial) one. The SLO engine keeps its events in three of them,
//! model health its bin counts in two. Nothing here reads a clock: callers pass the time.

/// A circular buffer of time buckets of `width` seconds; slots are addressed by absolute
/// bucket number (`time / width`) modulo the length, and cleared as time moves past them.
#[derive(Debug)]
pub struct Ring<T> {
    width: u64,
    slots: Box<[T]>,
    blank: T,
    /// The absolute number of the newest bucket.
    newest: u64,
}

impl<T: Clone> Ring<T> {
    /// A ring of `span / width` buckets of `width` seconds, each starting as `blank`.
    pub fn new(width: u64, span: u64, blank: T) -> Self {
        Self {
            width,
            slots: vec![blank.clone(); (span / width) as usize].into_boxed_slice(),
            blank,
            newest: 0,
        }
    }

    /// The seconds the buckets cover together.
    pub fn span(&self) -> u64 {
        self.width * self.slots.len() as u64
    }

    /// The width of a bucket, in seconds.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// The number of buckets.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The absolute number of the newest bucket (`time / width`).
    pub fn newest_bucket(&self) -> u64 {
        self.newest
    }

    /// Moves the ring to the bucket holding `now_seconds`, clearing the buckets skipped, and
    /// returns it.
    pub fn advance(&mut self, now_seconds: u64) -> &mut T {
        let bucket = now_seconds / self.width;
        let len = self.slots.len() as u64;
        if bucket > self.newest {
            let skipped = (bucket - self.newest).min(len);
            for k in 1..=skipped {
                self.slots[((self.newest + k) % len) as usize] = self.blank.clone();
            }
            self.newest = bucket;
        }
        &mut self.slots[(self.newest % len) as usize]
    }

    /// The `n` newest buckets, newest first (`n` at most the ring's length).
    pub fn newest(&self, n: u64) -> impl Iterator<Item = (u64, &T)> {
        let len = self.slots.len() as u64;
        (0..n.min(len).min(self.newest + 1)).map(move |k| {
            let bucket = self.newest - k;
            (bucket, &self.slots[(bucket % len) as usize])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn buckets_are_cleared_as_time_moves_past_them() {
        let mut ring = Ring::new(10, 30, 0u64);
        *ring.advance(5) += 1;
        *ring.advance(15) += 2;
        *ring.advance(25) += 3;
        let newest: Vec<u64> = ring.newest(3).map(|(_, n)| *n).collect();
        assert_eq!(newest, [3, 2, 1]);
        // Two buckets later, the two oldest are gone.
        *ring.advance(45) += 4;
        let newest: Vec<(u64, u64)> = ring.newest(3).map(|(b, n)| (b, *n)).collect();
        assert_eq!(newest, [(4, 4), (3, 0), (2, 3)]);
        assert_eq!((ring.span(), ring.width(), ring.len()), (30, 10, 3));
    }
}
