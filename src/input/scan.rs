//! Finding the bytes that end an unquoted field (the delimiter, CR, LF, or a stray quote)
//! sixteen at a time: one SIMD compare per kind of byte gives a bitmask of where they are in
//! 64 bytes, and each field's end is then a count of trailing zeros. Fields average eight
//! bytes, so one block of 64 serves several of them.

use wide::u8x16;

/// The bytes that end unquoted fields in one 64-byte window of a chunk, as a bitmask.
#[derive(Debug, Clone, Copy)]
pub struct FieldEnds {
    delimiter: u8,
    /// Where the window starts in the chunk.
    base: usize,
    /// Bit `k`: `chunk[base + k]` ends a field. Bits past the chunk's end are clear.
    mask: u64,
    /// `mask` is for the window at `base` (not yet for a fresh scanner).
    ready: bool,
}

impl FieldEnds {
    /// A scanner for one chunk: use it only with that chunk.
    pub fn new(delimiter: u8) -> FieldEnds {
        FieldEnds {
            delimiter,
            base: 0,
            mask: 0,
            ready: false,
        }
    }

    /// The position of the first byte at or after `i` that ends an unquoted field.
    #[inline]
    pub fn next(&mut self, chunk: &[u8], mut i: usize) -> Option<usize> {
        loop {
            if !self.ready || i < self.base || i - self.base >= 64 {
                self.base = i;
                self.mask = window(chunk, i, self.delimiter);
                self.ready = true;
            }
            let found = self.mask >> (i - self.base);
            if found != 0 {
                return Some(i + found.trailing_zeros() as usize);
            }
            i = self.base + 64;
            if i >= chunk.len() {
                return None;
            }
        }
    }
}

/// The field-ending bytes of `chunk[at..at + 64]` as a bitmask (fewer near the end).
#[inline]
fn window(chunk: &[u8], at: usize, delimiter: u8) -> u64 {
    let Some(bytes) = chunk.get(at..at + 64) else {
        return tail(chunk.get(at..).unwrap_or_default(), delimiter);
    };
    let (d, lf, cr, quote) = (
        u8x16::splat(delimiter),
        u8x16::splat(b'\n'),
        u8x16::splat(b'\r'),
        u8x16::splat(b'"'),
    );
    let mut mask = 0u64;
    for (k, sixteen) in bytes.chunks_exact(16).enumerate() {
        let mut lanes = [0u8; 16];
        lanes.copy_from_slice(sixteen);
        let v = u8x16::new(lanes);
        let hits = v.simd_eq(d) | v.simd_eq(lf) | v.simd_eq(cr) | v.simd_eq(quote);
        mask |= u64::from(hits.to_bitmask()) << (16 * k);
    }
    mask
}

/// `window` for the last bytes of a chunk, one at a time.
fn tail(bytes: &[u8], delimiter: u8) -> u64 {
    bytes.iter().enumerate().fold(0, |mask, (k, &b)| {
        let ends = b == delimiter || matches!(b, b'\n' | b'\r' | b'"');
        mask | (u64::from(ends) << k)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn by_byte(chunk: &[u8], i: usize, delimiter: u8) -> Option<usize> {
        (i..chunk.len())
            .find(|&k| chunk[k] == delimiter || matches!(chunk[k], b'\n' | b'\r' | b'"'))
    }

    proptest! {
        /// From any start, in any order of starts, the scanner finds what a byte-by-byte
        /// search finds.
        #[test]
        fn finds_what_a_byte_by_byte_search_finds(
            chunk in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b';'), Just(b'\n'), Just(b'\r'), Just(b'"'),
                            Just(0u8), b'a'..=b'z'],
                0..300,
            ),
            starts in proptest::collection::vec(0usize..320, 1..40),
            delimiter in prop_oneof![Just(b','), Just(b';'), Just(0u8)],
        ) {
            let mut scanner = FieldEnds::new(delimiter);
            for i in starts {
                let i = i.min(chunk.len());
                prop_assert_eq!(scanner.next(&chunk, i), by_byte(&chunk, i, delimiter), "from {}", i);
            }
        }
    }

    #[test]
    fn long_fields_cross_windows() {
        let mut chunk = vec![b'x'; 200];
        chunk[150] = b',';
        let mut scanner = FieldEnds::new(b',');
        assert_eq!(scanner.next(&chunk, 3), Some(150));
        assert_eq!(scanner.next(&chunk, 151), None);
        assert_eq!(scanner.next(&chunk, 200), None);
    }
}
