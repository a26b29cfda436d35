//! What a failed exchange says: URLs without secrets, causes in plain words, the wait
//! a server asks for, and its request id.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::future::Future;
use std::time::{Duration, SystemTime};

/// `url` as errors may show it: no query string or fragment (where a secret could be),
/// no user or password.
pub(crate) fn display_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// Why a request failed, without the URL reqwest puts in its own message (with the
/// query string): the causes below it, and the plain words for the usual ones.
pub(crate) fn cause(error: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(error);
    let mut io_kind = None;
    let mut chain = String::new();
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        let text = inner.to_string();
        if !chain.contains(&text) {
            if !chain.is_empty() {
                chain.push_str(": ");
            }
            chain.push_str(&text);
        }
        source = inner.source();
    }
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
        Some(std::io::ErrorKind::ConnectionReset) => "connection reset".to_owned(),
        Some(std::io::ErrorKind::TimedOut) => "timed out".to_owned(),
        _ if !chain.is_empty() => chain,
        // reqwest's own words, cut before the URL it appends.
        _ => error
            .to_string()
            .split(" for url (")
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// The longest wait a `retry-after` or `retry-after-ms` header can ask for: one day.
/// Longer asks (`retry-after: 1e20`, a date in the year 9999) are read as this, so that
/// the caller can add the wait to an `Instant` without overflow; what to do with a wait
/// past its deadline is the caller's decision.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait a 429 or 503 asks for: `retry-after-ms` (OpenAI), else `retry-after` in
/// seconds or as an HTTP date (relative to `now`), at most [`MAX_RETRY_AFTER`].
/// Anything else (negative, `NaN`, `inf`, words) is `None`.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(wait) = header("retry-after-ms")
        .and_then(|value| value.parse::<f64>().ok())
        .and_then(|ms| seconds_to_wait(ms / 1000.0))
    {
        return Some(wait);
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return seconds_to_wait(seconds);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// A wait of `seconds`, clamped to [`MAX_RETRY_AFTER`]; `None` unless finite and not
/// negative. (`Duration::from_secs_f64` panics past `u64::MAX` seconds: never called
/// with what a server wrote.)
pub(crate) fn seconds_to_wait(seconds: f64) -> Option<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    if seconds >= MAX_RETRY_AFTER.as_secs_f64() {
        return Some(MAX_RETRY_AFTER);
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// The request id of the headers (the caller redacts and bounds it).
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    request_id_value(headers)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The header [`request_id`] reads.
pub(crate) fn request_id_value(headers: &HeaderMap) -> Option<&HeaderValue> {
    static NAMES: [HeaderName; 4] = [
        HeaderName::from_static("x-request-id"),
        HeaderName::from_static("x-amzn-requestid"),
        HeaderName::from_static("apim-request-id"),
        HeaderName::from_static("request-id"),
    ];
    NAMES
        .iter()
        .find_map(|name| headers.get(name).filter(|value| value.to_str().is_ok()))
}

/// An error with its sources, `outer: inner: innermost`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
}

/// A failed exchange with `url`, named without its query string or credentials (not
/// yet redacted).
pub(crate) fn transport_error(
    error: &reqwest::Error,
    url: &str,
) -> instructor_core::chat::ProviderError {
    let url = display_url(url);
    let cause = cause(error);
    let message = if error.is_connect() {
        format!("could not connect to {url}: {cause}")
    } else if error.is_timeout() {
        format!("timed out waiting for {url}: {cause}")
    } else {
        format!("the exchange with {url} failed: {cause}")
    };
    instructor_core::chat::ProviderError::Transport { message }
}

/// A 3xx answer: redirects are never followed (not yet redacted).
pub(crate) fn redirect(response: &reqwest::Response) -> instructor_core::chat::ProviderError {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    instructor_core::chat::ProviderError::Redirect {
        status: response.status().as_u16(),
        location,
    }
}

/// `exchange`, unless `timeout` passes first (then a transport error naming `url`,
/// not yet redacted). Not an `async fn`: the exchange's future (the largest part of a
/// request's state) is moved into the timer once, with no state machine of its own
/// around it to move it again.
pub(crate) fn within_timeout<'u, T, F>(
    timeout: Option<Duration>,
    exchange: F,
    url: &'u str,
) -> impl Future<Output = Result<T, instructor_core::chat::ProviderError>> + 'u
where
    F: Future<Output = Result<T, instructor_core::chat::ProviderError>> + 'u,
    T: 'u,
{
    use futures_util::future::{Either, FutureExt};
    match timeout {
        None => Either::Left(exchange),
        Some(timeout) => {
            Either::Right(
                tokio::time::timeout(timeout, exchange).map(move |timed| match timed {
                    Ok(result) => result,
                    Err(_) => Err(instructor_core::chat::ProviderError::Transport {
                        message: format!(
                            "timed out waiting for {}: no answer within {timeout:?}",
                            display_url(url)
                        ),
                    }),
                }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
            );
        }
        map
    }

    #[test]
    fn retry_after_ms_wins_over_seconds() {
        let h = headers(&[("retry-after-ms", "1500"), ("retry-after", "20")]);
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn retry_after_reads_seconds() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn retry_after_reads_http_dates_relative_to_now() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT")
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT")]);
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
    }

    #[test]
    fn unreadable_retry_after_is_ignored() {
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(retry_after(&h, SystemTime::now()), None);
    }
}
