//! The `PartialX` mirror type and the `HasPartial` / `PartialSink` impls.

use super::impl_generics;
use crate::model::{Body, Field, FieldSource, Model, Repr, Variant, VariantShape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// Returns the partial type definition (outside the `const _` block, so users can name
/// it) and the trait impls (inside it).
pub fn emit(model: &Model) -> (TokenStream, TokenStream) {
    match &model.body {
        Body::Struct(fields) => struct_partial(model, fields),
        Body::Transparent(field) => delegate_partial(model, partial_type(field, &model.krate)),
        Body::Unit => delegate_partial(model, quote!(())),
        Body::Enum { repr, variants } => enum_partial(model, repr, variants),
    }
}

/// Whether the derive defines a partial type of its own (not an alias), and the types of
/// every field of that partial, for the `Send + Sync` proof.
pub fn field_types(model: &Model) -> (bool, Vec<TokenStream>) {
    let krate = &model.krate;
    match &model.body {
        Body::Struct(fields) => {
            let mut types: Vec<_> = fields.iter().map(|f| partial_type(f, krate)).collect();
            types.push(quote!(#krate::__private::CompleteFields));
            (true, types)
        }
        Body::Enum { variants, .. } => {
            let types = variants
                .iter()
                .flat_map(|v| match &v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Newtype(field) => vec![mirror_field_type(field, krate)],
                    VariantShape::Struct(fields) => {
                        fields.iter().map(|f| mirror_field_type(f, krate)).collect()
                    }
                })
                .collect();
            (true, types)
        }
        Body::Transparent(_) | Body::Unit => (false, Vec::new()),
    }
}

fn ip(model: &Model) -> TokenStream {
    let krate = &model.krate;
    quote!(#krate::__private)
}

/// The partial type of a field's value, as seen by the partial struct.
fn partial_type(field: &Field, krate: &syn::Path) -> TokenStream {
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
fn sink_type(field: &Field, krate: &syn::Path) -> TokenStream {
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
fn partial_generics(model: &Model) -> syn::Generics {
    let ip = ip(model);
    let mut generics = model.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#ip::HasPartial));
        param.bounds.push(syn::parse_quote!('static));
        param.default = None;
    }
    generics
}

fn serde_attrs(model: &Model) -> TokenStream {
    let ip = ip(model);
    let serde_path = quote!(#ip::serde).to_string();
    quote! {
        #[derive(#ip::serde::Serialize, #ip::serde::Deserialize)]
        #[serde(crate = #serde_path, bound = "")]
    }
}

fn doc(model: &Model) -> String {
    format!(
        "The partial of [`{}`] while it streams: every field optional, strings growing, \
         numbers, booleans and enums present only once complete.",
        model.ident
    )
}

fn struct_partial(model: &Model, fields: &[Field]) -> (TokenStream, TokenStream) {
    let ip = ip(model);
    let krate = &model.krate;
    let vis = &model.vis;
    let ident = &model.ident;
    let partial = &model.partial_ident;
    let generics = partial_generics(model);
    let (p_impl, p_ty, p_where) = generics.split_for_impl();
    let serde = serde_attrs(model);
    let doc = doc(model);
    let is_none = format!("{}::Option::is_none", quote!(#ip));

    let names: Vec<syn::Ident> = fields.iter().map(field_ident).collect();
    let defs = fields.iter().zip(&names).map(|(field, name)| {
        let ty = partial_type(field, krate);
        let wire = &field.wire;
        let aliases = &field.aliases;
        if field.flatten {
            quote! { #[serde(flatten)] pub #name: #ip::Option<#ty>, }
        } else {
            quote! {
                #[serde(rename = #wire, #(alias = #aliases,)* skip_serializing_if = #is_none)]
                pub #name: #ip::Option<#ty>,
            }
        }
    });
    let own = fields.iter().zip(&names).enumerate().filter(|(_, (f, _))| !f.flatten).map(|(index, (field, name))| {
        let index = index as u32;
        let wire = &field.wire;
        let aliases = &field.aliases;
        let sink = sink_type(field, krate);
        let apply = if field.stream_done {
            quote!(__ip::apply_done::<#sink>(&mut self.#name, __rest, __event, __scratch))
        } else {
            quote!(<#sink as __ip::HasPartial>::apply_slot(&mut self.#name, __rest, __event, __scratch))
        };
        let apply = if field.option_inner.is_some() {
            quote! {
                if __rest.is_empty() && __ip::Event::Null == *__event {
                    __ip::Ok(false)
                } else {
                    #apply
                }
            }
        } else {
            apply
        };
        quote! {
            #wire #(| #aliases)* => {
                let __changed = #apply?;
                let __completed = __rest.is_empty()
                    && __event.completes_value()
                    && self.__instructor_complete.set(#index);
                __ip::Ok(__changed || __completed)
            }
        }
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
                pub fn #method(&self) -> #ip::FieldState {
                    self.__instructor_complete.state(#index, self.#name.is_some())
                }
            }
        });
    let mark_fields = fields.iter().zip(&names).enumerate().map(|(index, (field, name))| {
        let index = index as u32;
        let sink = sink_type(field, krate);
        let recurse = if field.option_inner.is_some() || field.flatten {
            quote!(<#ip::Option<#sink> as __ip::HasPartial>::mark_complete(&mut __partial.#name);)
        } else {
            quote! {
                if let __ip::Some(__inner) = &mut __partial.#name {
                    <#sink as __ip::HasPartial>::mark_complete(__inner);
                }
            }
        };
        let set = (!field.flatten).then(|| quote! {
            if __partial.#name.is_some() {
                __partial.__instructor_complete.set(#index);
            }
        });
        quote!(#recurse #set)
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
        let rules = if field.skip_rules
            || !matches!(field.source, crate::model::FieldSource::Type)
            || field.rules.is_empty()
        {
            quote!()
        } else {
            let value = quote_spanned!(field.ty.span()=> __v);
            let checks = super::validate::rule_checks(&field.rules, value.clone());
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
        let wire = &field.wire;
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
    let (apply_new, apply_existing) = if model.stream_done {
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
            quote!(__ip::PartialSink::apply(
                __partial, __path, __event, __scratch
            )),
        )
    } else {
        (
            quote! {
                let _ = __scratch;
                __ip::struct_apply_new::<Self::Partial>(__path, __event)
            },
            quote!(__ip::PartialSink::apply(
                __partial, __path, __event, __scratch
            )),
        )
    };
    let flattened: Vec<_> = fields
        .iter()
        .zip(&names)
        .filter(|(f, _)| f.flatten)
        .map(|(field, name)| (sink_type(field, krate), name))
        .collect();
    let flatten_dispatch = flattened.iter().map(|(sink, name)| {
        quote! {
            if <#sink as __ip::HasPartial>::accepts_key(__other) {
                return __ip::flatten_apply::<#sink>(&mut self.#name, __path, __event, __scratch);
            }
        }
    });
    let wires: Vec<&String> = fields
        .iter()
        .filter(|f| !f.flatten)
        .flat_map(|f| std::iter::once(&f.wire).chain(&f.aliases))
        .collect();
    let flatten_accepts = flattened
        .iter()
        .map(|(sink, _)| quote!(|| <#sink as __ip::HasPartial>::accepts_key(__key)));
    let std_impls = std_impls_struct(model, &generics, &names);

    let definition = quote! {
        #[doc = #doc]
        #serde
        #[serde(default)]
        #vis struct #partial #p_impl #p_where {
            #(#defs)*
            /// Which fields are complete (see the `*_state` methods).
            #[serde(skip)]
            __instructor_complete: #ip::CompleteFields,
        }
    };
    let (impl_generics, ty_generics, where_clause) = impl_generics(model, quote!(__ip::HasPartial));
    let impls = quote! {
        #std_impls
        impl #p_impl __ip::PartialSink for #partial #p_ty #p_where {
            fn apply(
                &mut self,
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<bool, __ip::PartialError> {
                match __path.split_first() {
                    __ip::None => __ip::struct_self_event(__path, __event),
                    __ip::Some((__ip::PathSegment::Key(__key), __rest)) => match __key.as_str() {
                        #(#own)*
                        __other => {
                            let _ = (__other, __rest);
                            #(#flatten_dispatch)*
                            __ip::Ok(false)
                        }
                    },
                    __ip::Some(_) => __ip::Err(__ip::PartialError::mismatch(__path, "an object", __event)),
                }
            }
        }
        impl #impl_generics __ip::HasPartial for #ident #ty_generics #where_clause {
            type Partial = #partial #p_ty;

            fn accepts_key(__key: &str) -> bool {
                let _ = __key;
                false #(|| __key == #wires)* #(#flatten_accepts)*
            }

            fn mark_complete(__partial: &mut Self::Partial) {
                #(#mark_fields)*
            }

            fn validate_partial(
                __partial: &Self::Partial,
                __ctx: &__ip::Context,
                __path: &mut __ip::WirePath,
                __errors: &mut __ip::ValidationErrors,
            ) {
                let _ = (&__partial, &__ctx, &__path, &__errors);
                #(#partial_checks)*
            }

            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                #apply_new
            }

            fn apply_existing(
                __partial: &mut Self::Partial,
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<bool, __ip::PartialError> {
                #apply_existing
            }
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

fn field_ident(field: &Field) -> syn::Ident {
    match &field.member {
        syn::Member::Named(ident) => ident.clone(),
        syn::Member::Unnamed(index) => format_ident!("field_{}", index.index),
    }
}

/// Default, Clone, Debug and PartialEq written out: derives would demand them of the
/// type parameters instead of their partials.
fn std_impls_struct(model: &Model, generics: &syn::Generics, names: &[syn::Ident]) -> TokenStream {
    let partial = &model.partial_ident;
    let (p_impl, p_ty, p_where) = generics.split_for_impl();
    let partial_name = partial.to_string();
    quote! {
        impl #p_impl __ip::Default for #partial #p_ty #p_where {
            fn default() -> Self {
                Self { #(#names: __ip::None,)* __instructor_complete: __ip::Default::default() }
            }
        }
        impl #p_impl __ip::Clone for #partial #p_ty #p_where {
            fn clone(&self) -> Self {
                Self {
                    #(#names: __ip::Clone::clone(&self.#names),)*
                    __instructor_complete: self.__instructor_complete,
                }
            }
        }
        impl #p_impl __ip::fmt::Debug for #partial #p_ty #p_where {
            fn fmt(&self, __f: &mut __ip::fmt::Formatter<'_>) -> __ip::fmt::Result {
                __f.debug_struct(#partial_name)
                    #(.field(__ip::stringify!(#names), &self.#names))*
                    .finish()
            }
        }
        impl #p_impl ::core::cmp::PartialEq for #partial #p_ty #p_where {
            fn eq(&self, __other: &Self) -> bool {
                self.__instructor_complete == __other.__instructor_complete
                    #(&& self.#names == __other.#names)*
            }
        }
    }
}

/// Newtypes, transparent structs and unit structs: the partial is the inner value's.
fn delegate_partial(model: &Model, inner: TokenStream) -> (TokenStream, TokenStream) {
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

            fn accepts_key(__key: &str) -> bool {
                <#sink as __ip::HasPartial>::accepts_key(__key)
            }

            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                <#sink as __ip::HasPartial>::apply_new(__path, __event, __scratch)
            }

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

fn enum_partial(model: &Model, repr: &Repr, variants: &[Variant]) -> (TokenStream, TokenStream) {
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
    let impls = quote! {
        #std_impls
        impl #impl_generics __ip::HasPartial for #ident #ty_generics #where_clause {
            type Partial = #partial #p_ty;

            fn apply_new(
                __path: &[__ip::PathSegment],
                __event: &__ip::Event<'_>,
                __scratch: &mut __ip::Scratch,
            ) -> __ip::Result<__ip::Option<Self::Partial>, __ip::PartialError> {
                __ip::enum_apply_new::<Self, Self::Partial>(__path, __event, __scratch)
            }

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
fn mirror_field_type(field: &Field, krate: &syn::Path) -> TokenStream {
    let ip = quote!(#krate::__private);
    let inner = partial_type(field, krate);
    if field.option_inner.is_some() || (field.has_default && !field.flatten) {
        quote!(#ip::Option<#inner>)
    } else {
        inner
    }
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
    quote! {
        impl #p_impl __ip::Clone for #partial #p_ty #p_where {
            fn clone(&self) -> Self {
                match self { #(#clone_arms)* }
            }
        }
        impl #p_impl __ip::fmt::Debug for #partial #p_ty #p_where {
            fn fmt(&self, __f: &mut __ip::fmt::Formatter<'_>) -> __ip::fmt::Result {
                match self { #(#debug_arms)* }
            }
        }
        impl #p_impl ::core::cmp::PartialEq for #partial #p_ty #p_where {
            fn eq(&self, __other: &Self) -> bool {
                match (self, __other) { #(#eq_arms)* #fallback }
            }
        }
    }
}
