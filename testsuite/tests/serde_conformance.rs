//! The JSON Schema dialect must describe exactly what `serde_json::from_str::<T>`
//! accepts.
//!
//! Every table below is a list of JSON documents for one type. For each document the
//! harness compiles `T::json_schema(Dialect::JsonSchema)` with the `jsonschema` crate
//! and checks that
//!
//! ```text
//! validator.is_valid(&document) == serde_json::from_str::<T>(text).is_ok()
//! ```
//!
//! All disagreements of one test are collected and reported together, each with the
//! type, the document, serde's error and the validator's errors, and the rendered schema.
//!
//! Where serde_json and JSON Schema cannot agree by construction, the document is left
//! out of the tables and the reason is written next to where it would be (search for
//! `CANNOT AGREE`). Where the schema is deliberately narrower than serde (the model is
//! shown one canonical form: `BY DESIGN`) or a known limitation remains
//! (`LIMITATION`), the `differs_*` tests list those documents and assert that they
//! still differ, so a change in behaviour shows up and the case moves to a table. The
//! `agree` lists of those tests hold cases that once differed (`FIXED`).
//!
//! Out of scope: `#[garde(...)]` rules. They are rendered as schema keywords
//! (`minLength`, `maximum`, ...) on purpose: the schema is what serde accepts *and*
//! validation accepts, so a type with garde rules is stricter than serde by design.
//! No type here has garde rules.
//!
//! Run: `cargo test -p instructor --test serde_conformance --all-features`.
#![allow(dead_code, clippy::unwrap_used)]

use instructor::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, LinkedList, VecDeque};
use std::fmt::Write as _;

// =====================================================================================
// Harness
// =====================================================================================

/// How the validator treats `format`.
#[derive(Clone, Copy, PartialEq)]
enum Formats {
    /// `jsonschema::validator_for`: the 2020-12 default, `format` is an annotation.
    Annotation,
    /// `format` is asserted (`should_validate_formats(true)`): for types whose only
    /// constraint is a `format` (dates, UUIDs, URLs).
    Assertion,
}

/// Collects the disagreements of every table of one test; fails once, at the end.
struct Report {
    test: &'static str,
    documents: usize,
    types: usize,
    failures: String,
    count: usize,
}

impl Report {
    fn new(test: &'static str) -> Self {
        Report {
            test,
            documents: 0,
            types: 0,
            failures: String::new(),
            count: 0,
        }
    }

    /// Checks every document of `cases` against `T` (formats as annotations).
    fn check<T: Extract>(&mut self, cases: &[impl AsRef<str>]) {
        self.check_with::<T>(cases, Formats::Annotation);
    }

    /// Checks every document of `cases` against `T` with `format` asserted.
    fn check_formats<T: Extract>(&mut self, cases: &[impl AsRef<str>]) {
        self.check_with::<T>(cases, Formats::Assertion);
    }

    fn check_with<T: Extract>(&mut self, cases: &[impl AsRef<str>], formats: Formats) {
        self.types += 1;
        let ty = short_type_name::<T>();
        let schema = match T::json_schema(Dialect::JsonSchema) {
            Ok(schema) => schema,
            Err(error) => {
                self.count += 1;
                let _ = writeln!(
                    self.failures,
                    "\n━━ {ty}: the JsonSchema dialect refused the type: {error}"
                );
                return;
            }
        };
        let validator = match formats {
            Formats::Annotation => jsonschema::validator_for(&schema),
            Formats::Assertion => jsonschema::options()
                .should_validate_formats(true)
                .build(&schema),
        };
        let validator = match validator {
            Ok(validator) => validator,
            Err(error) => {
                self.count += 1;
                let _ = writeln!(
                    self.failures,
                    "\n━━ {ty}: the rendered schema does not compile: {error}\n{}",
                    indent(&pretty(&schema), 4)
                );
                return;
            }
        };
        let mut lines = String::new();
        for case in cases {
            let text = case.as_ref();
            self.documents += 1;
            let document: Value = serde_json::from_str(text).unwrap_or_else(|error| {
                panic!("test table bug: {ty}: {text} is not JSON: {error}")
            });
            let by_schema = validator.is_valid(&document);
            let by_serde = serde_json::from_str::<T>(text).map(|_| ());
            self.check_reader::<T>(&ty, text, &document, by_serde.is_ok());
            if by_schema == by_serde.is_ok() {
                continue;
            }
            self.count += 1;
            let _ = writeln!(lines, "  ✗ {text}");
            match &by_serde {
                Ok(()) => {
                    let _ = writeln!(lines, "      serde_json  ACCEPTS");
                }
                Err(error) => {
                    let _ = writeln!(lines, "      serde_json  rejects: {error}");
                }
            }
            if by_schema {
                let _ = writeln!(lines, "      schema      ACCEPTS");
            } else {
                let _ = writeln!(lines, "      schema      rejects:");
                for error in validator.iter_errors(&document).take(4) {
                    let at = error.instance_path().to_string();
                    let at = if at.is_empty() { "/".to_owned() } else { at };
                    let _ = writeln!(lines, "                    at {at}: {error}");
                }
            }
        }
        if !lines.is_empty() {
            let formats = match formats {
                Formats::Annotation => "",
                Formats::Assertion => " (formats asserted)",
            };
            let _ = write!(
                self.failures,
                "\n━━ {ty}{formats}\n{lines}  schema:\n{}\n",
                indent(&pretty(&schema), 4)
            );
        }
    }

    /// The reader behind re-asks (`read_json`) against serde on the same document: the
    /// schema check finds nothing in a document serde accepts (it must never reject
    /// one), and `read_json` accepts exactly what serde accepts, reporting at least one
    /// error, none of them at a `?` path, for what serde rejects.
    fn check_reader<T: Extract>(&mut self, ty: &str, text: &str, document: &Value, by_serde: bool) {
        let found = instructor::schema::check::check(&T::root_schema(), document);
        if by_serde && !found.is_empty() && !checker_limitation(ty, text) {
            self.count += 1;
            let found: Vec<String> = found.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                self.failures,
                "\n━━ {ty}: serde ACCEPTS {text}\n      but the schema check reports: {}",
                found.join(" | ")
            );
        }
        match (instructor::read_json::<T>(text), by_serde) {
            (Ok(_), true) => {}
            (Err(error), false)
                if !error.errors().is_empty() && !error.to_string().contains('?') => {}
            (read, _) => {
                self.count += 1;
                let _ = writeln!(
                    self.failures,
                    "\n━━ {ty}: {text}\n      serde {}, read_json: {:?}",
                    if by_serde { "accepts" } else { "rejects" },
                    read.map(|_| ()).map_err(|e| e.to_string())
                );
            }
        }
    }

    fn finish(self) {
        assert!(
            self.count == 0,
            "\n{}: {} disagreement(s) between serde_json and the JsonSchema dialect \
             ({} documents, {} types):\n{}",
            self.test,
            self.count,
            self.documents,
            self.types,
            self.failures
        );
        println!(
            "{}: {} documents over {} types agree",
            self.test, self.documents, self.types
        );
    }
}

