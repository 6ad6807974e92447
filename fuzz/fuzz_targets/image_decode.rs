//! Fuzzes image decoding for hashing (`guardrail_pdq::decode`): any bytes either decode
//! to RGB within the limits or are refused with an error, never a panic; a decoded image
//! is no larger than the pixel limit and its buffer holds exactly width × height × 3
//! bytes; hashing the same bytes succeeds exactly when decoding does.
//!
//! Decompression bombs: `scripts/fuzz.sh` runs this target with libFuzzer's
//! `-malloc_limit_mb`, so a decoder that allocates for a header's declared size before
//! checking the limits is reported as a crash even when it would have failed later.
//! The seeds (generated at run time, never committed) include headers declaring huge
//! dimensions.
//!
//! Must never: write files, or decode beyond the limits below.
#![no_main]

use guardrail_pdq::decode::{DecodeOptions, decode_rgb};
use guardrail_pdq::hash_encoded;
use libfuzzer_sys::fuzz_target;

/// Smaller than the service's limits so that one input stays fast; the checks before
/// allocation are the same code whatever the numbers.
const OPTIONS: DecodeOptions = DecodeOptions {
    max_pixels: 1 << 20,
    max_alloc_bytes: 64 << 20,
    squash_512: false,
};

fuzz_target!(|data: &[u8]| {
    let decoded = decode_rgb(data, &OPTIONS);
    match &decoded {
        Ok(image) => {
            assert!(
                image.width > 0 && image.height > 0,
                "an empty image decoded"
            );
            assert!(
                (image.width as u64) * (image.height as u64) <= OPTIONS.max_pixels,
                "{}×{} decoded past the pixel limit",
                image.width,
                image.height
            );
            assert_eq!(image.pixels.len(), image.width * image.height * 3);
        }
        Err(_) => {}
    }
    let hashed = hash_encoded(data, &OPTIONS);
    assert_eq!(
        decoded.is_ok(),
        hashed.is_ok(),
        "decode and hash disagree: {:?} vs {:?}",
        decoded.as_ref().err(),
        hashed.as_ref().err()
    );
    // The squash path (the reference CLI's pre-resize) reads the decoded pixels by index.
    let squashed = decode_rgb(
        data,
        &DecodeOptions {
            squash_512: true,
            ..OPTIONS
        },
    );
    if let (Ok(image), Ok(full)) = (squashed, decoded) {
        if full.width > 512 || full.height > 512 {
            assert_eq!((image.width, image.height), (512, 512));
        } else {
            assert_eq!(image, full);
        }
        assert_eq!(image.pixels.len(), image.width * image.height * 3);
    }
});
