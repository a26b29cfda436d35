//! A local model through Ollama's OpenAI-compatible API. Needs `ollama serve` and a
//! pulled model (`ollama pull llama3.1`); with no server reachable it says so.
//! Local models write sloppy JSON: markdown mode reads fences, prose and repairs.
//!
//! ```sh
//! OLLAMA_MODEL=llama3.1 cargo run --example ollama
//! ```

use instructor::Mode;
use instructor::prelude::*;
use instructor::providers::openai::OpenAi;
use instructor::providers::presets::Preset;
use std::time::Duration;

/// A person.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    name: String,
    age: u8,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = std::env::var("OLLAMA_MODEL").unwrap_or_else(|_| "llama3.1".to_owned());
    // http://localhost:11434/v1, no key; OLLAMA_BASE_URL overrides it.
    let provider = OpenAi::new(Preset::Ollama.config_from_env());
    println!(
        "Asking Ollama at {} (model {model}).",
        provider.config().base_url
    );
    let client = Client::new(provider).with_model(model);
    let result = client
        .extract::<User>()
        .mode(Mode::MdJson)
        .user("Jason is 25 years old.")
        .timeout(Duration::from_secs(120))
        .await;
    match result {
        Ok(user) => println!("{user:?}"),
        Err(error) => println!("No answer from Ollama ({error}). Is `ollama serve` running?"),
    }
    Ok(())
}
