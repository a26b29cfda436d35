//! `instructor extract`: one text in, one JSON value out.
//!
//! The input is read whole here; with `--jsonl` (or an input named `*.jsonl`) it is a
//! JSON Lines file of many texts, extracted by [`crate::many`].

use crate::failure::{Failure, Kind};
use crate::live::Live;
use crate::model;
use clap::ValueEnum;
use futures_util::StreamExt;
use instructor::Mode;
use instructor::client::{DynamicSchema, DynamicValue, Extraction, PartialUpdate};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The system message when `--system` is not given.
const DEFAULT_SYSTEM: &str =
    "Extract the information the schema describes from the user's text. Do not invent values.";

/// What every command that extracts takes: the schema, the model and how to ask.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// The JSON Schema of the value (a file; draft 2020-12 or draft-07, local `$ref`s).
    #[arg(long, value_name = "FILE")]
    schema: PathBuf,

    /// The model, as "provider/model": openai/gpt-4o-mini, anthropic/claude-sonnet-4-5,
    /// ollama/llama3.1, groq/..., gemini/... The key comes from the provider's
    /// environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...).
    #[arg(long, short, value_name = "PROVIDER/MODEL", env = "INSTRUCTOR_MODEL")]
    pub model: String,

    /// How the schema is sent (default: the best mode the provider offers for the model).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,

    /// The system message (default: an instruction to extract what the schema describes).
    #[arg(long, value_name = "TEXT")]
    system: Option<String>,

    /// How many times an invalid answer is re-asked (default: 1).
    #[arg(long, value_name = "N")]
    max_retries: Option<u32>,

    /// A deadline for the whole extraction, in seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,

    /// Sampling temperature.
    #[arg(long)]
    temperature: Option<f32>,

    /// The base URL of an OpenAI-compatible server (the `openai/`, `ollama/`, `groq/`...
    /// providers; the others read their own *_BASE_URL variables).
    #[arg(long, value_name = "URL", env = "INSTRUCTOR_BASE_URL")]
    pub base_url: Option<String>,
}

