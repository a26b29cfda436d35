//! The schema IR: one typed tree per type, rendered into each provider's dialect.
//!
//! Types describe themselves through [`ExtractSchema`]; a [`SchemaGenerator`] collects
//! named types into `$defs` (so recursion and reuse work) and [`RootSchema`] is the
//! result. Rendering lives in [`dialect`].

pub mod check;
pub mod dialect;
pub mod from_json;
mod leaf;
mod rendered;

use indexmap::IndexMap;
use serde_json::Value;
use std::borrow::Cow;

pub use dialect::{Dialect, DialectError};
pub use rendered::{RenderedSchema, rendered};

/// One node of the schema tree: what a value looks like plus its annotations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// The shape of the value.
    pub kind: SchemaKind,
    /// `title` annotation.
    pub title: Option<String>,
    /// `description` annotation (doc comments end up here).
    pub description: Option<String>,
    /// `examples` annotation.
    pub examples: Vec<Value>,
    /// `default` annotation: the value serde uses when the property is absent.
    pub default: Option<Value>,
}

/// The shape of a value.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum SchemaKind {
    /// Any JSON value (`serde_json::Value`).
    #[default]
    Any,
    /// Only `null` (unit types).
    Null,
    /// `true` or `false`.
    Boolean,
    /// A whole number.
    Integer(NumberRules),
    /// Any number.
    Number(NumberRules),
    /// A string.
    String(StringRules),
    /// One of a fixed set of values (string enums).
    Enum(Vec<Value>),
    /// Exactly one value (a tag).
    Const(Value),
    /// A list.
    Array(ArraySchema),
    /// An object with known properties, or a map.
    Object(ObjectSchema),
    /// Exactly one of these must match; the branches are disjoint (tagged enums).
    OneOf(Vec<Schema>),
    /// At least one of these must match (untagged enums).
    AnyOf(Vec<Schema>),
    /// All of these must match (a flattened enum inside a struct).
    AllOf(Vec<Schema>),
    /// The inner schema or `null` (`Option<T>`).
    Nullable(Box<Schema>),
    /// A reference to a named definition in [`RootSchema::defs`].
    Ref(String),
}

/// A numeric bound, kept exact for every integer width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// An integer bound (any width up to 128 bits).
    Int(i128),
    /// An unsigned bound beyond `i128` (only `u128::MAX`).
    UInt(u128),
    /// A floating-point bound.
    Float(f64),
}

impl Bound {
    /// The bound as a JSON number (128-bit values beyond 64 bits become floats).
    pub fn to_json(self) -> Value {
        match self {
            Bound::Int(v) => {
                if let Ok(v) = i64::try_from(v) {
                    Value::from(v)
                } else if let Ok(v) = u64::try_from(v) {
                    Value::from(v)
                } else {
                    Value::from(v as f64)
                }
            }
            Bound::UInt(v) => u64::try_from(v).map_or(Value::from(v as f64), Value::from),
            Bound::Float(v) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        }
    }

    /// Compares two bounds exactly (integers as integers, across signedness).
    pub fn cmp_exact(self, other: Bound) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Bound::Int(a), Bound::Int(b)) => a.cmp(&b),
            (Bound::UInt(a), Bound::UInt(b)) => a.cmp(&b),
            (Bound::Int(a), Bound::UInt(b)) => {
                u128::try_from(a).map_or(Ordering::Less, |a| a.cmp(&b))
            }
            (Bound::UInt(a), Bound::Int(b)) => {
                u128::try_from(b).map_or(Ordering::Greater, |b| a.cmp(&b))
            }
            (a, b) => a.as_f64().total_cmp(&b.as_f64()),
        }
    }

    /// The bound as a float, for comparisons.
    pub fn as_f64(self) -> f64 {
        match self {
            Bound::Int(v) => v as f64,
            Bound::UInt(v) => v as f64,
            Bound::Float(v) => v,
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Int(v) => write!(f, "{v}"),
            Bound::UInt(v) => write!(f, "{v}"),
            Bound::Float(v) => write!(f, "{v}"),
        }
    }
}

/// Constraints on a number.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NumberRules {
    /// Inclusive lower bound.
    pub minimum: Option<Bound>,
    /// Inclusive upper bound.
    pub maximum: Option<Bound>,
}

