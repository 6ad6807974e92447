//! The 256-bit PDQ hash value, its canonical byte layout and its hex text form.
//!
//! The canonical form is the one every interoperating tool uses: the 32 bytes of
//! `bytes.fromhex(hex)` where `hex` is what the reference C++ prints (`w[15]`..`w[0]`,
//! each `%04hx`). Bit `k` of the reference (DCT row `k / 16`, column `k % 16`) is
//! therefore bit `k % 8` of byte `31 - k / 8`. Hamming distance does not depend on the
//! layout, but bank files, multi-index slots and exports do, so there is one layout.

use std::fmt;
use std::str::FromStr;

/// A 256-bit PDQ hash in canonical byte order (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct PdqHash(pub [u8; 32]);

impl PdqHash {
    /// The number of bits in a hash.
    pub const BITS: u32 = 256;

    /// Builds a hash from the reference bit numbering: bit `k` is DCT coefficient
    /// `(k / 16, k % 16)`.
    pub fn from_reference_bits(bits: &[bool; 256]) -> Self {
        let mut bytes = [0u8; 32];
        for (k, &set) in bits.iter().enumerate() {
            if set {
                bytes[31 - k / 8] |= 1 << (k % 8);
            }
        }
        PdqHash(bytes)
    }

    /// Whether reference bit `k` (DCT coefficient `(k / 16, k % 16)`) is set.
    pub fn reference_bit(&self, k: usize) -> bool {
        k < 256 && (self.0[31 - k / 8] >> (k % 8)) & 1 == 1
    }

    /// Hamming distance to another hash.
    pub fn distance(&self, other: &PdqHash) -> u32 {
        let mut total = 0;
        for (a, b) in self.as_words().iter().zip(other.as_words().iter()) {
            total += (a ^ b).count_ones();
        }
        total
    }

    /// The hash as four 64-bit words (bytes in canonical order, read little-endian).
    pub fn as_words(&self) -> [u64; 4] {
        let mut words = [0u64; 4];
        for (word, chunk) in words.iter_mut().zip(self.0.chunks_exact(8)) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(chunk);
            *word = u64::from_le_bytes(eight);
        }
        words
    }

    /// The number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.as_words().iter().map(|w| w.count_ones()).sum()
    }

    /// The 64-character lowercase hex text, as the reference prints it.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({self})")
    }
}

/// Why a text is not a PDQ hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// The text does not have exactly 64 hex digits.
    #[error("expected 64 hex digits, found {found} characters")]
    WrongLength {
        /// How many characters the text had.
        found: usize,
    },
    /// A character is not a hex digit.
    #[error("character {character:?} at position {position} is not a hex digit")]
    NotHex {
        /// The offending character.
        character: char,
        /// Its character position in the text (0-based).
        position: usize,
    },
}

impl FromStr for PdqHash {
    type Err = HashParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let found = text.chars().count();
        if found != 64 {
            return Err(HashParseError::WrongLength { found });
        }
        let mut bytes = [0u8; 32];
        let mut nibbles = text.chars().enumerate().map(|(position, character)| {
            character
                .to_digit(16)
                .map(|d| d as u8)
                .ok_or(HashParseError::NotHex {
                    character,
                    position,
                })
        });
        for byte in bytes.iter_mut() {
            // Length was checked above, so both nibbles exist.
            let high = nibbles.next().unwrap_or(Ok(0))?;
            let low = nibbles.next().unwrap_or(Ok(0))?;
            *byte = (high << 4) | low;
        }
        Ok(PdqHash(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_bad_text() {
        let hex = "695a94a596b56b5a94a56e5b348d91a46b5a94a5695a94a596a56b5a94a56e5b";
        let hash: PdqHash = hex.parse().expect("valid hex");
        assert_eq!(hash.to_hex(), hex);
        assert_eq!(
            "abc".parse::<PdqHash>(),
            Err(HashParseError::WrongLength { found: 3 })
        );
        let bad = format!("{}g", &hex[..63]);
        assert_eq!(
            bad.parse::<PdqHash>(),
            Err(HashParseError::NotHex {
                character: 'g',
                position: 63
            })
        );
    }

    #[test]
    fn reference_bit_zero_is_the_low_bit_of_the_last_byte() {
        let mut bits = [false; 256];
        bits[0] = true;
        bits[255] = true;
        let hash = PdqHash::from_reference_bits(&bits);
        assert_eq!(hash.0[31], 1);
        assert_eq!(hash.0[0], 0x80);
        assert!(hash.reference_bit(0) && hash.reference_bit(255) && !hash.reference_bit(1));
    }

    #[test]
    fn distance_counts_differing_bits() {
        let a = PdqHash([0xff; 32]);
        let b = PdqHash([0x0f; 32]);
        assert_eq!(a.distance(&b), 128);
        assert_eq!(a.distance(&a), 0);
    }
}
