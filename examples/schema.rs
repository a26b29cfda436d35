//! Shows what `#[derive(Extract)]` gives a plain domain type: the schema the model sees
//! in each provider's dialect, and validation whose errors address fields by the names
//! the model wrote. Runs offline: no API key, no network.
//!
//! ```sh
//! cargo run --example schema
//! ```

use instructor::prelude::*;

/// A person mentioned in the text.
#[derive(Debug, Deserialize, Extract)]
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
struct Property {
    /// What the fact is about, e.g. "job".
    #[garde(length(min = 1))]
    key: String,
    value: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("This example runs offline: it prints schemas and validates canned answers.\n");
    for dialect in [
        Dialect::JsonSchema,
        Dialect::OpenAiStrict,
        Dialect::GeminiResponseSchema,
    ] {
        let schema = User::json_schema(dialect)?;
        println!("{dialect:?}:\n{}\n", serde_json::to_string_pretty(&schema)?);
    }

    let answer =
        r#"{"name": "Jason", "age": 25, "properties": [{"key": "job", "value": "engineer"}]}"#;
    let user: User = instructor::from_json_str(answer)?;
    user.validate(&Context::new())?;
    println!("valid answer -> {user:?}\n");

    let wrong_type = r#"{"name": "Jason", "age": "twenty", "properties": []}"#;
    match instructor::from_json_str::<User>(wrong_type) {
        Ok(user) => println!("unexpectedly parsed {user:?}"),
        Err(error) => println!("wrong type -> {error}"),
    }

    let invalid = r#"{"name": "Jason", "age": 200, "properties": [{"key": "", "value": "x"}]}"#;
    let user: User = instructor::from_json_str(invalid)?;
    if let Err(errors) = user.validate(&Context::new()) {
        println!("invalid answer -> what a re-ask would tell the model:\n{errors}");
    }
    Ok(())
}
