use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Score {
    entry: (String, u8),
}

fn main() {}
