use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Reply {
    #[extract(llm_validate = 42)]
    text: String,
}

fn main() {}
