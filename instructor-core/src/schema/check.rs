//! Checks a JSON answer against a type's schema IR and reports every error at once.
//!
//! serde stops at the first wrong field, so a re-ask built from its error names one
//! field, and a model with six wrong fields needs six retries. This check walks the
//! whole answer and names every wrong field with its wire path, the way Python
//! instructor (pydantic) does. It runs after serde has rejected an answer (see
//! [`read_json`](crate::read_json)); serde stays the judge of what is accepted.
//!
//! It checks what the *type* demands, never what a validation rule adds (garde rules
//! are in the same IR as schema keywords, and validation reports them itself):
//! JSON types, required fields, enum and tag values, unknown fields where the type
//! denies them, nested objects, lists, references, `oneOf`/`anyOf` (choosing the
//! branch the answer meant), nullability, and the ranges of the Rust integer types.
//! Wherever serde may accept more than the schema says (the sequence form of structs,
//! the map form of unit variants, duplicates in sets, lengths and patterns), it says
//! nothing: a check error must never reject an answer serde reads.

use super::{
    AdditionalProperties, Bound, NumberRules, ObjectSchema, RootSchema, Schema, SchemaKind,
};
use crate::extract::FieldError;
use crate::path::WirePath;
use serde_json::{Map, Value};
use std::cell::Cell;

/// Every error of `value` against `root`, in document order; empty when the check
/// finds nothing wrong (serde may still reject the value for a reason the schema does
/// not express).
pub fn check(root: &RootSchema, value: &Value) -> Vec<FieldError> {
    let budget = Cell::new(MAX_VISITS);
    let mut checker = Checker {
        root,
        budget: &budget,
        path: WirePath::root(),
        found: Vec::new(),
        open_objects: true,
    };
    checker.value(&root.schema, value, 0);
    checker.found.into_iter().map(|found| found.error).collect()
}

/// How many schema nodes may be passed without descending into the value (references,
/// `Nullable`, compositions) before the check gives up on that value: only a
/// definition that is a reference to itself gets that far.
const MAX_HOPS: u32 = 64;

/// How many schema nodes one check may visit. Each branch of a `oneOf` checks the
/// whole value below it, so nested enums multiply the work; an answer (which the model
/// controls) must not make the check run away. Past the budget the check says nothing
/// more, and serde's error stands.
const MAX_VISITS: u32 = 200_000;

/// Longest string shown back to the model in a message.
const MAX_SHOWN_CHARS: usize = 40;

/// What kind of error, for choosing the branch of a `oneOf`/`anyOf` the answer meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The JSON type is wrong.
    Type,
    /// A tag, a constant or an enum value is wrong: the strongest sign that a branch is
    /// not the one meant.
    Tag,
    /// A required field is missing.
    Missing,
    /// A field the type does not have.
    Unknown,
    /// An integer out of its type's range.
    Range,
}

#[derive(Debug)]
struct Found {
    kind: Kind,
    error: FieldError,
}

struct Checker<'r> {
    root: &'r RootSchema,
    /// Visits left, shared with the trial checkers of `oneOf` branches.
    budget: &'r Cell<u32>,
    /// Where the value being checked sits (pushed and popped in place).
    path: WirePath,
    found: Vec<Found>,
    /// Whether an object that denies unknown fields may report them: not inside
    /// `allOf`, where another part may own the key.
    open_objects: bool,
}

