//! `#[garde(...)]` rules that we turn into schema keywords and validation.
//!
//! Strict about shape only where we act on a rule; garde keys we do not use are left to
//! garde (lenient about others' attributes).

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Token};

/// One rule, as the emitter needs it.
#[derive(Debug, Clone)]
pub enum Rule {
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
    Ascii,
    Alphanumeric,
    Affix(Affix, syn::LitStr),
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

/// The rules of one field, and whether garde was told to skip it.
#[derive(Debug, Default)]
pub struct FieldRules {
    pub rules: Vec<Rule>,
    /// The span of the first `#[garde]` attribute, for "feature disabled" errors.
    pub first_span: Option<Span>,
}

/// Reads every `#[garde(...)]` attribute of a field.
pub fn field_rules(
    attrs: &[syn::Attribute],
    errors: &mut darling::error::Accumulator,
) -> FieldRules {
    let mut out = FieldRules::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("garde")) {
        out.first_span
            .get_or_insert_with(|| syn::spanned::Spanned::span(attr));
        let metas = match attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
            Ok(metas) => metas,
            Err(error) => {
                errors.push(error.into());
                continue;
            }
        };
        out.rules.extend(parse_rules(metas.iter(), errors));
    }
    out
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
        let rule = match (name.as_str(), meta) {
            ("length", Meta::List(list)) => parse_length(list, errors),
            ("range", Meta::List(list)) => parse_range(list, errors),
            ("pattern", Meta::List(list)) => match list.parse_args::<Lit>() {
                Ok(Lit::Str(s)) => Some(Rule::Pattern(s)),
                // A pattern given as a path to a compiled regex: garde's business.
                _ => None,
            },
            ("email", Meta::Path(_)) => Some(Rule::Email),
            ("url", Meta::Path(_)) => Some(Rule::Url),
            ("ascii", Meta::Path(_)) => Some(Rule::Ascii),
            ("alphanumeric", Meta::Path(_)) => Some(Rule::Alphanumeric),
            ("contains" | "prefix" | "suffix", Meta::List(list)) => {
                let kind = match name.as_str() {
                    "contains" => Affix::Contains,
                    "prefix" => Affix::Prefix,
                    _ => Affix::Suffix,
                };
                match list.parse_args::<Lit>() {
                    Ok(Lit::Str(s)) => Some(Rule::Affix(kind, s)),
                    _ => None,
                }
            }
            ("inner", Meta::List(list)) => {
                match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
                    Ok(inner) => Some(Rule::Inner(parse_rules(inner.iter(), errors))),
                    Err(error) => {
                        errors.push(error.into());
                        None
                    }
                }
            }
            // dive, skip, required, custom, ip, ...: nested types validate themselves,
            // and the rest is garde's own.
            _ => None,
        };
        rules.extend(rule);
    }
    rules
}

fn parse_length(list: &syn::MetaList, errors: &mut darling::error::Accumulator) -> Option<Rule> {
    let args = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error.into());
            return None;
        }
    };
    let mut mode = LengthMode::Simple;
    let (mut min, mut max) = (None, None);
    for arg in &args {
        match arg {
            Meta::Path(path) if path.is_ident("bytes") => mode = LengthMode::Bytes,
            Meta::Path(path) if path.is_ident("chars") => mode = LengthMode::Chars,
            Meta::Path(path) if path.is_ident("simple") => mode = LengthMode::Simple,
            // graphemes / utf16 have no schema keyword; leave them to garde.
            Meta::Path(_) => return None,
            Meta::NameValue(nv) if nv.path.is_ident("min") => min = Some(nv.value.clone()),
            Meta::NameValue(nv) if nv.path.is_ident("max") => max = Some(nv.value.clone()),
            Meta::NameValue(nv) if nv.path.is_ident("equal") => {
                min = Some(nv.value.clone());
                max = Some(nv.value.clone());
            }
            _ => {}
        }
    }
    Some(Rule::Length { mode, min, max })
}

fn parse_range(list: &syn::MetaList, errors: &mut darling::error::Accumulator) -> Option<Rule> {
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
            _ => {}
        }
    }
    Some(Rule::Range { min, max })
}
