//! `#[garde(...)]` rules that we turn into schema keywords and validation.
//!
//! `#[derive(Extract)]` runs these rules itself (garde's own derive is not needed), so a
//! rule it cannot run is an error here rather than a rule silently never checked: a
//! misspelled rule gets a "did you mean", and a garde rule we do not implement points
//! to `#[extract(validate = ...)]`.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta, Token};

/// One rule, as the emitter needs it, with the span of the rule in the attribute so
/// type errors point at it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: RuleKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum RuleKind {
    Length {
        mode: LengthMode,
        min: Option<Expr>,
        max: Option<Expr>,
    },
    Range {
        min: Option<Expr>,
        max: Option<Expr>,
    },
    Pattern(syn::LitStr),
    Email,
    Url,
    Ip(IpKind),
    Ascii,
    Alphanumeric,
    Affix(Affix, syn::LitStr),
    /// `Option` must be `Some`.
    Required,
    /// Rules for each element of a list or value of a map.
    Inner(Vec<Rule>),
}

#[derive(Debug, Clone, Copy)]
pub enum LengthMode {
    Simple,
    Bytes,
    Chars,
}

#[derive(Debug, Clone, Copy)]
pub enum Affix {
    Contains,
    Prefix,
    Suffix,
}

#[derive(Debug, Clone, Copy)]
pub enum IpKind {
    Any,
    V4,
    V6,
}

/// The rules of one field.
#[derive(Debug, Default)]
pub struct FieldRules {
    pub rules: Vec<Rule>,
    /// `#[garde(skip)]`: no rule runs on this field (nested types still validate).
    pub skip: bool,
    /// The span of the first `#[garde]` attribute, for "feature disabled" errors.
    pub first_span: Option<Span>,
}

/// Every rule garde knows, for "did you mean".
const GARDE_RULES: &[&str] = &[
    "skip",
    "required",
    "ascii",
    "alphanumeric",
    "email",
    "url",
    "ip",
    "ipv4",
    "ipv6",
    "credit_card",
    "phone_number",
    "length",
    "matches",
    "range",
    "contains",
    "prefix",
    "suffix",
    "pattern",
    "custom",
    "dive",
    "inner",
    "keys",
];

/// Reads every `#[garde(...)]` attribute of a field.
pub fn field_rules(
    attrs: &[syn::Attribute],
    errors: &mut darling::error::Accumulator,
) -> FieldRules {
    let mut out = FieldRules::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("garde")) {
        out.first_span.get_or_insert_with(|| attr.span());
        let metas = match attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
            Ok(metas) => metas,
            Err(error) => {
                errors.push(error.into());
                continue;
            }
        };
        if metas.iter().any(|m| m.path().is_ident("skip")) {
            out.skip = true;
        }
        out.rules.extend(parse_rules(metas.iter(), errors));
    }
    out
}

fn unsupported(meta: &Meta, name: &str, hint: &str) -> darling::Error {
    darling::Error::custom(format!(
        "garde's `{name}` is not run by `#[derive(Extract)]`: {hint}"
    ))
    .with_span(&meta.path())
}

