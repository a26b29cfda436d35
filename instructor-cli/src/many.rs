//! `instructor extract ... --jsonl INPUT.jsonl`: many texts, one JSON line each out.
//!
//! The input's lines are `{"id": ..., "text": ...}` (an id is a string or a number, each
//! once). The whole file is checked before anything is sent, then read again line by
//! line as items can start, so memory does not grow with the file. Each result is a
//! line `{"id", "ok", "value" | "error", "usage", "attempts"}`, written as it
//! finishes, through the library's `extract_many` (bounded concurrency, pacing,
//! resume file). With `--resume`, the ids the output file already holds with a value
//! are skipped, and at the end of a run that completes, the file is rewritten (to a
//! temporary file, then renamed) with one line per id, the newest, so that a run killed
//! and started again with the same command ends with every id exactly once.

use crate::failure::{Failure, Kind};
use crate::price;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use instructor::Client;
use instructor::chat::Usage;
use instructor::client::{DynamicValue, Extraction, ItemResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The longest input line read (a text of a few megabytes is far past what a model
/// takes in one request).
const MAX_LINE_BYTES: usize = 64 << 20;

/// An input's id: a JSON string or number, compared by its JSON text (`7` and `"7"`
/// are different ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(Value);

impl Id {
    /// The id as the input gave it.
    pub fn value(&self) -> &Value {
        &self.0
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.0 == other.0
    }
}

impl Eq for Id {}

impl Hash for Id {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_string().hash(state);
    }
}

#[derive(Deserialize)]
struct InputLine {
    id: Value,
    text: String,
}

/// Options of a many-input run.
pub struct Options {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    pub concurrency: usize,
    pub resume: bool,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
    pub max_total_tokens: Option<u64>,
    pub model: String,
    pub compact_output: bool,
}

/// Checks every line of the input: how many there are, each with a new id and a text.
fn check_input(path: &Path) -> Result<u64, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|error| Failure::io(&path.display().to_string(), &error))?;
    let mut ids = HashSet::new();
    let mut count = 0;
    for (index, line) in lines(BufReader::new(file)).enumerate() {
        let line = line.map_err(|error| Failure::io(&path.display().to_string(), &error))?;
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = parse_line(&line)
            .map_err(|message| Failure::usage(format!("{}:{number}: {message}", path.display())))?;
        if !ids.insert(parsed.0.0.to_string()) {
            return Err(Failure::usage(format!(
                "{}:{number}: the id {} was already used",
                path.display(),
                parsed.0.0
            )));
        }
        count += 1;
    }
    if count == 0 {
        return Err(Failure::usage(format!(
            "{}: no input lines",
            path.display()
        )));
    }
    Ok(count)
}

/// Every input of `path` (checked as [`run`] checks them), for a batch: held in memory,
/// as a batch's items are.
pub fn read_all(path: &Path) -> Result<Vec<(Id, String)>, Failure> {
    check_input(path)?;
    let file = std::fs::File::open(path)
        .map_err(|error| Failure::io(&path.display().to_string(), &error))?;
    let mut inputs = Vec::new();
    for (index, line) in lines(BufReader::new(file)).enumerate() {
        let line = line.map_err(|error| Failure::io(&path.display().to_string(), &error))?;
        if line.trim().is_empty() {
            continue;
        }
        let input = parse_line(&line).map_err(|message| {
            Failure::usage(format!("{}:{}: {message}", path.display(), index + 1))
        })?;
        inputs.push(input);
    }
    Ok(inputs)
}

fn parse_line(line: &str) -> Result<(Id, String), String> {
    let parsed: InputLine = serde_json::from_str(line)
        .map_err(|error| format!("not a line {{\"id\": ..., \"text\": ...}}: {error}"))?;
    match &parsed.id {
        Value::String(_) | Value::Number(_) => {}
        other => return Err(format!("the id must be a string or a number, not {other}")),
    }
    if parsed.text.trim().is_empty() {
        return Err("the text is empty".to_owned());
    }
    Ok((Id(parsed.id), parsed.text))
}

