use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Step {
    #[extract(stream(done, required))]
    id: u32,
}

fn main() {}
