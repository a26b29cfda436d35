//! Internally and adjacently tagged enums: the partial is shown as soon as the tag is
//! known and the variant's fields stream into it. A struct variant's content is a
//! partial struct of its own (`PartialShape_Circle` for `Shape::Circle`: the underscore
//! keeps it apart from the partial of a type `ShapeCircle`), with the same field
//! states and `"$state"` as any partial struct.

use super::super::structs::{self, Names};
use super::{default_variant, mirror_field_type, mirror_sink_type};
use crate::model::{Model, Repr, Variant, VariantShape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub fn emit(model: &Model, repr: &Repr, variants: &[Variant]) -> (TokenStream, TokenStream) {
    let krate = &model.krate;
    let vis = &model.vis;
    let ident = &model.ident;
    let partial = &model.partial_ident;
    let repr_value = match repr {
        Repr::Internal { tag } => quote!(__ip::TagRepr { tag: #tag, content: __ip::None }),
        Repr::Adjacent { tag, content } => {
            quote!(__ip::TagRepr { tag: #tag, content: __ip::Some(#content) })
        }
        _ => unreachable!("only tagged enums stream"),
    };
    let adjacent = matches!(repr, Repr::Adjacent { .. });

    let mut content_defs = Vec::new();
    let mut content_impls = Vec::new();
    let mut defs = Vec::new();
    let mut apply_arms = Vec::new();
    let mut mark_arms = Vec::new();
    let mut check_arms = Vec::new();
    let mut show_arms = Vec::new();
    let mut build_arms = Vec::new();
    let mut ser_arms = Vec::new();
    let mut other = None;
    for variant in variants {
        let name = &variant.ident;
        let wire = &variant.wire;
        let aliases = &variant.aliases;
        let tags = quote!(#wire #(| #aliases)*);
        if variant.other {
            other = Some(name);
        }
        match &variant.shape {
            VariantShape::Unit => {
                defs.push(quote!(#name,));
                apply_arms.push(
                    quote!(#partial::#name => __ip::tagged_unit_apply_existing(__rest, __event),),
                );
                mark_arms.push(quote!(#partial::#name => {}));
                check_arms.push(quote!(#partial::#name => {}));
                show_arms.push(quote!(#tags => __ip::Some(true),));
                build_arms.push(quote!(#tags => __ip::Ok(#partial::#name),));
                ser_arms.push(quote!(#partial::#name => __ip::tagged_serialize::<_, ()>(__s, REPR, #wire, __ip::None),));
            }
            VariantShape::Newtype(field) => {
                let ty = mirror_field_type(field, krate);
                let sink = mirror_sink_type(field, krate);
                defs.push(quote!(#name(#ty),));
                apply_arms.push(quote!(#partial::#name(__a) => <#sink as __ip::HasPartial>::apply_existing(__a, __rest, __event, __scratch),));
                mark_arms.push(quote!(#partial::#name(__a) => <#sink as __ip::HasPartial>::mark_complete(__a),));
                check_arms.push(quote!(#partial::#name(__a) => <#sink as __ip::HasPartial>::validate_partial(__a, __ctx, __path, __errors),));
                // Adjacently tagged, the content may be any value: shown once whole.
                let shows = !adjacent;
                show_arms.push(quote!(#tags => __ip::Some(#shows),));
                build_arms.push(quote!(#tags => __ip::Ok(#partial::#name(__ip::tagged_content_from(__content)?)),));
                ser_arms.push(quote!(#partial::#name(__a) => __ip::tagged_serialize(__s, REPR, #wire, __ip::Some(__a)),));
            }
            VariantShape::Struct(fields) => {
                let content = content_ident(partial, name);
                let marker = format_ident!("__Instructor{}{}", partial, name);
                let naming = Names {
                    source: &marker,
                    partial: &content,
                    doc: format!(
                        "The partial of the `{name}` variant of [`{ident}`] while it streams (see [`{partial}`])."
                    ),
                    stream_done: false,
                };
                let (definition, impls) = structs::emit_named(model, fields, &naming);
                content_defs.push(quote!(#[allow(non_camel_case_types)] #definition));
                content_impls.push(quote! {
                    #[allow(non_camel_case_types)]
                    struct #marker;
                    #impls
                });
                defs.push(quote!(#name(#content),));
                apply_arms.push(quote!(#partial::#name(__a) => <#marker as __ip::HasPartial>::apply_existing(__a, __rest, __event, __scratch),));
                mark_arms.push(quote!(#partial::#name(__a) => <#marker as __ip::HasPartial>::mark_complete(__a),));
                check_arms.push(quote!(#partial::#name(__a) => <#marker as __ip::HasPartial>::validate_partial(__a, __ctx, __path, __errors),));
                show_arms.push(quote!(#tags => __ip::Some(true),));
                build_arms.push(quote!(#tags => __ip::Ok(#partial::#name(__ip::tagged_struct_content_from(__content)?)),));
                ser_arms.push(quote!(#partial::#name(__a) => __ip::tagged_serialize(__s, REPR, #wire, __ip::Some(__a)),));
            }
        }
    }
    let (show_other, build_other) = match other {
        Some(name) => (
            quote!(_ => __ip::Some(true),),
            quote!(_ => __ip::Ok(#partial::#name),),
        ),
        None => (
            quote!(_ => __ip::None,),
            quote!(__other => __ip::Err(__ip::format!("unknown variant `{}`", __other)),),
        ),
    };
    let default = default_variant(variants).map(|variant| {
        let name = &variant.ident;
        let value = match &variant.shape {
            VariantShape::Unit => quote!(Self::#name),
            _ => quote!(Self::#name(__ip::Default::default())),
        };
        quote! {
            impl __ip::Default for #partial {
                #[inline]
                fn default() -> Self {
                    #value
                }
            }
        }
    });
    let doc = format!(
        "The partial of [`{ident}`] while it streams: the variant as soon as its tag is \
         known, its fields filling in as they arrive (the default is the first unit \
         variant, or else the first variant, empty)."
    );
    let check_path = adjacent.then(|| match repr {
        Repr::Adjacent { content, .. } => quote!(__ip::key(__path, #content);),
        _ => quote!(),
    });
    let check_pop = adjacent.then(|| quote!(__path.pop();));
    let definition = quote! {
        #(#content_defs)*
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq)]
        #vis enum #partial {
            #(#defs)*
        }
    };
    let impls = quote! {
        #(#content_impls)*
        const REPR: __ip::TagRepr = #repr_value;
        #default
        impl __ip::TaggedPartial for #partial {
            const REPR: __ip::TagRepr = REPR;

            #[inline]
            fn shows_at_tag(__tag: &str) -> __ip::Option<bool> {
                match __tag {
                    #(#show_arms)*
                    #show_other
                }
            }

            #[inline]
            fn from_content(__tag: &str, __content: __ip::serde_json::Value) -> __ip::Result<Self, __ip::String> {
                let _ = &__content;
                match __tag {
                    #(#build_arms)*
                    #build_other
                }
            }

            #[inline]
            fn mark_complete(&mut self) {
                <#ident as __ip::HasPartial>::mark_complete(self)
            }
        }
        impl __ip::serde::Serialize for #partial {
            fn serialize<__S: __ip::serde::Serializer>(&self, __s: __S) -> __ip::Result<__S::Ok, __S::Error> {
                match self {
                    #(#ser_arms)*
                }
            }
        }
        impl<'__de> __ip::serde::Deserialize<'__de> for #partial {
            fn deserialize<__D: __ip::serde::Deserializer<'__de>>(__d: __D) -> __ip::Result<Self, __D::Error> {
                let (__tag, __content) = __ip::tagged_deserialize(__d, REPR)?;
                <Self as __ip::TaggedPartial>::from_content(&__tag, __content)
                    .map_err(<__D::Error as __ip::serde::de::Error>::custom)
            }
        }
        impl __ip::HasPartial for #ident {
            type Partial = #partial;

            #[inline]
            fn mark_complete(__partial: &mut Self::Partial) {
                match __partial { #(#mark_arms)* }
            }

            #[inline]
            fn validate_partial(
                __partial: &Self::Partial,
                __ctx: &__ip::Context,
                __path: &mut __ip::WirePath,
                __errors: &mut __ip::ValidationErrors,
            ) {
                let _ = (&__ctx, &__errors);
                #check_path
                match __partial { #(#check_arms)* }
                #check_pop
            }

            #[inline]
            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                __ip::tagged_apply_new::<Self::Partial>(__path, __event, __scratch)
            }

            #[inline]
            fn apply_existing(
                __partial: &mut Self::Partial,
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<bool, __ip::PartialError> {
                let __ip::Some(__rest) = __ip::tagged_content_path(REPR, __path, __event)? else {
                    return __ip::Ok(false);
                };
                let _ = &__scratch;
                match __partial { #(#apply_arms)* }
            }
        }
    };
    (definition, impls)
}

/// The partial struct of a struct variant's content: `PartialShape_Circle`.
pub fn content_ident(partial: &syn::Ident, variant: &syn::Ident) -> syn::Ident {
    format_ident!("{}_{}", partial, variant)
}
