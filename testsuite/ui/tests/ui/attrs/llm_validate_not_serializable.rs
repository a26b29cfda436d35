use instructor::prelude::*;

// The model is shown the value as JSON: it must be `Serialize`.
#[derive(Deserialize, Extract)]
struct Address {
    city: String,
}

#[derive(Deserialize, Extract)]
struct Customer {
    #[extract(llm_validate = "must be a real place")]
    address: Address,
}

fn main() {}
