use instructor::prelude::*;

fn check_name(name: &u32) -> bool {
    *name > 0
}

#[derive(Deserialize, Extract)]
struct User {
    #[extract(validate = check_name)]
    name: String,
}

fn main() {}
