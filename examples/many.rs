//! Many documents, one type: `client.extract_many` runs an extraction per document
//! with bounded concurrency, requests and tokens per minute (also slowed by the
//! provider's rate-limit headers before a 429), a token budget for the whole run, a
//! progress line, and a resume file: each finished invoice is appended to a JSON Lines
//! file as it finishes, and a restart with the same file skips the ones already done
//! (kill it with Ctrl-C halfway and run it again).
//!
//! ```sh
//! cargo run --example many                     # 1000 invoices into many.jsonl
//! cargo run --example many -- 20000 out.jsonl  # how many, and where
//! ```

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use instructor::client::Progress;
use instructor::prelude::*;
use instructor::providers::testing::openai::ChatCompletion;
use instructor::providers::testing::{RecordedRequest, Reply};
use serde::Serialize;
use std::path::Path;

/// What is read from each document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
pub struct Invoice {
    /// The invoice number, as printed (`INV-00042`).
    pub number: String,
    /// The amount due, in cents.
    pub total_cents: u64,
}

/// Document `i` of the run (a real run reads them from disk or a database).
pub fn document(i: u64) -> String {
    format!(
        "ACME Corp.\nInvoice INV-{i:05}\nConsulting, 3 hours.\nTotal due: {}.{:02} EUR",
        invoice_total(i) / 100,
        invoice_total(i) % 100
    )
}

/// The total printed on document `i`, in cents.
pub fn invoice_total(i: u64) -> u64 {
    1_000 + i * 7 % 90_000
}

/// The offline model: it reads the invoice number from the request and answers that
/// invoice (concurrent requests arrive in any order, so the answer is made per request).
pub fn offline_answer(request: &RecordedRequest) -> Option<Reply> {
    let body = String::from_utf8_lossy(request.body());
    let at = body.find("INV-")? + 4;
    let digits: String = body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let i: u64 = digits.parse().ok()?;
    let arguments = serde_json::json!({
        "number": format!("INV-{digits}"),
        "total_cents": invoice_total(i),
    });
    Some(
        ChatCompletion::tool_call("Invoice", arguments.to_string())
            .usage(120, 20)
            .reply(),
    )
}

/// Extracts `count` invoices into the resume file at `path` (skipping those already
/// there), and returns the run's last progress.
pub async fn run(
    client: &Client,
    count: u64,
    path: &Path,
    show_progress: bool,
) -> Result<Progress, Box<dyn std::error::Error>> {
    let documents = (0..count).map(|i| (i, document(i)));
    let mut results = client
        .extract_many::<Invoice, _, _>(documents, |extraction, text| {
            extraction
                .system("Read the invoice.")
                .user(text)
                .max_retries(1)
        })
        .concurrency(16)
        .requests_per_minute(5_000)
        .tokens_per_minute(2_000_000)
        .max_total_tokens(50_000_000)
        .on_progress(move |p| {
            if show_progress && (p.done + p.failed) % 250 == 0 {
                println!(
                    "{} done, {} failed, {} skipped, {} in flight, {} tokens",
                    p.done, p.failed, p.skipped, p.in_flight, p.tokens
                );
            }
        })
        .resume_jsonl(path)?;
    let mut last = Progress::default();
    while let Some(item) = results.next().await {
        if let Err(error) = &item.result {
            eprintln!("invoice {}: {error}", item.id);
        }
        last = results.progress();
    }
    Ok(last)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let path = args.next().unwrap_or_else(|| "many.jsonl".to_owned());
    let (client, server) = common::client(Vec::new()).await;
    if let Some(server) = &server {
        server.set_guard(offline_answer);
        server.record_requests(false);
    }
    let progress = run(&client, count, Path::new(&path), true).await?;
    println!(
        "{} extracted, {} failed, {} already in {path}; {} tokens",
        progress.done, progress.failed, progress.skipped, progress.tokens
    );
    Ok(())
}
