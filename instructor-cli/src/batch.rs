//! `instructor batch create|status|results|cancel`: many inputs handed to the
//! provider's batch engine (OpenAI Batch, Anthropic Message Batches, Gemini batch mode;
//! answered within hours, at about half the price), each line built and each answer
//! read and validated as `instructor extract` does.
//!
//! The input is the JSON Lines file of `--jsonl` (`{"id": ..., "text": ...}`; an id is
//! a batch's custom id here: letters, digits, `_` and `-`, at most 64). `results` needs
//! the same schema, model and input as `create` (each answer is judged by the request
//! it answers); it writes one line per id, as `--jsonl` does.

use crate::extract::{Settings, SettingsArgs};
use crate::failure::{Failure, Kind};
use crate::many::{self, Id};
use crate::model;
use instructor::chat::Usage;
use instructor::client::{
    Batch, BatchItem, BatchJob, BatchProvider, BatchResults, BatchState, BatchStatus, DynamicValue,
    MAX_CUSTOM_ID_BYTES,
};
use instructor::providers::anthropic::AnthropicBatch;
use instructor::providers::gemini::GeminiBatch;
use instructor::providers::openai::OpenAiBatch;
use instructor::providers::presets::Preset;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Submits one request per input line; prints the batch's id and state.
    Create(Create),
    /// Prints a batch's state and counts.
    Status(Target),
    /// Reads a finished batch's answers (or waits for them with --wait): one line per
    /// input id, as `extract --jsonl` writes.
    Results(Results),
    /// Asks the provider to cancel a batch; prints its state.
    Cancel(Target),
}

#[derive(Debug, clap::Args)]
pub struct Create {
    #[command(flatten)]
    settings: SettingsArgs,
    /// The JSON Lines file of inputs, {"id": ..., "text": ...} per line.
    #[arg(value_name = "INPUT")]
    input: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// The batch's id (as `create` printed it).
    #[arg(value_name = "BATCH_ID")]
    id: String,
    /// The model, as "provider/model" (its provider's batch engine is asked).
    #[arg(long, short, value_name = "PROVIDER/MODEL", env = "INSTRUCTOR_MODEL")]
    model: String,
    /// The base URL of OpenAI's API (or another server speaking it).
    #[arg(long, value_name = "URL", env = "INSTRUCTOR_BASE_URL")]
    base_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct Results {
    /// The batch's id (as `create` printed it).
    #[arg(value_name = "BATCH_ID")]
    id: String,
    #[command(flatten)]
    settings: SettingsArgs,
    /// The JSON Lines file of inputs the batch was created from.
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// Writes the lines to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Waits for the batch to end, asking every SECONDS (default: the results of a
    /// batch still running are refused).
    #[arg(long, value_name = "SECONDS")]
    wait: Option<f64>,
}

pub async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Create(create) => {
            let settings = create.settings.settings()?;
            let (batch, items) = job_items(&create.settings, &settings, &create.input)?;
            let job = batch.submit(items).await?;
            print_status(job.submitted_status())
        }
        Command::Status(target) => {
            let engine = engine_for(&target.model, target.base_url.as_deref())?;
            let status = engine.status(&target.id).await.map_err(provider_failure)?;
            print_status(&status)
        }
        Command::Cancel(target) => {
            let engine = engine_for(&target.model, target.base_url.as_deref())?;
            let status = engine.cancel(&target.id).await.map_err(provider_failure)?;
            print_status(&status)
        }
        Command::Results(results) => {
            let settings = results.settings.settings()?;
            let (batch, items) = job_items(&results.settings, &settings, &results.input)?;
            let job: BatchJob<DynamicValue> = batch.resume(&results.id, items)?;
            if let Some(seconds) = results.wait {
                let every = Duration::try_from_secs_f64(seconds)
                    .map_err(|_| Failure::usage(format!("--wait {seconds}: not a duration")))?;
                job.wait(every).await?;
            }
            let read = job.results().await?;
            write_results(read, results.output.as_deref())
        }
    }
}

