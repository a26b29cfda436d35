// A strict-schema mode chosen at the call site needs a type every strict dialect can
// express: the compiler says so here, not the provider at run time.
use instructor::client::StrictMode;
use instructor::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Deserialize, Extract)]
struct Tags {
    tags: HashMap<String, String>,
}

fn main() {
    let client = Client::new(instructor::providers::openai::OpenAi::from_env());
    let _ = client.extract::<Tags>().strict(StrictMode::Tools);
}
