use instructor::prelude::*;

#[derive(Deserialize)]
struct Raw {
    address: String,
}

#[derive(Deserialize, Extract)]
#[serde(from = "Raw")]
struct Email {
    address: String,
}

impl From<Raw> for Email {
    fn from(raw: Raw) -> Self {
        Email { address: raw.address }
    }
}

fn main() {}
