//! Checks across fields and of the syntax, reported beside attribute errors.

use crate::attr::StreamPolicy;
use crate::model::{Body, Model};
use crate::types::{MAP_TYPES, STRING_KEYS, generic_args, walk_types};

/// Shapes no schema can describe faithfully: non-string map keys (reported at the key
/// type), and tuples (positional fields).
pub fn unsupported_types(input: &syn::DeriveInput, errors: &mut darling::error::Accumulator) {
    let field_types: Vec<&syn::Type> = match &input.data {
        syn::Data::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
        syn::Data::Enum(e) => e
            .variants
            .iter()
            .flat_map(|v| v.fields.iter().map(|f| &f.ty))
            .collect(),
        syn::Data::Union(_) => Vec::new(),
    };
    for ty in field_types {
        walk_types(ty, &mut |inner| {
            if let Some(args) = generic_args(inner, MAP_TYPES)
                && let Some(key) = args.first()
            {
                let is_string = matches!(key, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| STRING_KEYS.iter().any(|k| s.ident == k)));
                if !is_string {
                    errors.push(
                            darling::Error::custom(
                                "map keys must be strings: JSON object keys are strings, and a model writes them as such; use `String` keys or a `Vec` of key/value structs",
                            )
                            .with_span(key),
                        );
                }
            }
            if let syn::Type::Tuple(tuple) = inner
                && !tuple.elems.is_empty()
            {
                errors.push(
                        darling::Error::custom(
                            "tuples are not supported in extracted types: a model fills named fields far more reliably than positions; use a struct",
                        )
                        .with_span(inner),
                    );
            }
        });
    }
}

/// `#[extract(strict)]`: what we can see in the syntax (maps, `Value`, recursion) is a
/// compile error here, spanned at the field; nested types must be `StrictSchema`
/// (checked by the emitted code).
pub fn strict(model: &Model, errors: &mut darling::error::Accumulator) {
    for field in model.fields() {
        walk_types(&field.ty, &mut |inner| {
            if generic_args(inner, MAP_TYPES).is_some() {
                errors.push(
                    darling::Error::custom(format!(
                        "`{}` is marked #[extract(strict)], but field `{}` is a map: OpenAI strict mode and Gemini `responseSchema` need a fixed set of keys; use a `Vec` of key/value structs",
                        model.ident, field.wire
                    ))
                    .with_span(inner),
                );
            }
            if let syn::Type::Path(p) = inner {
                let last = p.path.segments.last();
                if last.is_some_and(|s| s.ident == "Value") {
                    errors.push(
                        darling::Error::custom(format!(
                            "`{}` is marked #[extract(strict)], but field `{}` is a free-form JSON value: strict dialects need every value's shape",
                            model.ident, field.wire
                        ))
                        .with_span(inner),
                    );
                }
                if last.is_some_and(|s| s.ident == model.ident) || p.path.is_ident("Self") {
                    errors.push(
                        darling::Error::custom(format!(
                            "`{}` is marked #[extract(strict)], but field `{}` makes it recursive: Gemini `responseSchema` and Anthropic structured outputs cannot express recursion",
                            model.ident, field.wire
                        ))
                        .with_span(inner),
                    );
                }
            }
        });
    }
}

/// `#[extract(stream(...))]`: `done` on structs, `required` on fields of structs.
pub fn stream_policies(
    model: &Model,
    policy: Option<&darling::util::SpannedValue<StreamPolicy>>,
    errors: &mut darling::error::Accumulator,
) {
    if let Some(policy) = policy {
        if policy.required || !policy.done {
            errors.push(
                darling::Error::custom(
                    "on a type, write `stream(done)`; `stream(required)` belongs on a field",
                )
                .with_span(&policy.span()),
            );
        }
        if !matches!(model.body, Body::Struct(_)) {
            errors.push(
                darling::Error::custom(
                    "`stream(done)` on a type is for structs; to show an enum only whole, put `stream(done)` on the field that holds it",
                )
                .with_span(&policy.span()),
            );
        }
    }
    let required_outside_structs = match &model.body {
        Body::Struct(_) => false,
        _ => model.fields().iter().any(|f| f.stream_required),
    };
    if required_outside_structs {
        errors.push(
            darling::Error::custom("`stream(required)` is for fields of structs")
                .with_span(&model.ident),
        );
    }
}
