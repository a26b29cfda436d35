//! Independent checkers of provider schema rules, written from the providers' documents
//! rather than from the renderer, so that a renderer bug does not hide itself.
//!
//! - OpenAI strict mode: "Supported schemas" in the structured outputs guide
//!   (platform.openai.com/docs/guides/structured-outputs).
//! - Anthropic structured outputs: "JSON Schema limitations"
//!   (platform.claude.com/docs/en/build-with-claude/structured-outputs).
//! - Gemini `responseSchema`: the `Schema` object of the v1beta discovery document
//!   (`../shared/data/specs/gemini-v1beta.discovery.json`).

use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Formats OpenAI strict mode accepts.
const OPENAI_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keywords an OpenAI strict schema node may carry.
const OPENAI_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "title",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "const",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "$ref",
    "$defs",
];

const JSON_TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// Checks the OpenAI strict structured-output rules: the root is an object; every
/// object has `additionalProperties: false` and lists every property in `required`;
/// no `oneOf`/`allOf`/`not`/`if`; a `$ref` stands alone and resolves; only the
/// documented formats; no `default`, `minLength`, `maxLength`, `uniqueItems`, ...;
/// at most 10 levels of objects and 5000 properties.
pub fn check_openai_strict(schema: &Value) -> Result<(), String> {
    let root = schema
        .as_object()
        .ok_or("the schema is not a JSON object")?;
    if root.get("type") != Some(&Value::from("object")) {
        return Err("<root>: the root must be `type: object`".into());
    }
    let mut walk = OpenAiWalk {
        defs: root.get("$defs").and_then(Value::as_object),
        properties: 0,
    };
    walk.node(schema, "<root>", 0, true)?;
    if let Some(defs) = walk.defs {
        for (name, def) in defs {
            walk.node(def, &format!("$defs/{name}"), 0, false)?;
        }
    }
    if walk.properties > 5000 {
        return Err(format!("{} properties, more than 5000", walk.properties));
    }
    Ok(())
}

struct OpenAiWalk<'a> {
    defs: Option<&'a Map<String, Value>>,
    properties: usize,
}

impl OpenAiWalk<'_> {
    fn node(&mut self, node: &Value, at: &str, depth: usize, is_root: bool) -> Result<(), String> {
        let map = node
            .as_object()
            .ok_or(format!("{at}: boolean or non-object schema"))?;
        for key in map.keys() {
            if !OPENAI_KEYWORDS.contains(&key.as_str()) {
                return Err(format!(
                    "{at}: keyword `{key}` is not supported in strict mode"
                ));
            }
            if key == "$defs" && !is_root {
                return Err(format!("{at}: `$defs` below the root"));
            }
        }
        if let Some(target) = map.get("$ref") {
            if map.len() > 1 {
                return Err(format!(
                    "{at}: `$ref` has sibling keywords {:?}",
                    map.keys().collect::<Vec<_>>()
                ));
            }
            return self.resolves(target, at);
        }
        check_type_names(map, at, JSON_TYPES)?;
        if let Some(format) = map.get("format").and_then(Value::as_str)
            && !OPENAI_FORMATS.contains(&format)
        {
            return Err(format!("{at}: format `{format}` is not supported"));
        }
        let depth = if declares_type(map, "object") || map.contains_key("properties") {
            let depth = depth + 1;
            if depth > 10 {
                return Err(format!("{at}: objects nested {depth} deep"));
            }
            if map.get("additionalProperties") != Some(&Value::Bool(false)) {
                return Err(format!(
                    "{at}: object without `additionalProperties: false`"
                ));
            }
            let properties = map
                .get("properties")
                .and_then(Value::as_object)
                .ok_or(format!("{at}: object without `properties`"))?;
            let keys: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
            let required = string_list(map.get("required"))
                .ok_or(format!("{at}: object without `required`"))?;
            let required_set: BTreeSet<&str> = required.iter().copied().collect();
            if required_set != keys || required.len() != keys.len() {
                return Err(format!(
                    "{at}: `required` {required:?} is not every property {keys:?}"
                ));
            }
            self.properties += properties.len();
            for (name, property) in properties {
                self.node(property, &format!("{at}.{name}"), depth, false)?;
            }
            depth
        } else {
            depth
        };
        if let Some(items) = map.get("items") {
            self.node(items, &format!("{at}[]"), depth, false)?;
        }
        if let Some(branches) = map.get("anyOf") {
            let branches = branches
                .as_array()
                .ok_or(format!("{at}: `anyOf` is not a list"))?;
            for branch in branches {
                self.node(branch, at, depth, false)?;
            }
        }
        Ok(())
    }

    fn resolves(&self, target: &Value, at: &str) -> Result<(), String> {
        let target = target
            .as_str()
            .ok_or(format!("{at}: `$ref` is not a string"))?;
        if target == "#" {
            return Ok(());
        }
        let name = target
            .strip_prefix("#/$defs/")
            .ok_or(format!("{at}: `$ref` {target} is not local"))?;
        match self.defs {
            Some(defs) if defs.contains_key(name) => Ok(()),
            _ => Err(format!("{at}: `$ref` {target} does not resolve")),
        }
    }
}

