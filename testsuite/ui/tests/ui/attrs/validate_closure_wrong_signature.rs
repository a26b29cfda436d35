use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[extract(validate = |name: &String, _| name.is_empty())]
    name: String,
}

fn main() {}