/// The batch engine and the items of `input`, each built as `extract` builds one.
fn job_items(
    args: &SettingsArgs,
    settings: &Settings,
    input: &Path,
) -> Result<(Batch, Vec<BatchItem<DynamicValue>>), Failure> {
    let client = model::client(&args.model, args.base_url.as_deref())?;
    let batch = Batch::from_shared(engine_for(&args.model, args.base_url.as_deref())?);
    let mut items = Vec::new();
    for (id, text) in many::read_all(input)? {
        let id = custom_id(&id)?;
        let extraction = settings.apply(client.extract::<DynamicValue>(), text);
        items.push(extraction.into_batch_item(id)?);
    }
    Ok((batch, items))
}

/// An input id as a batch's custom id (a number as its digits).
fn custom_id(id: &Id) -> Result<String, Failure> {
    let text = match id.value() {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let fits = !text.is_empty()
        && text.len() <= MAX_CUSTOM_ID_BYTES
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if fits {
        Ok(text)
    } else {
        Err(Failure::usage(format!(
            "the id {} cannot be a batch's custom id: letters, digits, `_` and `-`, at most {} bytes",
            id.value(),
            MAX_CUSTOM_ID_BYTES
        )))
    }
}

fn provider_failure(error: instructor::chat::ProviderError) -> Failure {
    Failure::new(Kind::Provider, error.to_string())
}

/// The batch engine of `model`'s provider.
fn engine_for(model: &str, base_url: Option<&str>) -> Result<Arc<dyn BatchProvider>, Failure> {
    let provider = model
        .split_once('/')
        .map(|(provider, _)| provider.trim().to_ascii_lowercase())
        .ok_or_else(|| Failure::usage(format!("--model {model}: give it as provider/model")))?;
    Ok(match provider.as_str() {
        "openai" => {
            let mut config = Preset::OpenAi.config_from_env();
            if let Some(base_url) = base_url {
                config = config.with_base_url(base_url.trim());
            }
            Arc::new(OpenAiBatch::new(config))
        }
        "anthropic" => Arc::new(AnthropicBatch::from_env()),
        "gemini" | "google" => Arc::new(GeminiBatch::from_env()),
        other => {
            return Err(Failure::usage(format!(
                "no batch engine for `{other}`: openai, anthropic and gemini have one"
            )));
        }
    })
}

fn state_name(state: &BatchState) -> String {
    match state {
        BatchState::Other(other) => other.clone(),
        known => format!("{known:?}").to_ascii_lowercase(),
    }
}

fn print_status(status: &BatchStatus) -> Result<(), Failure> {
    let counts = status.counts.as_ref().map(|counts| {
        json!({
            "total": counts.total,
            "succeeded": counts.succeeded,
            "failed": counts.failed,
        })
    });
    let line = json!({
        "id": status.id,
        "state": state_name(&status.state),
        "counts": counts,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").map_err(|error| Failure::io("stdout", &error))
}

/// One line per item, as `extract --jsonl` writes them; exit code 7 when some have no
/// value.
fn write_results(
    results: BatchResults<DynamicValue>,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let mut text = String::new();
    let (done, failed) = (results.succeeded.len(), results.failed.len());
    for (id, completion) in &results.succeeded {
        let line = json!({
            "id": id,
            "ok": true,
            "value": &completion.value,
            "usage": completion.ledger.total_usage,
            "attempts": completion.ledger.attempts.len(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    for failure in &results.failed {
        let line = json!({
            "id": failure.id,
            "ok": false,
            "error": failure.error.to_string(),
            "usage": Usage::default(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    match output {
        Some(path) => std::fs::write(path, &text)
            .map_err(|error| Failure::io(&path.display().to_string(), &error))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .map_err(|error| Failure::io("stdout", &error))?;
        }
    }
    eprintln!(
        "done {done}, failed {failed}{}",
        if results.unknown_lines > 0 {
            format!(", {} result lines of no item", results.unknown_lines)
        } else {
            String::new()
        }
    );
    if failed > 0 {
        return Err(Failure::new(
            Kind::SomeFailed,
            format!(
                "{failed} of {} inputs have no value (their lines say why)",
                done + failed
            ),
        ));
    }
    Ok(())
}
