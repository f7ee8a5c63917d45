//! Citizen numbers that never repeat and look random.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::*;

pub(super) const SERIAL_SPACE: u32 = 1_000_000;
/// Coprime with 10^6, so `counter * A + B mod 10^6` is a bijection.
pub(super) const SERIAL_MULTIPLIER: u64 = 387_433;

/// Hands out the six random-looking digits of citizen numbers without ever repeating one:
/// a counter per (prefix, century/sex digit, two-digit year) bucket goes through a bijection of 0..10^6.
pub(super) struct Serials {
    pub(super) prefixes: Vec<u16>,
    pub(super) index_of: Vec<usize>,
    pub(super) counters: Vec<u32>,
    pub(super) offset_key: u64,
    pub(super) round_keys: [u32; 3],
}

impl Serials {
    pub(super) fn new(seed: u64) -> Self {
        let prefixes = cccd::known_prefixes();
        let mut index_of = vec![usize::MAX; 1000];
        for (i, p) in prefixes.iter().enumerate() {
            index_of[usize::from(*p)] = i;
        }
        let mut rng = rng_for(seed, STREAM_SERIALS);
        Self {
            counters: vec![0; prefixes.len() * 6 * 100],
            prefixes,
            index_of,
            offset_key: rng.random_range(0..u64::from(SERIAL_SPACE)),
            round_keys: [rng.random(), rng.random(), rng.random()],
        }
    }

    /// Any known prefix other than `own`: people born elsewhere before moving here.
    pub(super) fn other_prefix(&self, rng: &mut ChaCha8Rng, own: u16) -> u16 {
        let own_index = self.index_of[usize::from(own)];
        let i = index(rng, self.prefixes.len() - 1);
        self.prefixes[if i >= own_index { i + 1 } else { i }]
    }

    /// The prefix actually used and a fresh serial; a full bucket moves on to the next prefix.
    pub(super) fn next(&mut self, prefix: u16, year: i32, sex: Sex) -> (u16, u32) {
        let century_sex =
            usize::try_from((year - 1900) / 100).unwrap_or_default() * 2 + usize::from(sex == Sex::Female);
        let two_digit = usize::try_from(year % 100).unwrap_or_default();
        let start = self.index_of[usize::from(prefix)];
        for step in 0..self.prefixes.len() {
            let p = (start + step) % self.prefixes.len();
            let bucket = (p * 6 + century_sex) * 100 + two_digit;
            let counter = self.counters[bucket];
            if counter < SERIAL_SPACE {
                self.counters[bucket] += 1;
                return (self.prefixes[p], self.permute(counter, bucket));
            }
        }
        panic!("every citizen-number bucket for {year} is full");
    }

    /// An affine map then a three-round decimal Feistel network: both bijective on 0..10^6,
    /// together they hide the counter so serials look random.
    pub(super) fn permute(&self, counter: u32, bucket: usize) -> u32 {
        let space = u64::from(SERIAL_SPACE);
        let offset = (bucket as u64 * 7_919 + self.offset_key) % space;
        let x = (u64::from(counter) * SERIAL_MULTIPLIER + offset) % space;
        let (mut high, mut low) = ((x / 1000) as u32, (x % 1000) as u32);
        for key in self.round_keys {
            let f = ((low ^ key).wrapping_mul(0x9E37_79B1) >> 16) % 1000;
            (high, low) = (low, (high + f) % 1000);
        }
        high * 1000 + low
    }
}
