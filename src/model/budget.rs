//! The loading budget: how much memory one load of a model file may hold at once
//! (`--max-model-bytes`). A load charges its [`Budget`] before it allocates: the file's bytes,
//! their decompressed stream, every value the pickle VM builds (nodes, containers, decoded
//! arrays, copies), and the model built from them. A charge past the limit stops the load with
//! [`TooLarge`], which names the limit and the flag, so that a file can only ever cost what it
//! is allowed to, whatever it claims.
//!
//! Charges are what a load keeps until it ends ([`Budget::charge`]) or copies it holds for a
//! while ([`Budget::hold`], given back when the guard drops: one tree's columns while it is laid
//! out). Loads happen on one thread, so the counter is a `Cell`.
//!
//! What must not live here: reading any format (the VM, the readers and the rooms charge for
//! what they make); how the limit reaches the loader (`cli`, `config`, `registry`).

use std::cell::Cell;
use std::fmt;

/// The default `--max-model-bytes`. The Terraform gives an instance 512 MiB; while a refresh
/// loads a new version the served one stays in memory, and the process itself takes some
/// (see [`LOAD_OVERHEAD_BYTES`]): half the instance for a load leaves the other half for the
/// model being served and the service around it.
pub const DEFAULT_MAX_MODEL_BYTES: u64 = 256 << 20;

/// What a process may hold beyond its budget while it loads: the process itself (the binary,
/// its runtime and the service's state) and what the allocator keeps of freed memory. Peak
/// resident memory while loading stays within the budget plus this (measured in the tests,
/// `tests/model/budget.rs`).
pub const LOAD_OVERHEAD_BYTES: u64 = 48 << 20;

/// Limits on loading one model file, as `--max-model-bytes` sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadLimits {
    /// The most memory one load may hold at once: the file, its decompressed stream, the
    /// values decoded from it and the model built from them.
    pub max_model_bytes: u64,
}

impl Default for LoadLimits {
    fn default() -> Self {
        Self {
            max_model_bytes: DEFAULT_MAX_MODEL_BYTES,
        }
    }
}

/// A load over its budget: what needed the memory, how much, and the limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TooLarge {
    /// What would have taken the memory: `an array of shape [10000000] of float64`.
    pub what: String,
    /// The bytes it needed (`None`: more than 2⁶⁴).
    pub needed: Option<u64>,
    /// The bytes the load already held.
    pub held: u64,
    pub limit: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let needed = self
            .needed
            .map_or_else(|| "more than 2^64 bytes".to_owned(), bytes);
        write!(f, "too large: {} needs {needed}", self.what)?;
        if self.held > 0 {
            write!(
                f,
                " on top of the {} the load already holds",
                bytes(self.held)
            )?;
        }
        write!(
            f,
            ", beyond the {} that --max-model-bytes (SKSERVE_MAX_MODEL_BYTES) allows a load",
            bytes(self.limit)
        )
    }
}

/// The memory one load holds, charged before it is allocated.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    held: Cell<u64>,
}

impl Budget {
    pub fn new(limits: LoadLimits) -> Self {
        Self {
            limit: limits.max_model_bytes,
            held: Cell::new(0),
        }
    }

    /// The bytes the load may hold at most.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The bytes charged and held now.
    pub fn held(&self) -> u64 {
        self.held.get()
    }

