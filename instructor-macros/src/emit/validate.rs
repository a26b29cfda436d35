//! `impl Validate`: garde rules, custom validators and recursion into nested values,
//! with error paths in wire names.

use super::impl_generics;
use super::schema::{affix, length_mode, text_rule};
use crate::garde::{Rule, RuleKind};
use crate::model::{Body, Field, FieldSource, Model, Repr, VariantShape};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn emit(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let (impl_generics, ty_generics, where_clause) = impl_generics(model, quote!(__ip::Validate));
    let body = match &model.body {
        Body::Struct(fields) => {
            let checks = fields.iter().map(|field| {
                let member = &field.member;
                field_checks(field, quote!(&self.#member), false)
            });
            quote!(#(#checks)*)
        }
        Body::Transparent(field) => {
            let member = &field.member;
            field_checks(field, quote!(&self.#member), true)
        }
        Body::Unit => quote!(),
        Body::Enum { repr, variants } => {
            let arms = variants.iter().map(|variant| {
                let name = &variant.ident;
                let segment = match (repr, variant.untagged, &variant.shape) {
                    (_, _, VariantShape::Unit) | (_, true, _) => None,
                    (Repr::External, ..) => Some(variant.wire.clone()),
                    (Repr::Adjacent { content, .. }, ..) => Some(content.clone()),
                    (Repr::Internal { .. } | Repr::Untagged, ..) => None,
                };
                let (push, pop) = match segment {
                    Some(segment) => (quote!(__ip::key(__path, #segment);), quote!(__path.pop();)),
                    None => (quote!(), quote!()),
                };
                match &variant.shape {
                    VariantShape::Unit => quote!(Self::#name => {}),
                    VariantShape::Newtype(field) => {
                        let checks = field_checks(field, quote!(__v0), true);
                        quote!(Self::#name(__v0) => { #push #checks #pop })
                    }
                    VariantShape::Struct(fields) => {
                        let bindings: Vec<syn::Ident> = fields
                            .iter()
                            .enumerate()
                            .map(|(i, _)| format_ident!("__v{}", i))
                            .collect();
                        let members = fields.iter().map(|f| &f.member);
                        let checks = fields
                            .iter()
                            .zip(&bindings)
                            .map(|(field, binding)| field_checks(field, quote!(#binding), false));
                        quote!(Self::#name { #(#members: #bindings,)* .. } => { #push #(#checks)* #pop })
                    }
                }
            });
            quote! {
                #[allow(unreachable_patterns)]
                match self {
                    #(#arms)*
                    _ => {}
                }
            }
        }
    };
    let self_ty = quote!(#ident #ty_generics);
    let type_validators = model
        .validators
        .iter()
        .map(|check| custom_check(check, &self_ty, quote!(self)));
    let type_llm_checks = model
        .llm_checks
        .iter()
        .map(|check| llm_check(check, quote!(self)));
    quote! {
        impl #impl_generics __ip::Validate for #ident #ty_generics #where_clause {
            #[inline]
            fn validate_into(
                &self,
                __ctx: &__ip::Context,
                __path: &mut __ip::WirePath,
                __errors: &mut __ip::ValidationErrors,
            ) {
                let _ = (&__ctx, &__path, &__errors);
                #body
                #(#type_validators)*
                #(#type_llm_checks)*
            }
        }
    }
}

/// The checks of one field whose value is `value` (an expression of type `&FieldType`).
fn field_checks(field: &Field, value: TokenStream, at_parent: bool) -> TokenStream {
    // The value is spanned at the field's type, so a rule on the wrong type is
    // reported there (with the rule as the secondary span).
    let value_at_type = quote_spanned!(field.ty.span()=> __v);
    let rules = if field.skip_rules {
        quote!()
    } else {
        rule_checks(&field.rules, value_at_type.clone())
    };
    let recurse = matches!(field.source, FieldSource::Type)
        .then(|| quote!(__ip::Validate::validate_into(__v, __ctx, __path, __errors);));
    let field_ty = &field.ty;
    let custom = field
        .validators
        .iter()
        .map(|check| custom_check(check, &quote!(#field_ty), quote!(__v)));
    let llm = field
        .llm_checks
        .iter()
        .map(|check| llm_check(check, quote!(__v)));
    let wire = &field.wire;
    let at_parent = at_parent || field.flatten || is_transparent_member(field);
    if rules.is_empty() && field.validators.is_empty() && field.llm_checks.is_empty() {
        // The common case in one call: no rules, nothing to bind.
        return match (recurse.is_some(), at_parent) {
            (false, _) => quote!(),
            (true, true) => quote!(__ip::Validate::validate_into(#value, __ctx, __path, __errors);),
            (true, false) => quote!(__ip::validate_field(#value, #wire, __ctx, __path, __errors);),
        };
    }
    let (push, pop) = if at_parent {
        (quote!(), quote!())
    } else {
        (quote!(__ip::key(__path, #wire);), quote!(__path.pop();))
    };
    // The rules name the value by `value_at_type`, which has the type's hygiene (from a
    // `macro_rules!` argument, another than ours): bind it under that name too.
    quote! {{
        let __v = #value;
        let #value_at_type = __v;
        #push
        #rules
        #recurse
        #(#custom)*
        #(#llm)*
        #pop
    }}
}

/// `llm_validate`: notes the check for the extraction to make once the rules pass
/// (spanned at the statement, so that a value that cannot be shown to the model, not
/// `Serialize`, is reported there).
fn llm_check(check: &crate::attr::LlmValidate, value: TokenStream) -> TokenStream {
    let statement = &check.statement;
    let model = match &check.model {
        Some(model) => quote!(__ip::Some(#model)),
        None => quote!(__ip::None),
    };
    let allow_fix = check.allow_fix;
    let value: TokenStream = value
        .into_iter()
        .map(|mut token| {
            token.set_span(statement.span());
            token
        })
        .collect();
    quote_spanned! {statement.span()=>
        __ip::llm_check(#value, #statement, #model, #allow_fix, __ctx, __path);
    }
}

/// A call of a custom validator (a function or a closure) on `value` of type `ty`,
/// spanned at the attribute's expression, so that a validator of the wrong shape is
/// reported there. A function is called directly (its argument may be a deref of the
/// value's type: `&str` for a `String`); a closure is passed where its signature is
/// known, so that its argument types are inferred.
fn custom_check(
    check: &crate::attr::Validator,
    ty: &TokenStream,
    value: TokenStream,
) -> TokenStream {
    let expr = &check.0;
    // The value too, so that a wrong argument type is reported at the attribute.
    let value: TokenStream = value
        .into_iter()
        .map(|mut token| {
            token.set_span(expr.span());
            token
        })
        .collect();
    match expr {
        syn::Expr::Closure(_) => quote_spanned! {expr.span()=>
            __ip::custom_check::<#ty, _, _>(#expr, #value, __ctx, __path, __errors);
        },
        _ => quote_spanned! {expr.span()=>
            __ip::custom(#expr(#value, __ctx), #value, __path, __errors);
        },
    }
}

/// Newtype fields (`struct Email(String)`) sit at their parent's path.
fn is_transparent_member(field: &Field) -> bool {
    matches!(field.member, syn::Member::Unnamed(_))
}

pub fn rule_checks(rules: &[Rule], value: TokenStream) -> TokenStream {
    // The checks are spanned at their rule, so that a rule on the wrong type is reported
    // there; the locals they use keep the call-site hygiene of the fn that binds them
    // (a rule passed in through a `macro_rules!` argument has another).
    let (path_var, errors_var) = (quote!(__path), quote!(__errors));
    let checks = rules.iter().map(|rule| {
        let span = rule.span;
        match &rule.kind {
            RuleKind::Length { mode, min, max } => {
                let mode = length_mode(*mode);
                let min = opt(min, quote!(usize));
                let max = opt(max, quote!(usize));
                quote_spanned!(span=> __ip::rules::length(#value, #mode, #min, #max, #path_var, #errors_var);)
            }
            RuleKind::Range { min, max } => {
                let bound = |e: &Option<syn::Expr>| match e {
                    Some(e) => quote!(__ip::Some(__ip::rules::bound(#e))),
                    None => quote!(__ip::None),
                };
                let (min, max) = (bound(min), bound(max));
                quote_spanned!(span=> __ip::rules::range(#value, #min, #max, #path_var, #errors_var);)
            }
            RuleKind::Pattern(pattern) => quote_spanned! {span=> {
                static __INSTRUCTOR_PATTERN: __ip::rules::CachedRegex = __ip::rules::CachedRegex::new(#pattern);
                __ip::rules::pattern(#value, &__INSTRUCTOR_PATTERN, #path_var, #errors_var);
            }},
            RuleKind::Required => quote_spanned!(span=> __ip::rules::required(#value, #path_var, #errors_var);),
            RuleKind::Affix(kind, needle) => {
                let kind = affix(*kind);
                quote_spanned!(span=> __ip::rules::affix(#value, #kind, #needle, #path_var, #errors_var);)
            }
            RuleKind::Inner(inner) => {
                let inner = rule_checks(inner, quote!(__item));
                quote_spanned! {span=>
                    __ip::rules::Inner::for_each_inner(#value, &mut |__segment, __item| {
                        #path_var.push(__segment);
                        #inner
                        #path_var.pop();
                    });
                }
            }
            other => {
                let text_rule = text_rule(other);
                quote_spanned!(span=> __ip::rules::text(#value, #text_rule, #path_var, #errors_var);)
            }
        }
    });
    quote!(#(#checks)*)
}

fn opt(expr: &Option<syn::Expr>, ty: TokenStream) -> TokenStream {
    match expr {
        Some(e) => quote!(__ip::Some((#e) as #ty)),
        None => quote!(__ip::None),
    }
}
