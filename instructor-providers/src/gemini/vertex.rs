//! Vertex AI credentials: a bearer token given directly, or application-default
//! credentials exchanged for one at their `token_uri` (a gcloud user's refresh token, or
//! a service account's key signing a JWT, feature `vertex`). Tokens are kept until a
//! minute before they expire.

use crate::http::{Endpoint, Transport, TransportConfig, header_map};
use crate::openai::ApiKey;
use instructor_core::chat::ProviderError;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Google's token endpoint.
pub const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The scope Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// How Vertex AI requests are authenticated.
#[derive(Clone)]
#[non_exhaustive]
pub enum VertexAuth {
    /// A bearer token given directly (`gcloud auth print-access-token`).
    Token(ApiKey),
    /// A gcloud user's application-default credentials: the refresh token is exchanged.
    AuthorizedUser {
        /// The OAuth client id.
        client_id: String,
        /// The OAuth client secret.
        client_secret: ApiKey,
        /// The refresh token.
        refresh_token: ApiKey,
        /// Where tokens come from.
        token_uri: String,
    },
    /// A service account's key: a JWT signed with it is exchanged (feature `vertex`).
    ServiceAccount {
        /// The account's e-mail (the JWT's issuer).
        client_email: String,
        /// The PEM private key.
        private_key: ApiKey,
        /// The key's id (the JWT's `kid`).
        private_key_id: Option<String>,
        /// Where tokens come from.
        token_uri: String,
    },
}

impl fmt::Debug for VertexAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VertexAuth::Token(_) => f.write_str("Token([redacted])"),
            VertexAuth::AuthorizedUser { token_uri, .. } => f
                .debug_struct("AuthorizedUser")
                .field("token_uri", token_uri)
                .finish_non_exhaustive(),
            VertexAuth::ServiceAccount {
                client_email,
                token_uri,
                ..
            } => f
                .debug_struct("ServiceAccount")
                .field("client_email", client_email)
                .field("token_uri", token_uri)
                .finish_non_exhaustive(),
        }
    }
}

#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    client_email: Option<String>,
    #[serde(default)]
    private_key: Option<String>,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

fn unsupported(message: impl Into<String>) -> ProviderError {
    ProviderError::Unsupported(message.into())
}

impl VertexAuth {
    /// A bearer token given directly.
    pub fn token(token: impl Into<ApiKey>) -> Self {
        VertexAuth::Token(token.into())
    }

    /// Credentials from the JSON of an application-default credentials file
    /// (`"type": "service_account"` or `"authorized_user"`).
    ///
    /// # Errors
    ///
    /// JSON that is not such a file, or that lacks a field its type needs (the error
    /// never shows a secret).
    pub fn from_credentials_json(json: &str) -> Result<Self, ProviderError> {
        let file: CredentialsFile = serde_json::from_str(json).map_err(|error| {
            // serde's message may quote a value: only its position is kept.
            unsupported(format!(
                "the credentials are not a Google credentials file (line {}, column {})",
                error.line(),
                error.column()
            ))
        })?;
        let missing = |field: &str| unsupported(format!("the credentials file has no `{field}`"));
        let token_uri = file.token_uri.unwrap_or_else(|| TOKEN_URI.to_owned());
        match file.kind.as_str() {
            "authorized_user" => Ok(VertexAuth::AuthorizedUser {
                client_id: file.client_id.ok_or_else(|| missing("client_id"))?,
                client_secret: ApiKey::new(
                    file.client_secret.ok_or_else(|| missing("client_secret"))?,
                ),
                refresh_token: ApiKey::new(
                    file.refresh_token.ok_or_else(|| missing("refresh_token"))?,
                ),
                token_uri,
            }),
            "service_account" => Ok(VertexAuth::ServiceAccount {
                client_email: file.client_email.ok_or_else(|| missing("client_email"))?,
                private_key: ApiKey::new(file.private_key.ok_or_else(|| missing("private_key"))?),
                private_key_id: file.private_key_id,
                token_uri,
            }),
            other => Err(unsupported(format!(
                "credentials of type `{other}` are not supported (service_account and authorized_user are)"
            ))),
        }
    }

