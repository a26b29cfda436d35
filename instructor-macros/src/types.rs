//! Helpers that read field types from the syntax.

/// The `T` of `Option<T>` written as `Option<T>`, `std::option::Option<T>`, ...
pub fn option_inner(ty: &syn::Type) -> Option<syn::Type> {
    generic_args(ty, &["Option"]).and_then(|args| args.into_iter().next())
}

/// The type arguments of a path type whose last segment is one of `names`.
pub fn generic_args(ty: &syn::Type, names: &[&str]) -> Option<Vec<syn::Type>> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if !names.iter().any(|n| last.ident == n) {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
    )
}

/// Visits every type nested in `ty` (generic arguments, arrays, references, ...).
pub fn walk_types<'a>(ty: &'a syn::Type, f: &mut impl FnMut(&'a syn::Type)) {
    f(ty);
    match ty {
        syn::Type::Path(path) => {
            for segment in &path.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(inner) = arg {
                            walk_types(inner, f);
                        }
                    }
                }
            }
        }
        syn::Type::Array(a) => walk_types(&a.elem, f),
        syn::Type::Slice(s) => walk_types(&s.elem, f),
        syn::Type::Reference(r) => walk_types(&r.elem, f),
        syn::Type::Paren(p) => walk_types(&p.elem, f),
        syn::Type::Group(g) => walk_types(&g.elem, f),
        syn::Type::Tuple(t) => t.elems.iter().for_each(|e| walk_types(e, f)),
        _ => {}
    }
}

pub const MAP_TYPES: &[&str] = &["HashMap", "BTreeMap", "IndexMap"];
pub const STRING_KEYS: &[&str] = &["String", "str", "Box", "Arc", "Cow"];
