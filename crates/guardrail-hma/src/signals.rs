//! The content types and signal types this HMA serves, and hashing bytes into signals.
//!
//! HMA's recorded instance had two content types, `photo` (signal `pdq`) and `video`
//! (signal `video_md5`), in that order; so does this one. PDQ comes from `guardrail-pdq`
//! (bit-exact with pdqhash over PIL), MD5 from the `md-5` crate over the raw bytes, as
//! pytx's `VideoMD5Signal` does. This module decodes and hashes; it must never store or
//! log the bytes it is given, and never fetch anything.

use std::collections::BTreeMap;

use guardrail_pdq::DecodeOptions;
use md5::{Digest, Md5};

use crate::coerce;
use crate::error::ApiError;

/// PDQ hashes below this quality are returned as `""` (pytx's `QUALITY_THRESHOLD`).
pub const PDQ_QUALITY_THRESHOLD: u32 = 50;

/// HMA's PDQ match threshold (`PDQ_CONFIDENT_MATCH_THRESHOLD`): distance ≤ 31 matches.
pub const PDQ_MATCH_THRESHOLD: u32 = 31;

/// A kind of hash HMA stores and matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalType {
    /// PDQ, 256-bit perceptual hash of a photo, matched within distance 31.
    Pdq,
    /// MD5 of a video file's bytes, matched exactly.
    VideoMd5,
}

impl SignalType {
    /// Every signal type, in HMA's configuration order.
    pub const ALL: [SignalType; 2] = [SignalType::Pdq, SignalType::VideoMd5];

    /// HMA's name for it.
    pub fn name(self) -> &'static str {
        match self {
            SignalType::Pdq => "pdq",
            SignalType::VideoMd5 => "video_md5",
        }
    }

    /// The signal type of a name, if configured.
    pub fn from_name(name: &str) -> Option<SignalType> {
        SignalType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Validates (and for MD5 normalises) a signal; the error is pytx's message.
    pub fn validate(self, signal: &str) -> Result<String, String> {
        match self {
            SignalType::Pdq => coerce::pdq_signal(signal)
                .map(|_| signal.to_string())
                .ok_or_else(|| "invalid PDQ hash".to_string()),
            SignalType::VideoMd5 => coerce::md5_signal(signal)
                .ok_or_else(|| format!("{signal:?} is not a valid MD5 hash")),
        }
    }
}

/// A kind of content HMA hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// An image.
    Photo,
    /// A video.
    Video,
}

impl ContentType {
    /// Every content type, in HMA's configuration order.
    pub const ALL: [ContentType; 2] = [ContentType::Photo, ContentType::Video];

    /// HMA's name for it.
    pub fn name(self) -> &'static str {
        match self {
            ContentType::Photo => "photo",
            ContentType::Video => "video",
        }
    }

    /// The content type of a name, or HMA's 400 `no such content_type: 'X'`.
    pub fn from_name(name: &str) -> Result<ContentType, ApiError> {
        ContentType::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| ApiError::bad(format!("no such content_type: '{name}'")))
    }

    /// The content type a fetched file's `Content-Type` header implies (`image/*` →
    /// photo, `video/*` → video), or HMA's 400.
    pub fn from_media_type(media_type: &str) -> Result<ContentType, ApiError> {
        let lower = media_type.to_ascii_lowercase();
        if lower.starts_with("image") {
            Ok(ContentType::Photo)
        } else if lower.starts_with("video") {
            Ok(ContentType::Video)
        } else {
            Err(ApiError::bad(format!(
                "unsupported url ContentType: '{media_type}', if you know the expected type, provide it with the content_type query param"
            )))
        }
    }

    /// The signal types that hash this content type.
    pub fn signal_types(self) -> &'static [SignalType] {
        match self {
            ContentType::Photo => &[SignalType::Pdq],
            ContentType::Video => &[SignalType::VideoMd5],
        }
    }

    /// The signal types to compute: all of this content type's, or those named in a
    /// `types=` parameter (HMA's `_parse_request_signal_type`).
    pub fn select_signal_types(self, types: Option<&str>) -> Result<Vec<SignalType>, ApiError> {
        let available = self.signal_types();
        let Some(types) = types else {
            return Ok(available.to_vec());
        };
        let mut selected = Vec::new();
        for name in coerce::comma_list(types) {
            let signal_type = SignalType::from_name(&name)
                .filter(|t| available.contains(t))
                .ok_or_else(|| {
                    ApiError::bad(format!("signal type '{name}' doesn't exist or is disabled"))
                })?;
            if !selected.contains(&signal_type) {
                selected.push(signal_type);
            }
        }
        if selected.is_empty() {
            return Err(ApiError::bad("empty signal type selection"));
        }
        Ok(selected)
    }
}