/// Constraints on a string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringRules {
    /// Minimum length in characters.
    pub min_length: Option<u64>,
    /// Maximum length in characters.
    pub max_length: Option<u64>,
    /// ECMA-262 regular expression the string must match.
    pub pattern: Option<String>,
    /// A `format` such as `date-time`, `uuid`, `email`, `uri`.
    pub format: Option<String>,
    /// Values the string must not be (the tag of a `#[serde(other)]` catch-all is any
    /// string except the named variants').
    pub excluded: Vec<String>,
}

/// A list.
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySchema {
    /// Schema of every element.
    pub items: Box<Schema>,
    /// Minimum number of elements.
    pub min_items: Option<u64>,
    /// Maximum number of elements.
    pub max_items: Option<u64>,
    /// Elements must be distinct (sets).
    pub unique_items: bool,
}

/// What an object says about keys it does not list.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AdditionalProperties {
    /// Unknown keys are accepted and ignored (serde's default).
    #[default]
    Allowed,
    /// Unknown keys are rejected (`deny_unknown_fields`, or a dialect that demands it).
    Denied,
    /// Every other key must hold a value of this schema (maps).
    Schema(Box<Schema>),
}

/// An object: named properties in declaration order, and a rule for other keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectSchema {
    /// Properties in declaration order (the model writes them in this order).
    pub properties: IndexMap<String, Property>,
    /// Rule for keys that are not in `properties`.
    pub additional: AdditionalProperties,
    /// Minimum number of keys (maps).
    pub min_properties: Option<u64>,
    /// Maximum number of keys (maps).
    pub max_properties: Option<u64>,
    /// Other names serde accepts for a property (`#[serde(alias = ...)]`), by property
    /// name. Exactly one of a property's names may appear.
    pub aliases: IndexMap<String, Vec<String>>,
}

/// One property of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// Schema of the value.
    pub schema: Schema,
    /// Whether deserialization fails when the key is absent.
    pub required: bool,
}

impl Schema {
    /// A schema of the given kind without annotations.
    pub fn new(kind: SchemaKind) -> Self {
        Schema {
            kind,
            ..Schema::default()
        }
    }

    /// A plain string.
    pub fn string() -> Self {
        Schema::new(SchemaKind::String(StringRules::default()))
    }

    /// A string with a `format`.
    pub fn string_format(format: &str) -> Self {
        Schema::new(SchemaKind::String(StringRules {
            format: Some(format.to_owned()),
            ..StringRules::default()
        }))
    }

    /// An integer between two bounds.
    pub fn integer(minimum: Option<Bound>, maximum: Option<Bound>) -> Self {
        Schema::new(SchemaKind::Integer(NumberRules { minimum, maximum }))
    }

    /// Any number.
    pub fn number() -> Self {
        Schema::new(SchemaKind::Number(NumberRules::default()))
    }

    /// A list of `items`.
    pub fn array(items: Schema) -> Self {
        Schema::new(SchemaKind::Array(ArraySchema {
            items: Box::new(items),
            min_items: None,
            max_items: None,
            unique_items: false,
        }))
    }

    /// A map with string keys and `values`.
    pub fn map(values: Schema) -> Self {
        Schema::new(SchemaKind::Object(ObjectSchema {
            additional: AdditionalProperties::Schema(Box::new(values)),
            ..ObjectSchema::default()
        }))
    }

    /// `inner` or `null`. Nullable of nullable stays one level deep.
    pub fn nullable(inner: Schema) -> Self {
        if matches!(
            inner.kind,
            SchemaKind::Nullable(_) | SchemaKind::Any | SchemaKind::Null
        ) {
            return inner;
        }
        Schema::new(SchemaKind::Nullable(Box::new(inner)))
    }

    /// A reference to a definition.
    pub fn reference(name: impl Into<String>) -> Self {
        Schema::new(SchemaKind::Ref(name.into()))
    }

    /// Sets the description unless `description` is empty.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        let description = description.into();
        if !description.is_empty() {
            self.description = Some(description);
        }
        self
    }

    /// The schema seen through `Nullable` wrappers, mutably: constraints on an
    /// `Option<T>` field apply to the `T`.
    pub fn innermost_mut(&mut self) -> &mut Schema {
        match self.kind {
            SchemaKind::Nullable(ref mut inner) => inner.innermost_mut(),
            _ => self,
        }
    }

    /// Whether `null` is an accepted value.
    pub fn accepts_null(&self) -> bool {
        match &self.kind {
            SchemaKind::Null | SchemaKind::Nullable(_) | SchemaKind::Any => true,
            SchemaKind::AnyOf(branches) | SchemaKind::OneOf(branches) => {
                branches.iter().any(Schema::accepts_null)
            }
            _ => false,
        }
    }
}

