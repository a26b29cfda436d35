//! Code generation from the checked model, split by artefact.

mod partial;
mod schema;
mod validate;

use crate::model::{self, Body, Model};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// Expands the derive: the checked model, or every error plus a stub impl so that the
/// user sees our messages and not a cascade of "trait not implemented".
pub fn expand(input: &syn::DeriveInput) -> TokenStream {
    match model::build(input) {
        Ok(model) => {
            let emitted = emit(&model);
            let threads = thread_safety(input, &model);
            quote! { #emitted #threads }
        }
        Err(failure) => {
            let errors = failure
                .errors
                .map(darling::Error::write_errors)
                .unwrap_or_default();
            if failure.stub {
                let stub = stub(input);
                quote! { #errors #stub }
            } else {
                errors
            }
        }
    }
}

/// The generated code stays small for the compiler: the common field (no rules, no
/// annotations) is one call into `__private` per artefact, and every non-generic method
/// of the impls is `#[inline]`, so that, like serde's generic impls, it becomes machine
/// code only in the crates that call it and not in every crate that derives.
fn emit(model: &Model) -> TokenStream {
    let krate = &model.krate;
    let schema_impl = schema::emit(model);
    let (partial_type, partial_impl) = partial::emit(model);
    let validate_impl = validate::emit(model);
    let extract_impl = extract_impl(model);
    let strict_checks = schema::strict_checks(model);
    quote! {
        #partial_type
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            use #krate::__private as __ip;
            #schema_impl
            #partial_impl
            #validate_impl
            #extract_impl
            #strict_checks
        };
    }
}

/// `Send`, `Sync` and `Unpin` for a non-generic type and its partial, proven field by
/// field.
///
/// The compiler proves an auto trait of a type by walking into every field, and the
/// fields of those fields, all the way down; each level of `Vec<Next>` costs about five
/// steps of its recursion limit. `Extract` needs `Send + Sync` of the type and of its
/// partial, so chains of about 26 derived structs nested through `Vec` used to stop
/// with "overflow evaluating the requirement". Here each type states the two traits
/// itself, so the proof of one level stops at the next level's explicit impl, and the
/// `const` below asks the compiler to prove them for every field of this level (all of
/// them, including fields serde skips), which is exactly the rule the compiler's own
/// impl would follow. `Unpin` is stated the same way (and checked the same way, so a
/// field that is not `Unpin` is an error at that field): release builds evaluate it
/// structurally for every `&mut` they optimize, and the same chains overflowed there
/// on `Unpin` once `Send` and `Sync` no longer did. Generic types keep the compiler's
/// impls: their bounds depend on the parameters.
///
/// The partial needs no proof of its own: each of its fields is an
/// `Option<<F as HasPartial>::Partial>`, whose `Send + Sync` the trait's bound on
/// `Partial` already demands of every impl, a `serde_json::Value`, the field states, or
/// (for tagged enums) a content struct made of the same. `Unpin` is a safe trait and
/// nothing pins a partial's fields, so stating it needs no proof either.
fn thread_safety(input: &syn::DeriveInput, model: &Model) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = &model.krate;
    let ident = &input.ident;
    let fields: Vec<&syn::Type> = match &input.data {
        syn::Data::Struct(data) => data.fields.iter().map(|f| &f.ty).collect(),
        syn::Data::Enum(data) => data
            .variants
            .iter()
            .flat_map(|v| v.fields.iter().map(|f| &f.ty))
            .collect(),
        syn::Data::Union(_) => return TokenStream::new(),
    };
    let partial_impls = partial::owns_type(model).then(|| {
        let partial = &model.partial_ident;
        quote! {
            // SAFETY: every field of the partial is `Send + Sync` by construction (see
            // above): `HasPartial` demands it of every `Partial`.
            unsafe impl #krate::__private::Send for #partial {}
            // SAFETY: as above.
            unsafe impl #krate::__private::Sync for #partial {}
            impl #krate::__private::Unpin for #partial {}
        }
    });
    quote! {
        // SAFETY: every field is checked below to be `Send + Sync`, which is the
        // condition under which the compiler would implement both itself.
        unsafe impl #krate::__private::Send for #ident {}
        // SAFETY: as above.
        unsafe impl #krate::__private::Sync for #ident {}
        impl #krate::__private::Unpin for #ident {}
        #partial_impls
        #[doc(hidden)]
        const _: () = {
            fn __auto_traits<T: ?#krate::__private::Sized + #krate::__private::Send + #krate::__private::Sync + #krate::__private::Unpin>() {}
            #[allow(dead_code)]
            fn __every_field() {
                #(__auto_traits::<#fields>();)*
            }
        };
    }
}

