//! `#[derive(Extract)]`: schema, typed partial, validation and dialect checks from one
//! type definition. See the `instructor` crate for the user guide.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attr;
mod emit;
mod garde;
mod model;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `Extract` (and its schema, partial and validation traits) for a struct or
/// enum that also derives `serde::Deserialize`.
///
/// Attributes: `#[extract(crate = "...", rename = "...", description = "...",
/// title = "...", example = ..., examples(...), partial = "Name", strict,
/// validate = path)]` on the type; `#[extract(description, title, example, examples,
/// schema_with = path, schemars, validate = path)]` on fields; `#[extract(description,
/// title)]` on variants. `#[serde(...)]` and `#[garde(...)]` are read as serde and garde
/// read them.
#[proc_macro_derive(Extract, attributes(extract, garde))]
pub fn derive_extract(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    emit::expand(&input).into()
}