/// Formats Anthropic structured outputs accept.
const ANTHROPIC_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keywords Anthropic structured outputs do not support.
const ANTHROPIC_UNSUPPORTED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "oneOf",
    "not",
    "if",
    "$schema",
];

/// Checks Anthropic structured-output rules: the root is an object; every object has
/// `additionalProperties: false`; no numeric or length constraints; `minItems` only 0
/// or 1; documented formats only; enum values are primitives; `$ref` alone; no
/// recursion.
pub fn check_anthropic_strict(schema: &Value) -> Result<(), String> {
    let root = schema
        .as_object()
        .ok_or("the schema is not a JSON object")?;
    if root.get("type") != Some(&Value::from("object")) {
        return Err("<root>: the root must be `type: object`".into());
    }
    let mut refs: HashMap<String, Vec<String>> = HashMap::new();
    anthropic_node(schema, "#", "<root>", &mut refs)?;
    if let Some(defs) = root.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            anthropic_node(
                def,
                &format!("#/$defs/{name}"),
                &format!("$defs/{name}"),
                &mut refs,
            )?;
        }
    }
    // Recursion: a definition that reaches itself through references.
    for start in refs.keys() {
        let mut stack: Vec<&String> = refs[start].iter().collect();
        let mut seen = BTreeSet::new();
        while let Some(next) = stack.pop() {
            if next == start {
                return Err(format!("{start} refers to itself"));
            }
            if seen.insert(next) {
                stack.extend(refs.get(next).into_iter().flatten());
            }
        }
    }
    Ok(())
}

fn anthropic_node(
    node: &Value,
    owner: &str,
    at: &str,
    refs: &mut HashMap<String, Vec<String>>,
) -> Result<(), String> {
    let map = node
        .as_object()
        .ok_or(format!("{at}: boolean or non-object schema"))?;
    refs.entry(owner.to_owned()).or_default();
    for key in ANTHROPIC_UNSUPPORTED {
        if map.contains_key(*key) {
            return Err(format!("{at}: keyword `{key}` is not supported"));
        }
    }
    if let Some(target) = map.get("$ref") {
        if map.len() > 1 {
            return Err(format!("{at}: `$ref` has sibling keywords"));
        }
        let target = target
            .as_str()
            .ok_or(format!("{at}: `$ref` is not a string"))?;
        refs.entry(owner.to_owned())
            .or_default()
            .push(target.to_owned());
        return Ok(());
    }
    check_type_names(map, at, JSON_TYPES)?;
    if let Some(min_items) = map.get("minItems").and_then(Value::as_u64)
        && min_items > 1
    {
        return Err(format!(
            "{at}: minItems {min_items} (only 0 or 1 are supported)"
        ));
    }
    if let Some(format) = map.get("format").and_then(Value::as_str)
        && !ANTHROPIC_FORMATS.contains(&format)
    {
        return Err(format!("{at}: format `{format}` is not supported"));
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array)
        && values.iter().any(|v| v.is_array() || v.is_object())
    {
        return Err(format!("{at}: enum holds complex values"));
    }
    if declares_type(map, "object") || map.contains_key("properties") {
        if map.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!(
                "{at}: object without `additionalProperties: false`"
            ));
        }
        let properties = map.get("properties").and_then(Value::as_object);
        let keys: BTreeSet<&str> = properties
            .into_iter()
            .flat_map(|p| p.keys().map(String::as_str))
            .collect();
        for name in string_list(map.get("required")).unwrap_or_default() {
            if !keys.contains(name) {
                return Err(format!("{at}: `{name}` is required but not a property"));
            }
        }
        for (name, property) in properties.into_iter().flatten() {
            anthropic_node(property, owner, &format!("{at}.{name}"), refs)?;
        }
    }
    if let Some(items) = map.get("items") {
        anthropic_node(items, owner, &format!("{at}[]"), refs)?;
    }
    for keyword in ["anyOf", "allOf"] {
        for branch in map
            .get(keyword)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            anthropic_node(branch, owner, at, refs)?;
        }
    }
    Ok(())
}

/// The fields of the `Schema` object in the Gemini v1beta discovery document.
pub const GEMINI_SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
];

