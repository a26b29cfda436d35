//! A generic type is `Extract` over plain field types, not only over derived ones.
use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
}

fn assert_extract<T: Extract>() {}

fn main() {
    assert_extract::<Page<String>>();
    assert_extract::<Page<u8>>();
    assert_extract::<Page<Page<bool>>>();
    assert_eq!(Page::<String>::name(), "Page_String");
}
