//! The checked model: serde's reading of the type (through `serde_derive_internals`,
//! so names, tags and defaults mean exactly what serde makes them mean), our
//! `#[extract]` attributes and the garde rules. Codegen only sees this.

use crate::attr::{self, ContainerAttrs, FieldAttrs, VariantAttrs};
use crate::garde::{self, Rule};
use crate::{check, types};
use darling::FromDeriveInput;
use proc_macro2::Span;
use serde_derive_internals::{Ctxt, Derive, ast, attr as serde_attr};
use syn::spanned::Spanned;

pub struct Model {
    pub ident: syn::Ident,
    pub vis: syn::Visibility,
    pub generics: syn::Generics,
    pub krate: syn::Path,
    /// Definition name (the serde name of the type).
    pub schema_name: String,
    /// Tool / function name override.
    pub tool_name: Option<String>,
    pub description: Option<String>,
    pub title: Option<String>,
    pub examples: Vec<syn::Lit>,
    pub partial_ident: syn::Ident,
    pub strict: bool,
    pub validators: Vec<crate::attr::Validator>,
    pub llm_checks: Vec<crate::attr::LlmValidate>,
    pub deny_unknown_fields: bool,
    /// `#[extract(stream(done))]` on the type: its partial is shown only whole.
    pub stream_done: bool,
    /// `#[serde(transparent)]` (a plain newtype is not: serde reads it as its own value,
    /// so a missing field is an error even when the inner type is an `Option`).
    pub transparent: bool,
    pub body: Body,
}

pub enum Body {
    /// Named-field struct.
    Struct(Vec<Field>),
    /// Newtype struct or `#[serde(transparent)]`: the wire shape is the one field's.
    Transparent(Box<Field>),
    /// Unit struct: `null` on the wire.
    Unit,
    Enum {
        repr: Repr,
        variants: Vec<Variant>,
    },
}

#[derive(Clone)]
pub enum Repr {
    External,
    Internal { tag: String },
    Adjacent { tag: String, content: String },
    Untagged,
}

pub struct Field {
    pub member: syn::Member,
    pub ty: syn::Type,
    /// The `T` of a syntactic `Option<T>`, whose partial is flattened to one `Option`.
    pub option_inner: Option<syn::Type>,
    pub wire: String,
    pub aliases: Vec<String>,
    /// The field has a serde default (its own or the container's).
    pub has_default: bool,
    pub flatten: bool,
    pub description: Option<String>,
    pub title: Option<String>,
    pub examples: Vec<syn::Lit>,
    pub source: FieldSource,
    pub validators: Vec<crate::attr::Validator>,
    pub llm_checks: Vec<crate::attr::LlmValidate>,
    pub rules: Vec<Rule>,
    /// `#[garde(skip)]`: the field's own rules do not run.
    pub skip_rules: bool,
    /// `#[extract(stream(done))]`: shown only once complete.
    pub stream_done: bool,
    /// `#[extract(stream(required))]`: the parent shows only once this is complete.
    pub stream_required: bool,
}

/// Where a field's schema and partial come from.
pub enum FieldSource {
    /// The field type's own `ExtractSchema` / `HasPartial` / `Validate`.
    Type,
    /// `#[extract(schema_with = path)]`.
    SchemaWith(syn::Path),
    /// `#[extract(schemars)]`.
    Schemars,
}

pub struct Variant {
    pub ident: syn::Ident,
    pub wire: String,
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub title: Option<String>,
    pub untagged: bool,
    pub other: bool,
    pub shape: VariantShape,
}

pub enum VariantShape {
    Unit,
    Newtype(Box<Field>),
    Struct(Vec<Field>),
}

/// Why the derive produced no model.
pub struct Failure {
    /// `None` when the only errors are serde's own.
    pub errors: Option<darling::Error>,
    /// Whether to emit stub impls beside the errors. Not when serde itself failed (or
    /// the shape is one serde refuses): serde's derive reports that, and a stub would
    /// only add "`Deserialize` is not implemented" noise.
    pub stub: bool,
}