/// The lines of `reader`, each at most [`MAX_LINE_BYTES`].
fn lines<R: BufRead>(mut reader: R) -> impl Iterator<Item = std::io::Result<String>> {
    std::iter::from_fn(move || {
        let mut line = Vec::new();
        let mut bounded = std::io::Read::take(&mut reader, MAX_LINE_BYTES as u64 + 1);
        match bounded.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) if line.len() > MAX_LINE_BYTES => Some(Err(std::io::Error::other(format!(
                "a line longer than {MAX_LINE_BYTES} bytes"
            )))),
            Ok(_) => Some(
                String::from_utf8(line)
                    .map(|line| line.trim_end_matches(['\n', '\r']).to_owned())
                    .map_err(std::io::Error::other),
            ),
            Err(error) => Some(Err(error)),
        }
    })
}

/// Runs the extraction of every line; `configure` makes each line's extraction.
pub async fn run(
    client: &Client,
    options: Options,
    configure: impl Fn(Extraction<DynamicValue>, String) -> Extraction<DynamicValue>
    + Send
    + Sync
    + 'static,
) -> Result<(), Failure> {
    if options.resume && options.output.is_none() {
        return Err(Failure::usage(
            "--resume needs --output FILE (the file to resume)",
        ));
    }
    if options.concurrency == 0 {
        return Err(Failure::usage("--concurrency must be at least 1"));
    }
    let total = check_input(&options.input)?;
    if let Some(output) = &options.output
        && !options.resume
    {
        // A new run: the file starts empty (`--resume` keeps it).
        std::fs::write(output, b"")
            .map_err(|error| Failure::io(&output.display().to_string(), &error))?;
    }
    let file = std::fs::File::open(&options.input)
        .map_err(|error| Failure::io(&options.input.display().to_string(), &error))?;
    // Checked above: a line that reads differently now (the file changed under us) is
    // skipped rather than sent.
    let inputs = lines(BufReader::new(file))
        .filter_map(Result::ok)
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| parse_line(&line).ok());
    let mut run = client
        .extract_many::<DynamicValue, Id, String>(inputs, configure)
        .concurrency(options.concurrency)
        .unordered();
    if let Some(rpm) = options.requests_per_minute {
        run = run.requests_per_minute(rpm);
    }
    if let Some(tpm) = options.tokens_per_minute {
        run = run.tokens_per_minute(tpm);
    }
    if let Some(budget) = options.max_total_tokens {
        run = run.max_total_tokens(budget);
    }
    if let Some(output) = &options.output {
        run = run
            .resume_jsonl(output)
            .map_err(|error| Failure::new(Kind::Io, error.to_string()))?;
    }

    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut usage = Usage::default();
    let (mut done, mut failed) = (0u64, 0u64);
    let mut stdout = std::io::stdout().lock();
    while let Some(item) = run.next().await {
        usage.add(&item.usage);
        match &item.result {
            Ok(_) => done += 1,
            Err(error) => {
                failed += 1;
                bar.suspend(|| eprintln!("{}: {error}", item.id.0));
            }
        }
        if let Some(error) = &item.journal_error {
            bar.suspend(|| eprintln!("{}: not written to the output file: {error}", item.id.0));
        }
        if options.output.is_none() {
            let line = result_line(&item, options.compact_output)?;
            stdout
                .write_all(line.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|error| Failure::io("stdout", &error))?;
        }
        bar.set_position(done + failed + run.progress().skipped);
        bar.set_message(format!("{} tokens", usage.total()));
    }
    let skipped = run.progress().skipped;
    bar.finish_and_clear();
    if let Some(output) = &options.output {
        keep_newest_lines(output)?;
    }
    eprintln!(
        "{}",
        summary(done, failed, skipped, &usage, &options.model, started)
    );
    if failed > 0 {
        return Err(Failure::new(
            Kind::SomeFailed,
            format!("{failed} of {total} inputs have no value (their lines say why)"),
        ));
    }
    Ok(())
}

