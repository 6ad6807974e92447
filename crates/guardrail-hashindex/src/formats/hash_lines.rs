//! Query lists: `HEX [QUALITY [PATH]]` per line, the output of `guardrail media hash`,
//! read back as hashes to match (`guardrail media match --hashes`).
//!
//! Unlike a bank list, a query list has no provenance to carry: the quality decides
//! whether a query is matched at all, and the path only labels the result. Pure text
//! in, values out; this module never opens a file (the caller hands it any
//! [`BufRead`] and names its origin for errors), and it never guesses: a line that is
//! not a hash, or a quality that is not a number, stops the read with the origin and
//! line that are wrong.

use std::fmt;
use std::io::BufRead;
use std::num::ParseIntError;

use guardrail_pdq::{HashParseError, PdqHash};

/// The quality a line without one is matched at (the highest PDQ reports).
const DEFAULT_QUALITY: u32 = 100;

/// One hashed image: a line of `guardrail media hash` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashLine {
    /// The image's hash.
    pub hash: PdqHash,
    /// Its PDQ quality (100 when the line gives none).
    pub quality: u32,
    /// The rest of the line, normally the image's path; runs of whitespace in it read
    /// back as one space.
    pub label: String,
}

/// Writes the line as `guardrail media hash` prints it: `HEX QUALITY PATH`.
impl fmt::Display for HashLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.hash, self.quality)?;
        if !self.label.is_empty() {
            write!(f, " {}", self.label)?;
        }
        Ok(())
    }
}

/// Why a query list could not be read, and where.
#[derive(Debug, thiserror::Error)]
pub enum HashLineError {
    /// The input could not be read (or is not UTF-8).
    #[error("{origin}:{line}: cannot read: {source}")]
    Io {
        /// The file (or other origin) the list came from.
        origin: String,
        /// 1-based line that could not be read.
        line: usize,
        /// The IO error.
        source: std::io::Error,
    },
    /// The first field is not a PDQ hash.
    #[error("{origin}:{line}: {text:?} is not a PDQ hash")]
    Hash {
        /// The file (or other origin) the list came from.
        origin: String,
        /// 1-based line of the problem.
        line: usize,
        /// The field as written.
        text: String,
        /// Why it is not a hash.
        source: HashParseError,
    },
    /// The second field is not a quality.
    #[error("{origin}:{line}: quality {text:?} is not a number")]
    Quality {
        /// The file (or other origin) the list came from.
        origin: String,
        /// 1-based line of the problem.
        line: usize,
        /// The field as written.
        text: String,
        /// Why it is not a number.
        source: ParseIntError,
    },
}

impl HashLineError {
    /// The 1-based line at fault.
    pub fn line(&self) -> usize {
        match self {
            HashLineError::Io { line, .. }
            | HashLineError::Hash { line, .. }
            | HashLineError::Quality { line, .. } => *line,
        }
    }
}

/// Reads a query list, `HEX [QUALITY [PATH]]` per line, fields separated by
/// whitespace. Blank lines and lines starting with `#` are skipped; `origin` names the
/// input in errors. Stops at the first bad line.
pub fn read_hash_lines(input: impl BufRead, origin: &str) -> Result<Vec<HashLine>, HashLineError> {
    let mut hashes = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|source| HashLineError::Io {
            origin: origin.to_string(),
            line: number,
            source,
        })?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let hex = fields.next().unwrap_or_default();
        let hash: PdqHash = hex.parse().map_err(|source| HashLineError::Hash {
            origin: origin.to_string(),
            line: number,
            text: hex.to_string(),
            source,
        })?;
        let quality = match fields.next() {
            Some(text) => text.parse().map_err(|source| HashLineError::Quality {
                origin: origin.to_string(),
                line: number,
                text: text.to_string(),
                source,
            })?,
            None => DEFAULT_QUALITY,
        };
        let label = fields.collect::<Vec<_>>().join(" ");
        hashes.push(HashLine {
            hash,
            quality,
            label,
        });
    }
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const B: &str = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";

    #[test]
    fn media_hash_output_round_trips() {
        let printed = [
            HashLine {
                hash: A.parse().expect("hex"),
                quality: 100,
                label: "images/a.jpg".into(),
            },
            HashLine {
                hash: B.parse().expect("hex"),
                quality: 49,
                label: "holiday photos/b 2.png".into(),
            },
            HashLine {
                hash: B.parse().expect("hex"),
                quality: 0,
                label: String::new(),
            },
        ];
        let text: String = printed.iter().map(|line| format!("{line}\n")).collect();
        assert_eq!(
            text.lines().next(),
            Some(format!("{A} 100 images/a.jpg").as_str()),
            "the `guardrail media hash` line format"
        );
        let read = read_hash_lines(text.as_bytes(), "hashes.txt").expect("reads back");
        assert_eq!(read, printed);
    }

    #[test]
    fn optional_fields_comments_and_padding() {
        let text = format!("# from media hash\n\n  {A}  \n{B} 7\r\n{A} 80 a  b\n");
        let read = read_hash_lines(text.as_bytes(), "q").expect("reads");
        let found: Vec<(String, u32, &str)> = read
            .iter()
            .map(|l| (l.hash.to_hex(), l.quality, l.label.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (A.to_string(), 100, ""),
                (B.to_string(), 7, ""),
                (A.to_string(), 80, "a b"),
            ]
        );
    }

    #[test]
    fn bad_lines_name_origin_and_line() {
        // (text, line at fault, the whole message)
        let rows = [
            (
                format!("{A}\n\nnot-a-hash 100 x.jpg\n"),
                3,
                "hashes.txt:3: \"not-a-hash\" is not a PDQ hash".to_string(),
            ),
            (
                format!("# c\n{A} high x.jpg\n"),
                2,
                "hashes.txt:2: quality \"high\" is not a number".to_string(),
            ),
            (
                format!("{A} -1\n"),
                1,
                "hashes.txt:1: quality \"-1\" is not a number".to_string(),
            ),
        ];
        for (text, line, message) in rows {
            let error = read_hash_lines(text.as_bytes(), "hashes.txt").expect_err("bad list");
            assert_eq!(error.line(), line, "{text}");
            assert_eq!(error.to_string(), message, "{text}");
            assert!(std::error::Error::source(&error).is_some(), "{text}");
        }
        let error = read_hash_lines(&b"\xff\n"[..], "bin").expect_err("not UTF-8");
        assert!(
            matches!(error, HashLineError::Io { line: 1, .. }),
            "{error}"
        );
    }
}
