use instructor::prelude::*;

// Three independent mistakes of different kinds (an unknown type key, a wrongly typed
// field value, a non-string map key): one compile must report all three.
#[derive(Deserialize, Extract)]
#[extract(descripton = "A user")]
struct User {
    #[extract(title = 5)]
    name: String,
    scores: std::collections::HashMap<u32, String>,
}

fn main() {}
