//! The one renderer every dialect shares: it walks the IR and asks the dialect's
//! [`Policy`] at each decision.

use super::DialectError;
use super::limits::ObjectDepth;
use super::node::{Node, Place};
use super::path::SchemaPath;
use super::policy::{
    AdditionalRule, EnumValues, Keyword, NullStyle, Policy, Recursion, RefRule, RootRule,
};
use super::refs::{Owner, RefGraph};
use crate::schema::{
    AdditionalProperties, ArraySchema, NumberRules, ObjectSchema, Property, RootSchema, Schema,
    SchemaKind, StringRules,
};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;

const SCHEMA_URI: &str = "https://json-schema.org/draft/2020-12/schema";

/// The property that holds a non-object root in dialects whose root must be an object.
pub(super) const WRAPPER_PROPERTY: &str = "value";

/// Renders `root` under `policy`.
pub(super) fn render(root: &RootSchema, policy: &Policy) -> Result<Value, DialectError> {
    let wrap = policy.root == RootRule::WrapNonObject
        && !matches!(root.schema.kind, SchemaKind::Object(_));
    let mut renderer = Renderer {
        root,
        policy,
        graph: RefGraph::new(root),
        // A wrapped root moves out of `#`, so references to it need a definition.
        root_in_defs: wrap && root.root_name.is_some(),
        defs: IndexMap::new(),
        pending: VecDeque::new(),
        inlining: Vec::new(),
        properties: 0,
    };
    let top = if wrap {
        renderer.wrapper()
    } else {
        root.schema.clone()
    };
    let top_place = if wrap {
        Place::top_of(Owner::Wrapper, SchemaPath::default())
    } else {
        Place::root()
    };
    let body = renderer.node(&top, &top_place)?.finish(policy);
    renderer.render_pending()?;
    renderer.check_limits(&top)?;

    let mut out = Map::new();
    if policy.schema_keyword {
        out.insert("$schema".into(), SCHEMA_URI.into());
    }
    out.extend(body);
    let defs = renderer.defs_in_declaration_order();
    if !defs.is_empty() {
        out.insert("$defs".into(), Value::Object(defs));
    }
    Ok(Value::Object(out))
}

struct Renderer<'a> {
    root: &'a RootSchema,
    policy: &'a Policy,
    graph: RefGraph<'a>,
    root_in_defs: bool,
    /// Definitions referred to so far, rendered once their turn comes.
    defs: IndexMap<String, Map<String, Value>>,
    /// Definitions to render, with the path of their first reference.
    pending: VecDeque<(String, SchemaPath)>,
    /// Definitions being inlined (dialects without `$ref`).
    inlining: Vec<String>,
    /// Properties written, inlined copies included.
    properties: usize,
}