/// Everything we read, or every error we found (all at once).
pub fn build(input: &syn::DeriveInput) -> Result<Model, Failure> {
    if let syn::Data::Union(union) = &input.data {
        return Err(Failure {
            errors: Some(
                darling::Error::custom(
                    "unions are not supported: a model answers with JSON, which has no unions of memory; use a struct or an enum",
                )
                .with_span(&union.union_token),
            ),
            stub: false,
        });
    }
    let mut errors = darling::Error::accumulator();
    let container = errors.handle(ContainerAttrs::from_derive_input(input));
    // Shape mistakes are found from the syntax alone, so they are reported together
    // with attribute mistakes.
    check::unsupported_types(input, &mut errors);

    // serde's reading. Its own errors are serde's to report (its derive runs too).
    let cx = Ctxt::new();
    let private = syn::Ident::new("__private", Span::call_site());
    let serde_container = ast::Container::from_ast(&cx, input, Derive::Deserialize, &private);
    if cx.check().is_err() {
        return Err(Failure {
            errors: errors.finish().err(),
            stub: false,
        });
    }
    let (Some(container), Some(serde_container)) = (container, serde_container) else {
        return Err(Failure {
            errors: Some(errors.finish().err().unwrap_or_else(|| {
                darling::Error::custom("`#[derive(Extract)]` could not read this type")
                    .with_span(&input.ident)
            })),
            stub: true,
        });
    };

    if let Some(source) = serde_container
        .attrs
        .type_from()
        .or(serde_container.attrs.type_try_from())
    {
        errors.push(
            darling::Error::custom(
                "`#[serde(from/try_from)]` makes the wire shape another type's: derive `Extract` on that type, extract it, then convert",
            )
            .with_span(source),
        );
    }

    let krate = container
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::instructor));
    let sattrs = &serde_container.attrs;
    let container_default = !sattrs.default().is_none();
    let body = match (&serde_container.data, &container.data) {
        (ast::Data::Struct(style, fields), darling::ast::Data::Struct(ours)) => build_struct(
            *style,
            fields,
            &ours.fields,
            sattrs.transparent(),
            container_default,
            &mut errors,
        ),
        (ast::Data::Enum(variants), darling::ast::Data::Enum(ours)) => {
            let repr = match sattrs.tag() {
                serde_attr::TagType::External => Repr::External,
                serde_attr::TagType::Internal { tag } => Repr::Internal { tag: tag.clone() },
                serde_attr::TagType::Adjacent { tag, content } => Repr::Adjacent {
                    tag: tag.clone(),
                    content: content.clone(),
                },
                serde_attr::TagType::None => Repr::Untagged,
            };
            let variants = variants
                .iter()
                .zip(ours)
                .filter(|(v, _)| !v.attrs.skip_deserializing())
                .filter_map(|(v, ours)| build_variant(v, ours, &mut errors))
                .collect();
            Body::Enum { repr, variants }
        }
        _ => Body::Unit,
    };

    let validators = container.validate.clone();
    let description = container
        .description
        .clone()
        .or_else(|| attr::doc_text(&container.attrs));
    let mut examples = container.examples.0.clone();
    examples.extend(container.example.clone());
    let partial_ident = container
        .partial
        .clone()
        .unwrap_or_else(|| quote::format_ident!("Partial{}", input.ident));
    let model = Model {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        generics: input.generics.clone(),
        krate,
        schema_name: sattrs.name().deserialize_name().value.clone(),
        tool_name: container.rename.clone(),
        description,
        title: container.title.clone(),
        examples,
        partial_ident,
        strict: container.strict,
        validators,
        llm_checks: container.llm_validate.clone(),
        deny_unknown_fields: sattrs.deny_unknown_fields(),
        stream_done: container.stream.as_ref().is_some_and(|p| p.done),
        transparent: sattrs.transparent(),
        body,
    };
    if model.strict {
        check::strict(&model, &mut errors);
    }
    check::stream_policies(&model, container.stream.as_ref(), &mut errors);
    errors.finish_with(model).map_err(|errors| Failure {
        errors: Some(errors),
        stub: true,
    })
}

