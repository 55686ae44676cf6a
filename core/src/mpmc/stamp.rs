//! A slot's stamp: which lap of the ring the slot is at, in which state, and
//! for a claimed slot, who claimed it.
//!
//! ```text
//!  63            32 31                 2 1   0
//! +----------------+--------------------+-----+
//! |      lap       |   claimer (30 bits)| state|   state: free, claimed,
//! +----------------+--------------------+-----+   full or void
//! +----------------+--------------------+-----+
//! ```
//!
//! The lap of position `p` is `p / slots`, kept in 32 bits: two stamps are
//! compared by the wrapping difference of their laps, which is right as long
//! as no thread sleeps through 2^31 laps of the ring between reading a
//! position and using it. Carrying the lap rather than the position leaves
//! room for the claimer, so a claim and its owner are one word: a consumer
//! that finds a claim never published can ask whether its owner is alive.

/// What a slot holds at its lap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Empty: a producer at this lap may claim it. A slot's initial state
    /// (all-zero bytes are lap 0, free).
    Free,
    /// A producer at this lap claimed it and is writing its item.
    Claimed,
    /// Holds the item of this lap: a consumer may take it.
    Full,
    /// Claimed at this lap and given up: the position carries no item, and
    /// the consumer that reaches it frees it as if it had taken one.
    Void,
}

const STATE_MASK: u64 = 0b11;
const CLAIMER_BITS: u32 = 30;
const CLAIMER_MASK: u64 = (1 << CLAIMER_BITS) - 1;
const LAP_SHIFT: u32 = 32;

/// Who claimed a slot: a number of at most 30 bits that the caller can later
/// ask about (`shmipc-shm` packs a process's id and start time into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimerId(u32);

impl ClaimerId {
    /// The largest id.
    pub const MAX: u32 = CLAIMER_MASK as u32;

    /// The id `id`, if it fits in 30 bits.
    ///
    /// ```
    /// # use shmipc_core::mpmc::ClaimerId;
    /// assert_eq!(ClaimerId::new(7).map(ClaimerId::get), Some(7));
    /// assert!(ClaimerId::new(1 << 30).is_none());
    /// ```
    pub const fn new(id: u32) -> Option<ClaimerId> {
        if id <= Self::MAX {
            Some(ClaimerId(id))
        } else {
            None
        }
    }

    /// The id made of the low 30 bits of `id`.
    ///
    /// ```
    /// # use shmipc_core::mpmc::ClaimerId;
    /// assert_eq!(ClaimerId::from_low_bits(u32::MAX).get(), ClaimerId::MAX);
    /// ```
    pub const fn from_low_bits(id: u32) -> ClaimerId {
        ClaimerId(id & Self::MAX)
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

#[inline(always)]
pub(crate) const fn free(lap: u32) -> u64 {
    (lap as u64) << LAP_SHIFT
}

#[inline(always)]
pub(crate) const fn claimed(lap: u32, by: ClaimerId) -> u64 {
    (lap as u64) << LAP_SHIFT | (by.0 as u64) << 2 | 1
}

#[inline(always)]
pub(crate) const fn full(lap: u32) -> u64 {
    (lap as u64) << LAP_SHIFT | 2
}

#[inline(always)]
pub(crate) const fn void(lap: u32) -> u64 {
    (lap as u64) << LAP_SHIFT | 3
}

#[inline(always)]
pub(crate) const fn lap_of(stamp: u64) -> u32 {
    (stamp >> LAP_SHIFT) as u32
}

#[inline(always)]
pub(crate) const fn state_of(stamp: u64) -> State {
    match stamp & STATE_MASK {
        0 => State::Free,
        1 => State::Claimed,
        2 => State::Full,
        _ => State::Void,
    }
}

#[inline(always)]
pub(crate) const fn claimer_of(stamp: u64) -> ClaimerId {
    ClaimerId((stamp >> 2 & CLAIMER_MASK) as u32)
}

/// How many laps `stamp` is ahead of `lap` (negative: behind).
#[inline(always)]
pub(crate) const fn laps_ahead(stamp: u64, lap: u32) -> i32 {
    lap_of(stamp).wrapping_sub(lap) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_states_differ_at_every_lap() {
        let by = ClaimerId::new(ClaimerId::MAX).unwrap();
        for lap in [0, 1, u32::MAX] {
            let c = claimed(lap, by);
            assert_eq!(
                (lap_of(c), state_of(c), claimer_of(c)),
                (lap, State::Claimed, by)
            );
            assert_eq!((lap_of(free(lap)), state_of(free(lap))), (lap, State::Free));
            assert_eq!((lap_of(full(lap)), state_of(full(lap))), (lap, State::Full));
            assert_eq!(laps_ahead(free(lap.wrapping_add(1)), lap), 1);
            assert_eq!(laps_ahead(full(lap.wrapping_sub(1)), lap), -1);
        }
        assert_eq!((lap_of(void(7)), state_of(void(7))), (7, State::Void));
    }
}
