//! List prices of well-known models, for the cost in a many-input run's summary: US
//! dollars per million input and output tokens, as the providers published them
//! (checked in 2025; prices change, so the summary says "about"). Cached input tokens
//! are counted at the full input price, so the cost is an upper bound for prompts that
//! hit a cache. A model not listed has no cost shown.

use instructor::chat::Usage;

/// (model name prefix, input, output): the first prefix that matches wins, so longer
/// names come before their shorter stems.
const PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.00),
    ("gpt-5", 1.25, 10.00),
    ("o4-mini", 1.10, 4.40),
    ("o3-mini", 1.10, 4.40),
    ("claude-haiku-4-5", 1.00, 5.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-3-7-sonnet", 3.00, 15.00),
    ("claude-opus-4", 15.00, 75.00),
    ("gemini-2.5-flash-lite", 0.10, 0.40),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-pro", 1.25, 10.00),
    ("gemini-2.0-flash", 0.10, 0.40),
];

/// The price per million tokens (input, output) of `model` (`openai/gpt-4o-mini` or
/// `gpt-4o-mini`), if listed. Local models (`ollama/...`) cost nothing here.
pub fn per_million(model: &str) -> Option<(f64, f64)> {
    let (provider, name) = model.split_once('/').unwrap_or(("", model));
    if matches!(
        provider,
        "ollama" | "llamacpp" | "llama.cpp" | "lmstudio" | "vllm"
    ) {
        return Some((0.0, 0.0));
    }
    let name = name.to_ascii_lowercase();
    PRICES
        .iter()
        .find(|(prefix, _, _)| name.starts_with(prefix))
        .map(|&(_, input, output)| (input, output))
}

/// What `usage` costs on `model`, in dollars, if its price is listed.
pub fn cost(model: &str, usage: &Usage) -> Option<f64> {
    let (input, output) = per_million(model)?;
    Some((usage.input_tokens as f64 * input + usage.output_tokens as f64 * output) / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_names_match_before_their_stems() {
        assert_eq!(per_million("openai/gpt-4o-mini"), Some((0.15, 0.60)));
        assert_eq!(per_million("openai/gpt-4o-2024-08-06"), Some((2.50, 10.00)));
        assert_eq!(
            per_million("anthropic/claude-haiku-4-5-20251001"),
            Some((1.00, 5.00))
        );
        assert_eq!(per_million("ollama/llama3.1"), Some((0.0, 0.0)));
        assert_eq!(per_million("groq/some-new-model"), None);
    }

    #[test]
    fn a_million_tokens_each_way_cost_the_sum_of_the_prices() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            ..Usage::default()
        };
        let cost = cost("openai/gpt-4o-mini", &usage).expect("listed");
        assert!((cost - 0.75).abs() < 1e-9, "{cost}");
    }
}