fn parse_rules<'a>(
    metas: impl Iterator<Item = &'a Meta>,
    errors: &mut darling::error::Accumulator,
) -> Vec<Rule> {
    let mut rules = Vec::new();
    for meta in metas {
        let name = meta
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let span = meta.span();
        let kind = match (name.as_str(), meta) {
            ("length", Meta::List(list)) => parse_length(list, errors),
            ("range", Meta::List(list)) => {
                parse_bounds(list, errors).map(|(min, max)| RuleKind::Range { min, max })
            }
            ("pattern", Meta::List(list)) => match list.parse_args::<Lit>() {
                Ok(Lit::Str(s)) => match regex_syntax::Parser::new().parse(&s.value()) {
                    Ok(_) => Some(RuleKind::Pattern(s)),
                    Err(error) => {
                        errors.push(
                            darling::Error::custom(format!("invalid regular expression: {error}"))
                                .with_span(&s),
                        );
                        None
                    }
                },
                _ => {
                    errors.push(unsupported(
                        meta,
                        "pattern",
                        "write the pattern as a string literal, so the model can be shown it",
                    ));
                    None
                }
            },
            ("email", Meta::Path(_)) => Some(RuleKind::Email),
            ("url", Meta::Path(_)) => Some(RuleKind::Url),
            ("ip", Meta::Path(_)) => Some(RuleKind::Ip(IpKind::Any)),
            ("ipv4", Meta::Path(_)) => Some(RuleKind::Ip(IpKind::V4)),
            ("ipv6", Meta::Path(_)) => Some(RuleKind::Ip(IpKind::V6)),
            ("ascii", Meta::Path(_)) => Some(RuleKind::Ascii),
            ("alphanumeric", Meta::Path(_)) => Some(RuleKind::Alphanumeric),
            ("required", Meta::Path(_)) => Some(RuleKind::Required),
            ("contains" | "prefix" | "suffix", Meta::List(list)) => {
                let kind = match name.as_str() {
                    "contains" => Affix::Contains,
                    "prefix" => Affix::Prefix,
                    _ => Affix::Suffix,
                };
                match list.parse_args::<Lit>() {
                    Ok(Lit::Str(s)) => Some(RuleKind::Affix(kind, s)),
                    _ => {
                        errors.push(unsupported(
                            meta,
                            &name,
                            "write the text as a string literal, so the model can be shown it",
                        ));
                        None
                    }
                }
            }
            ("inner", Meta::List(list)) => {
                match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
                    Ok(inner) => Some(RuleKind::Inner(parse_rules(inner.iter(), errors))),
                    Err(error) => {
                        errors.push(error.into());
                        None
                    }
                }
            }
            // Nested types always validate themselves; `skip` is read by `field_rules`.
            ("dive" | "skip", _) => None,
            ("custom" | "matches" | "credit_card" | "phone_number" | "keys", _) => {
                errors.push(unsupported(
                    meta,
                    &name,
                    "write the check as `#[extract(validate = path)]`, which also sees the `Context`",
                ));
                None
            }
            _ if GARDE_RULES.contains(&name.as_str()) => {
                errors.push(
                    darling::Error::custom(format!("malformed garde rule `{name}`"))
                        .with_span(meta),
                );
                None
            }
            _ => {
                let suggestion = closest(&name, GARDE_RULES)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                errors.push(
                    darling::Error::custom(format!("unknown garde rule `{name}`{suggestion}"))
                        .with_span(&meta.path()),
                );
                None
            }
        };
        rules.extend(kind.map(|kind| Rule { kind, span }));
    }
    rules
}

/// The known name nearest to `name`, if it is near enough to be a typo.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn parse_length(
    list: &syn::MetaList,
    errors: &mut darling::error::Accumulator,
) -> Option<RuleKind> {
    let args = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error.into());
            return None;
        }
    };
    let mut mode = LengthMode::Simple;
    for arg in &args {
        match arg {
            Meta::Path(path) if path.is_ident("bytes") => mode = LengthMode::Bytes,
            Meta::Path(path) if path.is_ident("chars") => mode = LengthMode::Chars,
            Meta::Path(path) if path.is_ident("simple") => mode = LengthMode::Simple,
            Meta::Path(path) => {
                errors.push(
                    darling::Error::custom(
                        "only the `simple`, `bytes` and `chars` length modes are run by `#[derive(Extract)]` (JSON Schema counts characters)",
                    )
                    .with_span(path),
                );
                return None;
            }
            _ => {}
        }
    }
    let (min, max) = parse_bounds(list, errors)?;
    Some(RuleKind::Length { mode, min, max })
}

/// `min = ..`, `max = ..`, `equal = ..` of `length` and `range`.
fn parse_bounds(
    list: &syn::MetaList,
    errors: &mut darling::error::Accumulator,
) -> Option<(Option<Expr>, Option<Expr>)> {
    let args = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error.into());
            return None;
        }
    };
    let (mut min, mut max) = (None, None);
    for arg in &args {
        match arg {
            Meta::NameValue(nv) if nv.path.is_ident("min") => min = Some(nv.value.clone()),
            Meta::NameValue(nv) if nv.path.is_ident("max") => max = Some(nv.value.clone()),
            Meta::NameValue(nv) if nv.path.is_ident("equal") => {
                min = Some(nv.value.clone());
                max = Some(nv.value.clone());
            }
            Meta::Path(_) => {}
            other => errors.push(
                darling::Error::custom("expected `min = ..`, `max = ..` or `equal = ..`")
                    .with_span(other),
            ),
        }
    }
    Some((min, max))
}
