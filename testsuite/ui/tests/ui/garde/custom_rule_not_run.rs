use instructor::prelude::*;

fn check(_: &str, _: &()) -> Result<(), String> {
    Ok(())
}

#[derive(Deserialize, Extract)]
struct User {
    #[garde(custom(check))]
    name: String,
}

fn main() {}