impl Checker<'_> {
    fn report(&mut self, kind: Kind, message: String) {
        self.found.push(Found {
            kind,
            error: FieldError::new(self.path.clone(), message),
        });
    }

    fn mismatch(&mut self, expected: &str, value: &Value) {
        self.report(
            Kind::Type,
            format!("expected {expected}, found {}", shown(value)),
        );
    }

    /// Checks `value` against `schema`; `hops` counts nodes passed without descending.
    fn value(&mut self, schema: &Schema, value: &Value, hops: u32) {
        let left = self.budget.get();
        if hops > MAX_HOPS || left == 0 {
            return;
        }
        self.budget.set(left - 1);
        match &schema.kind {
            SchemaKind::Any => {}
            SchemaKind::Null => {
                if !value.is_null() {
                    self.mismatch("null", value);
                }
            }
            SchemaKind::Boolean => {
                if !value.is_boolean() {
                    self.mismatch("true or false", value);
                }
            }
            SchemaKind::Integer(rules) => self.integer(rules, value),
            SchemaKind::Number(_) => {
                if !value.is_number() {
                    self.mismatch("a number", value);
                }
            }
            SchemaKind::String(rules) => {
                if unit_variant_as_map(value) {
                    return;
                }
                match value {
                    Value::String(text) if rules.excluded.iter().any(|t| t == text) => {
                        // Only the catch-all of `#[serde(other)]` excludes values: the
                        // named variants own them.
                        self.report(Kind::Tag, format!("{} is a named variant", shown(value)));
                    }
                    Value::String(_) => {}
                    _ => self.mismatch("a string", value),
                }
            }
            SchemaKind::Enum(values) => {
                if !values.contains(value) && !unit_variant_as_map(value) {
                    let expected = one_of(values);
                    self.report(
                        Kind::Tag,
                        format!("expected {expected}, found {}", shown(value)),
                    );
                }
            }
            SchemaKind::Const(expected) => {
                if expected != value && !unit_variant_as_map(value) {
                    self.report(
                        Kind::Tag,
                        format!("expected {}, found {}", shown(expected), shown(value)),
                    );
                }
            }
            SchemaKind::Array(array) => match value {
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        self.path.push_index(index);
                        self.value(&array.items, item, 0);
                        self.path.pop();
                    }
                }
                _ => self.mismatch("an array", value),
            },
            SchemaKind::Object(object) => match value {
                Value::Object(members) => self.object(object, members),
                // serde reads a struct from an array of its fields in order too.
                Value::Array(_) if !object.properties.is_empty() => {}
                _ => self.mismatch("an object", value),
            },
            SchemaKind::Nullable(inner) => {
                if !value.is_null() {
                    self.value(inner, value, hops + 1);
                }
            }
            SchemaKind::Ref(name) => {
                if let Some(target) = self.root.resolve(name) {
                    self.value(target, value, hops + 1);
                }
            }
            SchemaKind::AllOf(parts) => {
                let open = std::mem::replace(&mut self.open_objects, false);
                for part in parts {
                    self.value(part, value, hops + 1);
                }
                self.open_objects = open;
            }
            SchemaKind::OneOf(branches) | SchemaKind::AnyOf(branches) => {
                self.branches(schema, branches, value, hops);
            }
        }
    }

    fn integer(&mut self, rules: &NumberRules, value: &Value) {
        let Value::Number(number) = value else {
            self.mismatch("an integer", value);
            return;
        };
        let range = type_range(rules);
        let exact = number
            .as_i64()
            .map(i128::from)
            .or_else(|| number.as_u64().map(i128::from));
        let Some(exact) = exact else {
            // A float. serde_json reads integers beyond 64 bits as floats, which a
            // 128-bit field takes from the text: only a float that cannot have been
            // written as such an integer is surely wrong.
            let float = number.as_f64().unwrap_or(f64::NAN);
            let beyond_64_bits = float.fract() == 0.0 && float.abs() >= 9.223_372_036_854_775e18;
            let narrow = range.is_some_and(|(_, max)| max.is_some());
            if narrow || !beyond_64_bits {
                self.mismatch("an integer", value);
            }
            return;
        };
        let Some((min, max)) = range else {
            return;
        };
        let below = exact < min;
        let above = max.is_some_and(|max| exact > max);
        if below || above {
            let expected = match max {
                Some(max) => format!("an integer from {min} to {max}"),
                None => format!("an integer of at least {min}"),
            };
            self.report(Kind::Range, format!("expected {expected}, found {exact}"));
        }
    }

    fn object(&mut self, object: &ObjectSchema, members: &Map<String, Value>) {
        for (name, property) in &object.properties {
            let aliases = object.aliases.get(name).map(Vec::as_slice).unwrap_or(&[]);
            let present = std::iter::once(name)
                .chain(aliases)
                .find_map(|key| members.get(key).map(|member| (key, member)));
            match present {
                Some((key, member)) => {
                    self.path.push_key(key.as_str());
                    self.value(&property.schema, member, 0);
                    self.path.pop();
                }
                None if property.required => {
                    self.path.push_key(name.as_str());
                    self.report(Kind::Missing, "missing required field".to_owned());
                    self.path.pop();
                }
                None => {}
            }
        }
        let known = |key: &str| {
            object.properties.contains_key(key)
                || object.aliases.values().flatten().any(|alias| alias == key)
        };
        match &object.additional {
            AdditionalProperties::Allowed => {}
            AdditionalProperties::Denied => {
                if !self.open_objects {
                    return;
                }
                for key in members.keys().filter(|key| !known(key)) {
                    let names: Vec<String> = object
                        .properties
                        .keys()
                        .map(|name| format!("`{name}`"))
                        .collect();
                    let message = if names.is_empty() {
                        "unknown field: the object takes no fields".to_owned()
                    } else {
                        format!("unknown field, expected one of {}", names.join(", "))
                    };
                    self.path.push_key(key.as_str());
                    self.report(Kind::Unknown, message);
                    self.path.pop();
                }
            }
            AdditionalProperties::Schema(values) => {
                for (key, member) in members.iter().filter(|(key, _)| !known(key)) {
                    self.path.push_key(key.as_str());
                    self.value(values, member, 0);
                    self.path.pop();
                }
            }
        }
    }

    /// `oneOf`/`anyOf`: fine when one branch takes the value; otherwise the errors of
    /// the branch the answer meant (its tag and shape fit), or one error saying which
    /// forms were possible when no branch fits.
    fn branches(&mut self, schema: &Schema, branches: &[Schema], value: &Value, hops: u32) {
        let depth = self.path.len();
        let mut best: Option<(Score, Vec<Found>)> = None;
        for branch in branches {
            let mut trial = Checker {
                root: self.root,
                budget: self.budget,
                path: self.path.clone(),
                found: Vec::new(),
                open_objects: self.open_objects,
            };
            trial.value(branch, value, hops + 1);
            if trial.found.is_empty() {
                return;
            }
            let score = Score::of(&trial.found, depth);
            if best.as_ref().is_none_or(|(kept, _)| score < *kept) {
                best = Some((score, trial.found));
            }
        }
        match best {
            Some((score, found)) if score.fits() => self.found.extend(found),
            _ => {
                let expected = describe(self.root, schema, 0);
                self.report(
                    Kind::Type,
                    format!("expected {expected}, found {}", shown(value)),
                );
            }
        }
    }
}