impl Renderer<'_> {
    fn error(&self, place: &Place, reason: impl Into<String>) -> DialectError {
        DialectError {
            dialect: self.policy.dialect,
            path: place.path.to_string(),
            reason: reason.into(),
        }
    }

    /// `{"value": <root>}`, for dialects whose root must be an object.
    fn wrapper(&self) -> Schema {
        let value = match (&self.root.root_name, self.root_in_defs) {
            (Some(name), true) => Schema::reference(name.clone()),
            _ => self.root.schema.clone(),
        };
        let property = Property {
            schema: value,
            required: true,
        };
        Schema::new(SchemaKind::Object(ObjectSchema {
            properties: [(WRAPPER_PROPERTY.to_owned(), property)]
                .into_iter()
                .collect(),
            additional: AdditionalProperties::Denied,
            ..ObjectSchema::default()
        }))
    }

    fn node(&mut self, schema: &Schema, place: &Place) -> Result<Node, DialectError> {
        let mut node = match &schema.kind {
            SchemaKind::Ref(name) => return self.reference(schema, name, place),
            SchemaKind::Nullable(inner) => return self.nullable(schema, inner, place),
            SchemaKind::Any => match self.policy.any_refused {
                Some(reason) => return Err(self.error(place, reason)),
                None => Node::default(),
            },
            SchemaKind::Null => self.typed("null"),
            SchemaKind::Boolean => self.typed("boolean"),
            SchemaKind::Integer(rules) => self.number("integer", rules),
            SchemaKind::Number(rules) => self.number("number", rules),
            SchemaKind::String(rules) => self.string(rules),
            SchemaKind::Enum(values) => self.enumeration(values, place, false)?,
            SchemaKind::Const(value) => self.constant(value, place)?,
            SchemaKind::Array(array) => self.array(array, place)?,
            SchemaKind::Object(object) => self.object(object, place)?,
            SchemaKind::OneOf(branches) => {
                let keyword = if self.policy.one_of_as_any_of {
                    "anyOf"
                } else {
                    "oneOf"
                };
                self.branches(keyword, branches, place)?
            }
            SchemaKind::AnyOf(branches) => self.branches("anyOf", branches, place)?,
            SchemaKind::AllOf(branches) => match self.policy.all_of_refused {
                Some(reason) => return Err(self.error(place, reason)),
                None => self.branches("allOf", branches, place)?,
            },
        };
        node.annotate(schema);
        Ok(node)
    }

    fn typed(&self, name: &'static str) -> Node {
        Node::with("type", self.policy.type_name(name).into())
    }

    /// A count (`minItems`, `maxLength`, ...) as the dialect writes it.
    fn count(&self, n: u64) -> Value {
        if self.policy.counts_as_strings {
            Value::String(n.to_string())
        } else {
            Value::from(n)
        }
    }

    fn number(&self, name: &'static str, rules: &NumberRules) -> Node {
        let mut node = self.typed(name);
        let minimum = self.keep(&mut node, Keyword::Minimum, "minimum", rules.minimum, |b| {
            b.to_json()
        });
        let maximum = self.keep(&mut node, Keyword::Maximum, "maximum", rules.maximum, |b| {
            b.to_json()
        });
        node.notes.range(minimum, maximum);
        node
    }

    /// Writes `value` as `key` when the dialect keeps `keyword`; otherwise hands it
    /// back for the notes.
    fn keep<T: Copy>(
        &self,
        node: &mut Node,
        keyword: Keyword,
        key: &str,
        value: Option<T>,
        to_json: impl Fn(T) -> Value,
    ) -> Option<T> {
        match value {
            Some(value) if self.policy.keeps(keyword) => {
                node.body.insert(key.into(), to_json(value));
                None
            }
            other => other,
        }
    }

    fn string(&self, rules: &StringRules) -> Node {
        let mut node = self.typed("string");
        let min = self.keep(
            &mut node,
            Keyword::MinLength,
            "minLength",
            rules.min_length,
            |n| self.count(n),
        );
        let max = self.keep(
            &mut node,
            Keyword::MaxLength,
            "maxLength",
            rules.max_length,
            |n| self.count(n),
        );
        node.notes.length(min, max);
        if let Some(pattern) = &rules.pattern {
            if self.policy.keeps_pattern(pattern) {
                node.body.insert("pattern".into(), pattern.clone().into());
            } else {
                node.notes.pattern(pattern);
            }
        }
        if let Some(format) = &rules.format {
            if self.policy.keeps_format(format) {
                node.body.insert("format".into(), format.clone().into());
            } else {
                node.notes.format(format);
            }
        }
        if !rules.excluded.is_empty() {
            if self.policy.keeps(Keyword::Not) {
                node.body
                    .insert("not".into(), json!({ "enum": rules.excluded }));
            } else {
                node.notes.excluded(&rules.excluded);
            }
        }
        node
    }

    /// `{"type": .., "enum": [..]}`; `is_const` only changes the wording of errors.
    fn enumeration(
        &self,
        values: &[Value],
        place: &Place,
        is_const: bool,
    ) -> Result<Node, DialectError> {
        let (allowed, kinds): (fn(&Value) -> bool, &str) = match self.policy.enum_values {
            EnumValues::Any => (|_| true, ""),
            EnumValues::Primitives => (
                |v| !v.is_array() && !v.is_object(),
                "strings, numbers, booleans or null",
            ),
            EnumValues::StringsAndNumbers => {
                (|v| v.is_string() || v.is_number(), "strings or numbers")
            }
            EnumValues::Strings => (Value::is_string, "strings"),
        };
        if let Some(bad) = values.iter().find(|v| !allowed(v)) {
            let what = if is_const {
                "a constant (written as a one-value enum)"
            } else {
                "an enum"
            };
            return Err(self.error(
                place,
                format!("{what} may only hold {kinds} here, but it holds {bad}; use a string enum instead"),
            ));
        }
        let mut node = match common_type(values) {
            Some(name) => self.typed(name),
            None => Node::default(),
        };
        if self.policy.enum_format {
            node.body.insert("format".into(), "enum".into());
        }
        node.body.insert("enum".into(), values.to_vec().into());
        Ok(node)
    }

    fn constant(&self, value: &Value, place: &Place) -> Result<Node, DialectError> {
        if self.policy.const_as_enum {
            return self.enumeration(std::slice::from_ref(value), place, true);
        }
        let mut node = match common_type(std::slice::from_ref(value)) {
            Some(name) => self.typed(name),
            None => Node::default(),
        };
        node.body.insert("const".into(), value.clone());
        Ok(node)
    }

    fn array(&mut self, array: &ArraySchema, place: &Place) -> Result<Node, DialectError> {
        let mut node = self.typed("array");
        let items = self.node(&array.items, &place.item())?.finish(self.policy);
        node.body.insert("items".into(), Value::Object(items));
        // Anthropic keeps `minItems` only up to 1; a larger one is said in words.
        let fits = |n: u64| {
            self.policy
                .min_items_at_most
                .is_none_or(|at_most| n <= at_most)
        };
        let min = match array.min_items {
            Some(n) if self.policy.keeps(Keyword::MinItems) && fits(n) => {
                node.body.insert("minItems".into(), self.count(n));
                None
            }
            other => other,
        };
        let max = self.keep(
            &mut node,
            Keyword::MaxItems,
            "maxItems",
            array.max_items,
            |n| self.count(n),
        );
        node.notes.items(min, max);
        if array.unique_items {
            if self.policy.keeps(Keyword::UniqueItems) {
                node.body.insert("uniqueItems".into(), true.into());
            } else {
                node.notes.unique_items();
            }
        }
        Ok(node)
    }

    fn object(&mut self, object: &ObjectSchema, place: &Place) -> Result<Node, DialectError> {
        let policy = self.policy;
        let additional = match &object.additional {
            AdditionalProperties::Schema(values) => match policy.maps_refused {
                Some(reason) => return Err(self.error(place, reason)),
                None => Some(Value::Object(
                    self.node(values, &place.map_value())?.finish(policy),
                )),
            },
            AdditionalProperties::Denied => {
                (policy.additional != AdditionalRule::Absent).then_some(Value::Bool(false))
            }
            AdditionalProperties::Allowed => {
                (policy.additional == AdditionalRule::AlwaysFalse).then_some(Value::Bool(false))
            }
        };
        if object.properties.is_empty()
            && additional.is_none()
            && let Some(reason) = policy.empty_objects_refused
        {
            return Err(self.error(place, reason));
        }

        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, property) in &object.properties {
            // Strict dialects list every property as required. An `Option` already
            // accepts null; any other optional property (a serde `default`) stays
            // non-nullable, because serde would reject the null a nullable schema allows:
            // the model writes a value instead.
            let is_required = property.required || policy.all_required;
            let rendered = self.node(&property.schema, &place.field(name, is_required))?;
            properties.insert(name.clone(), Value::Object(rendered.finish(policy)));
            if is_required {
                required.push(Value::String(name.clone()));
            }
        }
        self.properties += object.properties.len();
        let alias_rules = if policy.keeps(Keyword::Aliases) {
            describe_aliases(object, &mut properties, &mut required)
        } else {
            Vec::new()
        };

        let mut node = self.typed("object");
        for (keyword, value) in alias_rules {
            node.body.insert(keyword.into(), value);
        }
        if !properties.is_empty() || policy.all_required {
            node.body
                .insert("properties".into(), Value::Object(properties));
        }
        if !required.is_empty() || policy.all_required {
            node.body.insert("required".into(), required.into());
        }
        if let Some(additional) = additional {
            node.body.insert("additionalProperties".into(), additional);
        }
        if policy.property_ordering && !object.properties.is_empty() {
            let order: Vec<Value> = object
                .properties
                .keys()
                .cloned()
                .map(Value::String)
                .collect();
            node.body.insert("propertyOrdering".into(), order.into());
        }
        let min = self.keep(
            &mut node,
            Keyword::MinProperties,
            "minProperties",
            object.min_properties,
            |n| self.count(n),
        );
        let max = self.keep(
            &mut node,
            Keyword::MaxProperties,
            "maxProperties",
            object.max_properties,
            |n| self.count(n),
        );
        node.notes.entries(min, max);
        Ok(node)
    }

    fn branches(
        &mut self,
        keyword: &str,
        branches: &[Schema],
        place: &Place,
    ) -> Result<Node, DialectError> {
        let mut rendered = Vec::with_capacity(branches.len());
        for branch in branches {
            rendered.push(Value::Object(self.node(branch, place)?.finish(self.policy)));
        }
        Ok(Node::with(keyword, rendered.into()))
    }

    fn nullable(
        &mut self,
        outer: &Schema,
        inner: &Schema,
        place: &Place,
    ) -> Result<Node, DialectError> {
        let mut node = match self.policy.nulls {
            NullStyle::NullableKeyword => {
                let mut node = self.node(inner, place)?;
                node.body.insert("nullable".into(), true.into());
                node
            }
            NullStyle::TypeArrayOrAnyOf if is_scalar(&inner.kind) => {
                let mut node = self.node(inner, place)?;
                if let Some(name) = node.body.get_mut("type") {
                    *name = json!([name.take(), self.policy.type_name("null")]);
                }
                node
            }
            NullStyle::TypeArrayOrAnyOf => {
                // A reference's annotations move up to the union so `$ref` stays alone.
                let (branch, annotations) = match inner.kind {
                    SchemaKind::Ref(_) => (Schema::new(inner.kind.clone()), Some(inner)),
                    _ => (inner.clone(), None),
                };
                let rendered = self.node(&branch, place)?.finish(self.policy);
                let null_branch = json!({ "type": self.policy.type_name("null") });
                let mut node = Node::with("anyOf", json!([rendered, null_branch]));
                if let Some(annotations) = annotations {
                    node.annotate(annotations);
                }
                node
            }
        };
        node.annotate(outer);
        Ok(node)
    }

    fn reference(
        &mut self,
        schema: &Schema,
        name: &str,
        place: &Place,
    ) -> Result<Node, DialectError> {
        let (Some(owner), Some(target)) = (self.graph.resolve(name), self.root.resolve(name))
        else {
            return Err(self.error(
                place,
                format!("refers to the definition `{name}`, which the schema does not contain"),
            ));
        };
        match self.policy.recursion {
            Recursion::Refused(reason) => {
                let closes_cycle = match self.policy.refs {
                    RefRule::Inline => {
                        owner == Owner::Root || self.inlining.iter().any(|n| n == name)
                    }
                    RefRule::Keep | RefRule::KeepWithoutSiblings => {
                        self.graph.reaches(&owner, &place.owner, false)
                    }
                };
                if closes_cycle {
                    return Err(
                        self.error(place, format!("`{name}` contains itself here; {reason}"))
                    );
                }
            }
            Recursion::ThroughOptionalOnly(reason)
                if !place.optional && self.graph.reaches(&owner, &place.owner, true) =>
            {
                return Err(self.error(place, format!("`{name}` contains itself here; {reason}")));
            }
            Recursion::ThroughOptionalOnly(_) | Recursion::Allowed => {}
        }

        let inline = match self.policy.refs {
            RefRule::Inline => true,
            RefRule::KeepWithoutSiblings => {
                self.has_written_annotations(schema) && !self.graph.is_recursive(&owner)
            }
            RefRule::Keep => false,
        };
        if inline {
            self.inlining.push(name.to_owned());
            let node = self.node(target, place);
            self.inlining.pop();
            let mut node = node?;
            node.annotate(schema);
            return Ok(node);
        }

        let mut node = Node::with("$ref", self.pointer(name, place).into());
        if self.policy.refs == RefRule::Keep {
            node.annotate(schema);
        }
        Ok(node)
    }

    /// Whether `schema` has annotations this dialect would write (as keywords or as
    /// description text), which a `$ref` could not carry beside it.
    fn has_written_annotations(&self, schema: &Schema) -> bool {
        schema.description.is_some()
            || !schema.examples.is_empty()
            || schema.default.is_some()
            || (schema.title.is_some() && self.policy.keeps(Keyword::Title))
    }

    /// The `$ref` value for `name`, queuing its definition on first use.
    fn pointer(&mut self, name: &str, place: &Place) -> String {
        let is_root = self.root.root_name.as_deref() == Some(name);
        if is_root && !self.root_in_defs {
            return "#".to_owned();
        }
        if !self.defs.contains_key(name) {
            self.defs.insert(name.to_owned(), Map::new());
            self.pending
                .push_back((name.to_owned(), place.path.clone()));
        }
        format!("#/$defs/{}", escape_pointer(name))
    }

    fn render_pending(&mut self) -> Result<(), DialectError> {
        while let Some((name, path)) = self.pending.pop_front() {
            let (Some(owner), Some(schema)) = (self.graph.resolve(&name), self.root.resolve(&name))
            else {
                continue;
            };
            let rendered = self
                .node(schema, &Place::top_of(owner, path))?
                .finish(self.policy);
            self.defs.insert(name, rendered);
        }
        Ok(())
    }

    /// The rendered definitions, the root first, then in the IR's order.
    fn defs_in_declaration_order(&mut self) -> Map<String, Value> {
        let names = self.root.root_name.iter().chain(self.root.defs.keys());
        let mut out = Map::new();
        for name in names {
            if let Some(def) = self.defs.shift_remove(name) {
                out.insert(name.clone(), Value::Object(def));
            }
        }
        out
    }

    fn check_limits(&self, top: &Schema) -> Result<(), DialectError> {
        let Some(limits) = self.policy.limits else {
            return Ok(());
        };
        if self.properties > limits.total_properties {
            return Err(self.error(
                &Place::root(),
                format!(
                    "the schema has {} properties in total (definitions and inlined copies \
                     included); at most {} are allowed",
                    self.properties, limits.total_properties
                ),
            ));
        }
        if let Some(path) = ObjectDepth::new(self.root).deeper_than(top, limits.object_depth) {
            return Err(DialectError {
                dialect: self.policy.dialect,
                path: path.to_string(),
                reason: format!(
                    "objects nest more than {} levels deep here; flatten the structure",
                    limits.object_depth
                ),
            });
        }
        Ok(())
    }
}