fn build_struct(
    style: ast::Style,
    fields: &[ast::Field<'_>],
    ours: &[FieldAttrs],
    transparent: bool,
    container_default: bool,
    errors: &mut darling::error::Accumulator,
) -> Body {
    let kept: Vec<Field> = fields
        .iter()
        .zip(ours)
        .filter(|(f, _)| !f.attrs.skip_deserializing())
        .filter_map(|(f, ours)| build_field(f, ours, container_default, errors))
        .collect();
    match style {
        ast::Style::Struct if transparent => match kept.into_iter().next() {
            Some(field) => Body::Transparent(Box::new(field)),
            None => Body::Unit,
        },
        ast::Style::Struct => Body::Struct(kept),
        ast::Style::Newtype => match kept.into_iter().next() {
            Some(field) => Body::Transparent(Box::new(field)),
            None => Body::Unit,
        },
        ast::Style::Tuple => {
            errors.push(
                darling::Error::custom(
                    "tuple structs with several fields are not supported: a model fills named fields far more reliably than positions; use named fields",
                )
                .with_span(&fields.get(1).map_or_else(Span::call_site, |f| f.original.span())),
            );
            Body::Unit
        }
        ast::Style::Unit => Body::Unit,
    }
}

fn build_field(
    field: &ast::Field<'_>,
    ours: &FieldAttrs,
    container_default: bool,
    errors: &mut darling::error::Accumulator,
) -> Option<Field> {
    let fattrs = &field.attrs;
    let garde_rules = garde::field_rules(&ours.attrs, errors);
    if cfg!(not(feature = "garde"))
        && let Some(span) = garde_rules.first_span
    {
        errors.push(
            darling::Error::custom(
                "`#[garde]` rules need the `garde` feature of instructor (on by default)",
            )
            .with_span(&span),
        );
    }
    let source = match (&ours.schema_with, ours.schemars) {
        (Some(path), true) => {
            errors.push(
                darling::Error::custom("use either `schema_with` or `schemars`, not both")
                    .with_span(path),
            );
            FieldSource::Type
        }
        (Some(path), false) => FieldSource::SchemaWith(path.clone()),
        (None, true) => {
            if cfg!(not(feature = "schemars")) {
                errors.push(
                    darling::Error::custom(
                        "`#[extract(schemars)]` needs the `schemars` feature of instructor",
                    )
                    .with_span(&field.original.ty),
                );
            }
            FieldSource::Schemars
        }
        (None, false) => {
            if let Some(with) = fattrs.deserialize_with() {
                errors.push(custom_deserializer(with));
            }
            FieldSource::Type
        }
    };
    if let Some(policy) = &ours.stream {
        if policy.done && policy.required {
            errors.push(
                darling::Error::custom(
                    "use `stream(done)` or `stream(required)`, not both: a required field is shown as it streams once present",
                )
                .with_span(&policy.span()),
            );
        }
        if !policy.done && !policy.required {
            errors.push(
                darling::Error::custom("write `stream(done)` or `stream(required)`")
                    .with_span(&policy.span()),
            );
        }
    }
    let mut examples = ours.examples.0.clone();
    examples.extend(ours.example.clone());
    Some(Field {
        member: field.member.clone(),
        ty: field.ty.clone(),
        option_inner: types::option_inner(field.ty),
        wire: fattrs.name().deserialize_name().value.clone(),
        aliases: fattrs
            .aliases()
            .iter()
            .map(|a| a.value.clone())
            .filter(|a| *a != fattrs.name().deserialize_name().value)
            .collect(),
        has_default: container_default || !fattrs.default().is_none(),
        flatten: fattrs.flatten(),
        description: ours
            .description
            .clone()
            .or_else(|| attr::doc_text(&ours.attrs)),
        title: ours.title.clone(),
        examples,
        source,
        validators: ours.validate.clone(),
        llm_checks: ours.llm_validate.clone(),
        rules: garde_rules.rules,
        skip_rules: garde_rules.skip,
        stream_done: ours.stream.as_ref().is_some_and(|p| p.done),
        stream_required: ours.stream.as_ref().is_some_and(|p| p.required),
    })
}

/// A field or variant read by a custom function has a wire shape we cannot know.
fn custom_deserializer(with: &syn::ExprPath) -> darling::Error {
    let name = with
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    darling::Error::custom(format!(
        "this is deserialized by `{name}`, so its wire shape is not its type's: describe it with `#[extract(schema_with = path)]` or `#[extract(schemars)]`"
    ))
    .with_span(with)
}

fn build_variant(
    variant: &ast::Variant<'_>,
    ours: &VariantAttrs,
    errors: &mut darling::error::Accumulator,
) -> Option<Variant> {
    let vattrs = &variant.attrs;
    if let Some(with) = vattrs.deserialize_with() {
        errors.push(custom_deserializer(with));
    }
    let shape = match variant.style {
        ast::Style::Unit => VariantShape::Unit,
        ast::Style::Newtype => VariantShape::Newtype(Box::new(build_field(
            &variant.fields[0],
            &ours.fields.fields[0],
            false,
            errors,
        )?)),
        ast::Style::Struct => VariantShape::Struct(
            variant
                .fields
                .iter()
                .zip(&ours.fields.fields)
                .filter(|(f, _)| !f.attrs.skip_deserializing())
                .filter_map(|(f, o)| build_field(f, o, false, errors))
                .collect(),
        ),
        ast::Style::Tuple => {
            errors.push(
                darling::Error::custom(
                    "tuple variants with several fields are not supported: use a struct variant with named fields",
                )
                .with_span(&variant.original.fields),
            );
            return None;
        }
    };
    Some(Variant {
        ident: variant.ident.clone(),
        wire: vattrs.name().deserialize_name().value.clone(),
        aliases: vattrs
            .aliases()
            .iter()
            .map(|a| a.value.clone())
            .filter(|a| *a != vattrs.name().deserialize_name().value)
            .collect(),
        description: ours
            .description
            .clone()
            .or_else(|| attr::doc_text(&ours.attrs)),
        title: ours.title.clone(),
        untagged: vattrs.untagged(),
        other: vattrs.other(),
        shape,
    })
}

impl Model {
    /// Every field of the type, in every variant.
    pub fn fields(&self) -> Vec<&Field> {
        match &self.body {
            Body::Struct(fields) => fields.iter().collect(),
            Body::Transparent(field) => vec![field],
            Body::Unit => Vec::new(),
            Body::Enum { variants, .. } => variants
                .iter()
                .flat_map(|v| match &v.shape {
                    VariantShape::Unit => Vec::new(),
                    VariantShape::Newtype(f) => vec![&**f],
                    VariantShape::Struct(fs) => fs.iter().collect(),
                })
                .collect(),
        }
    }

    /// Names of the type parameters.
    pub fn type_params(&self) -> Vec<&syn::Ident> {
        self.generics.type_params().map(|p| &p.ident).collect()
    }

    /// Whether a type mentions one of our type parameters.
    pub fn mentions_type_param(&self, ty: &syn::Type) -> bool {
        let params = self.type_params();
        let mut found = false;
        types::walk_types(ty, &mut |inner| {
            if let syn::Type::Path(p) = inner
                && p.qself.is_none()
                && p.path.segments.len() == 1
            {
                found |= params
                    .iter()
                    .any(|param| p.path.segments[0].ident == **param);
            }
        });
        found
    }
}