impl SettingsArgs {
    /// The settings, with the schema read and compiled (nothing is sent).
    pub fn settings(&self) -> Result<Settings, Failure> {
        let schema = read_schema(&self.schema)?;
        let timeout = self
            .timeout
            .map(|seconds| {
                Duration::try_from_secs_f64(seconds)
                    .map_err(|_| Failure::usage(format!("--timeout {seconds}: not a duration")))
            })
            .transpose()?;
        Ok(Settings {
            schema,
            system: self
                .system
                .clone()
                .unwrap_or_else(|| DEFAULT_SYSTEM.to_owned()),
            mode: self.mode.map(Into::into),
            max_retries: self.max_retries,
            timeout,
            temperature: self.temperature,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    settings: SettingsArgs,

    /// Writes the value to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Streams the answer: on a terminal, the object is redrawn as it grows (on stdout,
    /// or on stderr when stdout is not a terminal); elsewhere only the final JSON is
    /// written.
    #[arg(long)]
    stream: bool,

    /// Writes the JSON on one line.
    #[arg(long)]
    compact: bool,

    /// Many inputs: INPUT is a JSON Lines file whose lines are {"id": ..., "text": ...}
    /// (chosen too by a name ending in .jsonl). Each result is a line {"id", "ok",
    /// "value" | "error", "usage", "attempts"} on stdout or in --output, as it
    /// finishes; a progress bar and a summary (tokens, cost where the model's price is
    /// known) go to stderr.
    #[arg(long)]
    jsonl: bool,

    /// With --jsonl: how many extractions run at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,

    /// With --jsonl and --output: keeps the output file and skips the ids it already
    /// holds with a value, so a run stopped (even killed) and started again with the
    /// same command ends with every id once.
    #[arg(long)]
    resume: bool,

    /// With --jsonl: at most this many requests a minute (the provider's rate-limit
    /// headers slow the run down too).
    #[arg(long, value_name = "N")]
    requests_per_minute: Option<u32>,

    /// With --jsonl: at most this many tokens a minute.
    #[arg(long, value_name = "N")]
    tokens_per_minute: Option<u64>,

    /// A token budget: with --jsonl, for the whole run (the inputs left when it is
    /// spent are not sent).
    #[arg(long, value_name = "N")]
    max_total_tokens: Option<u64>,

    /// The text to extract from: a file, or `-` (the default) for stdin.
    #[arg(value_name = "INPUT", default_value = "-")]
    input: String,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// One forced tool call.
    Tools,
    /// A forced tool call with `strict: true` (grammar-constrained).
    ToolsStrict,
    /// JSON mode, with the schema in the system prompt.
    Json,
    /// Native structured outputs (`response_format: json_schema`, strict).
    JsonSchema,
    /// The schema in the prompt, the answer in a ```json fence, read leniently.
    MdJson,
}

impl From<ModeArg> for Mode {
    fn from(mode: ModeArg) -> Mode {
        match mode {
            ModeArg::Tools => Mode::Tools,
            ModeArg::ToolsStrict => Mode::ToolsStrict,
            ModeArg::Json => Mode::Json,
            ModeArg::JsonSchema => Mode::JsonSchema,
            ModeArg::MdJson => Mode::MdJson,
        }
    }
}

/// What to extract from.
enum Input {
    /// One text.
    Text(String),
}

/// The settings every extraction of a command shares.
#[derive(Clone)]
pub struct Settings {
    schema: DynamicSchema,
    system: String,
    mode: Option<Mode>,
    max_retries: Option<u32>,
    timeout: Option<Duration>,
    temperature: Option<f32>,
}

impl Settings {
    /// `extraction` with the schema and these settings, asking about `text`.
    pub fn apply(
        &self,
        extraction: Extraction<DynamicValue>,
        text: String,
    ) -> Extraction<DynamicValue> {
        let mut extraction = extraction
            .schema(&self.schema)
            .system(self.system.clone())
            .user(text);
        if let Some(mode) = self.mode {
            extraction = extraction.mode(mode);
        }
        if let Some(retries) = self.max_retries {
            extraction = extraction.max_retries(retries);
        }
        if let Some(timeout) = self.timeout {
            extraction = extraction.timeout(timeout);
        }
        if let Some(temperature) = self.temperature {
            extraction = extraction.temperature(temperature);
        }
        extraction
    }
}

pub async fn run(args: Args) -> Result<(), Failure> {
    // Everything that can be checked locally is, before a request is made.
    let settings = args.settings.settings()?;
    let many = args.jsonl || args.input.ends_with(".jsonl");
    if many {
        if args.input == "-" {
            return Err(Failure::usage(
                "--jsonl reads a file (it is read twice: checked whole first), not stdin",
            ));
        }
        if args.stream {
            return Err(Failure::usage(
                "--stream shows one extraction; not with --jsonl",
            ));
        }
        let client = model::client(&args.settings.model, args.settings.base_url.as_deref())?;
        let options = crate::many::Options {
            input: PathBuf::from(&args.input),
            output: args.output.clone(),
            concurrency: args.concurrency,
            resume: args.resume,
            requests_per_minute: args.requests_per_minute,
            tokens_per_minute: args.tokens_per_minute,
            max_total_tokens: args.max_total_tokens,
            model: args.settings.model.clone(),
            compact_output: true,
        };
        return crate::many::run(&client, options, move |extraction, text| {
            settings.apply(extraction, text)
        })
        .await;
    }
    if args.resume {
        return Err(Failure::usage("--resume is for many inputs (--jsonl)"));
    }
    let Input::Text(text) = read_input(&args.input)?;
    let client = model::client(&args.settings.model, args.settings.base_url.as_deref())?;
    let mut extraction = settings.apply(client.extract::<DynamicValue>(), text);
    if let Some(budget) = args.max_total_tokens {
        extraction = extraction.max_total_tokens(budget);
    }
    let value = if args.stream {
        streamed(extraction, args.output.is_some()).await?
    } else {
        extraction.await?.into_inner()
    };
    write_value(&value, args.output.as_deref(), args.compact)
}

/// Reads and compiles the schema; its name (the tool the model sees) is its `title`,
/// else the file's name.
fn read_schema(path: &Path) -> Result<DynamicSchema, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::io(&path.display().to_string(), &error))?;
    let document: Value = serde_json::from_str(&text).map_err(|error| {
        Failure::usage(format!(
            "{}: the schema is not JSON: {error}",
            path.display()
        ))
    })?;
    let name = document
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            path.file_stem()
                .and_then(|stem| stem.to_str())
                .map(|stem| stem.trim_end_matches(".schema").to_owned())
        })
        .unwrap_or_else(|| "output".to_owned());
    DynamicSchema::from_json(name, document)
        .map_err(|error| Failure::usage(format!("{}: {error}", path.display())))
}

