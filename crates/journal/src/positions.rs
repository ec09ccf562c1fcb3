//! A sparse index of where records start: the offset of every [`STRIDE`]th record of each
//! segment, filled as the appender writes records and as readers pass over them. A read from
//! any sequence number seeks to the nearest indexed record before it and skips fewer than
//! `STRIDE` records, instead of every record from the segment's start (tens of thousands in a
//! full segment). Kept in memory only: after a restart a segment's index is rebuilt by the
//! first reader that goes through it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Records between two indexed ones: 16,000 entries (128 KiB) for a million records.
pub(crate) const STRIDE: u64 = 64;

#[derive(Default)]
pub(crate) struct Positions {
    /// Segment (its first sequence number) → offsets of its records 0, STRIDE, 2·STRIDE, …
    /// INVARIANT: contiguous from the segment's first record; only ever extended at the end.
    by_segment: Mutex<HashMap<u64, Vec<u64>>>,
}

impl Positions {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Vec<u64>>> {
        // Every change is one push or one removal: a panic elsewhere leaves it consistent.
        self.by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that record `seq` of `segment` starts at `offset` (kept if it extends the index).
    pub(crate) fn note(&self, segment: u64, seq: u64, offset: u64) {
        let Some(k) = seq.checked_sub(segment) else {
            return;
        };
        if k % STRIDE != 0 {
            return;
        }
        let mut by_segment = self.lock();
        let offsets = by_segment.entry(segment).or_default();
        if offsets.len() as u64 == k / STRIDE {
            offsets.push(offset);
        }
    }

    /// The indexed record of `segment` nearest before or at `seq`: its number and offset.
    pub(crate) fn nearest(&self, segment: u64, seq: u64) -> Option<(u64, u64)> {
        let k = seq.checked_sub(segment)? / STRIDE;
        let by_segment = self.lock();
        let offsets = by_segment.get(&segment)?;
        let index = usize::try_from(k)
            .unwrap_or(usize::MAX)
            .min(offsets.len().checked_sub(1)?);
        let offset = *offsets.get(index)?;
        Some((segment + index as u64 * STRIDE, offset))
    }

    /// Drops a removed segment's entries.
    pub(crate) fn forget(&self, segment: u64) {
        self.lock().remove(&segment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_contiguous_strides_are_kept_and_the_nearest_before_is_found() {
        let positions = Positions::default();
        assert_eq!(positions.nearest(100, 150), None);
        positions.note(100, 100 + STRIDE, 9_000); // not contiguous yet: ignored
        positions.note(100, 100, 24);
        positions.note(100, 101, 50); // not a stride: ignored
        positions.note(100, 100 + STRIDE, 5_000);
        positions.note(100, 100 + STRIDE, 7_000); // already known: kept as it was
        assert_eq!(positions.nearest(100, 99), None);
        assert_eq!(positions.nearest(100, 100), Some((100, 24)));
        assert_eq!(positions.nearest(100, 100 + STRIDE - 1), Some((100, 24)));
        assert_eq!(
            positions.nearest(100, 100 + STRIDE),
            Some((100 + STRIDE, 5_000))
        );
        assert_eq!(
            positions.nearest(100, 100 + 10 * STRIDE),
            Some((100 + STRIDE, 5_000))
        );
        positions.forget(100);
        assert_eq!(positions.nearest(100, 100), None);
    }
}