    /// Credentials from the file at `path`.
    ///
    /// # Errors
    ///
    /// A file that cannot be read, or [`VertexAuth::from_credentials_json`]'s.
    pub fn from_credentials_file(path: impl AsRef<std::path::Path>) -> Result<Self, ProviderError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|error| {
            unsupported(format!(
                "cannot read the credentials file {}: {error}",
                path.display()
            ))
        })?;
        VertexAuth::from_credentials_json(&json)
    }

    /// From the environment: a token in `VERTEX_ACCESS_TOKEN`, else the file named by
    /// `GOOGLE_APPLICATION_CREDENTIALS`, else gcloud's
    /// `~/.config/gcloud/application_default_credentials.json`.
    ///
    /// # Errors
    ///
    /// When none is there or the file cannot be read.
    pub fn from_env() -> Result<Self, ProviderError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(token) = var("VERTEX_ACCESS_TOKEN") {
            return Ok(VertexAuth::token(token));
        }
        if let Some(path) = var("GOOGLE_APPLICATION_CREDENTIALS") {
            return VertexAuth::from_credentials_file(path);
        }
        let gcloud = var("HOME").map(|home| {
            std::path::Path::new(&home).join(".config/gcloud/application_default_credentials.json")
        });
        match gcloud.filter(|path| path.exists()) {
            Some(path) => VertexAuth::from_credentials_file(path),
            None => Err(unsupported(
                "no Vertex AI credentials: set VERTEX_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login`",
            )),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Hands out the bearer token, exchanging credentials when the kept one is (nearly)
/// expired.
pub(crate) struct TokenSource {
    auth: VertexAuth,
    exchange: Transport,
    kept: Mutex<Option<(HeaderValue, Instant)>>,
}

impl TokenSource {
    pub(crate) fn new(auth: VertexAuth, timeout: Option<Duration>) -> Self {
        let secret = match &auth {
            VertexAuth::Token(token) => Some(token.clone()),
            VertexAuth::AuthorizedUser { refresh_token, .. } => Some(refresh_token.clone()),
            VertexAuth::ServiceAccount { .. } => None,
        };
        let exchange = Transport::new(TransportConfig {
            headers: header_map([("content-type", "application/x-www-form-urlencoded")]),
            key: secret.as_ref(),
            timeout,
            max_response_bytes: 64 * 1024,
        });
        TokenSource {
            auth,
            exchange,
            kept: Mutex::new(None),
        }
    }

    pub(crate) async fn authorization(&self) -> Result<HeaderValue, ProviderError> {
        if let VertexAuth::Token(token) = &self.auth {
            return bearer(token.expose());
        }
        if let Some((value, until)) = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            && Instant::now() < until
        {
            return Ok(value);
        }
        let (form, token_uri) = self.grant()?;
        let (body, _) = self
            .exchange
            .whole(
                &Endpoint::new(token_uri.to_owned()),
                form.into_bytes(),
                None,
            )
            .await
            .map_err(|error| match error {
                ProviderError::Status { status, body, .. } => ProviderError::Status {
                    status,
                    body: format!("the token exchange failed: {body}"),
                    retry_after: None,
                    request_id: None,
                },
                other => other,
            })?;
        let token: TokenResponse =
            serde_json::from_slice(&body).map_err(|_| ProviderError::Decode {
                message: "the token endpoint's answer has no access_token".to_owned(),
                body: String::new(),
            })?;
        let value = bearer(&token.access_token)?;
        // Kept until a minute before it expires (an hour when the answer says nothing).
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600).min(86_400));
        let until = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60));
        *self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((value.clone(), until));
        Ok(value)
    }

    /// The form to post and where.
    fn grant(&self) -> Result<(String, &str), ProviderError> {
        match &self.auth {
            VertexAuth::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
                token_uri,
            } => {
                let form = form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("client_id", client_id)
                    .append_pair("client_secret", client_secret.expose())
                    .append_pair("refresh_token", refresh_token.expose())
                    .finish();
                Ok((form, token_uri))
            }
            VertexAuth::ServiceAccount {
                client_email,
                private_key,
                private_key_id,
                token_uri,
            } => {
                let assertion = signed_jwt(
                    client_email,
                    private_key,
                    private_key_id.as_deref(),
                    token_uri,
                )?;
                let form = form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                    .append_pair("assertion", &assertion)
                    .finish();
                Ok((form, token_uri))
            }
            VertexAuth::Token(_) => Err(unsupported("a given token needs no exchange")),
        }
    }
}

fn bearer(token: &str) -> Result<HeaderValue, ProviderError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| unsupported("the access token contains characters a header cannot carry"))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(feature = "vertex")]
fn signed_jwt(
    client_email: &str,
    private_key: &ApiKey,
    key_id: Option<&str>,
    token_uri: &str,
) -> Result<String, ProviderError> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let claims = serde_json::json!({
        "iss": client_email,
        "scope": SCOPE,
        "aud": token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key_id.map(str::to_owned);
    let key = EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
        .map_err(|_| unsupported("the service account's private_key is not an RSA key in PEM"))?;
    encode(&header, &claims, &key).map_err(|_| unsupported("the JWT could not be signed"))
}

#[cfg(not(feature = "vertex"))]
fn signed_jwt(
    _client_email: &str,
    _private_key: &ApiKey,
    _key_id: Option<&str>,
    _token_uri: &str,
) -> Result<String, ProviderError> {
    Err(unsupported(
        "a service account key needs the `vertex` feature of instructor-providers (it signs a JWT); or give a token with VertexAuth::token",
    ))
}
