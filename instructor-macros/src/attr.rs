//! Raw `#[extract(...)]` attributes, as darling reads them. Nothing here is checked
//! beyond syntax; `model` turns these into the checked model.

use darling::{FromDeriveInput, FromField, FromMeta, FromVariant, ast::NestedMeta};

/// A list of literal examples: `examples("a", "b")`.
#[derive(Debug, Default, Clone)]
pub struct Examples(pub Vec<syn::Lit>);

impl FromMeta for Examples {
    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut out = Vec::new();
        for item in items {
            match item {
                NestedMeta::Lit(lit) => out.push(lit.clone()),
                other => errors.push(
                    darling::Error::custom("expected a literal example, such as \"text\" or 42")
                        .with_span(other),
                ),
            }
        }
        errors.finish_with(Examples(out))
    }
}

fn key_name(meta: &syn::Meta) -> String {
    meta.path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The string literal of `key = "..."`, with a message that shows the expected form.
fn string_literal(meta: &syn::Meta) -> darling::Result<syn::LitStr> {
    let key = key_name(meta);
    let wrong = |span: proc_macro2::Span| {
        darling::Error::custom(format!("`{key}` takes a string: `{key} = \"...\"`"))
            .with_span(&span)
    };
    match meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Ok(s.clone()),
            other => Err(wrong(syn::spanned::Spanned::span(other))),
        },
        other => Err(wrong(syn::spanned::Spanned::span(other))),
    }
}

/// `key = "..."`.
pub fn string_value(meta: &syn::Meta) -> darling::Result<Option<String>> {
    string_literal(meta).map(|s| Some(s.value()))
}

/// `partial = "Name"`: a type name.
pub fn ident_value(meta: &syn::Meta) -> darling::Result<Option<syn::Ident>> {
    let literal = string_literal(meta)?;
    literal.parse::<syn::Ident>().map(Some).map_err(|_| {
        darling::Error::custom("`partial` takes a type name: `partial = \"TicketDraft\"`")
            .with_span(&literal)
    })
}

/// `crate = "path"`.
pub fn path_value(meta: &syn::Meta) -> darling::Result<Option<syn::Path>> {
    let literal = string_literal(meta)?;
    literal.parse::<syn::Path>().map(Some).map_err(|_| {
        darling::Error::custom("`crate` takes a path: `crate = \"::instructor\"`")
            .with_span(&literal)
    })
}

/// A flag: `strict`, or `strict = true` / `strict = false`.
pub fn flag(meta: &syn::Meta) -> darling::Result<bool> {
    let key = key_name(meta);
    match meta {
        syn::Meta::Path(_) => Ok(true),
        syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Bool(b),
                    ..
                }),
            ..
        }) => Ok(b.value),
        syn::Meta::NameValue(nv) => Err(darling::Error::custom(format!(
            "`{key}` is a flag: write `{key}` (or `{key} = false`)"
        ))
        .with_span(&nv.value)),
        syn::Meta::List(list) => Err(darling::Error::custom(format!(
            "`{key}` is a flag: write `{key}` (or `{key} = false`)"
        ))
        .with_span(list)),
    }
}

/// `stream(done)` / `stream(required)`: how a value shows while it streams.
#[derive(Debug, Default, Clone, Copy, FromMeta)]
pub struct StreamPolicy {
    /// Shown only once complete.
    #[darling(default)]
    pub done: bool,
    /// The parent object is shown only once this field is complete.
    #[darling(default)]
    pub required: bool,
}

/// `#[extract(...)]` on the type.
#[derive(Debug, FromDeriveInput)]
#[darling(
    attributes(extract),
    forward_attrs(doc),
    supports(struct_any, enum_any)
)]
pub struct ContainerAttrs {
    pub attrs: Vec<syn::Attribute>,
    pub data: darling::ast::Data<VariantAttrs, FieldAttrs>,
    /// Path of the runtime crate (`instructor` by default).
    #[darling(rename = "crate", default, with = path_value)]
    pub krate: Option<syn::Path>,
    /// Tool / function name.
    #[darling(default, with = string_value)]
    pub rename: Option<String>,
    #[darling(default, with = string_value)]
    pub description: Option<String>,
    #[darling(default, with = string_value)]
    pub title: Option<String>,
    pub example: Option<syn::Lit>,
    #[darling(default)]
    pub examples: Examples,
    /// Name of the generated partial type.
    #[darling(default, with = ident_value)]
    pub partial: Option<syn::Ident>,
    /// Fail to compile when a dialect cannot express the type.
    #[darling(default, with = flag)]
    pub strict: bool,
    /// Type-level custom validators.
    #[darling(multiple)]
    pub validate: Vec<Validator>,
    /// Type-level LLM checks.
    #[darling(multiple)]
    pub llm_validate: Vec<LlmValidate>,
    /// `stream(done)`: the type's partial is shown only whole.
    pub stream: Option<darling::util::SpannedValue<StreamPolicy>>,
}

