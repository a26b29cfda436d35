//! Vertex AI (the overview's `from_vertexai`): Gemini at the regional Vertex endpoint
//! of a project, authenticated with application-default credentials. Offline, a
//! gcloud user's credentials are exchanged for a token at the fake provider's token
//! endpoint (as Google's would be), then the fake answers at the Vertex path. With
//! `GOOGLE_CLOUD_PROJECT` set it asks Vertex AI with your credentials
//! (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's application-default file, or
//! `VERTEX_ACCESS_TOKEN`; a service-account file needs `--features vertex`).
//!
//! ```sh
//! cargo run --example vertex
//! GOOGLE_CLOUD_PROJECT=my-project GOOGLE_CLOUD_LOCATION=us-central1 cargo run --example vertex
//! ```

use instructor::prelude::*;
use instructor::providers::gemini::{Gemini, GeminiConfig, VertexAuth};
use instructor::providers::testing::{FakeProvider, Reply, gemini::GenerateContent};

/// A user named in the text.
#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// The user's age in years.
    pub age: u8,
}

/// Extracts the user.
pub async fn run(client: &Client) -> Result<User, instructor::Error> {
    let user = client
        .extract::<User>()
        .user("Extract Jason is 25 years old.")
        .await?;
    println!("{user:?}");
    Ok(user)
}

/// A Vertex AI client against a local fake provider that serves both the token
/// exchange and the model: the credentials a gcloud user has, pointed at the fake.
pub async fn offline() -> (Client, FakeProvider) {
    let server = FakeProvider::start().await;
    server.push_for(
        "/token",
        Reply::json(
            200,
            serde_json::json!({"access_token": "ya29.offline", "expires_in": 3599, "token_type": "Bearer"}),
        ),
    );
    server.push(GenerateContent::function_call("User", r#"{"name": "Jason", "age": 25}"#).reply());
    let credentials = serde_json::json!({
        "type": "authorized_user",
        "client_id": "offline.apps.googleusercontent.com",
        "client_secret": "offline-secret",
        "refresh_token": "1//offline-refresh-token",
        "token_uri": server.url("/token"),
    });
    let auth = VertexAuth::from_credentials_json(&credentials.to_string())
        .expect("well-formed credentials");
    let config =
        GeminiConfig::vertex("my-project", "us-central1", auth).with_base_url(server.base_url());
    let client = Client::new(Gemini::new(config)).with_model("gemini-2.5-flash");
    (client, server)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("GOOGLE_CLOUD_PROJECT").is_some() {
        let client = Client::new(Gemini::new(GeminiConfig::vertex_from_env()?))
            .with_model("gemini-2.5-flash");
        run(&client).await?;
        return Ok(());
    }
    println!(
        "No GOOGLE_CLOUD_PROJECT: running offline, credentials exchanged at the local fake provider."
    );
    let (client, _server) = offline().await;
    run(&client).await?;
    Ok(())
}
