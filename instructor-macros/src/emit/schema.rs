//! `impl ExtractSchema`: the schema as calls into core's IR builders.

use super::impl_generics;
use crate::garde::{Affix, IpKind, LengthMode, Rule, RuleKind};
use crate::model::{Body, Field, FieldSource, Model, Repr, Variant, VariantShape};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub fn emit(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let (impl_generics, ty_generics, where_clause) =
        impl_generics(model, quote!(__ip::ExtractSchema));
    let body = match &model.body {
        Body::Struct(fields) => struct_body(fields, model.deny_unknown_fields),
        Body::Transparent(field) => field_schema(field),
        Body::Unit => quote!(__ip::Schema::new(__ip::SchemaKind::Null)),
        Body::Enum { repr, variants } => enum_body(repr, variants, model.deny_unknown_fields),
    };
    let describe = model
        .description
        .as_deref()
        .map(|d| quote!(__ip::describe_type(&mut __schema, #d);));
    let annotate = annotations(
        quote!(__schema),
        None,
        model.title.as_deref(),
        &model.examples,
    );
    let schema_name = schema_name(model);
    let may_be_missing = match &model.body {
        Body::Transparent(field)
            if model.transparent && matches!(field.source, FieldSource::Type) =>
        {
            let ty = &field.ty;
            quote!(const MAY_BE_MISSING: bool = <#ty as __ip::ExtractSchema>::MAY_BE_MISSING;)
        }
        // The trait's default.
        _ => quote!(),
    };
    quote! {
        impl #impl_generics __ip::ExtractSchema for #ident #ty_generics #where_clause {
            #schema_name
            #[inline]
            fn schema(__gen: &mut __ip::SchemaGenerator) -> __ip::Schema {
                let mut __schema = #body;
                #describe
                #annotate
                __schema
            }
            #may_be_missing
        }
    }
}

/// Named types (structs and enums) go to `$defs`; newtypes and unit structs are inlined
/// where they are used, like the values they wrap (the trait's default: no name).
fn schema_name(model: &Model) -> TokenStream {
    if matches!(model.body, Body::Transparent(_) | Body::Unit) {
        return quote!();
    }
    let name = &model.schema_name;
    let params = model.type_params();
    let value = if params.is_empty() {
        quote!(__ip::Some(__ip::Cow::Borrowed(#name)))
    } else {
        quote!(__ip::Some(__ip::generic_name(#name, &[#(__ip::type_label::<#params>()),*])))
    };
    quote! {
        #[inline]
        fn schema_name() -> __ip::Option<__ip::Cow<'static, str>> {
            #value
        }
    }
}

fn struct_body(fields: &[Field], deny_unknown_fields: bool) -> TokenStream {
    let properties = fields.iter().map(property);
    quote! {{
        let mut __obj = __ip::ObjectBuilder::new();
        #(#properties)*
        __obj.build(#deny_unknown_fields)
    }}
}

fn property(field: &Field) -> TokenStream {
    let schema = field_schema(field);
    let ty = &field.ty;
    let may_be_missing = match field.source {
        FieldSource::Type => quote!(<#ty as __ip::ExtractSchema>::MAY_BE_MISSING),
        _ => quote!(false),
    };
    if field.flatten {
        return quote! {{
            let __s = #schema;
            __obj.flatten(__gen, __s, #may_be_missing);
        }};
    }
    let wire = &field.wire;
    let aliases = &field.aliases;
    let has_default = field.has_default;
    let plain = field.rules.is_empty()
        && field.description.is_none()
        && field.title.is_none()
        && field.examples.is_empty();
    if plain && matches!(field.source, FieldSource::Type) {
        // The common case in one call; spanned at the type like `field_schema`.
        let call = quote_spanned!(ty.span()=> field::<#ty>);
        return quote!(__obj.#call(__gen, #wire, &[#(#aliases),*], #has_default););
    }
    let required_rule = field
        .rules
        .iter()
        .any(|r| matches!(r.kind, RuleKind::Required));
    quote! {
        __obj.property(#wire, #schema, #required_rule || (!#has_default && !#may_be_missing));
        __obj.aliases(#wire, &[#(#aliases),*]);
    }
}

/// The schema of one field: its type's (or the override's), its annotations, and its
/// garde rules as keywords.
pub fn field_schema(field: &Field) -> TokenStream {
    let ty = &field.ty;
    let base = match &field.source {
        FieldSource::Type => {
            // Only the call is spanned at the type, so that a type without a schema is
            // reported there; `__gen` keeps the call-site hygiene of the fn that binds
            // it (a type passed in through a `macro_rules!` argument has another).
            let call = quote_spanned!(ty.span()=> subschema_for::<#ty>);
            quote!(__gen.#call())
        }
        FieldSource::SchemaWith(path) => quote_spanned!(path.span()=> #path(__gen)),
        FieldSource::Schemars => quote_spanned!(ty.span()=> __ip::schemars_schema::<#ty>()),
    };
    let annotate = annotations(
        quote!(__s),
        field.description.as_deref(),
        field.title.as_deref(),
        &field.examples,
    );
    let rules = rules_to_schema(&field.rules, quote!(__s));
    quote! {{
        let mut __s: __ip::Schema = #base;
        #annotate
        #rules
        __s
    }}
}

fn annotations(
    target: TokenStream,
    description: Option<&str>,
    title: Option<&str>,
    examples: &[syn::Lit],
) -> TokenStream {
    let description = description.map(|d| quote!(__ip::describe(&mut #target, #d);));
    let title = title.map(|t| quote!(__ip::set_title(&mut #target, #t);));
    let examples = examples
        .iter()
        .map(|lit| quote!(__ip::add_example(&mut #target, __ip::serde_json::json!(#lit));));
    quote! { #description #title #(#examples)* }
}

fn opt_usize(expr: &Option<syn::Expr>) -> TokenStream {
    match expr {
        Some(e) => quote!(__ip::Some((#e) as usize)),
        None => quote!(__ip::None),
    }
}

fn opt_bound(expr: &Option<syn::Expr>) -> TokenStream {
    match expr {
        Some(e) => quote!(__ip::Some(__ip::rules::bound(#e))),
        None => quote!(__ip::None),
    }
}

/// garde rules as schema keywords on `target` (a `Schema` of type `ty`).
fn rules_to_schema(rules: &[Rule], target: TokenStream) -> TokenStream {
    let steps = rules.iter().map(|rule| {
        let span = rule.span;
        match &rule.kind {
            RuleKind::Length { min, max, .. } => {
                let (min, max) = (opt_usize(min), opt_usize(max));
                quote_spanned!(span=> __ip::rules::schema_length(&mut #target, #min, #max);)
            }
            RuleKind::Range { min, max } => {
                let (min, max) = (opt_bound(min), opt_bound(max));
                quote_spanned!(span=> __ip::rules::schema_range(&mut #target, #min, #max);)
            }
            RuleKind::Pattern(pattern) => {
                quote_spanned!(span=> __ip::rules::schema_pattern(&mut #target, #pattern);)
            }
            RuleKind::Required => {
                quote_spanned!(span=> __ip::rules::schema_required(&mut #target);)
            }
            RuleKind::Affix(kind, needle) => {
                let kind = affix(*kind);
                quote_spanned!(span=> __ip::rules::schema_affix(&mut #target, #kind, #needle);)
            }
            RuleKind::Inner(inner) => {
                let inner = rules_to_schema(inner, quote!(*__inner));
                quote_spanned! {span=>
                    if let __ip::Some(__inner) = __ip::rules::schema_inner(&mut #target) {
                        #inner
                    }
                }
            }
            other => {
                let text_rule = text_rule(other);
                quote_spanned!(span=> __ip::rules::schema_text(&mut #target, #text_rule);)
            }
        }
    });
    quote!(#(#steps)*)
}

/// The `TextRule` of a rule that takes no argument.
pub fn text_rule(kind: &RuleKind) -> TokenStream {
    match kind {
        RuleKind::Email => quote!(__ip::rules::TextRule::Email),
        RuleKind::Url => quote!(__ip::rules::TextRule::Url),
        RuleKind::Ascii => quote!(__ip::rules::TextRule::Ascii),
        RuleKind::Alphanumeric => quote!(__ip::rules::TextRule::Alphanumeric),
        RuleKind::Ip(IpKind::Any) => quote!(__ip::rules::TextRule::Ip),
        RuleKind::Ip(IpKind::V4) => quote!(__ip::rules::TextRule::Ipv4),
        RuleKind::Ip(IpKind::V6) => quote!(__ip::rules::TextRule::Ipv6),
        _ => quote!(),
    }
}

pub fn affix(kind: Affix) -> TokenStream {
    match kind {
        Affix::Contains => quote!(__ip::rules::Affix::Contains),
        Affix::Prefix => quote!(__ip::rules::Affix::Prefix),
        Affix::Suffix => quote!(__ip::rules::Affix::Suffix),
    }
}

pub fn length_mode(mode: LengthMode) -> TokenStream {
    match mode {
        LengthMode::Simple => quote!(__ip::rules::LengthMode::Simple),
        LengthMode::Bytes => quote!(__ip::rules::LengthMode::Bytes),
        LengthMode::Chars => quote!(__ip::rules::LengthMode::Chars),
    }
}

fn enum_body(repr: &Repr, variants: &[Variant], deny_unknown_fields: bool) -> TokenStream {
    let repr = match repr {
        Repr::External => quote!(__ip::EnumRepr::External),
        Repr::Internal { tag } => quote!(__ip::EnumRepr::Internal { tag: #tag }),
        Repr::Adjacent { tag, content } => {
            quote!(__ip::EnumRepr::Adjacent { tag: #tag, content: #content })
        }
        Repr::Untagged => quote!(__ip::EnumRepr::Untagged),
    };
    let variants = variants.iter().map(|variant| {
        let wire = &variant.wire;
        let aliases = &variant.aliases;
        let description = variant.description.clone().unwrap_or_default();
        let untagged = variant.untagged;
        let other = variant.other;
        let content_optional = match &variant.shape {
            VariantShape::Newtype(field) if matches!(field.source, FieldSource::Type) => {
                let ty = &field.ty;
                quote!(<#ty as __ip::ExtractSchema>::MAY_BE_MISSING)
            }
            _ => quote!(false),
        };
        let content = match &variant.shape {
            VariantShape::Unit => quote!(__ip::VariantContent::Unit),
            VariantShape::Newtype(field) => {
                let schema = field_schema(field);
                quote!(__ip::VariantContent::Newtype(#schema))
            }
            VariantShape::Struct(fields) => {
                let body = struct_body(fields, deny_unknown_fields);
                quote!(__ip::VariantContent::Struct(#body))
            }
        };
        let title = variant.title.as_deref().map(|t| {
            quote!(if let __ip::VariantContent::Struct(s) | __ip::VariantContent::Newtype(s) = &mut __content { __ip::set_title(s, #t); })
        });
        quote! {{
            #[allow(unused_mut)]
            let mut __content = #content;
            #title
            __ip::VariantSchema {
                name: #wire,
                aliases: &[#(#aliases),*],
                description: #description,
                content: __content,
                untagged: #untagged,
                other: #other,
                content_optional: #content_optional,
            }
        }}
    });
    quote! {{
        let __variants = __ip::Vec::from([#(#variants),*]);
        __ip::enum_schema(__gen, #repr, #deny_unknown_fields, __variants)
    }}
}

/// `#[extract(strict)]`: every field's type must be `StrictSchema` (checked where the
/// field is written, so the error points at it), and the type becomes `StrictSchema`.
pub fn strict_checks(model: &Model) -> TokenStream {
    if !model.strict {
        return quote!();
    }
    let ident = &model.ident;
    let (impl_generics, ty_generics, where_clause) =
        super::impl_generics(model, quote!(__ip::StrictSchema));
    let checks = model
        .fields()
        .into_iter()
        .filter(|f| matches!(f.source, FieldSource::Type) && !model.mentions_type_param(&f.ty))
        .map(|field| {
            let ty = &field.ty;
            quote_spanned!(ty.span()=> __ip::assert_strict::<#ty>();)
        });
    quote! {
        const _: fn() = || { #(#checks)* };
        impl #impl_generics __ip::StrictSchema for #ident #ty_generics #where_clause {}
    }
}
