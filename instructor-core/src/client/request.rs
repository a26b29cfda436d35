//! The request of an extraction: the output spec for the answer type (schema, tool
//! name, parallel tools), the schema prompt of the prompted modes, and the checks made
//! before anything is sent (model, mode against the provider's capabilities).

use super::Error;
use crate::chat::{
    ChatRequest, GenerationParams, Message, Mode, OutputSpec, Provider, ToolSpec, tool_name,
};
use crate::schema::{
    Dialect, RootSchema, Schema, SchemaKind, dialect::WRAPPED_ROOT_PROPERTY, rendered,
};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};

/// The output spec of an answer of schema `schema` named `name`.
pub(crate) fn output_spec(
    mode: Mode,
    schema: Arc<RootSchema>,
    name: &str,
    description: Option<String>,
) -> Result<OutputSpec, Error> {
    let tools = if mode == Mode::ParallelTools {
        shared_parallel_tools(&schema)?
    } else {
        Vec::new()
    };
    Ok(OutputSpec {
        mode,
        schema,
        name: valid_tool_name(name),
        description,
        tools,
    })
}

/// [`tool_name`], copied as is when `name` already is one (as derived types' names are),
/// without going through it character by character.
fn valid_tool_name(name: &str) -> String {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'));
    if valid {
        name.to_owned()
    } else {
        tool_name(name)
    }
}

/// [`parallel_tools`] of a shared schema, made once: the same tool schemas (the same
/// `Arc`s) every time, so that each is rendered once too (`schema::rendered`). Keyed
/// like that cache: by the `Arc`'s address, with a `Weak` that keeps the address from
/// being reused while the entry lives; entries of dropped schemas are pruned.
fn shared_parallel_tools(root: &Arc<RootSchema>) -> Result<Vec<ToolSpec>, Error> {
    type Cache = HashMap<usize, (Weak<RootSchema>, Vec<ToolSpec>)>;
    static CACHE: OnceLock<RwLock<(Cache, usize)>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = Arc::as_ptr(root) as usize;
    {
        let read = cache.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((schema, tools)) = read.0.get(&key)
            && std::ptr::eq(schema.as_ptr(), Arc::as_ptr(root))
        {
            return Ok(tools.clone());
        }
    }
    let tools = parallel_tools(root)?;
    let mut write = cache.write().unwrap_or_else(PoisonError::into_inner);
    let (entries, pruned_at) = &mut *write;
    if entries.len() >= pruned_at.saturating_mul(2).max(64) {
        entries.retain(|_, (schema, _)| schema.strong_count() > 0);
        *pruned_at = entries.len();
    }
    let (_, tools) = entries
        .entry(key)
        .or_insert_with(|| (Arc::downgrade(root), tools));
    Ok(tools.clone())
}

/// The tools of [`Mode::ParallelTools`]: the output is a list of an externally tagged
/// enum, and each variant holding data is one tool whose call is one item.
pub(crate) fn parallel_tools(root: &RootSchema) -> Result<Vec<ToolSpec>, Error> {
    let invalid = || {
        Error::InvalidRequest {
        reason: "ParallelTools needs a Vec of an enum whose variants hold each tool's arguments (`Vec<Action>` with `enum Action { Search(Search), Lookup(Lookup) }`)".to_owned(),
    }
    };
    let SchemaKind::Array(array) = &root.schema.kind else {
        return Err(invalid());
    };
    let resolve = |schema: &Schema| -> Schema {
        match &schema.kind {
            SchemaKind::Ref(name) => root
                .resolve(name)
                .cloned()
                .unwrap_or_else(|| schema.clone()),
            _ => schema.clone(),
        }
    };
    let item = resolve(&array.items);
    let branches = match &item.kind {
        SchemaKind::OneOf(branches) | SchemaKind::AnyOf(branches) => branches.clone(),
        _ => return Err(invalid()),
    };
    let mut tools = Vec::new();
    for branch in &branches {
        let SchemaKind::Object(object) = &branch.kind else {
            continue;
        };
        let Some((name, property)) = object.properties.iter().next() else {
            continue;
        };
        let schema = resolve(&property.schema);
        tools.push(ToolSpec {
            name: tool_name(name),
            description: schema
                .description
                .clone()
                .or_else(|| branch.description.clone()),
            schema: Arc::new(RootSchema {
                schema,
                defs: root.defs.clone(),
                root_name: None,
            }),
        });
    }
    if tools.is_empty() {
        return Err(invalid());
    }
    Ok(tools)
}

/// The system prompt of the prompted modes: the schema, and how to answer.
fn schema_prompt(spec: &OutputSpec) -> Result<String, Error> {
    // Rendered (and indented) once per schema, not per request.
    let schema =
        rendered(&spec.schema, Dialect::JsonSchema).map_err(|e| Error::InvalidRequest {
            reason: e.to_string(),
        })?;
    let schema = schema.pretty();
    let format = if spec.mode == Mode::MdJson {
        "inside a ```json code block"
    } else {
        "as a JSON object and nothing else"
    };
    Ok(format!(
        "Answer with an instance of the JSON Schema below (the data, not the schema), {format}.\n\n{schema}"
    ))
}

/// The property a wrapped root lives under.
pub(crate) const WRAPPED: &str = WRAPPED_ROOT_PROPERTY;

/// The neutral request for an output spec: the model checked, the mode checked against
/// the provider's capabilities (nothing is sent for an impossible mode), the schema
/// prompt added for prompted modes.
pub(crate) fn build_request(
    provider: &dyn Provider,
    model: Option<String>,
    mut messages: Vec<Message>,
    spec: OutputSpec,
    params: GenerationParams,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<ChatRequest, Error> {
    let model = model.ok_or_else(|| Error::InvalidRequest {
        reason: "no model: set one on the client or the extraction".to_owned(),
    })?;
    if let Err(reason) = provider.capabilities(&model).check(spec.mode) {
        return Err(Error::UnsupportedMode {
            mode: spec.mode,
            reason,
        });
    }
    if spec.mode.is_prompted() {
        messages.insert(0, Message::system(schema_prompt(&spec)?));
    }
    Ok(ChatRequest {
        model,
        messages,
        output: Some(spec),
        params,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_already_valid_are_kept_as_the_rule_would_make_them() {
        let long = "a".repeat(64);
        let too_long = "b".repeat(65);
        for name in [
            "User",
            "User_list",
            "Maybe_User",
            "a-b_c9",
            long.as_str(),
            too_long.as_str(),
            "",
            "Vec<Ticket>",
            "caf\u{e9}",
            "a b",
        ] {
            assert_eq!(valid_tool_name(name), tool_name(name), "{name:?}");
        }
    }
}
