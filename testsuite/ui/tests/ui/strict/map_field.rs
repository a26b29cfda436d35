use instructor::prelude::*;
use std::collections::HashMap;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Config {
    labels: HashMap<String, String>,
}

fn main() {}
