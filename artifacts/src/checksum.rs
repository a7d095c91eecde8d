//! The checksums Lepton's files are checked with when read: [`FileSum`] (a size and a CRC-32C,
//! for integrity: checkpoints, model weights, TensorBoard records) and [`content_hash`] (XXH3-64,
//! for identity: dataset chunks, duplicate frames, registry files, the pipeline's cache keys).
//! One module, so every reader checks the same way and says the same thing when a file is off.

use serde::{Deserialize, Serialize};

/// A file's size and CRC-32C (Castagnoli, as in iSCSI and ext4), as manifests record them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSum {
    pub bytes: u64,
    pub crc32c: u32,
}

impl FileSum {
    pub fn of(bytes: &[u8]) -> Self {
        Self { bytes: bytes.len() as u64, crc32c: crc32c(bytes) }
    }

    /// `Ok` when `bytes` are what this sum recorded; otherwise both sums, which say what differs
    /// (`"damaged: 12 bytes with CRC-32C 0000abcd; expected 13 bytes, 1234abcd"`).
    pub fn check(&self, bytes: &[u8]) -> Result<(), SumMismatch> {
        let got = Self::of(bytes);
        if got == *self { Ok(()) } else { Err(SumMismatch { got, want: *self }) }
    }
}

/// Bytes whose size or CRC-32C is not what their [`FileSum`] recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("damaged: {} bytes with CRC-32C {:08x}; expected {} bytes, {:08x}", got.bytes, got.crc32c, want.bytes, want.crc32c)]
pub struct SumMismatch {
    pub got: FileSum,
    pub want: FileSum,
}

/// CRC-32C of `bytes`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

/// XXH3-64 of `bytes`: fast, and stable across versions and machines.
pub fn content_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// [`content_hash`] as the 16 hexadecimal digits manifests write.
pub fn content_hash_hex(bytes: &[u8]) -> String {
    format!("{:016x}", content_hash(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_the_published_algorithms_and_name_what_differs() {
        // Published check values: CRC-32C of "123456789", XXH3-64 of the empty input.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(content_hash(b""), 0x2d06_8005_38d3_94c2);
        assert_eq!(content_hash_hex(b""), "2d06800538d394c2");
        let sum = FileSum::of(b"weights");
        assert_eq!(sum.check(b"weights"), Ok(()));
        let message = sum.check(b"weightz").unwrap_err().to_string();
        assert!(message.starts_with("damaged: 7 bytes with CRC-32C"), "{message}");
        let short = sum.check(b"weight").unwrap_err();
        assert_eq!((short.got.bytes, short.want), (6, sum));
    }
}
