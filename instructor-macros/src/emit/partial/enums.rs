//! Enum partials: a mirror enum, complete-only unless internally or adjacently tagged.

use super::{doc, field_ident, ip, partial_generics, partial_type, serde_attrs};
use crate::emit::impl_generics;
use crate::model::{Field, Model, Repr, Variant, VariantShape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub mod tagged;
mod unit;

/// Whether the enum's partial streams the fields of its variants once the tag is
/// known: internally and adjacently tagged, not generic, no untagged variant.
pub fn streams(model: &Model, repr: &Repr, variants: &[Variant]) -> bool {
    matches!(repr, Repr::Internal { .. } | Repr::Adjacent { .. })
        && model.generics.params.is_empty()
        && !model.stream_done
        && !variants.iter().any(|v| v.untagged)
}

pub fn emit(model: &Model, repr: &Repr, variants: &[Variant]) -> (TokenStream, TokenStream) {
    if streams(model, repr, variants) {
        return tagged::emit(model, repr, variants);
    }
    if unit::by_table(model, repr, variants) {
        return unit::emit(model, variants);
    }
    let ip = ip(model);
    let krate = &model.krate;
    let vis = &model.vis;
    let ident = &model.ident;
    let partial = &model.partial_ident;
    let generics = partial_generics(model);
    let (p_impl, p_ty, p_where) = generics.split_for_impl();
    let serde = serde_attrs(model);
    let doc = doc(model);
    let repr_attr = match repr {
        Repr::External => quote!(),
        Repr::Internal { tag } => quote!(#[serde(tag = #tag)]),
        Repr::Adjacent { tag, content } => quote!(#[serde(tag = #tag, content = #content)]),
        Repr::Untagged => quote!(#[serde(untagged)]),
    };
    let defs = variants.iter().map(|variant| {
        let name = &variant.ident;
        let wire = &variant.wire;
        let aliases = &variant.aliases;
        let mut attrs = quote!(#[serde(rename = #wire #(, alias = #aliases)*)]);
        if variant.untagged {
            attrs = quote!(#attrs #[serde(untagged)]);
        }
        if variant.other {
            attrs = quote!(#attrs #[serde(other)]);
        }
        match &variant.shape {
            VariantShape::Unit => quote!(#attrs #name,),
            VariantShape::Newtype(field) => {
                let ty = mirror_field_type(field, krate);
                quote!(#attrs #name(#ty),)
            }
            VariantShape::Struct(fields) => {
                let fields = fields.iter().map(|field| {
                    let fname = field_ident(field);
                    let ty = mirror_field_type(field, krate);
                    let wire = &field.wire;
                    let aliases = &field.aliases;
                    let optional = field.option_inner.is_some() || field.has_default;
                    if field.flatten {
                        quote!(#[serde(flatten)] #fname: #ty,)
                    } else if optional {
                        quote!(#[serde(rename = #wire, #(alias = #aliases,)* default)] #fname: #ty,)
                    } else {
                        quote!(#[serde(rename = #wire #(, alias = #aliases)*)] #fname: #ty,)
                    }
                });
                quote!(#attrs #name { #(#fields)* },)
            }
        }
    });
    let std_impls = std_impls_enum(model, &generics, variants);
    let definition = quote! {
        #[doc = #doc]
        #serde
        #repr_attr
        #vis enum #partial #p_impl #p_where {
            #(#defs)*
        }
    };
    let (impl_generics, ty_generics, where_clause) = impl_generics(model, quote!(__ip::HasPartial));
    let where_clause = match where_clause.is_empty() {
        true => quote!(where Self: #ip::serde::de::DeserializeOwned),
        false => quote!(#where_clause, Self: #ip::serde::de::DeserializeOwned),
    };
    let mark_arms = variants.iter().map(|variant| {
        let name = &variant.ident;
        match &variant.shape {
            VariantShape::Unit => quote!(#partial::#name => {}),
            VariantShape::Newtype(field) => {
                let sink = mirror_sink_type(field, krate);
                quote!(#partial::#name(__a) => <#sink as __ip::HasPartial>::mark_complete(__a),)
            }
            VariantShape::Struct(fields) => {
                let names: Vec<_> = fields.iter().map(field_ident).collect();
                let sinks = fields.iter().map(|f| mirror_sink_type(f, krate));
                quote!(#partial::#name { #(#names),* } => { #(<#sinks as __ip::HasPartial>::mark_complete(#names);)* })
            }
        }
    });
    let impls = quote! {
        #std_impls
        impl #impl_generics __ip::HasPartial for #ident #ty_generics #where_clause {
            type Partial = #partial #p_ty;

            #[inline]
            fn mark_complete(__partial: &mut Self::Partial) {
                match __partial { #(#mark_arms)* }
            }

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

/// A field of an enum mirror: present exactly when the original requires it, so that
/// serde picks the same variant the original would.
pub fn mirror_field_type(field: &Field, krate: &syn::Path) -> TokenStream {
    let ip = quote!(#krate::__private);
    let inner = partial_type(field, krate);
    if field.option_inner.is_some() || (field.has_default && !field.flatten) {
        quote!(#ip::Option<#inner>)
    } else {
        inner
    }
}

/// The type whose `HasPartial` has the partial [`mirror_field_type`] names.
pub fn mirror_sink_type(field: &Field, krate: &syn::Path) -> TokenStream {
    let ip = quote!(#krate::__private);
    let sink = super::sink_type(field, krate);
    if field.option_inner.is_some() || (field.has_default && !field.flatten) {
        quote!(#ip::Option<#sink>)
    } else {
        sink
    }
}

/// The variant a partial enum defaults to: the first unit variant, or else the first
/// variant with empty contents (`None` fields, default partials).
pub fn default_variant(variants: &[Variant]) -> Option<&Variant> {
    variants
        .iter()
        .find(|v| matches!(v.shape, VariantShape::Unit))
        .or_else(|| variants.first())
}

fn std_impls_enum(model: &Model, generics: &syn::Generics, variants: &[Variant]) -> TokenStream {
    let partial = &model.partial_ident;
    let (p_impl, p_ty, p_where) = generics.split_for_impl();
    let mut clone_arms = Vec::new();
    let mut debug_arms = Vec::new();
    let mut eq_arms = Vec::new();
    for variant in variants {
        let name = &variant.ident;
        let name_str = name.to_string();
        match &variant.shape {
            VariantShape::Unit => {
                clone_arms.push(quote!(Self::#name => Self::#name,));
                debug_arms.push(quote!(Self::#name => __f.write_str(#name_str),));
                eq_arms.push(quote!((Self::#name, Self::#name) => true,));
            }
            VariantShape::Newtype(_) => {
                clone_arms.push(quote!(Self::#name(__a) => Self::#name(__ip::Clone::clone(__a)),));
                debug_arms.push(
                    quote!(Self::#name(__a) => __f.debug_tuple(#name_str).field(__a).finish(),),
                );
                eq_arms.push(quote!((Self::#name(__a), Self::#name(__b)) => __a == __b,));
            }
            VariantShape::Struct(fields) => {
                let names: Vec<_> = fields.iter().map(field_ident).collect();
                let left: Vec<_> = names.iter().map(|n| format_ident!("__a_{}", n)).collect();
                let right: Vec<_> = names.iter().map(|n| format_ident!("__b_{}", n)).collect();
                clone_arms.push(quote!(Self::#name { #(#names),* } => Self::#name { #(#names: __ip::Clone::clone(#names)),* },));
                debug_arms.push(quote!(Self::#name { #(#names),* } => __f.debug_struct(#name_str) #(.field(__ip::stringify!(#names), #names))* .finish(),));
                eq_arms.push(quote!((Self::#name { #(#names: #left),* }, Self::#name { #(#names: #right),* }) => true #(&& #left == #right)*,));
            }
        }
    }
    let fallback = (variants.len() > 1).then(|| quote!(_ => false,));
    let default = default_variant(variants).map(|variant| {
        let name = &variant.ident;
        let value = match &variant.shape {
            VariantShape::Unit => quote!(Self::#name),
            VariantShape::Newtype(_) => quote!(Self::#name(__ip::Default::default())),
            VariantShape::Struct(fields) => {
                let names = fields.iter().map(field_ident);
                quote!(Self::#name { #(#names: __ip::Default::default()),* })
            }
        };
        quote! {
            impl #p_impl __ip::Default for #partial #p_ty #p_where {
                #[inline]
                fn default() -> Self {
                    #value
                }
            }
        }
    });
    quote! {
        #default
        impl #p_impl __ip::Clone for #partial #p_ty #p_where {
            #[inline]
            fn clone(&self) -> Self {
                match self { #(#clone_arms)* }
            }
        }
        impl #p_impl __ip::fmt::Debug for #partial #p_ty #p_where {
            #[inline]
            fn fmt(&self, __f: &mut __ip::fmt::Formatter<'_>) -> __ip::fmt::Result {
                match self { #(#debug_arms)* }
            }
        }
        impl #p_impl ::core::cmp::PartialEq for #partial #p_ty #p_where {
            #[inline]
            fn eq(&self, __other: &Self) -> bool {
                match (self, __other) { #(#eq_arms)* #fallback }
            }
        }
    }
}
