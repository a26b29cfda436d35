//! `instructor`: structured extraction from the shell. `instructor extract --schema
//! schema.json --model openai/gpt-4o-mini < text.txt` prints the JSON value the model
//! extracted, validated by the schema (re-asked when it is not). See `--help`.

mod batch;
mod extract;
mod failure;
mod live;
mod many;
mod model;
mod price;

use clap::{Parser, Subcommand};
use failure::{EXIT_CODES, Failure};
use std::process::ExitCode;

/// Structured extraction with LLMs: a JSON value validated by a JSON Schema.
#[derive(Debug, Parser)]
#[command(name = "instructor", version, about, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The commands; more (`batch ...`) are added here.
#[derive(Debug, Subcommand)]
enum Command {
    /// Extract a JSON value described by a JSON Schema from a text (a file, or stdin).
    #[command(after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
    Extract(extract::Args),
    /// The provider's batch engine (OpenAI, Anthropic, Gemini): submit many inputs,
    /// follow the batch, read its answers, cancel it.
    #[command(subcommand, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
    Batch(batch::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => run(extract::run(args)),
        Command::Batch(command) => run(batch::run(command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

/// Runs a command's future on a runtime of the current thread.
fn run<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::io("the async runtime", &error))?;
    runtime.block_on(future)
}
