//! The `PartialX` mirror type and the `HasPartial` / `PartialSink` impls.

mod delegate;
mod enums;
mod structs;

use crate::model::{Body, Field, FieldSource, Model};
use proc_macro2::TokenStream;
use quote::quote;

/// Returns the partial type definition (outside the `const _` block, so users can name
/// it) and the trait impls (inside it).
pub fn emit(model: &Model) -> (TokenStream, TokenStream) {
    match &model.body {
        Body::Struct(fields) => structs::emit(model, fields),
        Body::Transparent(field) => delegate::emit(model, partial_type(field, &model.krate)),
        Body::Unit => delegate::emit(model, quote!(())),
        Body::Enum { repr, variants } => enums::emit(model, repr, variants),
    }
}

/// Whether the derive defines a partial type of its own (not an alias of another's).
pub fn owns_type(model: &Model) -> bool {
    matches!(model.body, Body::Struct(_) | Body::Enum { .. })
}

pub(super) fn ip(model: &Model) -> TokenStream {
    let krate = &model.krate;
    quote!(#krate::__private)
}

/// The partial type of a field's value, as seen by the partial struct.
pub(super) fn partial_type(field: &Field, krate: &syn::Path) -> TokenStream {
    let ip = quote!(#krate::__private);
    match &field.source {
        FieldSource::Type => {
            let ty = field.option_inner.as_ref().unwrap_or(&field.ty);
            quote!(<#ty as #ip::HasPartial>::Partial)
        }
        _ => quote!(#ip::serde_json::Value),
    }
}

/// The type whose `HasPartial` applies events to the field.
pub(super) fn sink_type(field: &Field, krate: &syn::Path) -> TokenStream {
    match &field.source {
        FieldSource::Type => {
            let ty = field.option_inner.as_ref().unwrap_or(&field.ty);
            quote!(#ty)
        }
        _ => quote!(#krate::__private::serde_json::Value),
    }
}

/// Generics of the partial type: the original ones, each type parameter also bound by
/// `HasPartial` (its fields name `<T as HasPartial>::Partial`).
pub(super) fn partial_generics(model: &Model) -> syn::Generics {
    let ip = ip(model);
    let mut generics = model.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#ip::HasPartial));
        param.bounds.push(syn::parse_quote!('static));
        param.default = None;
    }
    generics
}

pub(super) fn serde_attrs(model: &Model) -> TokenStream {
    let ip = ip(model);
    let serde_path = quote!(#ip::serde).to_string();
    quote! {
        #[derive(#ip::serde::Serialize, #ip::serde::Deserialize)]
        #[serde(crate = #serde_path, bound = "")]
    }
}

pub(super) fn doc(model: &Model) -> String {
    format!(
        "The partial of [`{}`] while it streams: every field optional, strings growing, \
         numbers, booleans and enums present only once complete.",
        model.ident
    )
}

pub(super) fn field_ident(field: &Field) -> syn::Ident {
    match &field.member {
        syn::Member::Named(ident) => ident.clone(),
        syn::Member::Unnamed(index) => quote::format_ident!("field_{}", index.index),
    }
}
