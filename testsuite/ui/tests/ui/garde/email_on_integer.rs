use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(email)]
    contact: u64,
}

fn main() {}
