//! The providers' rate-limit headers read into the neutral [`RateLimits`], so that a
//! caller running many requests can slow down before a 429 instead of after it.
//!
//! Two dialects: OpenAI (and the OpenAI-compatible hosts that copy it) sends
//! `x-ratelimit-remaining-requests: 499` and `x-ratelimit-reset-requests: 6m0s` (a Go
//! duration: `1h2m3.5s`, `20ms`); Anthropic sends
//! `anthropic-ratelimit-requests-remaining` and `anthropic-ratelimit-requests-reset:
//! 2026-12-02T07:00:00Z` (an RFC 3339 time). Every value comes from the server: each is
//! read without a panic, bounded ([`RateLimits::MAX_COUNT`], [`RateLimits::MAX_RESET`]),
//! and simply missing when unreadable. The RFC 3339 reader is a few lines here rather
//! than a date crate for one header.

use instructor_core::chat::RateLimits;
use reqwest::header::{HeaderMap, HeaderName};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest header value read (a longer one is not a count or a time).
const MAX_VALUE_LEN: usize = 64;

/// OpenAI's headers: remaining requests and tokens, then their resets.
const OPENAI: [HeaderName; 4] = [
    HeaderName::from_static("x-ratelimit-remaining-requests"),
    HeaderName::from_static("x-ratelimit-remaining-tokens"),
    HeaderName::from_static("x-ratelimit-reset-requests"),
    HeaderName::from_static("x-ratelimit-reset-tokens"),
];

/// Anthropic's, in the same order.
const ANTHROPIC: [HeaderName; 4] = [
    HeaderName::from_static("anthropic-ratelimit-requests-remaining"),
    HeaderName::from_static("anthropic-ratelimit-tokens-remaining"),
    HeaderName::from_static("anthropic-ratelimit-requests-reset"),
    HeaderName::from_static("anthropic-ratelimit-tokens-reset"),
];

/// The rate limits of `headers` (`None` when no rate-limit header is there), resets
/// measured from `now`. Every response passes here, so a response without such
/// headers costs one look at each header's name, no lookup.
pub(crate) fn rate_limits(headers: &HeaderMap, now: SystemTime) -> Option<Box<RateLimits>> {
    let names = if headers
        .keys()
        .any(|name| name.as_str().starts_with("x-ratelimit-"))
    {
        &OPENAI
    } else if headers
        .keys()
        .any(|name| name.as_str().starts_with("anthropic-ratelimit-"))
    {
        &ANTHROPIC
    } else {
        return None;
    };
    let header = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty() && value.len() <= MAX_VALUE_LEN)
    };
    let [requests, tokens, requests_reset, tokens_reset] = names;
    let reset = |name: &HeaderName| header(name).and_then(|value| reset_in(value, now));
    let limits = RateLimits {
        requests_remaining: header(requests).and_then(count),
        tokens_remaining: header(tokens).and_then(count),
        requests_reset: reset(requests_reset),
        tokens_reset: reset(tokens_reset),
    };
    (!limits.is_empty()).then(|| Box::new(limits))
}

/// A count: decimal digits only, at most [`RateLimits::MAX_COUNT`].
fn count(value: &str) -> Option<u64> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Too many digits for a u64 is still "very many".
    Some(
        value
            .parse::<u64>()
            .unwrap_or(u64::MAX)
            .min(RateLimits::MAX_COUNT),
    )
}

/// A reset: a duration (`6m0s`, `1s`, `20ms`, a bare number of seconds) or an RFC 3339
/// time (the wait until it; zero for a time past).
fn reset_in(value: &str, now: SystemTime) -> Option<Duration> {
    let wait = go_duration(value)
        .or_else(|| value.parse::<f64>().ok().and_then(bounded_seconds))
        .or_else(|| {
            let at = rfc3339(value)?;
            Some(at.duration_since(now).unwrap_or(Duration::ZERO))
        })?;
    Some(wait.min(RateLimits::MAX_RESET))
}

/// Seconds as a wait, `None` unless finite and not negative, at most
/// [`RateLimits::MAX_RESET`] (`Duration::from_secs_f64` would panic on a huge value).
fn bounded_seconds(seconds: f64) -> Option<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    if seconds >= RateLimits::MAX_RESET.as_secs_f64() {
        return Some(RateLimits::MAX_RESET);
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// A Go duration as OpenAI writes it: one or more `<number><unit>` with units `h`, `m`,
/// `s`, `ms`, `us`/`µs`, `ns` (`6m0s`, `1.5s`, `20ms`).
fn go_duration(value: &str) -> Option<Duration> {
    let mut rest = value;
    let mut seconds = 0.0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        seconds += number * scale;
    }
    bounded_seconds(seconds)
}