/// How well a branch fits, smaller is better: wrong tags, then wrong JSON types at the
/// branch's own level, then other errors at that level, then all errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    tags: usize,
    types: usize,
    shallow: usize,
    all: usize,
}

impl Score {
    fn of(found: &[Found], depth: usize) -> Score {
        let mut score = Score {
            tags: 0,
            types: 0,
            shallow: 0,
            all: found.len(),
        };
        for f in found {
            let at = f.error.path.len();
            match f.kind {
                // A tag is a member of the object (internally and adjacently tagged) or
                // the value itself (externally tagged unit variants).
                Kind::Tag if at <= depth + 1 => score.tags += 1,
                Kind::Type if at == depth => score.types += 1,
                Kind::Missing | Kind::Unknown if at == depth + 1 => score.shallow += 1,
                _ => {}
            }
        }
        score
    }

    /// Whether the branch is the one the answer meant: its tag and its shape fit.
    fn fits(&self) -> bool {
        self.tags == 0 && self.types == 0
    }
}

/// The range of the Rust integer type behind an integer node, when its bounds are
/// exactly one (`u8`: 0 to 255, `u64`: at least 0). Other bounds come from validation
/// rules, which validation reports itself; whole-range bounds of the widest types are
/// not in the schema (they say nothing to the model) and serde checks those.
fn type_range(rules: &NumberRules) -> Option<(i128, Option<i128>)> {
    let int = |bound: Option<Bound>| match bound {
        Some(Bound::Int(v)) => Some(v),
        Some(Bound::UInt(v)) => i128::try_from(v).ok(),
        _ => None,
    };
    let min = int(rules.minimum)?;
    let max = match rules.maximum {
        None => None,
        Some(_) => Some(int(rules.maximum)?),
    };
    const RANGES: &[(i128, i128)] = &[
        (i8::MIN as i128, i8::MAX as i128),
        (i16::MIN as i128, i16::MAX as i128),
        (i32::MIN as i128, i32::MAX as i128),
        (0, u8::MAX as i128),
        (0, u16::MAX as i128),
        (0, u32::MAX as i128),
        (1, u8::MAX as i128),
        (1, u16::MAX as i128),
        (1, u32::MAX as i128),
    ];
    let is_type_range = match max {
        Some(max) => RANGES.contains(&(min, max)),
        // Unsigned and non-zero 64- and 128-bit types keep only their minimum.
        None => min == 0 || min == 1,
    };
    is_type_range.then_some((min, max))
}

/// Whether `value` is `{"Variant": null}`: serde reads a unit variant from that map
/// form too, so a tag node says nothing about it.
fn unit_variant_as_map(value: &Value) -> bool {
    matches!(value, Value::Object(map) if map.len() == 1 && map.values().all(Value::is_null))
}

