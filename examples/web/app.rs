//! The web demo's server: `GET /` is the page (`index.html`), `GET /extract?text=...`
//! streams the extraction of a [`Report`] as server-sent events:
//!
//! - `partial`: the report so far, as JSON with `"$state"` (see [`partial_json`]);
//! - `restarted`: `{"attempt": n, "reason": "..."}`, the shown report is void;
//! - `done`: `{"value": {...}, "attempts": n}`, the validated report;
//! - `failed`: `{"message": "..."}`, the extraction ended in an error.
//!
//! Used by `main.rs` and by the browser test, which starts it on port 0.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::{Stream, StreamExt};
use instructor::client::PartialUpdate;
use instructor::providers::testing::FakeProvider;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use crate::report::{Backend, Report, SAMPLE_TEXT, SYSTEM, partial_json};

/// The shortest time between two `partial` events (20 a second at most).
const UPDATE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// The page, a single static file with plain JavaScript.
const PAGE: &str = include_str!("index.html");

/// The longest text the demo accepts, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The routes, over one backend shared by all requests.
pub fn router(backend: Arc<Backend>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/config", get(config))
        .route("/extract", get(extract))
        .with_state(backend)
}

/// Binds `127.0.0.1:port` (0 for any free port) and returns the address and the future
/// that serves until dropped.
pub async fn bind(
    backend: Arc<Backend>,
    port: u16,
) -> std::io::Result<(
    SocketAddr,
    impl std::future::Future<Output = std::io::Result<()>> + Send,
)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    Ok((addr, axum::serve(listener, router(backend)).into_future()))
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn config(State(backend): State<Arc<Backend>>) -> Response {
    axum::Json(json!({
        "backend": backend.describe(),
        "offline": backend.is_offline(),
        "sample": SAMPLE_TEXT,
        "maxChars": MAX_TEXT_CHARS,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct ExtractQuery {
    text: String,
}

async fn extract(
    State(backend): State<Arc<Backend>>,
    Query(query): Query<ExtractQuery>,
) -> Response {
    let text = query.text.trim();
    if text.is_empty() {
        return bad_request("the text is empty");
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return bad_request(&format!(
            "the text is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    let (client, server) = match backend.ask().await {
        Ok(asked) => asked,
        Err(error) => {
            let message = format!("the local fake provider could not start: {error}");
            return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
        }
    };
    // At most one snapshot per frame budget of the page: a fast model's tokens are
    // folded into the next event instead of each sending the whole report again.
    let updates = client
        .extract::<Report>()
        .system(SYSTEM)
        .user(text)
        .partial_throttled(UPDATE_INTERVAL);
    Sse::new(events(updates, server))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

/// Maps the extraction's updates to server-sent events, ending after `done` or `failed`;
/// `server` (the fake provider answering, offline) lives as long as the stream.
fn events<S>(
    updates: S,
    server: Option<FakeProvider>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static
where
    S: Stream<Item = Result<PartialUpdate<Report>, instructor::Error>> + Send + 'static,
{
    updates.map(move |update| {
        let _answering = &server;
        let event = match update {
            Ok(PartialUpdate::Partial(partial)) => Event::default()
                .event("partial")
                .data(partial_json(&partial).to_string()),
            Ok(PartialUpdate::Restarted { attempt, reason }) => Event::default()
                .event("restarted")
                .data(json!({"attempt": attempt, "reason": reason}).to_string()),
            Ok(PartialUpdate::Done(done)) => Event::default().event("done").data(
                json!({"value": done.value, "attempts": done.ledger.attempts.len()}).to_string(),
            ),
            Ok(_) => Event::default().comment("an update this demo does not show"),
            Err(error) => Event::default()
                .event("failed")
                .data(json!({"message": error.to_string()}).to_string()),
        };
        Ok(event)
    })
}
