//! garde rules as schema keywords and as validation; custom and async validators.

use instructor::prelude::Deserialize;
use instructor::validate::{AsyncValidator, ValidationFuture, validate_all};
use instructor::{Context, Dialect, Extract, ValidationError, ValidationErrors};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Address {
    #[garde(length(min = 1))]
    street: String,
    #[serde(rename = "zip")]
    #[garde(pattern(r"^[0-9]{5}$"))]
    zip_code: String,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Customer {
    #[garde(length(chars, min = 2, max = 20), alphanumeric)]
    user_name: String,
    #[garde(email)]
    email: String,
    #[garde(url)]
    home_page: Option<String>,
    #[garde(range(min = 18, max = 120))]
    age: u8,
    #[garde(range(min = 0.0, max = 1.0))]
    discount: f64,
    #[garde(length(min = 1, max = 3), dive)]
    addresses: Vec<Address>,
    #[garde(prefix("SKU-"), suffix("-X"), ascii)]
    sku: String,
    #[garde(contains("@"))]
    handle: String,
    #[garde(inner(length(min = 2)))]
    tags: Vec<String>,
}

fn valid_customer() -> serde_json::Value {
    json!({
        "userName": "ann42",
        "email": "ann@example.com",
        "homePage": "https://example.com",
        "age": 30,
        "discount": 0.25,
        "addresses": [{"street": "Main St", "zip": "12345"}],
        "sku": "SKU-1-X",
        "handle": "@ann",
        "tags": ["vip", "eu"]
    })
}

fn customer(patch: serde_json::Value) -> Customer {
    let mut doc = valid_customer();
    for (k, v) in patch.as_object().expect("object") {
        doc[k] = v.clone();
    }
    serde_json::from_value(doc).expect("deserializes")
}

fn error_paths(errors: &ValidationErrors) -> Vec<String> {
    errors
        .errors()
        .iter()
        .map(ValidationError::path_string)
        .collect()
}

#[test]
fn a_valid_value_passes() {
    assert_eq!(customer(json!({})).validate(&Context::new()), Ok(()));
}

#[test]
fn rules_become_schema_keywords_the_model_sees() {
    let schema = Customer::json_schema(Dialect::JsonSchema).expect("renders");
    let props = &schema["properties"];
    assert_eq!(props["userName"]["minLength"], 2);
    assert_eq!(props["userName"]["maxLength"], 20);
    assert!(
        props["userName"]["pattern"].is_string(),
        "{}",
        props["userName"]
    );
    assert_eq!(props["email"]["format"], "email");
    assert_eq!(props["age"]["minimum"], 18);
    assert_eq!(props["age"]["maximum"], 120);
    assert_eq!(props["discount"]["minimum"], 0.0);
    assert_eq!(props["discount"]["maximum"], 1.0);
    assert_eq!(props["addresses"]["minItems"], 1);
    assert_eq!(props["addresses"]["maxItems"], 3);
    assert_eq!(props["sku"]["pattern"], "^SKU\\-");
    assert_eq!(props["handle"]["pattern"], "@");
    assert_eq!(props["tags"]["items"]["minLength"], 2);
    let address = &schema["$defs"]["Address"]["properties"];
    assert_eq!(address["zip"]["pattern"], "^[0-9]{5}$");
    assert_eq!(address["street"]["minLength"], 1);
}

#[test]
fn a_nullable_field_carries_its_rule_on_the_inner_type() {
    let schema = Customer::json_schema(Dialect::JsonSchema).expect("renders");
    let home = schema["properties"]["homePage"].to_string();
    assert!(home.contains("\"format\":\"uri\""), "{home}");
}

#[test]
fn the_type_s_own_bounds_are_kept_when_the_rule_is_looser() {
    #[derive(Debug, Deserialize, Extract)]
    #[allow(dead_code)]
    struct Small {
        #[garde(range(min = 0, max = 1000))]
        n: u8,
    }
    let schema = Small::json_schema(Dialect::JsonSchema).expect("renders");
    assert_eq!(schema["properties"]["n"]["maximum"], 255);
}

#[test]
fn errors_use_wire_names_and_indices() {
    let bad = customer(json!({"addresses": [
        {"street": "ok", "zip": "12345"},
        {"street": "", "zip": "1234"}
    ]}));
    let errors = bad.validate(&Context::new()).expect_err("invalid");
    assert_eq!(
        error_paths(&errors),
        ["addresses[1].street", "addresses[1].zip"]
    );
    let text = errors.to_string();
    assert!(
        text.contains("addresses[1].zip: must match the pattern ^[0-9]{5}$"),
        "{text}"
    );
}

#[test]
fn every_rule_reports_a_readable_message() {
    let cases = [
        (
            json!({"userName": "a"}),
            "userName",
            "at least 2 characters",
        ),
        (
            json!({"userName": "ann_42"}),
            "userName",
            "only letters and digits",
        ),
        (json!({"email": "not-an-email"}), "email", "e-mail"),
        (json!({"homePage": "no url"}), "homePage", "URL"),
        (json!({"age": 12}), "age", "at least 18"),
        (json!({"discount": 1.5}), "discount", "at most 1"),
        (json!({"addresses": []}), "addresses", "at least 1"),
        (json!({"sku": "ABC-1-X"}), "sku", "start with \"SKU-\""),
        (json!({"sku": "SKU-1"}), "sku", "end with \"-X\""),
        (json!({"sku": "SKU-é-X"}), "sku", "ASCII"),
        (json!({"handle": "ann"}), "handle", "contain \"@\""),
        (json!({"tags": ["ok", "x"]}), "tags[1]", "at least 2"),
    ];
    for (patch, path, needle) in cases {
        let errors = customer(patch.clone())
            .validate(&Context::new())
            .expect_err("invalid");
        let found = errors
            .errors()
            .iter()
            .find(|e| e.path_string() == path)
            .unwrap_or_else(|| panic!("{patch}: no error at {path}: {errors}"));
        assert!(found.message.contains(needle), "{patch}: {found}");
    }
}

#[test]
fn an_absent_optional_field_is_not_checked() {
    assert_eq!(
        customer(json!({"homePage": null})).validate(&Context::new()),
        Ok(())
    );
}

struct BannedWords(Vec<&'static str>);

fn no_banned_words(title: &str, context: &Context) -> Result<(), ValidationError> {
    let banned = context.get::<BannedWords>().map_or(&[][..], |b| &b.0[..]);
    match banned.iter().find(|w| title.contains(*w)) {
        Some(word) => Err(ValidationError::new(format!("must not mention {word:?}"))),
        None => Ok(()),
    }
}

fn end_after_start(event: &Meeting, _: &Context) -> Result<(), ValidationErrors> {
    if event.end_hour <= event.start_hour {
        return Err(ValidationError::at(
            vec![instructor::PathSegment::Key("endHour".into())],
            format!("must be after startHour ({})", event.start_hour),
        )
        .into());
    }
    Ok(())
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
#[extract(validate = end_after_start)]
struct Meeting {
    #[extract(validate = no_banned_words)]
    title: String,
    start_hour: u8,
    end_hour: u8,
}

#[test]
fn custom_field_validators_see_the_context_and_report_at_the_field() {
    let meeting: Meeting =
        serde_json::from_value(json!({"title": "Secret plan", "startHour": 9, "endHour": 10}))
            .expect("deserializes");
    let context = Context::new().with(BannedWords(vec!["Secret"]));
    let errors = meeting.validate(&context).expect_err("banned");
    assert_eq!(errors.to_string(), "title: must not mention \"Secret\"");
    assert_eq!(meeting.validate(&Context::new()), Ok(()));
}

#[test]
fn type_level_validators_see_the_whole_value() {
    let meeting: Meeting =
        serde_json::from_value(json!({"title": "Sync", "startHour": 11, "endHour": 10}))
            .expect("deserializes");
    let errors = meeting.validate(&Context::new()).expect_err("invalid");
    assert_eq!(errors.to_string(), "endHour: must be after startHour (11)");
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Payment {
    Card {
        #[garde(length(equal = 16))]
        number: String,
    },
    Transfer {
        #[garde(length(min = 15))]
        iban: String,
    },
}

#[derive(Debug, Deserialize, Extract)]
enum Contact {
    Email(#[garde(email)] String),
    Phone {
        #[garde(prefix("+"))]
        number: String,
    },
}

#[derive(Debug, Deserialize, Extract)]
struct Order {
    payments: Vec<Payment>,
    contact: Contact,
}

#[test]
fn enum_fields_are_validated_with_their_wire_paths() {
    let order: Order = serde_json::from_value(json!({
        "payments": [{"type": "card", "number": "1234"}, {"type": "transfer", "iban": "DE89370400440532013000"}],
        "contact": {"Phone": {"number": "0049"}}
    }))
    .expect("deserializes");
    let errors = order.validate(&Context::new()).expect_err("invalid");
    // Internally tagged: fields sit beside the tag; externally tagged: under the variant.
    assert_eq!(
        error_paths(&errors),
        ["payments[0].number", "contact.Phone.number"]
    );
    let order: Order = serde_json::from_value(json!({
        "payments": [], "contact": {"Email": "nope"}
    }))
    .expect("deserializes");
    let errors = order.validate(&Context::new()).expect_err("invalid");
    assert_eq!(error_paths(&errors), ["contact.Email"]);
}

/// Stands in for an LLM-backed check: it awaits before deciding.
struct NoShouting;

impl AsyncValidator<Meeting> for NoShouting {
    fn validate<'a>(&'a self, value: &'a Meeting, _: &'a Context) -> ValidationFuture<'a> {
        Box::pin(async move {
            // A real validator would await an HTTP call here.
            std::future::ready(()).await;
            if value.title.chars().any(char::is_lowercase) {
                Ok(())
            } else {
                Err(ValidationError::at(
                    vec![instructor::PathSegment::Key("title".into())],
                    "must not be all capitals",
                )
                .into())
            }
        })
    }
}

#[test]
fn async_validators_run_after_the_sync_rules_pass() {
    let validators: Vec<Arc<dyn AsyncValidator<Meeting>>> = vec![Arc::new(NoShouting)];
    let shouting: Meeting =
        serde_json::from_value(json!({"title": "SYNC", "startHour": 9, "endHour": 10}))
            .expect("deserializes");
    let errors = futures::executor::block_on(validate_all(&shouting, &Context::new(), &validators))
        .expect_err("shouting");
    assert_eq!(errors.to_string(), "title: must not be all capitals");

    // Sync failures short-circuit: the (possibly expensive) async check is not run.
    let both: Meeting =
        serde_json::from_value(json!({"title": "SYNC", "startHour": 11, "endHour": 10}))
            .expect("deserializes");
    let errors = futures::executor::block_on(validate_all(&both, &Context::new(), &validators))
        .expect_err("invalid");
    assert_eq!(error_paths(&errors), ["endHour"]);

    let fine: Meeting =
        serde_json::from_value(json!({"title": "Sync", "startHour": 9, "endHour": 10}))
            .expect("deserializes");
    assert_eq!(
        futures::executor::block_on(validate_all(&fine, &Context::new(), &validators)),
        Ok(())
    );
}
