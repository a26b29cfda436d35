//! The partial of a struct with named fields (and of the struct variants of tagged
//! enums): a `PartialX` struct of optional fields, its field table, and its sink.

use super::{doc, field_ident, ip, partial_generics, partial_type, sink_type};
use crate::emit::impl_generics;
use crate::model::{Field, Model};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// Which type a partial struct is the partial of.
pub struct Names<'a> {
    /// The type that gets `HasPartial` (the original, or a hidden marker of a variant).
    pub source: &'a syn::Ident,
    /// The partial struct.
    pub partial: &'a syn::Ident,
    pub doc: String,
    /// `#[extract(stream(done))]` on the type.
    pub stream_done: bool,
}

pub fn emit(model: &Model, fields: &[Field]) -> (TokenStream, TokenStream) {
    let names = Names {
        source: &model.ident,
        partial: &model.partial_ident,
        doc: doc(model),
        stream_done: model.stream_done,
    };
    emit_named(model, fields, &names)
}

pub fn emit_named(
    model: &Model,
    fields: &[Field],
    naming: &Names<'_>,
) -> (TokenStream, TokenStream) {
    let ip = ip(model);
    let krate = &model.krate;
    let vis = &model.vis;
    let ident = naming.source;
    let partial = naming.partial;
    let generics = partial_generics(model);
    let (p_impl, p_ty, p_where) = generics.split_for_impl();
    let doc = &naming.doc;

    let names: Vec<syn::Ident> = fields.iter().map(field_ident).collect();
    let defs = fields.iter().zip(&names).map(|(field, name)| {
        let ty = partial_type(field, krate);
        quote! { pub #name: #ip::Option<#ty>, }
    });
    let state_methods = fields
        .iter()
        .zip(&names)
        .enumerate()
        .filter(|(_, (f, _))| !f.flatten)
        .map(|(index, (field, name))| {
            let index = index as u32;
            let method = format_ident!("{}_state", name.to_string().trim_start_matches("r#"));
            let doc = format!(
                "Where `{}` stands: absent, in progress or complete.",
                field.wire
            );
            quote! {
                #[doc = #doc]
                #[inline]
                pub fn #method(&self) -> #ip::FieldState {
                    self.__instructor_complete.state(#index, self.#name.is_some())
                }
            }
        });
    let own_rules = fields.iter().any(|f| {
        !f.flatten
            && !f.skip_rules
            && matches!(f.source, crate::model::FieldSource::Type)
            && !f.rules.is_empty()
    });
    let partial_checks = fields.iter().zip(&names).enumerate().map(|(index, (field, name))| {
        let index = index as u32;
        let sink = sink_type(field, krate);
        let recurse = if field.option_inner.is_some() || field.flatten {
            quote!(<#ip::Option<#sink> as __ip::HasPartial>::validate_partial(&__partial.#name, __ctx, __path, __errors);)
        } else {
            quote! {
                if let __ip::Some(__inner) = &__partial.#name {
                    <#sink as __ip::HasPartial>::validate_partial(__inner, __ctx, __path, __errors);
                }
            }
        };
        if field.flatten {
            return recurse;
        }
        let wire = &field.wire;
        let rules = if field.skip_rules
            || !matches!(field.source, crate::model::FieldSource::Type)
            || field.rules.is_empty()
        {
            // The common case in one call.
            let nullable = field.option_inner.is_some();
            return quote! {
                __ip::validate_partial_field::<#sink>(&__partial.#name, #wire, #nullable, __ctx, __path, __errors);
            };
        } else {
            let value = quote_spanned!(field.ty.span()=> __v);
            let checks = crate::emit::validate::rule_checks(&field.rules, value.clone());
            // Bound under the same (type-spanned) name the checks use.
            let bind = if field.option_inner.is_some() {
                quote!(let #value = &__partial.#name; #checks)
            } else {
                quote!(if let __ip::Some(#value) = &__partial.#name { #checks })
            };
            quote! {
                if __partial.__instructor_complete.get(#index) {
                    #bind
                }
            }
        };
        quote! {
            __ip::key(__path, #wire);
            #rules
            #recurse
            __path.pop();
        }
    });
    let required: Vec<&String> = fields
        .iter()
        .filter(|f| f.stream_required)
        .map(|f| &f.wire)
        .collect();
    let (apply_new, apply_existing) = if naming.stream_done {
        (
            quote!(__ip::apply_new_done::<Self>(__path, __event, __scratch)),
            quote! {
                let _ = (__partial, __scratch);
                __ip::finished_apply_existing(__path, __event)
            },
        )
    } else if !required.is_empty() {
        (
            quote!(__ip::apply_until_present::<Self>(__path, __event, __scratch, &[#(#required),*])),
            quote!(__ip::fields_apply(__partial, __path, __event, __scratch)),
        )
    } else {
        (
            quote!(__ip::struct_apply_new::<Self::Partial>(
                __path, __event, __scratch
            )),
            quote!(__ip::fields_apply(__partial, __path, __event, __scratch)),
        )
    };
    // Growing a visible string goes straight down, except in a partial shown only whole.
    let grow = (!naming.stream_done).then(|| {
        quote! {
            #[inline]
            fn grow(
                __partial: &mut Self::Partial,
                __path: &[__ip::PathSegment],
                __text: &str,
                __routes: &mut __ip::Routes,
            ) -> __ip::Option<bool> {
                __ip::fields_grow(__partial, __path, __text, __routes)
            }

            #[inline]
            fn grow_at(__partial: &mut Self::Partial, __place: &[u32], __text: &str) -> __ip::Option<bool> {
                __ip::fields_grow_at(__partial, __place, __text)
            }

            #[inline]
            fn apply_at(
                __partial: &mut Self::Partial,
                __place: &[u32],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Option<__ip::Result<bool, __ip::PartialError>> {
                __ip::fields_apply_at(__partial, __place, __event, __scratch)
            }
        }
    });
    let std_impls = std_impls_struct(partial, &generics, &names);
    let validate_partial = if own_rules {
        quote!(#(#partial_checks)*)
    } else {
        quote!(__ip::fields_validate_partial(__partial, __ctx, __path, __errors);)
    };

    let table = fields.iter().zip(&names).map(|(field, name)| {
        let ident = name.to_string();
        if field.flatten {
            let sink = sink_type(field, krate);
            quote!(__ip::FieldInfo::flattened(#ident, <#sink as __ip::HasPartial>::accepts_key))
        } else {
            let wire = &field.wire;
            let aliases = &field.aliases;
            let nullable = field.option_inner.is_some();
            let done = field.stream_done;
            quote!(__ip::FieldInfo::field(#ident, #wire, &[#(#aliases),*], #nullable, #done))
        }
    });
    let ref_arms = fields
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(index, (field, name))| {
            let sink = sink_type(field, krate);
            quote!(#index => __ip::field_show(__ip::SlotRef::<#sink>(&self.#name), __visit),)
        });
    let mut_arms = fields
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(index, (field, name))| {
            let sink = sink_type(field, krate);
            quote!(#index => __ip::field_lend(__ip::SlotMut::<#sink>(&mut self.#name), __complete, __visit),)
        });
    let mut de_generics = generics.clone();
    de_generics.params.insert(0, syn::parse_quote!('__de));
    let (de_impl, _, _) = de_generics.split_for_impl();
    let serde_impls = quote! {
        impl #p_impl __ip::PartialFields for #partial #p_ty #p_where {
            const FIELDS: &'static [__ip::FieldInfo] = &[#(#table),*];

            #[inline]
            fn complete_fields(&self) -> &__ip::CompleteFields {
                &self.__instructor_complete
            }

            #[inline]
            fn field_ref(&self, __index: usize, __visit: &mut dyn __ip::FnMut(&dyn __ip::FieldRef)) {
                match __index {
                    #(#ref_arms)*
                    _ => { let _ = __visit; }
                }
            }

            #[inline]
            fn field_mut(
                &mut self,
                __index: usize,
                __visit: &mut dyn __ip::FnMut(&mut dyn __ip::FieldMut, &mut __ip::CompleteFields),
            ) {
                // The field view is coerced in `field_lend`, one generic call per arm:
                // the arms are most of the derive's compile time beyond serde's.
                let __complete = &mut self.__instructor_complete;
                match __index {
                    #(#mut_arms)*
                    _ => { let _ = (__visit, __complete); }
                }
            }
        }
        impl #p_impl __ip::serde::Serialize for #partial #p_ty #p_where {
            fn serialize<__S: __ip::serde::Serializer>(&self, __s: __S) -> __ip::Result<__S::Ok, __S::Error> {
                __ip::serialize_partial(self, __s)
            }
        }
        impl #de_impl __ip::serde::Deserialize<'__de> for #partial #p_ty #p_where {
            fn deserialize<__D: __ip::serde::Deserializer<'__de>>(__d: __D) -> __ip::Result<Self, __D::Error> {
                __ip::deserialize_partial(__d)
            }
        }
    };

    let definition = quote! {
        #[doc = #doc]
        #vis struct #partial #p_impl #p_where {
            #(#defs)*
            /// Which fields are complete (see the `*_state` methods). Hidden, and public
            /// only so that `PartialX { title: Some(..), ..Default::default() }` works
            /// anywhere.
            #[doc(hidden)]
            pub __instructor_complete: #ip::CompleteFields,
        }
    };
    let (impl_generics, ty_generics, where_clause) = impl_generics(model, quote!(__ip::HasPartial));
    let impls = quote! {
        #std_impls
        #serde_impls
        impl #impl_generics __ip::HasPartial for #ident #ty_generics #where_clause {
            type Partial = #partial #p_ty;

            #[inline]
            fn accepts_key(__key: &str) -> bool {
                __ip::fields_accepts_key::<Self::Partial>(__key)
            }

            #[inline]
            fn mark_complete(__partial: &mut Self::Partial) {
                __ip::fields_mark_complete(__partial)
            }

            #[inline]
            fn validate_partial(
                __partial: &Self::Partial,
                __ctx: &__ip::Context,
                __path: &mut __ip::WirePath,
                __errors: &mut __ip::ValidationErrors,
            ) {
                let _ = (&__partial, &__ctx, &__path, &__errors);
                #validate_partial
            }

            #[inline]
            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                #apply_new
            }

            #[inline]
            fn apply_existing(
                __partial: &mut Self::Partial,
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<bool, __ip::PartialError> {
                #apply_existing
            }

            #grow
        }
    };
    let definition = quote! {
        #definition
        impl #p_impl #partial #p_ty #p_where {
            #(#state_methods)*
        }
    };
    (definition, impls)
}

/// Default, Clone, Debug and PartialEq written out: derives would demand them of the
/// type parameters instead of their partials.
fn std_impls_struct(
    partial: &syn::Ident,
    generics: &syn::Generics,
    names: &[syn::Ident],
) -> TokenStream {
    let (p_impl, p_ty, p_where) = generics.split_for_impl();
    let partial_name = partial.to_string();
    quote! {
        impl #p_impl __ip::Default for #partial #p_ty #p_where {
            #[inline]
            fn default() -> Self {
                Self { #(#names: __ip::None,)* __instructor_complete: __ip::Default::default() }
            }
        }
        impl #p_impl __ip::Clone for #partial #p_ty #p_where {
            #[inline]
            fn clone(&self) -> Self {
                Self {
                    #(#names: __ip::Clone::clone(&self.#names),)*
                    __instructor_complete: self.__instructor_complete,
                }
            }
        }
        impl #p_impl __ip::fmt::Debug for #partial #p_ty #p_where {
            #[inline]
            fn fmt(&self, __f: &mut __ip::fmt::Formatter<'_>) -> __ip::fmt::Result {
                __ip::fields_debug(self, #partial_name, __f)
            }
        }
        impl #p_impl ::core::cmp::PartialEq for #partial #p_ty #p_where {
            #[inline]
            fn eq(&self, __other: &Self) -> bool {
                __ip::fields_eq(self, __other)
            }
        }
    }
}
