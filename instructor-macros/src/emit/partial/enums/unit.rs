//! Enums whose variants are all units: the partial is a copy of the value, written
//! and read through a table of names (`UnitVariants`) instead of serde's derive.

use super::super::{doc, ip};
use super::default_variant;
use crate::model::{Model, Repr, Variant, VariantShape};
use proc_macro2::TokenStream;
use quote::quote;

/// Whether the partial goes by the name table: externally tagged, not generic, every
/// variant a unit without `#[serde(other)]` or `#[serde(untagged)]` (those keep serde's
/// derive, which knows their rules).
pub fn by_table(model: &Model, repr: &Repr, variants: &[Variant]) -> bool {
    matches!(repr, Repr::External)
        && model.generics.params.is_empty()
        && !variants.is_empty()
        && variants
            .iter()
            .all(|v| matches!(v.shape, VariantShape::Unit) && !v.other && !v.untagged)
}

pub fn emit(model: &Model, variants: &[Variant]) -> (TokenStream, TokenStream) {
    let ip = ip(model);
    let vis = &model.vis;
    let ident = &model.ident;
    let partial = &model.partial_ident;
    let doc = doc(model);
    let names: Vec<&syn::Ident> = variants.iter().map(|v| &v.ident).collect();
    let rust: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let wire = variants.iter().map(|v| &v.wire);
    let aliases = variants.iter().enumerate().flat_map(|(index, v)| {
        let index = index as u32;
        v.aliases.iter().map(move |alias| quote!((#alias, #index)))
    });
    let partial_name = partial.to_string();
    let default = default_variant(variants).map(|v| &v.ident);
    let definition = quote! {
        #[doc = #doc]
        #vis enum #partial {
            #(#names,)*
        }
    };
    let impls = quote! {
        static __VARIANTS: __ip::UnitVariants = __ip::UnitVariants {
            name: #partial_name,
            wire: &[#(#wire),*],
            aliases: &[#(#aliases),*],
            rust: &[#(#rust),*],
        };
        impl __ip::Copy for #partial {}
        impl __ip::Clone for #partial {
            #[inline]
            fn clone(&self) -> Self {
                *self
            }
        }
        impl __ip::Default for #partial {
            #[inline]
            fn default() -> Self {
                Self::#default
            }
        }
        impl __ip::fmt::Debug for #partial {
            #[inline]
            fn fmt(&self, __f: &mut __ip::fmt::Formatter<'_>) -> __ip::fmt::Result {
                __VARIANTS.debug(*self as u32, __f)
            }
        }
        impl ::core::cmp::PartialEq for #partial {
            #[inline]
            fn eq(&self, __other: &Self) -> bool {
                *self as u32 == *__other as u32
            }
        }
        impl __ip::serde::Serialize for #partial {
            fn serialize<__S: __ip::serde::Serializer>(&self, __s: __S) -> __ip::Result<__S::Ok, __S::Error> {
                __ip::unit_serialize(&__VARIANTS, *self as u32, __s)
            }
        }
        impl<'__de> __ip::serde::Deserialize<'__de> for #partial {
            fn deserialize<__D: __ip::serde::Deserializer<'__de>>(__d: __D) -> __ip::Result<Self, __D::Error> {
                const __ALL: &[#partial] = &[#(#partial::#names),*];
                let __index = __ip::unit_deserialize(&__VARIANTS, __d)?;
                __ip::Ok(__ALL[__index as usize])
            }
        }
        impl __ip::HasPartial for #ident
        where
            Self: #ip::serde::de::DeserializeOwned,
        {
            type Partial = #partial;

            #[inline]
            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                __ip::enum_apply_new::<Self, Self::Partial>(__path, __event, __scratch)
            }

            #[inline]
            fn apply_existing(
                _: &mut Self::Partial,
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                _: &mut __ip::Scratch,
            ) -> __ip::Result<bool, __ip::PartialError> {
                __ip::finished_apply_existing(__path, __event)
            }
        }
    };
    (definition, impls)
}