fn read_input(input: &str) -> Result<Input, Failure> {
    let text = if input == "-" {
        let mut stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("(reading the text from stdin; end it with Ctrl-D)");
        }
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(|error| Failure::io("stdin", &error))?;
        text
    } else {
        std::fs::read_to_string(input).map_err(|error| Failure::io(input, &error))?
    };
    if text.trim().is_empty() {
        return Err(Failure::usage("the input text is empty"));
    }
    Ok(Input::Text(text))
}

/// The value through `.partial()`, redrawn live on a terminal when there is one to
/// draw on (at most 20 times a second).
async fn streamed(extraction: Extraction<DynamicValue>, to_file: bool) -> Result<Value, Failure> {
    let mut live = live_target(to_file);
    // Each redraw prints the whole object: at most 20 a second, however fast the
    // model writes (what arrives in between is drawn with the next one).
    let mut updates = if live.is_some() {
        extraction.partial_throttled(std::time::Duration::from_millis(50))
    } else {
        extraction.partial()
    };
    let mut note: Option<String> = None;
    let mut value = None;
    while let Some(update) = updates.next().await {
        let update = match update {
            Ok(update) => update,
            Err(error) => {
                if let Some(live) = &mut live {
                    live.clear().map_err(|e| Failure::io("the terminal", &e))?;
                }
                return Err(error.into());
            }
        };
        match update {
            PartialUpdate::Partial(partial) => {
                if let Some(live) = &mut live {
                    let text = serde_json::to_string_pretty(&*partial)
                        .map_err(|error| Failure::new(Kind::Other, error.to_string()))?;
                    live.draw(&text, note.as_deref())
                        .map_err(|e| Failure::io("the terminal", &e))?;
                }
            }
            PartialUpdate::Restarted { attempt, reason } => {
                let line = format!("(attempt {attempt}: {reason})");
                note = Some(line.lines().next().unwrap_or_default().to_owned());
                if let Some(live) = &mut live {
                    live.draw("", note.as_deref())
                        .map_err(|e| Failure::io("the terminal", &e))?;
                }
            }
            PartialUpdate::Done(done) => value = Some(done.value.into_inner()),
            _ => {}
        }
    }
    if let Some(live) = &mut live {
        live.clear().map_err(|e| Failure::io("the terminal", &e))?;
    }
    value.ok_or_else(|| Failure::new(Kind::Provider, "the stream ended without a value"))
}

/// Where the live view goes: stdout when it is a terminal and the value goes there
/// too, else stderr when that is a terminal, else nowhere.
fn live_target(to_file: bool) -> Option<Live> {
    let (out, size): (Box<dyn Write>, _) = if !to_file && std::io::stdout().is_terminal() {
        (
            Box::new(std::io::stdout()),
            terminal_size::terminal_size_of(std::io::stdout()),
        )
    } else if std::io::stderr().is_terminal() {
        (
            Box::new(std::io::stderr()),
            terminal_size::terminal_size_of(std::io::stderr()),
        )
    } else {
        return None;
    };
    let size = size.map_or((80, 24), |(width, height)| {
        (usize::from(width.0), usize::from(height.0))
    });
    Some(Live::new(out, size))
}

fn write_value(value: &Value, output: Option<&Path>, compact: bool) -> Result<(), Failure> {
    let mut text = if compact {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    }
    .map_err(|error| Failure::new(Kind::Other, error.to_string()))?;
    text.push('\n');
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|error| Failure::io(&path.display().to_string(), &error)),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|error| Failure::io("stdout", &error))
        }
    }
}