/// An RFC 3339 time (`2026-12-02T07:00:00Z`, `...T07:00:00.123+01:00`), `None` for
/// anything else or a time before 1970.
fn rfc3339(value: &str) -> Option<SystemTime> {
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = bytes.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let separator = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    let separators = [
        (4, &b"-"[..]),
        (7, b"-"),
        (10, b"Tt "),
        (13, b":"),
        (16, b":"),
    ];
    if !separators
        .iter()
        .all(|(at, allowed)| separator(*at, allowed))
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // A leap second is read as the second before.
    let second = second.min(59);
    let mut at = 19;
    let mut nanos = 0u32;
    if bytes.get(at) == Some(&b'.') {
        let start = at + 1;
        let mut end = start;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start {
            return None;
        }
        // Nanoseconds from the first nine digits.
        let mut scale = 100_000_000u32;
        for digit in &bytes[start..end.min(start + 9)] {
            nanos += u32::from(digit - b'0') * scale;
            scale /= 10;
        }
        at = end;
    }
    let offset_seconds = match bytes.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), ..] if bytes.len() == at + 6 && bytes[at + 3] == b':' => {
            let hours = digits(at + 1..at + 3)?;
            let minutes = digits(at + 4..at + 6)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm);
/// the year is at most four digits, so nothing here can overflow.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        map
    }

    #[test]
    fn openai_headers_are_read_with_go_durations() {
        let h = headers(&[
            ("x-ratelimit-remaining-requests", "499"),
            ("x-ratelimit-remaining-tokens", "149984"),
            ("x-ratelimit-reset-requests", "6m0s"),
            ("x-ratelimit-reset-tokens", "20ms"),
        ]);
        assert_eq!(
            rate_limits(&h, SystemTime::now()).map(|limits| *limits),
            Some(RateLimits {
                requests_remaining: Some(499),
                tokens_remaining: Some(149_984),
                requests_reset: Some(Duration::from_secs(360)),
                tokens_reset: Some(Duration::from_millis(20)),
            })
        );
    }

    #[test]
    fn anthropic_resets_are_times_read_relative_to_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_764_658_800); // 2025-12-02T07:00:00Z
        let h = headers(&[
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", "2025-12-02T07:00:30Z"),
            (
                "anthropic-ratelimit-tokens-reset",
                "2025-12-02T08:00:01.5+01:00",
            ),
        ]);
        let limits = rate_limits(&h, now).expect("limits");
        assert_eq!(limits.requests_remaining, Some(0));
        assert_eq!(limits.requests_reset, Some(Duration::from_secs(30)));
        assert_eq!(limits.tokens_reset, Some(Duration::from_millis(1500)));
        assert_eq!(limits.tokens_remaining, None);
    }

    #[test]
    fn a_reset_in_the_past_is_no_wait() {
        let now = UNIX_EPOCH + Duration::from_secs(1_764_658_800);
        assert_eq!(reset_in("2025-12-02T06:00:00Z", now), Some(Duration::ZERO));
    }

    #[test]
    fn no_rate_limit_header_is_none() {
        assert_eq!(
            rate_limits(&headers(&[("x-request-id", "r")]), SystemTime::now()),
            None
        );
    }

    #[test]
    fn hostile_values_are_bounded_or_ignored_never_a_panic() {
        let now = SystemTime::now();
        assert_eq!(
            count("99999999999999999999999999"),
            Some(RateLimits::MAX_COUNT)
        );
        assert_eq!(count("-1"), None);
        assert_eq!(count("1e9"), None);
        assert_eq!(reset_in("99999999999h", now), Some(RateLimits::MAX_RESET));
        assert_eq!(reset_in("1e308", now), Some(RateLimits::MAX_RESET));
        assert_eq!(
            reset_in("9999-12-31T23:59:59Z", now),
            Some(RateLimits::MAX_RESET)
        );
        for bad in [
            "",
            "s",
            "1x",
            "1..2s",
            ".s",
            "-1s",
            "NaN",
            "inf",
            "-5",
            "m1",
            "1h-2m",
            "2026-13-01T00:00:00Z",
            "2026-12-02T25:00:00Z",
            "2026-12-02T07:00:00",
            "2026-12-02T07:00:00+1:00",
            "2026-12-02T07:00:00.Z",
            "1969-01-01T00:00:00Z",
            "2026-12-02T07:00:00+99:00",
            "ÿÿÿÿ-ÿÿ",
            "2026-12-02T07:00:00.1234567890123456789Z",
        ] {
            let read = reset_in(bad, now);
            assert!(
                read.is_none() || read.is_some_and(|wait| wait <= RateLimits::MAX_RESET),
                "{bad:?} read as {read:?}"
            );
        }
        assert_eq!(reset_in("-1s", now), None);
        assert_eq!(reset_in("2026-13-01T00:00:00Z", now), None);
    }

    #[test]
    fn every_short_byte_string_reads_without_a_panic() {
        let alphabet = b"0123456789.:-+TZmshu ";
        let now = SystemTime::now();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let text = String::from_utf8(vec![*a, *b, *c, b's']).unwrap_or_default();
                    let _ = reset_in(&text, now);
                    let _ = count(&text);
                }
            }
        }
    }

    #[test]
    fn a_value_too_long_is_ignored() {
        let long = "1".repeat(MAX_VALUE_LEN + 1);
        let h = headers(&[("x-ratelimit-remaining-requests", long.as_str())]);
        assert_eq!(rate_limits(&h, SystemTime::now()), None);
    }
}