/// A whole schema: the root node plus the named definitions it refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct RootSchema {
    /// The root node, inline.
    pub schema: Schema,
    /// Named definitions, referred to by [`SchemaKind::Ref`].
    pub defs: IndexMap<String, Schema>,
    /// The definition name of the root type when the root refers to itself
    /// (recursion): a `Ref` to this name means the root.
    pub root_name: Option<String>,
}

impl RootSchema {
    /// Builds the root schema of `T`.
    pub fn of<T: ExtractSchema + ?Sized>() -> Self {
        let mut generator = SchemaGenerator::default();
        generator.root_for::<T>()
    }

    /// Renders this schema in a dialect.
    pub fn render(&self, dialect: Dialect) -> Result<Value, DialectError> {
        dialect::render(self, dialect)
    }

    /// Resolves a `Ref` name to its definition (the root for `root_name`).
    pub fn resolve(&self, name: &str) -> Option<&Schema> {
        if self.root_name.as_deref() == Some(name) {
            return Some(&self.schema);
        }
        self.defs.get(name)
    }
}

/// Collects named definitions while schemas are built.
#[derive(Debug, Default)]
pub struct SchemaGenerator {
    defs: IndexMap<String, Schema>,
    /// Definition name per Rust type (`std::any::type_name`), so that two types with the
    /// same short name get distinct definitions.
    names: IndexMap<&'static str, String>,
    root: Option<(&'static str, String)>,
}

impl SchemaGenerator {
    /// The schema for a field of type `T`: a `Ref` for named types (their definition is
    /// added once), inline for everything else.
    pub fn subschema_for<T: ExtractSchema + ?Sized>(&mut self) -> Schema {
        let Some(name) = T::schema_name() else {
            return T::schema(self);
        };
        let key = std::any::type_name::<T>();
        if let Some((root_key, root_name)) = &self.root
            && *root_key == key
        {
            return Schema::reference(root_name.clone());
        }
        if let Some(existing) = self.names.get(key) {
            return Schema::reference(existing.clone());
        }
        let def_name = self.unique_name(&name);
        self.names.insert(key, def_name.clone());
        // A placeholder first, so a recursive mention finds the name and stops.
        self.defs.insert(def_name.clone(), Schema::default());
        let schema = T::schema(self);
        self.defs.insert(def_name.clone(), schema);
        Schema::reference(def_name)
    }

    /// The schema of `T` inline, even for named types (for `flatten` and `transparent`).
    pub fn inline_schema_for<T: ExtractSchema + ?Sized>(&mut self) -> Schema {
        T::schema(self)
    }

    /// Builds the root schema of `T`: inline at the root, with `$defs` for the rest.
    pub fn root_for<T: ExtractSchema + ?Sized>(&mut self) -> RootSchema {
        let root_name = T::schema_name().map(|name| {
            let name = self.unique_name(&name);
            self.root = Some((std::any::type_name::<T>(), name.clone()));
            name
        });
        let schema = T::schema(self);
        let defs = std::mem::take(&mut self.defs);
        let root_name = root_name.filter(|name| refers_to(&schema, &defs, name));
        RootSchema {
            schema,
            defs,
            root_name,
        }
    }

    /// A definition collected so far.
    pub fn definition(&self, name: &str) -> Option<&Schema> {
        self.defs.get(name)
    }