/// A value as a message shows it: scalars as written (long strings cut), containers
/// by their kind.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text) => {
            let mut cut: String = text.chars().take(MAX_SHOWN_CHARS).collect();
            if cut.len() < text.len() {
                cut.push_str("...");
            }
            Value::String(cut).to_string()
        }
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn one_of(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().map(shown).collect();
    match shown.as_slice() {
        [] => "nothing (no value is allowed)".to_owned(),
        [only] => only.clone(),
        _ => format!("one of {}", shown.join(", ")),
    }
}

/// What a schema node asks for, in words (`an object with "type": "A"`).
fn describe(root: &RootSchema, schema: &Schema, hops: u32) -> String {
    if hops > 8 {
        return "a value of another form".to_owned();
    }
    match &schema.kind {
        SchemaKind::Any => "any value".to_owned(),
        SchemaKind::Null => "null".to_owned(),
        SchemaKind::Boolean => "true or false".to_owned(),
        SchemaKind::Integer(_) => "an integer".to_owned(),
        SchemaKind::Number(_) => "a number".to_owned(),
        SchemaKind::String(_) => "a string".to_owned(),
        SchemaKind::Enum(values) => one_of(values),
        SchemaKind::Const(value) => shown(value),
        SchemaKind::Array(_) => "an array".to_owned(),
        SchemaKind::Object(object) => describe_object(object),
        SchemaKind::Nullable(inner) => format!("{} or null", describe(root, inner, hops + 1)),
        SchemaKind::Ref(name) => match root.resolve(name) {
            Some(target) => describe(root, target, hops + 1),
            None => "a value".to_owned(),
        },
        SchemaKind::AllOf(parts) => match parts.first() {
            Some(first) => describe(root, first, hops + 1),
            None => "any value".to_owned(),
        },
        SchemaKind::OneOf(branches) | SchemaKind::AnyOf(branches) => {
            let mut forms: Vec<String> = Vec::new();
            for branch in branches {
                let form = describe(root, branch, hops + 1);
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
            match forms.split_last() {
                None => "nothing (no value is allowed)".to_owned(),
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            }
        }
    }
}

/// An object by what tells it apart: its tag (`an object with "type": "A"`) or its
/// single key (`an object with the key "Circle"`).
fn describe_object(object: &ObjectSchema) -> String {
    let tag = object
        .properties
        .iter()
        .find_map(|(name, property)| match &property.schema.kind {
            SchemaKind::Const(value) if property.required => Some((name, value)),
            _ => None,
        });
    if let Some((name, value)) = tag {
        return format!(
            "an object with {}: {}",
            Value::String(name.clone()),
            shown(value)
        );
    }
    let single = object.properties.len() == 1
        && matches!(object.additional, AdditionalProperties::Denied)
        && object.properties.values().all(|p| p.required);
    match object.properties.keys().next() {
        Some(name) if single => format!("an object with the key {}", Value::String(name.clone())),
        _ => "an object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{check, type_range};
    use crate::schema::{Bound, NumberRules, RootSchema, Schema, SchemaKind};
    use indexmap::IndexMap;

    #[test]
    fn nested_branches_cannot_make_the_check_run_away() {
        // Three list-shaped branches that all recurse: checking every branch of every
        // level would visit 3^40 nodes.
        let node = || Schema::array(Schema::reference("Node"));
        let root = Schema::new(SchemaKind::AnyOf(vec![
            node(),
            node(),
            node(),
            Schema::integer(None, None),
        ]));
        let schema = RootSchema {
            schema: root.clone(),
            defs: IndexMap::from([("Node".to_owned(), root)]),
            root_name: None,
        };
        let mut answer = serde_json::json!("not a number");
        for _ in 0..40 {
            answer = serde_json::json!([answer]);
        }
        let errors = check(&schema, &answer);
        assert!(errors.len() <= 1, "{errors:?}");
    }

    fn rules(min: Option<Bound>, max: Option<Bound>) -> NumberRules {
        NumberRules {
            minimum: min,
            maximum: max,
        }
    }

    #[test]
    fn the_bounds_of_a_rust_integer_type_are_its_range() {
        let u8_range = rules(Some(Bound::Int(0)), Some(Bound::Int(255)));
        assert_eq!(type_range(&u8_range), Some((0, Some(255))));
        assert_eq!(
            type_range(&rules(Some(Bound::Int(0)), None)),
            Some((0, None))
        );
    }

    #[test]
    fn bounds_from_validation_rules_are_not_a_type_range() {
        let garde = rules(Some(Bound::Int(18)), Some(Bound::Int(120)));
        assert_eq!(type_range(&garde), None);
        assert_eq!(type_range(&rules(None, Some(Bound::Int(10)))), None);
        assert_eq!(
            type_range(&rules(Some(Bound::Float(0.0)), Some(Bound::Float(1.0)))),
            None
        );
    }
}