/// `impl<T: Extract> ... for Type<T>`: the generics of every impl, with each type
/// parameter bound by `bound`.
pub fn impl_generics(model: &Model, bound: TokenStream) -> (TokenStream, TokenStream, TokenStream) {
    let mut generics = model.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#bound));
        param.bounds.push(syn::parse_quote!('static));
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = model.generics.split_for_impl();
    (
        quote!(#impl_generics),
        quote!(#ty_generics),
        quote!(#where_clause),
    )
}

fn extract_impl(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let (impl_generics, ty_generics, where_clause) =
        impl_generics(model, quote!(__ip::ExtractField));
    let named = !matches!(model.body, Body::Transparent(_) | Body::Unit);
    // The name is a literal unless it depends on the type parameters.
    let name = match &model.tool_name {
        Some(name) => quote!(__ip::Cow::Borrowed(#name)),
        None if named && !model.type_params().is_empty() => {
            let ident_str = ident.to_string();
            quote! {
                match <Self as __ip::ExtractSchema>::schema_name() {
                    __ip::Some(name) => name,
                    __ip::None => __ip::Cow::Borrowed(#ident_str),
                }
            }
        }
        None if named => {
            let name = &model.schema_name;
            quote!(__ip::Cow::Borrowed(#name))
        }
        None => {
            let ident_str = ident.to_string();
            quote!(__ip::Cow::Borrowed(#ident_str))
        }
    };
    // The trait's default says `None`.
    let description = model.description.as_ref().map(|text| {
        quote! {
            #[inline]
            fn description() -> __ip::Option<__ip::Cow<'static, str>> {
                __ip::Some(__ip::Cow::Borrowed(#text))
            }
        }
    });
    quote! {
        impl #impl_generics __ip::Extract for #ident #ty_generics #where_clause {
            #[inline]
            fn name() -> __ip::Cow<'static, str> {
                #name
            }
            #description
        }
    }
}

/// Impls that keep the rest of the program type-checking when the derive failed.
fn stub(input: &syn::DeriveInput) -> TokenStream {
    let krate = crate::attr::crate_path(input).unwrap_or_else(|| syn::parse_quote!(::instructor));
    let ident = &input.ident;
    let partial = quote::format_ident!("Partial{}", ident);
    let vis = &input.vis;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let span = ident.span();
    quote_spanned! {span=>
        #[allow(dead_code)]
        #vis type #partial = ();
        const _: () = {
            use #krate::__private as __ip;
            impl #impl_generics __ip::ExtractSchema for #ident #ty_generics #where_clause {
                fn schema(_: &mut __ip::SchemaGenerator) -> __ip::Schema {
                    __ip::Default::default()
                }
            }
            impl #impl_generics __ip::HasPartial for #ident #ty_generics #where_clause {
                type Partial = ();
                fn apply_new(_: &[__ip::PathSegment], _: &__ip::Event<'_>, _: &mut __ip::Scratch)
                    -> __ip::Result<__ip::Option<()>, __ip::PartialError> { __ip::Ok(__ip::None) }
                fn apply_existing(_: &mut (), _: &[__ip::PathSegment], _: &__ip::Event<'_>, _: &mut __ip::Scratch)
                    -> __ip::Result<bool, __ip::PartialError> { __ip::Ok(false) }
            }
            impl #impl_generics __ip::Validate for #ident #ty_generics #where_clause {
                fn validate_into(&self, _: &__ip::Context, _: &mut __ip::WirePath, _: &mut __ip::ValidationErrors) {}
            }
            impl #impl_generics __ip::Extract for #ident #ty_generics #where_clause {
                fn name() -> __ip::Cow<'static, str> { __ip::Cow::Borrowed("") }
            }
        };
    }
}
