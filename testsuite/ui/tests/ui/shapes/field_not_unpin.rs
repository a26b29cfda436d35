// The derive states `Unpin` for the type only after checking every field (release
// builds would otherwise prove it structurally, level by level): a field that is not
// `Unpin` is an error at that field, not a type that silently becomes `Unpin`.
use instructor::prelude::*;
use std::marker::PhantomPinned;

#[derive(Deserialize, Extract)]
struct Note {
    text: String,
    #[serde(skip)]
    pinned: PhantomPinned,
}

fn main() {}
