use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(lenght(min = 1))]
    name: String,
}

fn main() {}