/// `#[extract(...)]` on a field.
#[derive(Debug, FromField)]
#[darling(attributes(extract), forward_attrs(doc, garde))]
pub struct FieldAttrs {
    pub attrs: Vec<syn::Attribute>,
    #[darling(default, with = string_value)]
    pub description: Option<String>,
    #[darling(default, with = string_value)]
    pub title: Option<String>,
    pub example: Option<syn::Lit>,
    #[darling(default)]
    pub examples: Examples,
    /// `fn(&mut SchemaGenerator) -> Schema` giving this field's schema.
    pub schema_with: Option<syn::Path>,
    /// Take this field's schema from `schemars::JsonSchema`.
    #[darling(default, with = flag)]
    pub schemars: bool,
    #[darling(multiple)]
    pub validate: Vec<Validator>,
    #[darling(multiple)]
    pub llm_validate: Vec<LlmValidate>,
    /// `stream(done)` or `stream(required)`.
    pub stream: Option<darling::util::SpannedValue<StreamPolicy>>,
}

/// `validate = path` or `validate = |value, ctx| ...`: a function or a closure that
/// checks the value with the validation context.
#[derive(Debug, Clone)]
pub struct Validator(pub syn::Expr);

impl darling::FromMeta for Validator {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        match expr {
            syn::Expr::Path(_) | syn::Expr::Closure(_) => Ok(Validator(expr.clone())),
            // `validate = "path"`, as serde writes its paths.
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) => text
                .parse::<syn::ExprPath>()
                .map(|path| Validator(syn::Expr::Path(path)))
                .map_err(|_| darling::Error::custom(VALIDATOR_SHAPE).with_span(text)),
            other => Err(darling::Error::custom(VALIDATOR_SHAPE).with_span(other)),
        }
    }
}

/// `llm_validate = "statement"` or `llm_validate(statement = "...", model = "...",
/// allow_fix)`: the extraction's model (or `model`) judges the value against the
/// statement, after the rules pass.
#[derive(Debug, Clone)]
pub struct LlmValidate {
    pub statement: syn::LitStr,
    pub model: Option<syn::LitStr>,
    pub allow_fix: bool,
}

impl darling::FromMeta for LlmValidate {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        match expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(statement),
                ..
            }) => LlmValidate::new(statement.clone(), None, false),
            other => Err(darling::Error::custom(LLM_VALIDATE_SHAPE).with_span(other)),
        }
    }

    fn from_list(items: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        #[derive(FromMeta)]
        struct Listed {
            statement: syn::LitStr,
            #[darling(default)]
            model: Option<syn::LitStr>,
            #[darling(default)]
            allow_fix: bool,
        }
        let listed = Listed::from_list(items)?;
        LlmValidate::new(listed.statement, listed.model, listed.allow_fix)
    }
}

impl LlmValidate {
    fn new(
        statement: syn::LitStr,
        model: Option<syn::LitStr>,
        allow_fix: bool,
    ) -> darling::Result<Self> {
        if statement.value().trim().is_empty() {
            return Err(darling::Error::custom(
                "`llm_validate` needs a statement the value must satisfy",
            )
            .with_span(&statement));
        }
        if let Some(model) = &model
            && model.value().trim().is_empty()
        {
            return Err(darling::Error::custom(
                "`model` names the model that judges; leave it out for the extraction's",
            )
            .with_span(model));
        }
        Ok(LlmValidate {
            statement,
            model,
            allow_fix,
        })
    }
}

const LLM_VALIDATE_SHAPE: &str = "`llm_validate` takes a statement, `llm_validate = \"must be polite\"`, or `llm_validate(statement = \"...\", model = \"...\", allow_fix)`";

const VALIDATOR_SHAPE: &str = "`validate` takes a function, `validate = check_name`, or a closure, `validate = |value, ctx| ...`; either returns `Result<(), E>` where `E: Into<ValidationErrors>`";

/// `#[extract(...)]` on an enum variant.
#[derive(Debug, FromVariant)]
#[darling(attributes(extract), forward_attrs(doc))]
pub struct VariantAttrs {
    pub attrs: Vec<syn::Attribute>,
    pub fields: darling::ast::Fields<FieldAttrs>,
    #[darling(default, with = string_value)]
    pub description: Option<String>,
    #[darling(default, with = string_value)]
    pub title: Option<String>,
}

/// The text of `///` doc comments, with the usual single leading space removed.
pub fn doc_text(attrs: &[syn::Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let value = s.value();
            for line in value.split('\n') {
                lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
            }
        }
    }
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `#[extract(crate = "...")]`, read leniently (for the stub emitted beside errors).
pub fn crate_path(input: &syn::DeriveInput) -> Option<syn::Path> {
    let mut found = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("extract")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let value: syn::LitStr = meta.value()?.parse()?;
                found = value.parse().ok();
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _ = meta.parse_nested_meta(|_| Ok(()));
            }
            Ok(())
        });
    }
    found
}
