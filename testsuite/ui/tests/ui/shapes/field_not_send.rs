// A type whose fields cannot cross threads cannot be extracted: the derive states
// `Send + Sync` for the type only after checking every field, skipped ones included.
use instructor::prelude::*;
use std::marker::PhantomData;

#[derive(Deserialize, Extract)]
struct Note {
    text: String,
    #[serde(skip)]
    marker: PhantomData<*const ()>,
}

fn main() {}