    /// The bytes still free.
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.held.get())
    }

    /// Takes `bytes` for the rest of the load; `what` names them if they do not fit.
    #[inline]
    pub fn charge(&self, bytes: usize, what: impl FnOnce() -> String) -> Result<(), TooLarge> {
        self.take(Some(bytes as u64), what)
    }

    /// Takes `count` items of `each` bytes for the rest of the load (a count taken from a file
    /// may be anything: an overflowing product is refused like any other).
    #[inline]
    pub fn charge_items(
        &self,
        count: usize,
        each: usize,
        what: impl FnOnce() -> String,
    ) -> Result<(), TooLarge> {
        self.take(product(count, each), what)
    }

    /// Takes `bytes` until the returned guard drops: a copy made for a while.
    pub fn hold(&self, bytes: usize, what: impl FnOnce() -> String) -> Result<Held<'_>, TooLarge> {
        self.hold_items(bytes, 1, what)
    }

    /// Holds `count` items of `each` bytes until the returned guard drops.
    pub fn hold_items(
        &self,
        count: usize,
        each: usize,
        what: impl FnOnce() -> String,
    ) -> Result<Held<'_>, TooLarge> {
        let bytes = product(count, each);
        self.take(bytes, what)?;
        Ok(Held {
            budget: self,
            bytes: bytes.unwrap_or(0),
        })
    }

    /// Whether `count` items of at least `each` bytes could still be held: for a count a file
    /// claims, checked before anything is made of it. Charges nothing.
    pub fn admits(&self, count: usize, each: usize) -> bool {
        product(count, each).is_some_and(|n| n <= self.remaining())
    }

    /// The refusal for `count` items of `each` bytes.
    pub fn refusal(&self, count: usize, each: usize, what: String) -> TooLarge {
        self.refused(product(count, each), what)
    }

    #[inline]
    fn take(&self, bytes: Option<u64>, what: impl FnOnce() -> String) -> Result<(), TooLarge> {
        match bytes.and_then(|n| self.held.get().checked_add(n)) {
            Some(total) if total <= self.limit => {
                self.held.set(total);
                Ok(())
            }
            _ => Err(self.refused(bytes, what())),
        }
    }

    #[cold]
    fn refused(&self, needed: Option<u64>, what: String) -> TooLarge {
        TooLarge {
            what,
            needed,
            held: self.held(),
            limit: self.limit,
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(LoadLimits::default())
    }
}

/// Bytes held by [`Budget::hold`], given back on drop.
#[derive(Debug)]
#[must_use = "the bytes are given back as soon as the guard drops"]
pub struct Held<'b> {
    budget: &'b Budget,
    bytes: u64,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let held = &self.budget.held;
        held.set(held.get().saturating_sub(self.bytes));
    }
}

fn product(count: usize, each: usize) -> Option<u64> {
    (count as u64).checked_mul(each as u64)
}

/// A size as a person reads it: `512 bytes`, `256 MiB`, `1.9 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64;
    let mut unit = 0;
    value /= 1024.0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: u64) -> Budget {
        Budget::new(LoadLimits {
            max_model_bytes: limit,
        })
    }

    #[test]
    fn charges_add_up_to_the_limit_and_not_past_it() {
        let b = budget(100);
        b.charge(60, || "first".into()).unwrap();
        b.charge(40, || "second".into()).unwrap();
        let err = b.charge(1, || "one byte more".into()).unwrap_err();
        assert_eq!(err.held, 100);
        assert_eq!(
            err.to_string(),
            "too large: one byte more needs 1 bytes on top of the 100 bytes the load already \
             holds, beyond the 100 bytes that --max-model-bytes (SKSERVE_MAX_MODEL_BYTES) \
             allows a load"
        );
        assert_eq!(b.held(), 100, "a refused charge takes nothing");
    }

    #[test]
    fn held_bytes_come_back_when_the_guard_drops() {
        let b = budget(100);
        b.charge(10, String::new).unwrap();
        {
            let _copy = b.hold(90, String::new).unwrap();
            assert_eq!(b.remaining(), 0);
            assert!(b.hold(1, String::new).is_err());
        }
        assert_eq!(b.held(), 10);
        let _again = b.hold(90, String::new).unwrap();
    }

    #[test]
    fn overflowing_counts_are_refused_not_wrapped() {
        let b = budget(DEFAULT_MAX_MODEL_BYTES);
        let err = b
            .charge_items(1 << 61, 24, || {
                "an array of shape [2305843009213693952]".into()
            })
            .unwrap_err();
        assert_eq!(err.needed, None);
        assert!(
            err.to_string().contains("needs more than 2^64 bytes"),
            "{err}"
        );
        assert!(err.to_string().contains("256 MiB"), "{err}");
        assert!(!b.admits(usize::MAX, 2));
        assert!(b.admits(1 << 20, 256));
        assert!(!b.admits((1 << 20) + 1, 256));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1023), "1023 bytes");
        assert_eq!(bytes(256 << 20), "256 MiB");
        assert_eq!(bytes(1 << 30), "1 GiB");
        assert_eq!(bytes(2_040_109_465), "1.9 GiB");
        assert_eq!(bytes(u64::MAX), "16 EiB");
    }
}