/// `schema` or `null`, with the annotations on the outside so that a `$ref` can stay
/// alone inside the union.
/// serde accepts a property under its name or any alias, but only one of them: the
/// aliases become properties of the same schema, each name excludes the others
/// (`dependentSchemas`), and a required property is satisfied by any one name.
fn describe_aliases(
    object: &ObjectSchema,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
) -> Vec<(&'static str, Value)> {
    let mut presence = Vec::new();
    let mut exclusive = Map::new();
    for (name, aliases) in &object.aliases {
        let Some(rendered) = properties.get(name).cloned() else {
            continue;
        };
        let names: Vec<&String> = std::iter::once(name).chain(aliases).collect();
        for alias in aliases {
            properties.insert(alias.clone(), rendered.clone());
        }
        let requires = |n: &String| serde_json::json!({ "required": [n] });
        if let Some(position) = required.iter().position(|r| r == name.as_str()) {
            required.remove(position);
            let any: Vec<Value> = names.iter().map(|n| requires(n)).collect();
            presence.push(serde_json::json!({ "anyOf": any }));
        }
        for own in &names {
            let others: Vec<Value> = names
                .iter()
                .filter(|other| other != &own)
                .map(|other| requires(other))
                .collect();
            exclusive.insert(
                (*own).clone(),
                serde_json::json!({ "not": { "anyOf": others } }),
            );
        }
    }
    let mut rules = Vec::new();
    if !presence.is_empty() {
        rules.push(("allOf", Value::Array(presence)));
    }
    if !exclusive.is_empty() {
        rules.push(("dependentSchemas", Value::Object(exclusive)));
    }
    rules
}