/// The fields the discovery document types as `int64` (JSON strings in proto3 JSON).
pub const GEMINI_INT64_FIELDS: &[&str] = &[
    "maxItems",
    "minItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
];

/// The `Type` enum of the discovery document, without `TYPE_UNSPECIFIED`.
pub const GEMINI_TYPES: &[&str] = &[
    "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
];

/// Checks a Gemini `responseSchema` against the `Schema` object: only its fields, a
/// `type` from its enum on every node that is not an `anyOf`, int64 counts as digit
/// strings, string-only enums, `properties`/`required`/`propertyOrdering` only on
/// non-empty objects and consistent with each other, `items` only on arrays; no `$ref`,
/// `$defs`, `additionalProperties`, `const`, `oneOf` or `allOf`.
pub fn check_gemini_response_schema(schema: &Value) -> Result<(), String> {
    gemini_node(schema, "<root>")
}

fn gemini_node(node: &Value, at: &str) -> Result<(), String> {
    let map = node
        .as_object()
        .ok_or(format!("{at}: not a Schema object"))?;
    for key in map.keys() {
        if !GEMINI_SCHEMA_FIELDS.contains(&key.as_str()) {
            return Err(format!("{at}: `{key}` is not a field of Schema"));
        }
    }
    let type_name = match map.get("type") {
        Some(Value::String(name)) if GEMINI_TYPES.contains(&name.as_str()) => Some(name.as_str()),
        Some(other) => return Err(format!("{at}: type {other} is not a Type value")),
        None if map.contains_key("anyOf") => None,
        None => return Err(format!("{at}: no type")),
    };
    for key in GEMINI_INT64_FIELDS {
        if let Some(value) = map.get(*key) {
            let digits = value
                .as_str()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            if digits.is_none() {
                return Err(format!("{at}: `{key}` {value} is not an int64 string"));
            }
        }
    }
    for key in ["minimum", "maximum"] {
        if map.get(key).is_some_and(|v| !v.is_number()) {
            return Err(format!("{at}: `{key}` is not a number"));
        }
    }
    if map.get("nullable").is_some_and(|v| !v.is_boolean()) {
        return Err(format!("{at}: `nullable` is not a boolean"));
    }
    if let Some(values) = map.get("enum") {
        let all_strings = values
            .as_array()
            .is_some_and(|v| v.iter().all(Value::is_string));
        if !all_strings || type_name != Some("STRING") {
            return Err(format!("{at}: enum {values} must be strings on a STRING"));
        }
    }
    let object_only = [
        "properties",
        "required",
        "propertyOrdering",
        "minProperties",
        "maxProperties",
    ];
    if type_name != Some("OBJECT") {
        if let Some(key) = object_only.iter().find(|k| map.contains_key(**k)) {
            return Err(format!("{at}: `{key}` is only allowed for OBJECT"));
        }
    } else {
        let properties = map
            .get("properties")
            .and_then(Value::as_object)
            .filter(|p| !p.is_empty())
            .ok_or(format!(
                "{at}: properties should be non-empty for OBJECT type"
            ))?;
        let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        for name in string_list(map.get("required")).unwrap_or_default() {
            if !keys.contains(&name) {
                return Err(format!("{at}: `{name}` is required but not a property"));
            }
        }
        if string_list(map.get("propertyOrdering")) != Some(keys.clone()) {
            return Err(format!(
                "{at}: propertyOrdering is not the property order {keys:?}"
            ));
        }
        for (name, property) in properties {
            gemini_node(property, &format!("{at}.{name}"))?;
        }
    }
    match (type_name, map.get("items")) {
        (Some("ARRAY"), Some(items)) => gemini_node(items, &format!("{at}[]"))?,
        (Some("ARRAY"), None) => return Err(format!("{at}: ARRAY without items")),
        (_, Some(_)) => return Err(format!("{at}: `items` is only allowed for ARRAY")),
        (_, None) => {}
    }
    if let Some(branches) = map.get("anyOf") {
        let branches = branches
            .as_array()
            .ok_or(format!("{at}: anyOf is not a list"))?;
        for branch in branches {
            gemini_node(branch, at)?;
        }
    }
    Ok(())
}

fn check_type_names(map: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), String> {
    let names = match map.get("type") {
        None => return Ok(()),
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        Some(other) => return Err(format!("{at}: type {other} is neither a name nor a list")),
    };
    match names.iter().find(|n| !allowed.contains(n)) {
        Some(bad) => Err(format!("{at}: unknown type `{bad}`")),
        None => Ok(()),
    }
}

fn declares_type(map: &Map<String, Value>, name: &str) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t == name),
        _ => false,
    }
}

fn string_list(value: Option<&Value>) -> Option<Vec<&str>> {
    value?.as_array()?.iter().map(Value::as_str).collect()
}