/// A result as the line the output holds (the resume file's format).
fn result_line(item: &ItemResult<DynamicValue, Id>, _compact: bool) -> Result<String, Failure> {
    #[derive(Serialize)]
    struct Line<'a> {
        id: &'a Id,
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<&'a DynamicValue>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        usage: &'a Usage,
        attempts: u32,
    }
    let line = Line {
        id: &item.id,
        ok: item.result.is_ok(),
        value: item.result.as_ref().ok(),
        error: item.result.as_ref().err().map(ToString::to_string),
        usage: &item.usage,
        attempts: item.attempts,
    };
    let mut text = serde_json::to_string(&line)
        .map_err(|error| Failure::new(Kind::Other, error.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// Rewrites the output with one line per id, the newest (a resumed run appends a new
/// line for an id that had failed): to a temporary file beside it, then renamed over
/// it, so that a kill leaves either file whole. Nothing is rewritten when every id is
/// there once. Torn lines (from a kill) are dropped.
fn keep_newest_lines(path: &Path) -> Result<(), Failure> {
    let io = |error: std::io::Error| Failure::io(&path.display().to_string(), &error);
    let read = |f: &mut dyn FnMut(usize, Option<String>, String)| -> Result<(), Failure> {
        let file = std::fs::File::open(path).map_err(io)?;
        for (index, line) in lines(BufReader::new(file)).enumerate() {
            let line = line.map_err(io)?;
            let id = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|value| value.get("id").map(Value::to_string));
            f(index, id, line);
        }
        Ok(())
    };
    let mut newest: HashMap<String, usize> = HashMap::new();
    let mut count = 0;
    read(&mut |index, id, _| {
        count += 1;
        if let Some(id) = id {
            newest.insert(id, index);
        }
    })?;
    if newest.len() == count {
        return Ok(());
    }
    let temporary = path.with_extension("jsonl.tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&temporary).map_err(io)?);
    let mut failure = None;
    read(&mut |index, id, line| {
        let keep = id.is_some_and(|id| newest.get(&id) == Some(&index));
        if keep
            && failure.is_none()
            && let Err(error) = out
                .write_all(line.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
        {
            failure = Some(error);
        }
    })?;
    if let Some(error) = failure {
        return Err(io(error));
    }
    out.flush().map_err(io)?;
    out.get_ref().sync_all().map_err(io)?;
    drop(out);
    std::fs::rename(&temporary, path).map_err(io)
}

/// The line printed at the end: counts, tokens, time, and the cost where the model's
/// price is known.
fn summary(
    done: u64,
    failed: u64,
    skipped: u64,
    usage: &Usage,
    model: &str,
    started: Instant,
) -> String {
    let mut text = format!(
        "done {done}, failed {failed}, skipped {skipped} (already done); tokens {} ({} in, {} out) in {:.1} s",
        usage.total(),
        usage.input_tokens,
        usage.output_tokens,
        started.elapsed().as_secs_f64()
    );
    match price::cost(model, usage) {
        Some(cost) => text.push_str(&format!("; cost about ${cost:.4} at list prices")),
        None => text.push_str("; cost unknown (no list price for this model)"),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_strings_or_numbers_and_texts_are_not_empty() {
        assert!(parse_line(r#"{"id": 1, "text": "a"}"#).is_ok());
        assert!(parse_line(r#"{"id": "a-1", "text": "a"}"#).is_ok());
        assert!(parse_line(r#"{"id": [1], "text": "a"}"#).is_err());
        assert!(parse_line(r#"{"id": 1, "text": "  "}"#).is_err());
        assert!(parse_line(r#"{"text": "a"}"#).is_err());
        assert!(parse_line("not json").is_err());
    }

    #[test]
    fn a_number_id_and_its_string_are_different_ids() {
        let mut set = HashSet::new();
        set.insert(Id(serde_json::json!(7)));
        assert!(!set.contains(&Id(serde_json::json!("7"))));
        assert!(set.contains(&Id(serde_json::json!(7))));
    }
}