/// Scalars take `"type": [t, "null"]`; everything else becomes a union with null.
fn is_scalar(kind: &SchemaKind) -> bool {
    matches!(
        kind,
        SchemaKind::Boolean
            | SchemaKind::Integer(_)
            | SchemaKind::Number(_)
            | SchemaKind::String(_)
    )
}

/// The JSON type shared by all `values`, if they share one.
fn common_type(values: &[Value]) -> Option<&'static str> {
    let type_of = |value: &Value| match value {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    };
    let first = type_of(values.first()?)?;
    values
        .iter()
        .all(|v| type_of(v) == Some(first))
        .then_some(first)
}

/// A definition name as a JSON pointer token inside a URI fragment (RFC 6901 and
/// RFC 3986): `~` and `/` escaped, then characters a fragment cannot hold
/// percent-encoded.
fn escape_pointer(name: &str) -> String {
    let token = name.replace('~', "~0").replace('/', "~1");
    let mut out = String::with_capacity(token.len());
    for byte in token.bytes() {
        let c = char::from(byte);
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_names_are_escaped_for_a_uri_fragment() {
        assert_eq!(escape_pointer("Node"), "Node");
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
        assert_eq!(escape_pointer("Wrapper<T>"), "Wrapper%3CT%3E");
    }

    #[test]
    fn common_type_needs_every_value_to_agree() {
        assert_eq!(common_type(&[json!("a"), json!("b")]), Some("string"));
        assert_eq!(common_type(&[json!(1), json!(2)]), Some("integer"));
        assert_eq!(common_type(&[json!(1), json!("b")]), None);
        assert_eq!(common_type(&[]), None);
    }
}
