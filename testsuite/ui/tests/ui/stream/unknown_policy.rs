use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Step {
    #[extract(stream(dnoe))]
    id: u32,
}

fn main() {}
