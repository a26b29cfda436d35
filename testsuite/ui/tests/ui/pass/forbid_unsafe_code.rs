// A crate that forbids unsafe code can derive `Extract`; its types are `Send + Sync`.
#![forbid(unsafe_code)]
use instructor::prelude::*;

#[derive(Debug, Deserialize, Extract)]
enum Kind {
    Bug { title: String },
    Idea(String),
    Other,
}

#[derive(Debug, Deserialize, Extract)]
struct Ticket {
    kinds: Vec<Kind>,
    parent: Option<Box<Ticket>>,
}

fn send_sync<T: Send + Sync>() {}

fn main() {
    send_sync::<Ticket>();
    send_sync::<Partial<Ticket>>();
    send_sync::<Partial<Kind>>();
}