/// Hashes content bytes into the selected signals, `{"pdq": "<hex>"}`. A PDQ hash of
/// quality below 50 is `""`, as in HMA. Runs the decoder: call it on a blocking thread.
pub fn hash_bytes(
    bytes: &[u8],
    signal_types: &[SignalType],
    decode: &DecodeOptions,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut signals = BTreeMap::new();
    for signal_type in signal_types {
        let signal = match signal_type {
            SignalType::Pdq => {
                let output = guardrail_pdq::hash_encoded(bytes, decode)
                    .map_err(|error| ApiError::bad(format!("cannot hash photo: {error}")))?;
                if output.quality < PDQ_QUALITY_THRESHOLD {
                    String::new()
                } else {
                    output.hash.to_hex()
                }
            }
            SignalType::VideoMd5 => {
                let digest = Md5::digest(bytes);
                digest.iter().map(|byte| format!("{byte:02x}")).collect()
            }
        };
        signals.insert(signal_type.name().to_string(), signal);
    }
    Ok(signals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parameter_selects_like_hma() {
        let check = |types: Option<&str>, expected: Result<Vec<SignalType>, &str>| {
            let got = ContentType::Photo.select_signal_types(types);
            match expected {
                Ok(list) => assert_eq!(got, Ok(list), "types={types:?}"),
                Err(message) => assert_eq!(
                    got.map_err(|e| e.message().to_string()),
                    Err(message.to_string()),
                    "types={types:?}"
                ),
            }
        };
        check(None, Ok(vec![SignalType::Pdq]));
        check(Some("pdq"), Ok(vec![SignalType::Pdq]));
        check(Some(" pdq , ,pdq"), Ok(vec![SignalType::Pdq]));
        check(Some(""), Err("empty signal type selection"));
        check(
            Some("video_md5"),
            Err("signal type 'video_md5' doesn't exist or is disabled"),
        );
        check(
            Some("pdq,nope"),
            Err("signal type 'nope' doesn't exist or is disabled"),
        );
    }

    #[test]
    fn media_types_map_to_content_types() {
        assert_eq!(
            ContentType::from_media_type("image/jpeg"),
            Ok(ContentType::Photo)
        );
        assert_eq!(
            ContentType::from_media_type("Video/mp4"),
            Ok(ContentType::Video)
        );
        assert_eq!(
            ContentType::from_media_type("text/html").map_err(|e| e.message().to_string()),
            Err("unsupported url ContentType: 'text/html', if you know the expected type, provide it with the content_type query param".to_string())
        );
        assert_eq!(
            ContentType::from_name("audio").map_err(|e| e.message().to_string()),
            Err("no such content_type: 'audio'".to_string())
        );
    }

    #[test]
    fn video_md5_is_the_md5_of_the_bytes() {
        let signals = hash_bytes(b"", &[SignalType::VideoMd5], &DecodeOptions::default());
        let expected: BTreeMap<String, String> = [(
            "video_md5".to_string(),
            "d41d8cd98f00b204e9800998ecf8427e".to_string(),
        )]
        .into();
        assert_eq!(signals, Ok(expected));
        let not_an_image = hash_bytes(b"abc", &[SignalType::Pdq], &DecodeOptions::default());
        assert!(
            matches!(not_an_image, Err(ApiError::BadRequest(m)) if m.starts_with("cannot hash photo"))
        );
    }
}
