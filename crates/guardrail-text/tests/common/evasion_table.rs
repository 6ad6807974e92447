//! Reads `tests/data/evasion_table.tsv`, shared by the evasion tests and the benchmark
//! so that both score exactly the same rows.

/// One row: the rule that must match (`None` for a benign row), what it tests, the input.
pub type Row = (Option<String>, String, String);

/// Every row of the table, with `\u{XXXX}` escapes turned into characters.
pub fn rows() -> Vec<Row> {
    include_str!("../data/evasion_table.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut columns = line.splitn(3, '\t');
            let rule = columns.next().unwrap_or_default();
            let what = columns.next().unwrap_or_default();
            let input = columns.next().unwrap_or_default();
            (
                (rule != "-").then(|| rule.to_string()),
                what.to_string(),
                unescape(input),
            )
        })
        .collect()
}

/// Turns `\u{XXXX}` escapes into characters; a malformed escape stays as written.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let decoded = rest[at..]
            .find('}')
            .map(|close| close + at)
            .and_then(|close| {
                let ch = u32::from_str_radix(&rest[at + 3..close], 16)
                    .ok()
                    .and_then(char::from_u32)?;
                Some((ch, close))
            });
        match decoded {
            Some((ch, close)) => {
                out.push(ch);
                rest = &rest[close + 1..];
            }
            None => {
                out.push_str(&rest[at..at + 3]);
                rest = &rest[at + 3..];
            }
        }
    }
    out.push_str(rest);
    out
}
