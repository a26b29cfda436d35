use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(stream(required))]
struct Step {
    id: u32,
}

fn main() {}