/// Documents serde accepts that the schema check reports anyway, each with the reason.
/// The check only runs after serde rejected an answer, so these never reject an answer;
/// they are listed so that the list cannot grow unnoticed.
fn checker_limitation(ty: &str, text: &str) -> bool {
    const KNOWN: &[(&str, &str)] = &[
        // LIMITATION: serde turns a flattened `Option<Struct>` with malformed fields into
        // `None`; the IR has no trace of the `Option` around the merged fields.
        ("FlatOptional", r#"{"id":1,"x":"2"}"#),
        ("FlatOptional", r#"{"id":1,"x":256}"#),
        // LIMITATION: `time`'s serde also reads a `Date` from `[year, ordinal]`; the IR
        // describes the string form only.
        ("TimeDate", r#"{"day":[2024,122]}"#),
    ];
    KNOWN.contains(&(ty, text))
}

/// One type, one table: fails with every disagreement listed.
impl Report {
    /// The opposite check, for documented differences: every document must be one
    /// where serde and the schema disagree (so a fix shows up as a failing test, and
    /// the case moves to a conformance table).
    fn check_differs<T: Extract>(&mut self, cases: &[impl AsRef<str>]) {
        self.types += 1;
        let ty = short_type_name::<T>();
        let schema = T::json_schema(Dialect::JsonSchema).expect("renders");
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("compiles");
        for case in cases {
            let text = case.as_ref();
            self.documents += 1;
            let document: Value = serde_json::from_str(text).expect("test table JSON");
            let by_schema = validator.is_valid(&document);
            let by_serde = serde_json::from_str::<T>(text).is_ok();
            self.check_reader::<T>(&ty, text, &document, by_serde);
            if by_schema == by_serde {
                self.count += 1;
                let _ = writeln!(
                    self.failures,
                    "  {ty}: {text} now agrees (both {}): move it to a conformance table",
                    if by_serde { "accept" } else { "reject" }
                );
            }
        }
    }
}

/// Cases where the schema deliberately (or, where noted, for now) differs from what
/// serde accepts. Each document must still differ.
macro_rules! differences {
    ($test:expr, $($ty:ty => agree [$($same:expr),* $(,)?] differ [$($doc:expr),* $(,)?]),* $(,)?) => {{
        let mut report = Report::new($test);
        $(
            report.check_formats::<$ty>(&[$(String::from($same)),*] as &[String]);
            report.check_differs::<$ty>(&[$(String::from($doc)),*] as &[String]);
        )*
        report.finish();
    }};
}

fn conformance<T: Extract>(cases: &[&str]) {
    let mut report = Report::new(std::any::type_name::<T>());
    report.check::<T>(cases);
    report.finish();
}

/// Several tables, one failure listing all of them:
/// `conformance!("name", TypeA => [doc, ...], TypeB => [...])`.
macro_rules! conformance {
    ($test:expr, $($ty:ty => [$($doc:expr),* $(,)?]),* $(,)?) => {{
        let mut report = Report::new($test);
        $( report.check::<$ty>(&[$(String::from($doc)),*]); )*
        report.finish();
    }};
}

fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::new();
    let mut word = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == ':' {
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `{"v": <value>}` for each value: tables of wrapper structs.
fn v(values: &[&str]) -> Vec<String> {
    values
        .iter()
        .map(|value| format!(r#"{{"v":{value}}}"#))
        .collect()
}

/// Documents that are never the right shape for a struct: checked for every struct.
const NOT_OBJECTS: &[&str] = &["null", "true", "0", "1.5", r#""text""#];

// =====================================================================================
// Named structs: required, Option, default, skip, rename, alias, deny_unknown_fields
// =====================================================================================

#[derive(Debug, Deserialize, Extract)]
struct Plain {
    id: u32,
    name: String,
    note: Option<String>,
    #[serde(default)]
    count: u32,
    #[serde(default = "default_level")]
    level: u8,
    #[serde(default)]
    maybe: Option<bool>,
    tags: Option<Vec<String>>,
}

fn default_level() -> u8 {
    3
}

#[test]
fn struct_required_optional_default() {
    let mut report = Report::new("struct_required_optional_default");
    report.check::<Plain>(NOT_OBJECTS);
    report.check::<Plain>(&[
        r#"{"id":1,"name":"a"}"#,
        r#"{"id":1,"name":"a","note":null}"#,
        r#"{"id":1,"name":"a","note":"n"}"#,
        r#"{"id":1,"name":"a","note":5}"#,
        r#"{"id":1,"name":"a","count":7,"level":255}"#,
        r#"{"id":1,"name":"a","count":null}"#,
        r#"{"id":1,"name":"a","level":256}"#,
        r#"{"id":1,"name":"a","level":-1}"#,
        r#"{"id":1,"name":"a","maybe":null}"#,
        r#"{"id":1,"name":"a","maybe":true}"#,
        r#"{"id":1,"name":"a","maybe":"yes"}"#,
        r#"{"id":1,"name":"a","tags":null}"#,
        r#"{"id":1,"name":"a","tags":[]}"#,
        r#"{"id":1,"name":"a","tags":["x","y"]}"#,
        r#"{"id":1,"name":"a","tags":["x",null]}"#,
        r#"{"id":1,"name":"a","unknown":{"deep":[1,2]}}"#,
        r#"{"name":"a"}"#,
        r#"{"id":1}"#,
        r#"{}"#,
        r#"{"id":null,"name":"a"}"#,
        r#"{"id":"1","name":"a"}"#,
        r#"{"id":1,"name":null}"#,
        r#"{"id":1,"name":2}"#,
        r#"{"id":-1,"name":"a"}"#,
        r#"{"id":4294967295,"name":"a"}"#,
        r#"{"id":4294967296,"name":"a"}"#,
        r#"{"ID":1,"name":"a"}"#,
        // CANNOT AGREE: duplicate keys. serde's derive rejects `{"id":1,"id":1,...}`
        // ("duplicate field"), while a JSON Schema validator sees the parsed object, in
        // which the last key won. JSON Schema has no notion of duplicate keys.
    ]);
    report.finish();
}

#[derive(Debug, Default, Deserialize, Extract)]
#[serde(default)]
struct ContainerDefault {
    a: u32,
    b: String,
    c: Option<u8>,
    d: Vec<u8>,
}

#[test]
fn struct_container_default() {
    let mut report = Report::new("struct_container_default");
    report.check::<ContainerDefault>(NOT_OBJECTS);
    report.check::<ContainerDefault>(&[
        r#"{}"#,
        r#"{"a":1}"#,
        r#"{"a":1,"b":"x","c":255,"d":[1,2]}"#,
        r#"{"a":null}"#,
        r#"{"b":null}"#,
        r#"{"c":null}"#,
        r#"{"c":256}"#,
        r#"{"d":null}"#,
        r#"{"d":[256]}"#,
        r#"{"zzz":1}"#,
    ]);
    report.finish();
}

#[derive(Debug, Deserialize, Extract)]
struct Skips {
    kept: u8,
    #[serde(skip)]
    skipped: u8,
    #[serde(skip_deserializing)]
    skipped_de: String,
    #[serde(skip_serializing)]
    only_ser_skipped: bool,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct SkipsDeny {
    kept: u8,
    #[serde(skip)]
    skipped: u8,
    #[serde(skip_deserializing)]
    skipped_de: String,
}

#[test]
fn struct_skip() {
    conformance!("struct_skip",
        Skips => [
            r#"{"kept":1,"only_ser_skipped":true}"#,
            r#"{"kept":1,"only_ser_skipped":true,"skipped":"anything","skipped_de":[1]}"#,
            r#"{"kept":1}"#,
            r#"{"only_ser_skipped":true}"#,
            r#"{"kept":1,"only_ser_skipped":1}"#,
        ],
        // A skipped field's key is an unknown key: ignored, or rejected with
        // deny_unknown_fields.
        SkipsDeny => [
            r#"{"kept":1}"#,
            r#"{"kept":1,"skipped":1}"#,
            r#"{"kept":1,"skipped_de":"x"}"#,
            r#"{}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
struct Renamed {
    #[serde(rename = "userName")]
    user_name: String,
    #[serde(rename(deserialize = "in", serialize = "out"))]
    direction: u8,
    #[serde(rename = "$ref")]
    dollar: Option<u8>,
    #[serde(rename = "a/b~c d")]
    odd: Option<u8>,
    #[serde(rename = "")]
    empty: Option<u8>,
}

#[derive(Debug, Deserialize, Extract)]
struct RawIdent {
    r#type: String,
    r#ref: Option<u8>,
}

#[test]
fn struct_rename() {
    conformance!("struct_rename",
        RawIdent => [
            r#"{"type":"x"}"#,
            r#"{"r#type":"x"}"#,
            r#"{"type":"x","ref":1}"#,
            r#"{"type":"x","ref":"a"}"#,
        ],
        Renamed => [
            r#"{"userName":"x","in":1}"#,
            r#"{"user_name":"x","in":1}"#,
            r#"{"userName":"x","direction":1}"#,
            r#"{"userName":"x","out":1}"#,
            r#"{"userName":"x","in":1,"$ref":2,"a/b~c d":3,"":4}"#,
            r##"{"userName":"x","in":1,"$ref":"#"}"##,
            r#"{"userName":"x","in":1,"a/b~c d":"x"}"#,
            r#"{"userName":"x","in":1,"":"x"}"#,
        ],
    );
}

macro_rules! rename_all_structs {
    ($($ident:ident = $case:literal),* $(,)?) => {$(
        #[derive(Debug, Deserialize, Extract)]
        #[serde(rename_all = $case)]
        struct $ident {
            first_name: u8,
            user_id2: bool,
            x: Option<u8>,
        }
    )*};
}

rename_all_structs!(
    RaLower = "lowercase",
    RaUpper = "UPPERCASE",
    RaPascal = "PascalCase",
    RaCamel = "camelCase",
    RaSnake = "snake_case",
    RaScreamingSnake = "SCREAMING_SNAKE_CASE",
    RaKebab = "kebab-case",
    RaScreamingKebab = "SCREAMING-KEBAB-CASE",
);

/// Every spelling of the two field names, each as a full document: exactly one of them
/// is what serde accepts for each `rename_all` case.
fn every_spelling() -> Vec<String> {
    let spellings = [
        ("firstname", "userid2", "x"),
        ("FIRST_NAME", "USER_ID2", "X"),
        ("FirstName", "UserId2", "X"),
        ("firstName", "userId2", "x"),
        ("first_name", "user_id2", "x"),
        ("FIRST_NAME", "USER_ID2", "X"),
        ("first-name", "user-id2", "x"),
        ("FIRST-NAME", "USER-ID2", "X"),
        ("FIRSTNAME", "USERID2", "X"),
    ];
    let mut docs = Vec::new();
    for (a, b, x) in spellings {
        docs.push(format!(r#"{{"{a}":1,"{b}":true}}"#));
        docs.push(format!(r#"{{"{a}":1,"{b}":true,"{x}":1}}"#));
        docs.push(format!(r#"{{"{a}":1,"{b}":true,"{x}":"wrong"}}"#));
        docs.push(format!(r#"{{"{a}":1}}"#));
        docs.push(format!(r#"{{"{a}":"1","{b}":true}}"#));
    }
    docs
}

#[test]
fn struct_rename_all_every_case() {
    let docs = every_spelling();
    let mut report = Report::new("struct_rename_all_every_case");
    report.check::<RaLower>(&docs);
    report.check::<RaUpper>(&docs);
    report.check::<RaPascal>(&docs);
    report.check::<RaCamel>(&docs);
    report.check::<RaSnake>(&docs);
    report.check::<RaScreamingSnake>(&docs);
    report.check::<RaKebab>(&docs);
    report.check::<RaScreamingKebab>(&docs);
    report.finish();
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct Denied {
    a: u8,
    b: Option<u8>,
    #[serde(default)]
    c: u8,
}

#[derive(Debug, Deserialize, Extract)]
struct Open {
    a: u8,
    b: Option<u8>,
}

/// A struct without deserialized fields.
#[derive(Debug, Deserialize, Extract)]
struct OpenEmpty {}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct DeniedEmpty {}

#[derive(Debug, Deserialize, Extract)]
struct AllSkipped {
    #[serde(skip)]
    cache: u8,
}

#[test]
fn structs_without_fields() {
    conformance!("structs_without_fields",
        OpenEmpty => [r#"{}"#, r#"{"x":1}"#, "null", "1"],
        DeniedEmpty => [r#"{}"#, r#"{"x":1}"#, "null", "1"],
        AllSkipped => [r#"{}"#, r#"{"cache":1}"#, "null"],
    );
}

/// `tag` on a struct only matters for serialization: deserialization ignores the
/// key (any value), and `deny_unknown_fields` rejects it as unknown.
#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
struct TaggedStruct {
    a: u8,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type", deny_unknown_fields)]
struct TaggedStructDenied {
    a: u8,
}

#[test]
fn struct_deny_unknown_fields() {
    conformance!("struct_deny_unknown_fields",
        Open => [
            r#"{"a":1}"#,
            r#"{"a":1,"b":2}"#,
            r#"{"a":1,"extra":null}"#,
            r#"{"a":1,"b":null,"c":[],"d":{}}"#,
            r#"{"b":1,"extra":1}"#,
        ],
        Denied => [
            r#"{"a":1}"#,
            r#"{"a":1,"b":2,"c":3}"#,
            r#"{"a":1,"extra":null}"#,
            r#"{"a":1,"b":null,"d":{}}"#,
            r#"{"A":1}"#,
        ],
        TaggedStruct => [r#"{"a":1}"#, r#"{"type":"TaggedStruct","a":1}"#, r#"{"type":"zz","a":1}"#],
        TaggedStructDenied => [r#"{"a":1}"#, r#"{"type":"TaggedStructDenied","a":1}"#],
    );
}

// -- aliases --------------------------------------------------------------------------

#[derive(Debug, Deserialize, Extract)]
struct Aliased {
    #[serde(alias = "nm", alias = "full_name")]
    name: String,
    #[serde(alias = "years")]
    age: Option<u8>,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct AliasedDenied {
    #[serde(alias = "nm")]
    name: String,
}

#[test]
fn struct_alias_main_names() {
    // The main names behave as without aliases.
    conformance!("struct_alias_main_names",
        Aliased => [
            r#"{"name":"a"}"#,
            r#"{"name":"a","age":3}"#,
            r#"{"name":"a","age":300}"#,
            r#"{"name":1}"#,
            r#"{}"#,
        ],
        AliasedDenied => [r#"{"name":"a"}"#, r#"{"name":"a","zz":1}"#, r#"{}"#],
    );
}

// =====================================================================================
// flatten, transparent, newtype
// =====================================================================================

#[derive(Debug, Deserialize, Extract)]
struct Inner {
    x: u8,
    y: Option<String>,
    #[serde(default)]
    z: bool,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatStruct {
    id: u8,
    #[serde(flatten)]
    inner: Inner,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct InnerDenied {
    x: u8,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatDeniedInner {
    id: u8,
    #[serde(flatten)]
    inner: InnerDenied,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatMap {
    id: u8,
    #[serde(flatten)]
    rest: HashMap<String, Value>,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatTypedMap {
    id: String,
    #[serde(flatten)]
    rest: BTreeMap<String, u8>,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatBoth {
    id: u8,
    #[serde(flatten)]
    inner: Inner,
    #[serde(flatten)]
    rest: HashMap<String, Value>,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatNested {
    #[serde(flatten)]
    outer: FlatStruct,
    w: bool,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct FlatDeniedOuter {
    id: u8,
    #[serde(flatten)]
    inner: Inner,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatInternal {
    id: u8,
    #[serde(flatten)]
    e: Internal,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatAdjacent {
    id: u8,
    #[serde(flatten)]
    e: Adjacent,
}

/// A generic flattened body.
#[derive(Debug, Deserialize, Extract)]
struct Env<T> {
    id: u8,
    #[serde(flatten)]
    body: T,
}

#[test]
fn flatten() {
    conformance!("flatten",
        FlatStruct => [
            r#"{"id":1,"x":2}"#,
            r#"{"id":1,"x":2,"y":"s","z":true}"#,
            r#"{"id":1,"x":2,"y":null}"#,
            r#"{"id":1,"x":256}"#,
            r#"{"id":1}"#,
            r#"{"x":1}"#,
            r#"{"id":1,"x":2,"other":1}"#,
            r#"{"id":1,"inner":{"x":2}}"#,
            r#"{"id":1,"x":2,"z":null}"#,
            "null",
        ],
        // The flattened struct only sees its own keys: its deny_unknown_fields does
        // not reject the outer struct's keys (nor unknown ones).
        FlatDeniedInner => [
            r#"{"id":1,"x":2}"#,
            r#"{"id":1,"x":2,"zz":3}"#,
            r#"{"x":2}"#,
        ],
        FlatMap => [
            r#"{"id":1}"#,
            r#"{"id":1,"a":null,"b":[1],"c":{"d":1}}"#,
            r#"{"id":"1","a":1}"#,
            r#"{"a":1}"#,
            r#"{"id":256}"#,
        ],
        FlatTypedMap => [
            r#"{"id":"a"}"#,
            r#"{"id":"a","k":1,"l":255}"#,
            r#"{"id":"a","k":256}"#,
            r#"{"id":"a","k":"1"}"#,
            r#"{"id":"a","k":null}"#,
            r#"{"id":1}"#,
        ],
        FlatBoth => [
            r#"{"id":1,"x":2}"#,
            r#"{"id":1,"x":2,"free":[true]}"#,
            r#"{"id":1,"x":"2"}"#,
            r#"{"id":1,"free":1}"#,
        ],
        FlatNested => [
            r#"{"id":1,"x":2,"w":true}"#,
            r#"{"id":1,"x":2}"#,
            r#"{"id":1,"w":true}"#,
            r#"{"id":1,"x":2,"w":true,"extra":1}"#,
        ],
        // deny_unknown_fields on the outer struct: the flattened struct's keys are
        // known, others are rejected.
        FlatDeniedOuter => [
            r#"{"id":1,"x":1}"#,
            r#"{"id":1,"x":1,"z":true}"#,
            r#"{"id":1,"x":1,"zz":1}"#,
        ],
        // Flattened internally / adjacently tagged enums (flattened externally tagged
        // enums: see `differs_closed_objects_in_all_of`).
        FlatInternal => [
            r#"{"id":1,"type":"Struct","a":1}"#,
            r#"{"id":1,"type":"Unit"}"#,
            r#"{"id":1,"type":"Newtype","x":1}"#,
            r#"{"id":1,"type":"Struct"}"#,
            r#"{"id":1}"#,
            r#"{"type":"Unit"}"#,
        ],
        FlatAdjacent => [
            r#"{"id":1,"t":"Newtype","c":1}"#,
            r#"{"id":1,"t":"Unit"}"#,
            r#"{"id":1,"t":"Newtype","c":"x"}"#,
            r#"{"id":1}"#,
        ],
        Env<Inner> => [r#"{"id":1,"x":1}"#, r#"{"id":1}"#, r#"{"id":1,"x":"s"}"#],
        Env<Item> => [r#"{"id":1,"sku":"a","qty":1}"#, r#"{"id":1,"sku":"a"}"#],
        Env<Internal> => [r#"{"id":1,"type":"Unit"}"#, r#"{"id":1}"#, r#"{"id":1,"type":"Nope"}"#],
        // CANNOT AGREE: two flattened levels with the same key (`Env<FlatMap>`: both
        // `Env` and `FlatMap` have `id`). serde hands the key to the outer field only,
        // so the inner one is always missing; a schema merges both into one property.
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(transparent)]
struct TransparentNamed {
    inner: Vec<u8>,
}

#[derive(Debug, Deserialize, Extract)]
struct Newtype(u16);

#[derive(Debug, Deserialize, Extract)]
struct NewtypeOfStruct(Inner);

#[derive(Debug, Deserialize, Extract)]
#[serde(transparent)]
struct TransparentOption {
    inner: Option<u8>,
}

#[derive(Debug, Deserialize, Extract)]
struct UnitStruct;

#[derive(Debug, Deserialize, Extract)]
struct UsesWrappers {
    t: TransparentNamed,
    n: Newtype,
    o: TransparentOption,
    s: NewtypeOfStruct,
}

#[derive(Debug, Deserialize, Extract)]
struct Units {
    a: UnitStruct,
    b: (),
    c: Option<UnitStruct>,
    d: Option<()>,
    e: Vec<()>,
}

#[test]
fn transparent_and_newtype() {
    conformance!("transparent_and_newtype",
        TransparentNamed => ["[]", "[1,2,255]", "[256]", r#"{"inner":[1]}"#, "null"],
        Newtype => ["0", "65535", "65536", "-1", "[1]", r#""1""#, "null"],
        NewtypeOfStruct => [r#"{"x":1}"#, r#"{"x":256}"#, r#"{}"#, "[1]"],
        TransparentOption => ["1", "null", "256", r#"{"inner":1}"#],
        UnitStruct => ["null", "{}", "[]", "0", r#""UnitStruct""#],
        UsesWrappers => [
            r#"{"t":[1],"n":2,"o":3,"s":{"x":4}}"#,
            r#"{"t":[1],"n":2,"o":null,"s":{"x":4}}"#,
            r#"{"t":[1],"n":2,"s":{"x":4}}"#,
            r#"{"t":{"inner":[1]},"n":2,"s":{"x":4}}"#,
            r#"{"t":[1],"n":[2],"s":{"x":4}}"#,
            r#"{"t":[1],"n":2,"s":[4]}"#,
            r#"{"n":2,"s":{"x":4}}"#,
        ],
        Units => [
            r#"{"a":null,"b":null,"e":[]}"#,
            r#"{"a":null,"b":null,"c":null,"d":null,"e":[null]}"#,
            r#"{"b":null,"e":[]}"#,
            r#"{"a":null,"e":[]}"#,
            r#"{"a":null,"b":null,"e":[1]}"#,
            r#"{"a":{},"b":null,"e":[]}"#,
        ],
    );
}

// =====================================================================================
// Leaves: integers, floats, bool, char, String
// =====================================================================================

macro_rules! wrappers {
    ($($ident:ident: $ty:ty),* $(,)?) => {$(
        #[derive(Debug, Deserialize, Extract)]
        struct $ident {
            v: $ty,
        }
    )*};
}

wrappers!(
    WU8: u8, WU16: u16, WU32: u32, WU64: u64, WU128: u128, WUsize: usize,
    WI8: i8, WI16: i16, WI32: i32, WI64: i64, WI128: i128, WIsize: isize,
    WNzU8: std::num::NonZeroU8, WNzU64: std::num::NonZeroU64,
    WF32: f32, WF64: f64, WBool: bool, WChar: char, WString: String, WUnit: (),
    WBoxU8: Box<u8>, WBoxInner: Box<Inner>,
    WOptOpt: Option<Option<u8>>, WBoxOpt: Box<Option<u8>>,
    WVec: Vec<u8>, WVecDeque: VecDeque<i8>, WLinkedList: LinkedList<bool>,
    WVecOpt: Vec<Option<u8>>, WVecVec: Vec<Vec<u8>>,
    WHashSet: HashSet<String>, WBTreeSet: BTreeSet<u8>,
    WArr3: [u8; 3], WArr0: [u8; 0], WArrArr: [[bool; 2]; 2],
    WHashMap: HashMap<String, u8>, WBTreeMap: BTreeMap<String, Option<bool>>,
    WIndexMap: indexmap::IndexMap<String, Vec<u8>>, WBoxKeyMap: HashMap<Box<str>, String>,
    WJsonMap: serde_json::Map<String, Value>, WValue: Value, WOptValue: Option<Value>,
);

/// Common wrong shapes for every leaf.
const WRONG: &[&str] = &["null", "true", r#""1""#, "[1]", r#"{"a":1}"#];

#[test]
fn integers_at_and_beyond_bounds() {
    let mut report = Report::new("integers_at_and_beyond_bounds");
    report.check::<WU8>(&v(&["0", "1", "255", "256", "-1", "1000"]));
    report.check::<WU8>(&v(WRONG));
    report.check::<WU16>(&v(&["0", "65535", "65536", "-1"]));
    report.check::<WU32>(&v(&["0", "4294967295", "4294967296", "-1"]));
    // u64::MAX + 1 is the float 2^64 for serde_json; both reject it.
    // BY DESIGN: beyond u64::MAX, see `differs_wide_integer_ranges`.
    report.check::<WU64>(&v(&[
        "0",
        "18446744073709551615",
        "-1",
        "9223372036854775808",
    ]));
    report.check::<WU128>(&v(&[
        "0",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
    ]));
    // CANNOT AGREE: u128 beyond u64 are floats in `serde_json::Value`; u128::MAX + 1 is
    // rejected by serde ("number out of range") but equals u128::MAX as a float.
    report.check::<WUsize>(&v(&["0", "18446744073709551615", "-1"]));
    report.check::<WI8>(&v(&["-128", "127", "128", "-129", "0"]));
    report.check::<WI8>(&v(WRONG));
    report.check::<WI16>(&v(&["-32768", "32767", "32768", "-32769"]));
    report.check::<WI32>(&v(&[
        "-2147483648",
        "2147483647",
        "2147483648",
        "-2147483649",
    ]));
    // BY DESIGN: beyond i64::MAX, see `differs_wide_integer_ranges`.
    report.check::<WI64>(&v(&["-9223372036854775808", "9223372036854775807"]));
    // CANNOT AGREE: i64::MIN - 1 (-9223372036854775809) is read by serde_json as the
    // float -2^63, which serde rejects for i64 ("invalid type: floating point") and
    // the validator takes for an integer. A `serde_json::Value` without
    // `arbitrary_precision` cannot tell the two numbers apart.
    report.check::<WI128>(&v(&["-9223372036854775808", "18446744073709551615", "0"]));
    report.check::<WIsize>(&v(&["-9223372036854775808", "9223372036854775807"]));
    report.check::<WNzU8>(&v(&["1", "255", "0", "256", "-1"]));
    report.check::<WNzU64>(&v(&["1", "18446744073709551615", "0"]));
    // CANNOT AGREE: integers written as floats. JSON Schema's `integer` is any number
    // with a zero fractional part, so `1.0`, `-0` (serde_json reads `-0` as the float
    // -0.0) and `1e2` are integers to the validator; serde_json rejects them for every
    // integer type ("invalid type: floating point"). JSON Schema compares numbers by
    // value, not by spelling, so no schema can tell `1.0` from `1`.
    report.check::<WU8>(&v(&["1.5", "-0.5", "255.5"]));
    report.check::<WI64>(&v(&["0.1", "-1.5"]));
    report.finish();
}

#[test]
fn differs_wide_integer_ranges() {
    // BY DESIGN: a bound that is the whole range of a 64- or 128-bit type says nothing a
    // model could act on and costs tokens in every request, so the schema of `i64`,
    // `isize`, `i128` has no bounds and that of `u64`, `usize`, `u128` only
    // `minimum: 0`. serde still refuses a number beyond the type, and the re-ask names
    // it.
    differences!("differs_wide_integer_ranges",
        WU64 => agree [r#"{"v":18446744073709551615}"#, r#"{"v":-1}"#] differ [
            r#"{"v":18446744073709551616}"#,
        ],
        WI64 => agree [r#"{"v":9223372036854775807}"#, r#"{"v":-9223372036854775808}"#] differ [
            r#"{"v":9223372036854775808}"#,
            r#"{"v":18446744073709551615}"#,
        ],
        WIsize => agree [] differ [r#"{"v":9223372036854775808}"#],
    );
}

#[test]
fn floats_bool_char_string() {
    let mut report = Report::new("floats_bool_char_string");
    report.check::<WF64>(&v(&[
        "0",
        "1",
        "-1",
        "1.5",
        "1e300",
        "-1e-300",
        "18446744073709551616",
    ]));
    report.check::<WF64>(&v(WRONG));
    // CANNOT AGREE: `1e400` is not representable: serde_json refuses it both as f64
    // and as `Value` ("number out of range"), so there is no document to validate.
    report.check::<WF32>(&v(&[
        "0",
        "1.5",
        "-3.4028234e38",
        "3.4028234e38",
        "16777217",
    ]));
    report.check::<WF32>(&v(WRONG));
    report.check::<WBool>(&v(&["true", "false", "0", "1", r#""true""#, "null"]));
    report.check::<WChar>(&v(&[
        r#""a""#,
        r#""é""#,
        r#""😀""#,
        r#""\u0000""#,
        r#""""#,
        r#""ab""#,
        // `e` + combining acute: two code points, one grapheme. Both count code points.
        "\"e\u{301}\"",
        // A surrogate pair is one code point.
        r#""\ud83d\ude00""#,
        "97",
        "null",
    ]));
    report.check::<WString>(&v(&[
        r#""""#,
        r#""text""#,
        r#""line\nbreak \"quoted\" \u00e9""#,
        "1",
        "null",
        "[]",
        r#"{"s":"x"}"#,
    ]));
    report.check::<WUnit>(&v(&["null", "{}", "[]", "0", r#""""#]));
    report.check::<WUnit>(&[r#"{}"#]);
    report.finish();
}

// =====================================================================================
// Containers
// =====================================================================================

#[test]
fn sequences() {
    let mut report = Report::new("sequences");
    report.check::<WVec>(&v(&[
        "[]",
        "[0,255]",
        "[256]",
        "[null]",
        "[1,1,1]",
        "null",
        "1",
        r#"{"0":1}"#,
    ]));
    report.check::<WVecDeque>(&v(&["[]", "[-128,127]", "[128]", r#"["1"]"#]));
    report.check::<WLinkedList>(&v(&["[]", "[true,false,true]", "[0]"]));
    report.check::<WVecOpt>(&v(&["[]", "[null,1,null]", "[256]", "null"]));
    report.check::<WVecVec>(&v(&[
        "[]",
        "[[]]",
        "[[1],[2,3]]",
        "[1]",
        "[[256]]",
        "[null]",
    ]));
    report.check::<WHashSet>(&v(&["[]", r#"["a","b"]"#, "[1]", "null"]));
    report.check::<WBTreeSet>(&v(&["[]", "[1,2,3]", "[3,2,1]", "[256]"]));
    // Duplicates in sets: see `differs_sets_with_duplicates`.
    report.finish();
}

#[test]
fn fixed_arrays() {
    let mut report = Report::new("fixed_arrays");
    report.check::<WArr3>(&v(&[
        "[1,2,3]",
        "[1,2]",
        "[1,2,3,4]",
        "[]",
        "[1,2,256]",
        "[1,2,null]",
        "null",
    ]));
    report.check::<WArr0>(&v(&["[]", "[1]", "null"]));
    report.check::<WArrArr>(&v(&[
        "[[true,false],[false,true]]",
        "[[true],[false,true]]",
        "[[true,false]]",
        "[[true,false],[false,true],[true,true]]",
    ]));
    report.finish();
}

#[test]
fn boxes() {
    // Arc<T> is not tested: serde's `rc` feature is not enabled in this workspace, so
    // `Arc<T>: Deserialize` does not hold and a struct with an Arc field cannot derive
    // `Deserialize` at all. `Box<str>` is not tested: it has a schema but no
    // `HasPartial` (the derive does not compile for a `Box<str>` field).
    let mut report = Report::new("boxes");
    report.check::<WBoxU8>(&v(&["1", "256", "null"]));
    report.check::<WBoxInner>(&v(&[r#"{"x":1}"#, r#"{"x":256}"#, r#"{}"#, "null"]));
    report.check::<WBoxOpt>(&v(&["1", "null", "256"]));
    report.check::<WBoxOpt>(&[r#"{}"#]);
    report.check::<WOptOpt>(&v(&["1", "null", "256"]));
    report.check::<WOptOpt>(&[r#"{}"#]);
    report.finish();
}

#[test]
fn maps_and_json_values() {
    let mut report = Report::new("maps_and_json_values");
    report.check::<WHashMap>(&v(&[
        "{}",
        r#"{"a":1,"b":255}"#,
        r#"{"a":256}"#,
        r#"{"a":null}"#,
        r#"{"":0}"#,
        "[]",
        "null",
    ]));
    report.check::<WBTreeMap>(&v(&["{}", r#"{"a":true,"b":null}"#, r#"{"a":1}"#]));
    report.check::<WIndexMap>(&v(&[
        "{}",
        r#"{"a":[],"b":[1,2]}"#,
        r#"{"a":[256]}"#,
        r#"{"a":1}"#,
    ]));
    report.check::<WBoxKeyMap>(&v(&["{}", r#"{"k":"v"}"#, r#"{"k":1}"#]));
    report.check::<WJsonMap>(&v(&["{}", r#"{"a":[null,{"b":1}]}"#, "[]", "null", "1"]));
    report.check::<WValue>(&v(&[
        "null",
        "1",
        "-1.5",
        r#""s""#,
        "[1,[2]]",
        r#"{"a":{}}"#,
        "true",
    ]));
    report.check::<WValue>(&[r#"{}"#]);
    report.check::<WOptValue>(&v(&["null", "1", r#"{"a":{}}"#]));
    report.check::<WOptValue>(&[r#"{}"#]);
    report.finish();
}

// =====================================================================================
// Nested, generic, recursive
// =====================================================================================

#[derive(Debug, Deserialize, Extract)]
struct Item {
    sku: String,
    qty: u16,
}

#[derive(Debug, Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Extract)]
struct Order {
    id: u32,
    first: Item,
    rest: Vec<Item>,
    by_code: HashMap<String, Item>,
    maybe: Option<Item>,
    page: Page<Item>,
}

#[derive(Debug, Deserialize, Extract)]
struct TwoPages {
    items: Page<Item>,
    pages: Page<Page<Item>>,
}

mod first {
    use instructor::prelude::*;

    #[derive(Debug, Deserialize, Extract)]
    pub struct Thing {
        pub a: u8,
    }
}

mod second {
    use instructor::prelude::*;

    #[derive(Debug, Deserialize, Extract)]
    pub struct Thing {
        pub b: String,
    }
}

/// Two types with the same name in different modules get distinct definitions.
#[derive(Debug, Deserialize, Extract)]
struct SameNames {
    one: first::Thing,
    two: second::Thing,
    again: Option<first::Thing>,
}

/// A definition name that must be escaped in a `$ref` (`/`, `~`, space, `%`).
#[derive(Debug, Deserialize, Extract)]
#[serde(rename = "odd/name~with space%")]
struct OddName {
    q: u8,
}

#[derive(Debug, Deserialize, Extract)]
struct UsesOddName {
    odd: OddName,
    odds: Vec<OddName>,
}

#[derive(Debug, Deserialize, Extract)]
struct PagesOfThings {
    a: Page<first::Thing>,
    b: Page<second::Thing>,
}

#[test]
fn nested_and_generic() {
    conformance!("nested_and_generic",
        Order => [
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[],"by_code":{},"page":{"items":[]}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[{"sku":"b","qty":2}],"by_code":{"c":{"sku":"c","qty":3}},"maybe":null,"page":{"items":[{"sku":"d","qty":4}],"next":"x"}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":70000},"rest":[],"by_code":{},"page":{"items":[]}}"#,
            r#"{"id":1,"first":{"sku":"a"},"rest":[],"by_code":{},"page":{"items":[]}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[{"qty":2}],"by_code":{},"page":{"items":[]}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[],"by_code":{"c":1},"page":{"items":[]}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[],"by_code":{},"maybe":{"sku":1,"qty":1},"page":{"items":[]}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[],"by_code":{},"page":{"items":[1]}}"#,
            r#"{"id":1,"first":{"sku":"a","qty":1},"rest":[],"by_code":{},"page":{}}"#,
            r#"{"id":1,"first":null,"rest":[],"by_code":{},"page":{"items":[]}}"#,
        ],
        Page<Item> => [
            r#"{"items":[]}"#,
            r#"{"items":[{"sku":"a","qty":1}],"next":null}"#,
            r#"{"items":[{"sku":"a","qty":-1}]}"#,
            r#"{"items":null}"#,
        ],
        TwoPages => [
            r#"{"items":{"items":[]},"pages":{"items":[]}}"#,
            r#"{"items":{"items":[]},"pages":{"items":[{"items":[{"sku":"a","qty":1}]}]}}"#,
            r#"{"items":{"items":[]},"pages":{"items":[{"sku":"a","qty":1}]}}"#,
            r#"{"items":{"items":[{"items":[]}]},"pages":{"items":[]}}"#,
        ],
        SameNames => [
            r#"{"one":{"a":1},"two":{"b":"x"}}"#,
            r#"{"one":{"a":1},"two":{"b":"x"},"again":{"a":2}}"#,
            r#"{"one":{"b":"x"},"two":{"a":1}}"#,
            r#"{"one":{"a":1},"two":{"b":"x"},"again":{"b":"x"}}"#,
        ],
        UsesOddName => [
            r#"{"odd":{"q":1},"odds":[{"q":2}]}"#,
            r#"{"odd":{"q":256},"odds":[]}"#,
            r#"{"odd":{"q":1},"odds":[{}]}"#,
        ],
        PagesOfThings => [
            r#"{"a":{"items":[{"a":1}]},"b":{"items":[{"b":"x"}]}}"#,
            r#"{"a":{"items":[{"b":"x"}]},"b":{"items":[{"a":1}]}}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
struct Node {
    label: String,
    children: Vec<Node>,
    next: Option<Box<Node>>,
}

#[derive(Debug, Deserialize, Extract)]
struct Forest {
    trees: Vec<Node>,
}

#[derive(Debug, Deserialize, Extract)]
struct Ping {
    pong: Option<Box<Pong>>,
}

#[derive(Debug, Deserialize, Extract)]
struct Pong {
    ping: Vec<Ping>,
    n: u8,
}

#[derive(Debug, Deserialize, Extract)]
struct Tree<T> {
    value: T,
    kids: Vec<Tree<T>>,
}

/// A recursive internally tagged enum.
#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "op")]
enum Expr {
    Num { v: f64 },
    Add { l: Box<Expr>, r: Box<Expr> },
    Neg { e: Box<Expr> },
}

#[derive(Debug, Deserialize, Extract)]
struct HasExpr {
    e: Expr,
    list: Vec<Expr>,
}

/// A chain of `depth` nodes through `children`, with an error at the bottom if `bad`.
fn deep_node(depth: usize, bad: bool) -> String {
    let leaf = if bad {
        r#"{"label":1,"children":[]}"#.to_owned()
    } else {
        r#"{"label":"leaf","children":[]}"#.to_owned()
    };
    (0..depth).fold(leaf, |inner, i| {
        format!(r#"{{"label":"n{i}","children":[{inner}]}}"#)
    })
}

/// A chain of `depth` nodes through `next`.
fn deep_next(depth: usize, bad: bool) -> String {
    let leaf = if bad {
        r#"{"label":"leaf","children":[],"next":{"children":[]}}"#.to_owned()
    } else {
        r#"{"label":"leaf","children":[],"next":null}"#.to_owned()
    };
    (0..depth).fold(leaf, |inner, _| {
        format!(r#"{{"label":"n","children":[],"next":{inner}}}"#)
    })
}

#[test]
fn recursive() {
    let mut report = Report::new("recursive");
    report.check::<Node>(NOT_OBJECTS);
    report.check::<Node>(&[
        r#"{"label":"a","children":[]}"#,
        r#"{"label":"a","children":[{"label":"b","children":[]}]}"#,
        r#"{"label":"a","children":[{"label":"b"}]}"#,
        r#"{"label":"a","children":[],"next":{"label":"b","children":[]}}"#,
        r#"{"label":"a","children":[],"next":{"label":"b","children":[1]}}"#,
        r#"{"label":"a","children":[null]}"#,
    ]);
    // serde_json stops at 128 nested arrays/objects; a node through `children` is two
    // levels, through `next` one. CANNOT AGREE beyond that: serde_json refuses the
    // text ("recursion limit exceeded", even as a `Value`), while a schema cannot
    // limit the depth of a recursive type. Up to the limit, they must agree.
    report.check::<Node>(&[
        deep_node(1, false),
        deep_node(20, false),
        deep_node(60, false),
        deep_node(20, true),
        deep_node(60, true),
        deep_next(60, false),
        deep_next(120, false),
        deep_next(120, true),
    ]);
    report.check::<Forest>(&[
        r#"{"trees":[]}"#.to_owned(),
        format!(
            r#"{{"trees":[{},{}]}}"#,
            deep_node(10, false),
            deep_next(10, false)
        ),
        format!(
            r#"{{"trees":[{},{}]}}"#,
            deep_node(10, false),
            deep_next(10, true)
        ),
    ]);
    report.check::<Ping>(&[
        r#"{}"#,
        r#"{"pong":null}"#,
        r#"{"pong":{"ping":[],"n":1}}"#,
        r#"{"pong":{"ping":[{"pong":{"ping":[{}],"n":2}}],"n":1}}"#,
        r#"{"pong":{"ping":[{"pong":{"ping":[{}],"n":256}}],"n":1}}"#,
        r#"{"pong":{"ping":[{"pong":{"ping":[]}}],"n":1}}"#,
    ]);
    report.check::<Tree<Item>>(&[
        r#"{"value":{"sku":"a","qty":1},"kids":[]}"#,
        r#"{"value":{"sku":"a","qty":1},"kids":[{"value":{"sku":"b","qty":2},"kids":[]}]}"#,
        r#"{"value":{"sku":"a","qty":1},"kids":[{"value":{"sku":"b"},"kids":[]}]}"#,
        r#"{"value":{"sku":"a","qty":1},"kids":[{"value":1,"kids":[]}]}"#,
    ]);
    report.check::<Expr>(&[
        r#"{"op":"Num","v":1}"#,
        r#"{"op":"Add","l":{"op":"Num","v":1},"r":{"op":"Neg","e":{"op":"Num","v":2}}}"#,
        r#"{"op":"Add","l":{"op":"Num","v":1},"r":{"op":"Neg","e":{"op":"Num"}}}"#,
        r#"{"op":"Add","l":{"op":"Num","v":1}}"#,
        r#"{"op":"Neg","e":{"v":1}}"#,
    ]);
    report.check::<HasExpr>(&[
        r#"{"e":{"op":"Num","v":1},"list":[{"op":"Neg","e":{"op":"Num","v":2}}]}"#,
        r#"{"e":{"op":"Num","v":1},"list":[{"op":"Neg","e":{"op":"Nope"}}]}"#,
    ]);
    report.finish();
}

// =====================================================================================
// Enums
// =====================================================================================

/// A unit enum.
#[derive(Debug, Deserialize, Extract)]
enum Color {
    /// The red one.
    Red,
    Green,
    #[serde(rename = "BLUE")]
    Blue,
    #[serde(alias = "violet")]
    Purple,
    #[serde(skip_deserializing)]
    Hidden,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "kebab-case")]
enum Kebab {
    LightRed,
    DarkBlue,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Screaming {
    LightRed,
    DarkBlue,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "lowercase")]
enum WithOther {
    Known,
    AlsoKnown,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize, Extract)]
struct HasColor {
    color: Color,
    maybe: Option<Color>,
    many: Vec<Color>,
}

#[test]
fn enum_unit() {
    conformance!("enum_unit",
        Color => [
            r#""Red""#, r#""Green""#, r#""BLUE""#, r#""Purple""#, r#""violet""#,
            r#""Blue""#, r#""red""#, r#""RED""#, r#""Hidden""#, r#""""#, r#""Violet""#,
            "0", "1", "null", "[]", r#"["Red"]"#, r#"{}"#,
            r#"{"Red":[]}"#, r#"{"Red":1}"#, r#"{"Nope":null}"#,
            // `{"Red":null}`: see `differs_unit_variant_as_map`.
        ],
        Kebab => [r#""light-red""#, r#""dark-blue""#, r#""LightRed""#, r#""light_red""#],
        Screaming => [r#""LIGHT_RED""#, r#""DARK_BLUE""#, r#""LightRed""#, r#""LIGHT-RED""#],
        WithOther => [
            r#""known""#, r#""alsoknown""#, r#""anything""#, r#""""#, r#""unknown""#,
            "1", "null", "[]",
        ],
        HasColor => [
            r#"{"color":"Red","many":[]}"#,
            r#"{"color":"Red","maybe":null,"many":["Green","BLUE","violet"]}"#,
            r#"{"color":"Red","maybe":"Nope","many":[]}"#,
            r#"{"color":"Red","many":["Red",null]}"#,
            r#"{"color":null,"many":[]}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
enum External {
    Unit,
    Newtype(u8),
    NewtypeStruct(Inner),
    NewtypeOpt(Option<String>),
    Struct {
        a: u8,
        b: Option<String>,
    },
    #[serde(rename = "renamed", alias = "aka")]
    Renamed {
        c: bool,
    },
    #[serde(skip_deserializing)]
    Skipped(u8),
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
enum ExternalDenied {
    Unit,
    Struct { a: u8 },
    Newtype(Inner),
}

#[derive(Debug, Deserialize, Extract)]
enum ExternalUnitPayload {
    A(UnitStruct),
    B(()),
    C(Option<UnitStruct>),
}

#[test]
fn enum_externally_tagged() {
    conformance!("enum_externally_tagged",
        External => [
            r#""Unit""#,
            r#"{"Newtype":1}"#,
            r#"{"Newtype":256}"#,
            r#"{"Newtype":null}"#,
            r#"{"NewtypeStruct":{"x":1}}"#,
            r#"{"NewtypeStruct":{"x":1,"extra":1}}"#,
            r#"{"NewtypeStruct":{}}"#,
            r#"{"NewtypeOpt":null}"#,
            r#"{"NewtypeOpt":"s"}"#,
            r#"{"NewtypeOpt":1}"#,
            r#"{"Struct":{"a":1}}"#,
            r#"{"Struct":{"a":1,"b":"x","extra":1}}"#,
            r#"{"Struct":{"b":"x"}}"#,
            r#"{"Struct":{"a":256}}"#,
            r#"{"renamed":{"c":true}}"#,
            r#"{"aka":{"c":true}}"#,
            r#"{"Renamed":{"c":true}}"#,
            r#"{"renamed":{"c":true},"aka":{"c":true}}"#,
            r#"{"Newtype":1,"Unit":null}"#,
            r#"{"Struct":{"a":1},"Newtype":1}"#,
            r#"{"Skipped":1}"#,
            r#""Newtype""#,
            r#""Struct""#,
            r#""Nope""#,
            r#"{"Nope":1}"#,
            r#"{}"#,
            r#""unit""#,
            r#"{"Unit":1}"#,
            "null",
            "[]",
            // `{"Unit":null}`: see `differs_unit_variant_as_map`.
            // `{"Struct":[1]}`: see `differs_sequence_form`.
        ],
        ExternalDenied => [
            r#""Unit""#,
            r#"{"Struct":{"a":1}}"#,
            r#"{"Struct":{"a":1,"z":1}}"#,
            r#"{"Newtype":{"x":1}}"#,
            // deny_unknown_fields of the enum does not reach into a newtype's payload.
            r#"{"Newtype":{"x":1,"z":1}}"#,
        ],
        ExternalUnitPayload => [
            r#"{"A":null}"#, r#"{"B":null}"#, r#"{"C":null}"#,
            r#"{"A":{}}"#, r#""A""#, r#""B""#, r#""C""#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum Internal {
    Unit,
    Struct {
        a: u8,
        b: Option<String>,
    },
    Newtype(Inner),
    NewtypeMap(HashMap<String, u8>),
    #[serde(rename = "renamed", alias = "aka")]
    Renamed {
        c: bool,
    },
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "kind", deny_unknown_fields)]
enum InternalDenied {
    Struct { a: u8 },
    Newtype(InnerDenied),
}

#[derive(Debug, Deserialize, Extract)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
enum InternalRenamed {
    FirstKind { some_field: u8 },
    SecondKind { other_field: String },
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum InternalDefaults {
    S {
        #[serde(default)]
        n: u8,
        m: Option<u8>,
    },
}

/// Newtype variants of an internally tagged enum whose payload is not a plain struct.
#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum InternalPayloads {
    Boxed(Box<InnerDenied>),
    Opt(Option<Inner>),
    Flat(FlatStruct),
    // serde rejects these at run time (a sequence / a string cannot hold the tag).
    List(Vec<u8>),
    Plain(Color),
}

#[test]
fn enum_internally_tagged() {
    conformance!("enum_internally_tagged",
        Internal => [
            r#"{"type":"Unit"}"#,
            r#"{"type":"Struct","a":1}"#,
            r#"{"a":1,"type":"Struct"}"#,
            r#"{"type":"Struct","a":1,"b":"x","extra":[1]}"#,
            r#"{"type":"Struct"}"#,
            r#"{"type":"Struct","a":256}"#,
            r#"{"type":"Newtype","x":1}"#,
            r#"{"type":"Newtype","x":1,"extra":true}"#,
            r#"{"type":"Newtype"}"#,
            r#"{"type":"NewtypeMap"}"#,
            r#"{"type":"NewtypeMap","k":1}"#,
            r#"{"type":"NewtypeMap","k":256}"#,
            r#"{"type":"renamed","c":true}"#,
            r#"{"type":"aka","c":true}"#,
            r#"{"type":"Renamed","c":true}"#,
            r#"{"a":1}"#,
            r#"{"type":"Nope","a":1}"#,
            r#"{"type":"struct","a":1}"#,
            r#"{"type":null}"#,
            r#"{"type":0}"#,
            r#"{"type":["Unit"]}"#,
            r#""Unit""#,
            r#"{"Unit":null}"#,
            "null",
            // `{"type":"Unit","extra":1}`: accepted by both, checked below.
            r#"{"type":"Unit","extra":1}"#,
        ],
        InternalDenied => [
            r#"{"kind":"Struct","a":1}"#,
            r#"{"kind":"Struct","a":1,"z":1}"#,
            r#"{"kind":"Newtype","x":1}"#,
            r#"{"kind":"Newtype","x":1,"z":1}"#,
            r#"{"kind":"Newtype"}"#,
        ],
        InternalRenamed => [
            r#"{"type":"first_kind","someField":1}"#,
            r#"{"type":"first_kind","some_field":1}"#,
            r#"{"type":"FirstKind","someField":1}"#,
            r#"{"type":"second_kind","otherField":"x"}"#,
            r#"{"type":"second_kind","otherField":1}"#,
        ],
        InternalDefaults => [
            r#"{"type":"S"}"#,
            r#"{"type":"S","n":1,"m":null}"#,
            r#"{"type":"S","n":null}"#,
        ],
        InternalPayloads => [
            r#"{"type":"Boxed","x":1}"#,
            r#"{"type":"Boxed","x":1,"z":1}"#,
            r#"{"type":"Opt","x":1}"#,
            r#"{"type":"Opt"}"#,
            r#"{"type":"Opt","x":"1"}"#,
            r#"{"type":"Flat","id":1,"x":1}"#,
            r#"{"type":"Flat","id":1}"#,
            r#"{"type":"List"}"#,
            r#"{"type":"Plain"}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    Unit,
    Newtype(u8),
    NewtypeStruct(Inner),
    Struct {
        a: u8,
    },
    #[serde(alias = "aka")]
    Aliased(bool),
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c", deny_unknown_fields)]
enum AdjacentDenied {
    Unit,
    Newtype(u8),
    Struct { a: u8 },
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum AdjacentUnitPayload {
    A(UnitStruct),
    B(()),
}

#[test]
fn enum_adjacently_tagged() {
    conformance!("enum_adjacently_tagged",
        Adjacent => [
            r#"{"t":"Unit"}"#,
            r#"{"t":"Unit","c":null}"#,
            r#"{"t":"Newtype","c":1}"#,
            r#"{"c":1,"t":"Newtype"}"#,
            r#"{"t":"Newtype","c":256}"#,
            r#"{"t":"Newtype","c":null}"#,
            r#"{"t":"Newtype"}"#,
            r#"{"t":"NewtypeStruct","c":{"x":1}}"#,
            r#"{"t":"NewtypeStruct","c":{}}"#,
            r#"{"t":"Struct","c":{"a":1}}"#,
            r#"{"t":"Struct","c":{"a":1,"zz":1}}"#,
            r#"{"t":"Struct","c":{}}"#,
            r#"{"t":"Struct","a":1}"#,
            r#"{"t":"Aliased","c":true}"#,
            r#"{"t":"aka","c":false}"#,
            r#"{"t":"Newtype","c":1,"extra":1}"#,
            r#"{"t":"Nope","c":1}"#,
            r#"{"c":1}"#,
            r#"{}"#,
            r#"{"t":1,"c":1}"#,
            r#"{"Newtype":1}"#,
            "null",
            // `{"t":"Unit","c":5}`: see `differs_adjacent`.
            // `["Newtype",1]`: see `differs_sequence_form`.
        ],
        AdjacentDenied => [
            r#"{"t":"Unit"}"#,
            r#"{"t":"Newtype","c":1}"#,
            r#"{"t":"Newtype","c":1,"extra":1}"#,
            r#"{"t":"Struct","c":{"a":1}}"#,
            r#"{"t":"Struct","c":{"a":1,"z":1}}"#,
            r#"{"t":"Unit","extra":1}"#,
        ],
        AdjacentUnitPayload => [
            r#"{"t":"A","c":null}"#,
            r#"{"t":"A"}"#,
            r#"{"t":"B","c":null}"#,
            r#"{"t":"B"}"#,
            r#"{"t":"A","c":1}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(untagged)]
enum Untagged {
    Small(u8),
    Word(String),
    Pair { left: bool, right: bool },
    Items(Vec<Item>),
    Nothing,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(untagged)]
enum UntaggedStructs {
    Full { id: u8, name: String },
    IdOnly { id: u8 },
}

#[derive(Debug, Deserialize, Extract)]
#[serde(untagged, deny_unknown_fields)]
enum UntaggedDenied {
    A { a: u8 },
    B { b: u8 },
}

#[test]
fn enum_untagged() {
    conformance!("enum_untagged",
        Untagged => [
            "0", "255", "256", "-1", "1.5",
            r#""s""#, r#""""#,
            r#"{"left":true,"right":false}"#,
            r#"{"left":true}"#,
            r#"{"left":true,"right":false,"extra":1}"#,
            r#"[]"#,
            r#"[{"sku":"a","qty":1}]"#,
            r#"[{"sku":"a"}]"#,
            "null",
            "true",
            r#"{}"#,
            // `[true,false]` (Pair in sequence form): see `differs_sequence_form`.
        ],
        UntaggedStructs => [
            r#"{"id":1,"name":"x"}"#,
            r#"{"id":1}"#,
            r#"{"id":1,"name":2}"#,
            r#"{"name":"x"}"#,
            r#"{"id":256}"#,
        ],
        UntaggedDenied => [
            r#"{"a":1}"#,
            r#"{"b":1}"#,
            r#"{"a":1,"b":1}"#,
            r#"{"c":1}"#,
            r#"{}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
enum PartlyUntagged {
    Tagged(u8),
    Other {
        x: bool,
    },
    #[serde(untagged)]
    Fallback(String),
    #[serde(untagged)]
    Number(f64),
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum InternalPartlyUntagged {
    A {
        a: u8,
    },
    #[serde(untagged)]
    Raw(Value),
}

#[test]
fn enum_variant_untagged() {
    conformance!("enum_variant_untagged",
        PartlyUntagged => [
            r#"{"Tagged":1}"#,
            r#"{"Tagged":256}"#,
            r#"{"Other":{"x":true}}"#,
            r#""Tagged""#,
            r#""anything""#,
            "1.5",
            "1",
            "null",
            r#"{"Nope":1}"#,
            "[]",
        ],
        InternalPartlyUntagged => [
            r#"{"type":"A","a":1}"#,
            r#"{"type":"A","a":256}"#,
            r#"{"type":"B"}"#,
            "null",
            "[1]",
        ],
    );
}

// =====================================================================================
// Feature crates: chrono, time, uuid, url, rust_decimal
// =====================================================================================

#[test]
fn conformance_function_form() {
    // The one-type form of the harness.
    conformance::<Item>(&[r#"{"sku":"a","qty":1}"#, r#"{"sku":"a"}"#, "null"]);
}

// =====================================================================================
// Documented differences (see the module docs): `agree` cases must agree, `differ`
// cases must still differ.
// =====================================================================================

#[test]
fn differs_field_alias() {
    // FIXED: aliases are extra properties of the same schema; each name excludes the
    // others (`dependentSchemas`) and any one satisfies `required`.
    differences!("differs_field_alias",
        Aliased => agree [
            r#"{"nm":"a"}"#,                   // serde: ok      schema: `name` required
            r#"{"full_name":"a","years":3}"#,  // serde: ok      schema: `name` required
            r#"{"name":"a","years":300}"#,     // serde: u8 error; schema: unknown key, allowed
            r#"{"name":"a","nm":"b"}"#,
        ] differ [
            // NOTE: the main name and an alias together are a duplicate field for serde.
        ],
        AliasedDenied => agree [
            r#"{"nm":"a"}"#,                   // serde: ok      schema: additionalProperties false
        ] differ [
        ],
    );
}

#[test]
fn differs_sets_with_duplicates() {
    // BY DESIGN: `uniqueItems` tells the model not to repeat itself; serde keeps one of
    // each duplicate, so an answer with duplicates loses nothing.
    let mut report = Report::new("differs_sets_with_duplicates");
    report.check_differs::<WHashSet>(&v(&[r#"["a","a"]"#]));
    report.check_differs::<WBTreeSet>(&v(&["[1,1]", "[2,1,2]"]));
    report.finish();
}

#[test]
fn differs_unit_variant_as_map() {
    // BY DESIGN: serde_json also reads a unit variant of an externally tagged enum from
    // `{"Red": null}`; the model is shown the string form only.
    differences!("differs_unit_variant_as_map",
        Color => agree [] differ [r#"{"Red":null}"#, r#"{"violet":null}"#],
        External => agree [] differ [r#"{"Unit":null}"#],
        // With `#[serde(other)]`, any key with `null`.
        WithOther => agree [] differ [r#"{"whatever":null}"#],
    );
}

#[derive(Debug, Deserialize, Extract)]
struct SeqForm {
    a: u8,
    b: Option<String>,
}

#[derive(Debug, Default, Deserialize, Extract)]
#[serde(default)]
struct SeqFormDefault {
    a: u8,
}

#[test]
fn differs_sequence_form() {
    // BY DESIGN: serde_json reads derived structs (and struct variants, and adjacently
    // tagged enums) from arrays too, fields in declaration order; describing that would
    // invite positional answers, so the model is shown the object form only.
    differences!("differs_sequence_form",
        SeqForm => agree [
            "[1]",                     // both reject (`b` has no default)
        ] differ [
            r#"[1,"x"]"#,              // serde: ok    schema: not an object
            r#"[1,null]"#,             // serde: ok    schema: not an object
        ],
        SeqFormDefault => agree [
        ] differ [
            "[]",                      // serde: ok (container default)   schema: not an object
            "[1]",                     // serde: ok    schema: not an object
        ],
        External => agree [
            r#"{"Struct":[1]}"#,       // both reject
        ] differ [
            r#"{"Struct":[1,"b"]}"#,   // serde: ok    schema: not an object
        ],
        Adjacent => agree [
            r#"["Unit"]"#,             // both reject
        ] differ [
            r#"["Newtype",1]"#,        // serde: ok    schema: not an object
        ],
        // Untagged struct variants are not read from sequences: both reject.
        Untagged => agree [] differ [],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum InternalWithOther {
    A {
        x: u8,
    },
    B,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum AdjacentWithOther {
    A(u8),
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize, Extract)]
enum ExternalWithOther {
    A(u8),
    B,
    #[serde(other)]
    Other,
}

#[test]
fn differs_tagged_other() {
    // FIXED: the `#[serde(other)]` catch-all's tag excludes the named tags (`not: {enum:
    // [...]}`), so the `oneOf` stays disjoint. BY DESIGN: the map form of unit variants,
    // as in `differs_unit_variant_as_map`.
    differences!("differs_tagged_other",
        InternalWithOther => agree [
            r#"{"type":"A","x":1}"#,   // serde: ok             schema: matches 2 oneOf branches
            r#"{"type":"B"}"#,         // serde: ok             schema: matches 2 oneOf branches
            r#"{"type":"A"}"#,         // serde: missing `x`    schema: matches the catch-all
            r#"{"type":"A","x":256}"#, // serde: out of range   schema: matches the catch-all
            r#"{"type":"zzz"}"#,       // both accept
        ] differ [
        ],
        AdjacentWithOther => agree [
            r#"{"t":"A","c":1}"#,
            r#"{"t":"A","c":"x"}"#,
            r#"{"t":"zzz"}"#,
        ] differ [
        ],
        ExternalWithOther => agree [
            r#""B""#,        // serde: ok                   schema: "B" matches 2 oneOf branches
            r#""A""#,        // serde: A is a newtype variant schema: matches the catch-all
            r#""zzz""#,      // both accept
            r#"{"A":1}"#,    // both accept
        ] differ [
            // NOTE: map form of units.
            r#"{"B":null}"#,
            r#"{"zzz":null}"#,
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type", deny_unknown_fields)]
enum InternalDeniedUnit {
    A { x: u8 },
    U,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum InternalUnitStruct {
    A(UnitStruct),
    B { x: u8 },
}

#[test]
fn differs_internal() {
    // FIXED: a unit variant (or a newtype of a unit struct) of an internally tagged enum
    // is the tag alone, other keys allowed even under `deny_unknown_fields`, as serde
    // reads it.
    differences!("differs_internal",
        InternalDeniedUnit => agree [
            r#"{"type":"U"}"#,
            r#"{"type":"U","extra":1}"#,   // serde: ok    schema: additionalProperties false
            r#"{"type":"A","x":1,"extra":1}"#,
        ] differ [
        ],
        // NOTE: an internally tagged newtype variant holding a unit struct is read by
        // serde from `{"type":"A"}`; the schema is `allOf[{tag}, {"type":"null"}]`,
        // which nothing matches.
        InternalUnitStruct => agree [
            r#"{"type":"A"}"#,             // serde: ok    schema: never valid
            r#"{"type":"B","x":1}"#,
        ] differ [
            r#"{"type":"A","extra":1}"#,   // both reject (a unit struct from a non-empty map)
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum AdjacentOpt {
    Unit,
    Opt(Option<u8>),
}

#[test]
fn differs_adjacent() {
    // FIXED: a unit variant's content may be present as `null`; a newtype variant over
    // an `Option` may omit its content.
    differences!("differs_adjacent",
        AdjacentOpt => agree [
            r#"{"t":"Unit","c":5}"#,      // serde: "expected unit variant"  schema: ok
            r#"{"t":"Unit","c":null}"#,   // both accept
            r#"{"t":"Opt"}"#,             // serde: ok    schema: `c` required
            r#"{"t":"Opt","c":null}"#,    // both accept
        ] differ [
            // NOTE: a unit variant's content, when present, must be `null` for serde;
            // the schema lets `c` be anything (it is an unlisted property).
            // NOTE: a newtype variant whose payload is an Option may omit the content
            // (serde reads it as None); the schema requires `c`.
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
struct NewtypeOption(Option<u8>);

#[derive(Debug, Deserialize, Extract)]
struct HasNewtypeOption {
    x: NewtypeOption,
    y: TransparentOption,
}

#[test]
fn differs_newtype_of_option() {
    // FIXED: a plain newtype around an `Option` is required (only `#[serde(transparent)]`
    // inherits the `Option`'s optionality).
    differences!("differs_newtype_of_option",
        HasNewtypeOption => agree [
            r#"{"x":1,"y":1}"#,
            r#"{"x":null}"#,               // both accept (y is transparent)
            r#"{"y":1}"#,                  // serde: missing field `x`    schema: ok
            r#"{}"#,                       // serde: missing field `x`    schema: ok
        ] differ [
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
struct FlatOptional {
    id: u8,
    #[serde(flatten)]
    inner: Option<Inner>,
}

#[test]
fn differs_flatten_option() {
    // BY DESIGN: serde turns a flattened `Option<Struct>` into `None` when the inner
    // fields are malformed, dropping what the model wrote; the schema asks for well-formed
    // fields.
    differences!("differs_flatten_option",
        FlatOptional => agree [
            r#"{"id":1}"#,                 // both accept (None)
            r#"{"id":1,"x":2}"#,           // both accept (Some)
            r#"{"id":1,"y":"s"}"#,         // both accept (None: x missing)
        ] differ [
            r#"{"id":1,"x":"2"}"#,         // serde: ok (None)    schema: x must be integer
            r#"{"id":1,"x":256}"#,         // serde: ok (None)    schema: maximum 255
        ],
    );
}

#[test]
fn differs_f32_range() {
    // FIXED: `f32` carries its range.
    differences!("differs_f32_range",
        WF32 => agree [r#"{"v":1e39}"#, r#"{"v":-1e39}"#, r#"{"v":1e300}"#] differ [],
    );
}

// `#[serde(from)]` / `#[serde(try_from)]` are refused at compile time (see
// tests/ui): the wire shape is another type's.

#[derive(Debug, Deserialize, Extract)]
struct FlatExternal {
    id: u8,
    #[serde(flatten)]
    e: External,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "kind", deny_unknown_fields)]
enum KindDenied {
    X { a: u8 },
    Y,
}

#[derive(Debug, Deserialize, Extract)]
struct FlatKindDenied {
    id: u8,
    #[serde(flatten)]
    e: KindDenied,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum InternalOfClosed {
    External(External),
    Kind(KindDenied),
    Opt(Option<InnerDenied>),
}

#[test]
fn differs_closed_objects_in_all_of() {
    // LIMITATION: flattening an enum (or an internally tagged newtype of an enum or closed
    // struct) combines closed objects in `allOf`, which nothing matches; describing it
    // needs `unevaluatedProperties`, which the strict dialects do not support either. Rare
    // shapes; a flattened struct or map works.
    differences!("differs_closed_objects_in_all_of",
        FlatExternal => agree [
            r#"{"id":1}"#,                      // both reject
            r#"{"id":1,"Newtype":"x"}"#,        // both reject
        ] differ [
            r#"{"id":1,"Newtype":1}"#,          // serde: ok    schema: `id` not allowed
            r#"{"id":1,"Struct":{"a":1}}"#,     // serde: ok    schema: `id` not allowed
            r#"{"id":1,"Unit":null}"#,          // serde: ok    schema: rejects
            r#"{"id":1,"Newtype":1,"x":1}"#,    // serde: ok    schema: rejects
        ],
        FlatKindDenied => agree [
            r#"{"id":1,"kind":"Y"}"#,           // serde: ok    schema: `id` not allowed
            r#"{"id":1,"kind":"X","a":1,"z":1}"#, // both reject
        ] differ [
            r#"{"id":1,"kind":"X","a":1}"#,     // serde: ok    schema: `id` not allowed
        ],
        InternalOfClosed => agree [
            r#"{"type":"Kind","kind":"X","a":1,"z":1}"#, // both reject
        ] differ [
            r#"{"type":"External","Struct":{"a":1}}"#, // serde: ok   schema: `type` not allowed
            r#"{"type":"External","Unit":null}"#,      // serde: ok   schema: rejects
            r#"{"type":"Kind","kind":"X","a":1}"#,     // serde: ok   schema: `type` not allowed
            r#"{"type":"Opt","x":1}"#,                 // serde: ok   schema: `type` not allowed
        ],
    );
}

#[derive(Debug, Deserialize, Extract)]
#[serde(deny_unknown_fields)]
struct FlatDeniedOuterMap {
    id: u8,
    #[serde(flatten)]
    rest: HashMap<String, u8>,
}

#[test]
fn differs_deny_unknown_fields_with_flattened_map() {
    // LIMITATION: serde rejects every extra key when `deny_unknown_fields` meets a
    // flattened map (a combination serde documents as unsupported); the schema lets the
    // map take them.
    differences!("differs_deny_unknown_fields_with_flattened_map",
        FlatDeniedOuterMap => agree [
            r#"{"id":1}"#,                      // both accept
            r#"{"id":1,"x":"s"}"#,              // both reject
        ] differ [
            r#"{"id":1,"x":1}"#,                // serde: unknown field `x`    schema: ok
        ],
    );
}

#[cfg(all(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "url",
    feature = "rust_decimal"
))]
mod feature_crates {
    //! chrono, time, uuid, url and rust_decimal (the cargo features of the same names).
    use super::*;

    #[derive(Debug, Deserialize, Extract)]
    struct Stamps {
        at: chrono::DateTime<chrono::Utc>,
        day: chrono::NaiveDate,
    }

    #[derive(Debug, Deserialize, Extract)]
    struct Ids {
        id: uuid::Uuid,
        link: url::Url,
    }

    #[derive(Debug, Deserialize, Extract)]
    struct Money {
        amount: rust_decimal::Decimal,
    }

    #[derive(Debug, Deserialize, Extract)]
    struct TimeDate {
        day: time::Date,
    }

    #[test]
    fn feature_crates_shapes() {
        // CANNOT AGREE (as rendered): with `format` as an annotation (the 2020-12
        // default of `validator_for`), every string is a valid date, UUID or URL for the
        // validator, so `"yesterday"` is accepted for a `DateTime` that serde rejects.
        // Only a `pattern` next to the `format` would make this hold for validators that
        // do not assert formats. The documents here are limited to strings serde accepts
        // and to wrong JSON types; `feature_crates_formats_asserted` checks the strings.
        conformance!("feature_crates_shapes",
            Stamps => [
                r#"{"at":"2024-05-01T12:30:00Z","day":"2024-05-01"}"#,
                r#"{"at":"2024-05-01T12:30:00.123+02:00","day":"2024-02-29"}"#,
                r#"{"at":1714566600,"day":"2024-05-01"}"#,
                r#"{"at":null,"day":"2024-05-01"}"#,
                r#"{"at":"2024-05-01T12:30:00Z","day":20240501}"#,
                r#"{"at":"2024-05-01T12:30:00Z"}"#,
            ],
            Ids => [
                r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"https://example.com/a?b=c#d"}"#,
                r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"mailto:a@example.com"}"#,
                r#"{"id":1,"link":"https://example.com"}"#,
                r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":null}"#,
                r#"{"id":[103,229,80,68,16,177,66,111,146,71,187,104,14,95,224,200],"link":"https://example.com"}"#,
            ],
            Money => [
                r#"{"amount":1}"#,
                r#"{"amount":-1.25}"#,
                r#"{"amount":"1.25"}"#,
                r#"{"amount":"-0.5"}"#,
                r#"{"amount":"12"}"#,
                r#"{"amount":"abc"}"#,
                r#"{"amount":"1.2.3"}"#,
                r#"{"amount":""}"#,
                r#"{"amount":null}"#,
                r#"{"amount":true}"#,
                r#"{"amount":[1]}"#,
            ],
            TimeDate => [
                r#"{"day":"2024-05-01"}"#,
                r#"{"day":null}"#,
                // `[2024,122]`: see `differs_time_date_tuple_form`.
            ],
        );
    }

    #[test]
    fn feature_crates_formats_asserted() {
        // With `format` asserted, the strings serde rejects must be rejected too.
        let mut report = Report::new("feature_crates_formats_asserted");
        report.check_formats::<Stamps>(&[
            r#"{"at":"2024-05-01T12:30:00Z","day":"2024-05-01"}"#,
            r#"{"at":"2024-05-01T12:30:00.123456789-07:00","day":"1999-12-31"}"#,
            r#"{"at":"2024-05-01","day":"2024-05-01"}"#,
            r#"{"at":"yesterday","day":"2024-05-01"}"#,
            r#"{"at":"2024-05-01T12:30:00Z","day":"2024-05-01T00:00:00Z"}"#,
            r#"{"at":"2024-05-01T12:30:00Z","day":"2023-02-29"}"#,
            r#"{"at":"2024-05-01T12:30:00Z","day":"2024-13-01"}"#,
            r#"{"at":"2024-05-01T25:30:00Z","day":"2024-05-01"}"#,
            r#"{"at":"2024-05-01T12:30:00","day":"2024-05-01"}"#,
            r#"{"at":"2024-05-01T12:30Z","day":"2024-05-01"}"#,
            r#"{"at":"2024-05-01T12:30:00Z","day":""}"#,
        ]);
        report.check_formats::<Ids>(&[
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"https://example.com"}"#,
            r#"{"id":"67E55044-10B1-426F-9247-BB680E5FE0C8","link":"https://example.com"}"#,
            r#"{"id":"not-a-uuid","link":"https://example.com"}"#,
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c","link":"https://example.com"}"#,
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"/relative/path"}"#,
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"no scheme"}"#,
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":""}"#,
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"urn:isbn:0451450523"}"#,
        ]);
        report.check_formats::<TimeDate>(&[
            r#"{"day":"2024-05-01"}"#,
            r#"{"day":"2024-02-30"}"#,
            r#"{"day":"2024/05/01"}"#,
            r#"{"day":"01-05-2024"}"#,
        ]);
        report.finish();
    }

    #[test]
    fn differs_feature_formats() {
        // By design: with `format` asserted, the schema asks for the canonical form;
        // the crates' parsers also take other spellings (the model is shown one).
        let mut report = Report::new("differs_feature_formats");
        report.check_differs::<Stamps>(&[
            // chrono's `DateTime` parser is laxer than RFC 3339 `date-time`:
            r#"{"at":"2024-05-01 12:30:00Z","day":"2024-05-01"}"#, // space separator
            r#"{"at":"2024-05-01T12:30:00+0200","day":"2024-05-01"}"#, // offset without colon
            // chrono's `NaiveDate` parser accepts single-digit months/days and a sign:
            r#"{"at":"2024-05-01T12:30:00Z","day":"2024-5-1"}"#,
            r#"{"at":"2024-05-01T12:30:00Z","day":"+2024-05-01"}"#,
        ]);
        report.check_differs::<Ids>(&[
            // `uuid::Uuid` accepts the simple, braced and URN forms; `format: uuid` only
            // the hyphenated one.
            r#"{"id":"67e5504410b1426f9247bb680e5fe0c8","link":"https://example.com"}"#,
            r#"{"id":"{67e55044-10b1-426f-9247-bb680e5fe0c8}","link":"https://example.com"}"#,
            r#"{"id":"urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8","link":"https://example.com"}"#,
            // `url::Url` (WHATWG) accepts and percent-encodes what RFC 3986 `uri` rejects.
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"https://example.com/a b"}"#,
            r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","link":"https://exämple.com/ü"}"#,
        ]);
        report.check_differs::<TimeDate>(&[
            // `time::Date` accepts a signed year.
            r#"{"day":"+2024-05-01"}"#,
        ]);
        report.finish();
    }

    #[test]
    fn differs_decimal() {
        // FIXED: the string form accepts what rust_decimal parses (sign, `_`, `.5`, `1.`,
        // exponents). LIMITATION: Decimal's 96-bit range is not expressed.
        differences!("differs_decimal",
            Money => agree [
                r#"{"amount":"1e5"}"#,     // serde: ok    schema: pattern
                r#"{"amount":"+1"}"#,      // serde: ok    schema: pattern
                r#"{"amount":".5"}"#,      // serde: ok    schema: pattern
                r#"{"amount":"1."}"#,      // serde: ok    schema: pattern
                r#"{"amount":"1_000"}"#,   // serde: ok    schema: pattern
            ] differ [
                r#"{"amount":1e30}"#,      // serde: out of range    schema: ok
                r#"{"amount":"1000000000000000000000000000000"}"#, // serde: out of range  schema: ok
            ],
        );
    }

    #[test]
    fn differs_time_date_tuple_form() {
        // BY DESIGN: `time::Date` also deserializes from `[year, ordinal]`; the model is shown
        // the string form.
        differences!("differs_time_date_tuple_form",
            TimeDate => agree [
                r#"{"day":[2024,400]}"#,            // both reject
            ] differ [
                r#"{"day":[2024,122]}"#,            // serde: ok    schema: not a string
            ],
        );
    }
}
