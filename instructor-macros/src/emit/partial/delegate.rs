//! Newtypes, transparent structs and unit structs: the partial is the inner value's.

use super::{doc, partial_generics, sink_type};
use crate::emit::impl_generics;
use crate::model::{Body, FieldSource, Model};
use proc_macro2::TokenStream;
use quote::quote;

/// Newtypes, transparent structs and unit structs: the partial is the inner value's.
pub fn emit(model: &Model, inner: TokenStream) -> (TokenStream, TokenStream) {
    let vis = &model.vis;
    let ident = &model.ident;
    let partial = &model.partial_ident;
    let generics = partial_generics(model);
    let params = generics.type_params().map(|p| &p.ident);
    let doc = doc(model);
    let sink = match &model.body {
        Body::Transparent(field) => sink_type(field, &model.krate),
        _ => quote!(()),
    };
    let definition = quote! {
        #[doc = #doc]
        #[allow(type_alias_bounds)]
        #vis type #partial <#(#params),*> = #inner;
    };
    let (impl_generics, ty_generics, where_clause) = impl_generics(model, quote!(__ip::HasPartial));
    let is_option = matches!(&model.body, Body::Transparent(f) if f.option_inner.is_some() && matches!(f.source, FieldSource::Type));
    let partial_ty = if is_option {
        quote!(__ip::Option<<#sink as __ip::HasPartial>::Partial>)
    } else {
        quote!(<#sink as __ip::HasPartial>::Partial)
    };
    let sink = if is_option {
        quote!(__ip::Option<#sink>)
    } else {
        sink
    };
    let impls = quote! {
        impl #impl_generics __ip::HasPartial for #ident #ty_generics #where_clause {
            type Partial = #partial_ty;

            #[inline]
            fn accepts_key(__key: &str) -> bool {
                <#sink as __ip::HasPartial>::accepts_key(__key)
            }

            #[inline]
            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                <#sink as __ip::HasPartial>::apply_new(__path, __event, __scratch)
            }

            #[inline]
            fn apply_existing(
                __partial: &mut Self::Partial,
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<bool, __ip::PartialError> {
                <#sink as __ip::HasPartial>::apply_existing(__partial, __path, __event, __scratch)
            }
        }
    };
    (definition, impls)
}
