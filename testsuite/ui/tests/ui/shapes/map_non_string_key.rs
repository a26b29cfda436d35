use instructor::prelude::*;
use std::collections::HashMap;

#[derive(Deserialize, Extract)]
struct Inventory {
    names_by_id: HashMap<u32, String>,
}

fn main() {}
