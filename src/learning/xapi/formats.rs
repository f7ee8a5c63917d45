//! The string formats of xAPI 1.0.3 that the statement schema names (`format: xapi-*`): IRIs,
//! timestamps, durations and language tags. Pure functions, checked once per value.

use std::error::Error;

use serde_json::Value;

type Checked = Result<(), Box<dyn Error>>;

fn string_format(v: &Value, ok: fn(&str) -> bool, what: &'static str) -> Checked {
    match v.as_str() {
        Some(s) if !ok(s) => Err(what.into()),
        _ => Ok(()),
    }
}

pub fn iri_format(v: &Value) -> Checked {
    string_format(v, is_iri, "not an absolute IRI")
}

pub fn timestamp_format(v: &Value) -> Checked {
    string_format(v, is_timestamp, "not an RFC 3339 timestamp (the -00:00 offset is refused)")
}

pub fn duration_format(v: &Value) -> Checked {
    string_format(v, is_duration, "not an ISO 8601 duration as xAPI restricts them (e.g. PT1M30S, P2W)")
}

pub fn language_tag_format(v: &Value) -> Checked {
    string_format(v, is_language_tag, "not an RFC 5646 language tag")
}

/// An absolute IRI: a scheme and what follows it.
pub fn is_iri(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

/// RFC 3339, with a time zone that is known (`-00:00` says it is not, and xAPI refuses it).
pub fn is_timestamp(s: &str) -> bool {
    !s.ends_with("-00:00") && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// ISO 8601 durations as xAPI uses them: `P[nY][nM][nD][T[nH][nM][nS]]` in that order, or `PnW`
/// alone (weeks combine with nothing); a fraction only on the last number.
pub fn is_duration(d: &str) -> bool {
    let Some(rest) = d.strip_prefix('P') else { return false };
    if rest.is_empty() || rest.ends_with('T') {
        return false;
    }
    if let Some(weeks) = rest.strip_suffix('W') {
        return is_number(weeks);
    }
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut parts = Vec::new();
    if !units(date, "YMD", &mut parts) || !units(time, "HMS", &mut parts) {
        return false;
    }
    // Only the smallest unit given may carry a fraction.
    parts.iter().rev().skip(1).all(|n| !n.contains('.'))
}

/// Numbers each followed by one of `order`'s units, the units in that order, none twice.
fn units<'a>(part: &'a str, order: &str, numbers: &mut Vec<&'a str>) -> bool {
    let mut rest = part;
    let mut allowed = order;
    while !rest.is_empty() {
        let Some(at) = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')) else { return false };
        let (number, tail) = rest.split_at(at);
        let unit = tail.chars().next().unwrap_or(' ');
        let Some(position) = allowed.find(unit) else { return false };
        if !is_number(number) {
            return false;
        }
        numbers.push(number);
        allowed = &allowed[position + 1..];
        rest = &tail[1..];
    }
    true
}

fn is_number(n: &str) -> bool {
    let (whole, fraction) = n.split_once('.').unwrap_or((n, "0"));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

const GRANDFATHERED: [&str; 26] = [
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
    "art-lojban",
    "cel-gaulish",
    "no-bok",
    "no-nyn",
    "zh-guoyu",
    "zh-hakka",
    "zh-min",
    "zh-min-nan",
    "zh-xiang",
];

/// The syntax of RFC 5646 (BCP 47) language tags: language, extlang, script, region, variants,
/// extensions and private use, or a grandfathered tag. The registry itself is not consulted.
pub fn is_language_tag(tag: &str) -> bool {
    if GRANDFATHERED.iter().any(|g| g.eq_ignore_ascii_case(tag)) {
        return true;
    }
    let subtags: Vec<&str> = tag.split('-').collect();
    if subtags.iter().any(|s| s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return false;
    }
    let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mut rest = subtags.as_slice();
    let private = |rest: &[&str]| rest.len() > 1 && rest[0].eq_ignore_ascii_case("x");
    if private(rest) {
        return true;
    }
    // language: 2–3 letters with up to three extlangs, or 4–8 letters.
    match rest.first() {
        Some(l) if alpha(l) && (2..=3).contains(&l.len()) => {
            rest = &rest[1..];
            for _ in 0..3 {
                match rest.first() {
                    Some(e) if alpha(e) && e.len() == 3 => rest = &rest[1..],
                    _ => break,
                }
            }
        }
        Some(l) if alpha(l) && (4..=8).contains(&l.len()) => rest = &rest[1..],
        _ => return false,
    }
    if rest.first().is_some_and(|s| s.len() == 4 && alpha(s)) {
        rest = &rest[1..];
    }
    if rest.first().is_some_and(|s| (s.len() == 2 && alpha(s)) || (s.len() == 3 && digits(s))) {
        rest = &rest[1..];
    }
    let is_variant = |s: &str| (5..=8).contains(&s.len()) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit());
    while rest.first().is_some_and(|s| is_variant(s)) {
        rest = &rest[1..];
    }
    while rest.first().is_some_and(|s| s.len() == 1 && !s.eq_ignore_ascii_case("x")) {
        let count = rest[1..].iter().take_while(|s| s.len() >= 2).count();
        if count == 0 {
            return false;
        }
        rest = &rest[1 + count..];
    }
    rest.is_empty() || private(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["PT1M30S", "P1D", "PT0.5S", "P1Y2M3DT4H5M6S", "P2W", "PT1H0.5M", "P0D"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["P", "PT", "1M", "PT1X", "PTM", "P1M1M", "P4W1D", "P1DT", "PT1S1M", "PT1.5M2S", "P.5D", "P1.D"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn language_tags() {
        for ok in ["vi", "vi-VN", "en-US", "zh-Hant-TW", "sr-Latn-RS", "es-419", "de-CH-1996", "x-private", "i-klingon"]
        {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "vi_VN", "englishman", "a", "vi-", "en-US-x", "123", "en--US", "xx-a"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        assert!(is_timestamp("2026-12-06T05:00:00.000Z"));
        assert!(is_timestamp("2026-12-06T12:00:00+07:00"));
        assert!(!is_timestamp("2026-12-06T05:00:00-00:00"));
        assert!(!is_timestamp("2026-12-06"));
    }
}
