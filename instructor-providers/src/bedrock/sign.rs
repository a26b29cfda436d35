//! AWS Signature Version 4 of one request, by `aws-sigv4` (the signing crate of the AWS
//! SDK, without the SDK): the method, the URL, `content-type`, `host`, `x-amz-date`,
//! the session token when there is one, and the SHA-256 of the body are signed with a
//! key derived from the secret, the date, the region and the service (`bedrock`).

use super::AwsCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use instructor_core::chat::ProviderError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::SystemTime;

/// The service name signed for Bedrock's runtime API.
pub const SERVICE: &str = "bedrock";

/// The headers that sign `body` posted to `url` at `time`: `authorization`,
/// `x-amz-date` and `x-amz-security-token` (with temporary credentials). Every value is marked sensitive.
pub(crate) fn signed_headers(
    credentials: &AwsCredentials,
    region: &str,
    url: &str,
    body: &[u8],
    time: SystemTime,
) -> Result<HeaderMap, ProviderError> {
    let failed =
        |what: &str| ProviderError::Unsupported(format!("cannot sign the request: {what}"));
    let identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|token| token.expose().to_owned()),
        None,
        "instructor",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| failed("incomplete signing parameters"))?
        .into();
    let content_type = [("content-type", "application/json")];
    let signable = SignableRequest::new(
        "POST",
        url,
        content_type.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|_| failed("the URL cannot be signed"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|_| failed("signing failed"))?
        .into_parts();
    // `content-type: application/json` itself is sent by the transport.
    let mut headers = HeaderMap::new();
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| failed("a header name the signer gave is not valid"))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| failed("a header value the signer gave is not valid"))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}