    fn unique_name(&self, base: &str) -> String {
        let taken = |name: &str| {
            self.defs.contains_key(name) || self.root.as_ref().is_some_and(|(_, root)| root == name)
        };
        if !taken(base) {
            return base.to_owned();
        }
        (2..)
            .map(|n| format!("{base}{n}"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_else(|| base.to_owned())
    }
}

fn refers_to(schema: &Schema, defs: &IndexMap<String, Schema>, name: &str) -> bool {
    let mut found = false;
    visit(schema, &mut |s| {
        found |= matches!(&s.kind, SchemaKind::Ref(n) if n == name)
    });
    for def in defs.values() {
        visit(def, &mut |s| {
            found |= matches!(&s.kind, SchemaKind::Ref(n) if n == name)
        });
    }
    found
}

/// Calls `f` on `schema` and every node below it (not following references).
pub fn visit(schema: &Schema, f: &mut impl FnMut(&Schema)) {
    f(schema);
    match &schema.kind {
        SchemaKind::Array(array) => visit(&array.items, f),
        SchemaKind::Object(object) => {
            for property in object.properties.values() {
                visit(&property.schema, f);
            }
            if let AdditionalProperties::Schema(values) = &object.additional {
                visit(values, f);
            }
        }
        SchemaKind::OneOf(branches) | SchemaKind::AnyOf(branches) | SchemaKind::AllOf(branches) => {
            for branch in branches {
                visit(branch, f);
            }
        }
        SchemaKind::Nullable(inner) => visit(inner, f),
        _ => {}
    }
}

/// A type that every strict dialect (OpenAI strict, Anthropic structured outputs,
/// Gemini `responseSchema`) can express: no free-form maps, no free-form values.
///
/// `#[derive(Extract)]` implements it for types marked `#[extract(strict)]`, after
/// checking their fields at compile time; a strict type whose field is not
/// `StrictSchema` does not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of an `#[extract(strict)]` type",
    label = "not expressible in every strict dialect",
    note = "maps and `serde_json::Value` have no fixed shape; nested types must be marked `#[extract(strict)]` too"
)]
pub trait StrictSchema {}

macro_rules! strict_leaf {
    ($($t:ty),* $(,)?) => {$( impl StrictSchema for $t {} )*};
}
strict_leaf!(
    String,
    char,
    bool,
    (),
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroUsize,
);
impl<T: StrictSchema> StrictSchema for Option<T> {}
impl<T: StrictSchema + ?Sized> StrictSchema for Box<T> {}
impl<T: StrictSchema + ?Sized> StrictSchema for std::sync::Arc<T> {}
impl<T: StrictSchema> StrictSchema for Vec<T> {}
impl<T: StrictSchema> StrictSchema for std::collections::VecDeque<T> {}
impl<T: StrictSchema> StrictSchema for std::collections::LinkedList<T> {}
impl<T: StrictSchema> StrictSchema for std::collections::BTreeSet<T> {}
impl<T: StrictSchema, S> StrictSchema for std::collections::HashSet<T, S> {}
impl<T: StrictSchema, const N: usize> StrictSchema for [T; N] {}
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> StrictSchema for chrono::DateTime<Tz> {}
#[cfg(feature = "chrono")]
strict_leaf!(chrono::NaiveDate, chrono::NaiveTime, chrono::NaiveDateTime);
#[cfg(feature = "time")]
strict_leaf!(
    time::Date,
    time::Time,
    time::PrimitiveDateTime,
    time::OffsetDateTime
);
#[cfg(feature = "uuid")]
strict_leaf!(uuid::Uuid);
#[cfg(feature = "url")]
strict_leaf!(url::Url);
#[cfg(feature = "rust_decimal")]
strict_leaf!(rust_decimal::Decimal);

/// Compile-time check used by `#[extract(strict)]`.
#[doc(hidden)]
pub fn assert_strict<T: StrictSchema + ?Sized>() {}

/// A type that can describe its JSON shape as a [`Schema`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of an extracted type: it has no schema",
    label = "no `ExtractSchema` for this type",
    note = "derive `Extract` for it, or give the field `#[extract(schema_with = path)]` or `#[extract(schemars)]`"
)]
///
/// Implemented for the standard leaf types, containers, the feature-gated crates
/// (chrono, time, uuid, url, rust_decimal) and by `#[derive(Extract)]`.
pub trait ExtractSchema {
    /// Definition name for named types (structs and enums, which go to `$defs`);
    /// `None` for leaves and containers, which are inlined.
    fn schema_name() -> Option<Cow<'static, str>> {
        None
    }

    /// The schema of this type. Named types describe themselves inline here;
    /// [`SchemaGenerator::subschema_for`] turns them into references.
    fn schema(generator: &mut SchemaGenerator) -> Schema;

    /// Whether serde accepts a struct field of this type being absent (`Option<T>`
    /// reads a missing field as `None`), so the property is not required.
    const MAY_BE_MISSING: bool = false;
}
