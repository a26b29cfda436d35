//! The README's schemas are what the derive really produces.

use instructor::prelude::*;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    /// Full name as written in the text.
    name: String,
    /// Age in years.
    #[garde(range(min = 0, max = 150))]
    age: u8,
    /// Facts about the person, one key/value pair each.
    #[garde(length(max = 10))]
    properties: Vec<Property>,
}

/// One fact.
#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct Property {
    /// What the fact is about, e.g. "job".
    #[garde(length(min = 1))]
    key: String,
    value: String,
}

fn readme_json_blocks() -> Vec<serde_json::Value> {
    let readme = include_str!("../../README.md");
    readme
        .split("\n```json\n")
        .skip(1)
        .map(|block| {
            let body = block.split("\n```").next().unwrap_or_default();
            serde_json::from_str(body).unwrap_or_else(|e| panic!("README block: {e}\n{body}"))
        })
        .collect()
}

#[test]
fn readme_schemas_match_the_derive() {
    let blocks = readme_json_blocks();
    assert_eq!(blocks.len(), 2, "the README shows two dialects");
    assert_eq!(
        blocks[0],
        User::json_schema(Dialect::OpenAiStrict).expect("renders")
    );
    assert_eq!(
        blocks[1],
        User::json_schema(Dialect::GeminiResponseSchema).expect("renders")
    );
}
