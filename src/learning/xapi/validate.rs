//! Statement validation, whole: the JSON Schema of xAPI 1.0.3 (`statement.schema.json`, compiled
//! once) with the store's formats, then the rules a schema cannot express, then the privacy
//! deviation. Every refusal names the failing property (`result.score.max: …`).

use std::sync::OnceLock;

use boon::{Compiler, ErrorKind, Format, SchemaIndex, Schemas, ValidationError};
use serde_json::{Map, Value};

use super::formats;

const SCHEMA_URL: &str = "https://hocvuso.invalid/xapi/1.0.3/statement.schema.json";
const SCHEMA: &str = include_str!("statement.schema.json");
pub const VERB_VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// The compiled schema: the whole statement, and an agent or group alone (the `agent` parameter).
struct Compiled {
    schemas: Schemas,
    statement: SchemaIndex,
    agent: SchemaIndex,
}

fn compile() -> Result<Compiled, String> {
    let mut compiler = Compiler::new();
    compiler.enable_format_assertions();
    compiler.register_format(Format { name: "xapi-iri", func: formats::iri_format });
    compiler.register_format(Format { name: "xapi-timestamp", func: formats::timestamp_format });
    compiler.register_format(Format { name: "xapi-duration", func: formats::duration_format });
    compiler.register_format(Format { name: "xapi-language-tag", func: formats::language_tag_format });
    let json: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
    compiler.add_resource(SCHEMA_URL, json).map_err(|e| e.to_string())?;
    let mut schemas = Schemas::new();
    let statement = compiler.compile(SCHEMA_URL, &mut schemas).map_err(|e| e.to_string())?;
    let agent =
        compiler.compile(&format!("{SCHEMA_URL}#/$defs/agentOrGroup"), &mut schemas).map_err(|e| e.to_string())?;
    Ok(Compiled { schemas, statement, agent })
}

fn compiled() -> Result<&'static Compiled, String> {
    static COMPILED: OnceLock<Result<Compiled, String>> = OnceLock::new();
    COMPILED.get_or_init(compile).as_ref().map_err(|e| format!("the statement schema does not compile: {e}"))
}

/// Why a statement is refused: the property (`result.score.max`) and the reason.
#[derive(Debug)]
pub enum Invalid {
    Property {
        path: String,
        reason: String,
    },
    /// The embedded schema failed to compile: the store's fault, not the statement's.
    Schema(String),
}

impl Invalid {
    fn at(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Property { path: path.into(), reason: reason.into() }
    }
}

fn validate_with(value: &Value, pick: fn(&Compiled) -> SchemaIndex, root: &str) -> Result<(), Invalid> {
    let compiled = compiled().map_err(Invalid::Schema)?;
    compiled.schemas.validate(value, pick(compiled)).map_err(|e| {
        let (path, reason) = describe(&e, root);
        Invalid::Property { path, reason }
    })
}

/// A statement against the schema of xAPI 1.0.3.
pub fn schema(statement: &Value) -> Result<(), Invalid> {
    validate_with(statement, |c| c.statement, "statement")
}

/// An agent or group given alone (the `agent` parameter of the resources).
pub fn agent(agent: &Value) -> Result<(), Invalid> {
    validate_with(agent, |c| c.agent, "agent")?;
    privacy(agent, "agent")
}

/// The most specific failure (the deepest instance location) and the property it names.
fn describe(error: &ValidationError, root: &str) -> (String, String) {
    let (leaf, location, _) = deepest(error, &error.instance_location);
    let mut path = String::new();
    for token in &location.tokens {
        match token {
            boon::InstanceToken::Prop(p) if path.is_empty() => path.push_str(p),
            boon::InstanceToken::Prop(p) => {
                path.push('.');
                path.push_str(p);
            }
            boon::InstanceToken::Item(i) => path.push_str(&format!("[{i}]")),
        }
    }
    let named = match &leaf.kind {
        ErrorKind::AdditionalProperties { got } => got.first().map(|p| p.to_string()),
        ErrorKind::Required { want } => want.first().map(|p| p.to_string()),
        ErrorKind::PropertyName { prop } => Some(prop.clone()),
        _ => None,
    };
    if let Some(name) = named {
        path = if path.is_empty() { name } else { format!("{path}.{name}") };
    }
    let reason = match &leaf.kind {
        ErrorKind::PropertyName { .. } => {
            leaf.causes.first().map_or_else(|| "invalid property name".to_owned(), |c| c.kind.to_string())
        }
        ErrorKind::Pattern { .. } if leaf.schema_url.ends_with("/uuid") => "must be a UUID".to_owned(),
        ErrorKind::OneOf(_) => "needs exactly one identifier: mbox, mbox_sha1sum, openid or account \
            (this store accepts account only)"
            .to_owned(),
        kind => kind.to_string(),
    };
    (if path.is_empty() { root.to_owned() } else { path }, reason)
}

/// The most specific failure and where it is: the deepest instance location, a property name's
/// failure counting one deeper than its object (boon reports it at the name itself).
fn deepest<'a, 's, 'v>(
    error: &'a ValidationError<'s, 'v>,
    at: &'a boon::InstanceLocation<'v>,
) -> (&'a ValidationError<'s, 'v>, &'a boon::InstanceLocation<'v>, usize) {
    let depth = at.tokens.len();
    if matches!(error.kind, ErrorKind::PropertyName { .. }) {
        return (error, at, depth + 1);
    }
    // The branches of a oneOf/anyOf that failed where it did say less than the oneOf itself.
    let alternatives = matches!(error.kind, ErrorKind::OneOf(_) | ErrorKind::AnyOf);
    error
        .causes
        .iter()
        .map(|cause| {
            let place =
                if matches!(cause.kind, ErrorKind::PropertyName { .. }) { at } else { &cause.instance_location };
            deepest(cause, place)
        })
        .max_by_key(|(_, _, d)| *d)
        .filter(|(_, _, d)| *d > depth || (!alternatives && *d == depth))
        .unwrap_or((error, at, depth))
}

/// The identifiers that name a person, refused wherever an agent appears (the privacy deviation).
const PERSONAL: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "name"];

/// Learners are known only by pseudonymous account ids: an agent or group that carries an e-mail,
/// its hash, an OpenID or a name is refused, members of groups included.
fn privacy(agent: &Value, path: &str) -> Result<(), Invalid> {
    if let Some(key) = PERSONAL.iter().find(|k| agent.get(**k).is_some()) {
        return Err(Invalid::at(
            format!("{path}.{key}"),
            "người học chỉ được nêu bằng tài khoản (account), không bằng email, OpenID hay tên \
             / refused by this store's privacy rule: learners are identified only by pseudonymous account ids",
        ));
    }
    if let Some(Value::Array(members)) = agent.get("member") {
        for (i, member) in members.iter().enumerate() {
            privacy(member, &format!("{path}.member[{i}]"))?;
        }
    }
    Ok(())
}

/// The rules the schema cannot express, on a statement that passed it (or on a SubStatement).
pub fn rules(s: &Map<String, Value>, path: &str) -> Result<(), Invalid> {
    let at = |p: &str| if path.is_empty() { p.to_owned() } else { format!("{path}.{p}") };
    if let Some(actor) = s.get("actor") {
        privacy(actor, &at("actor"))?;
    }
    if let Some(authority) = s.get("authority") {
        privacy(authority, &at("authority"))?;
    }
    let object = s.get("object").unwrap_or(&Value::Null);
    let kind = object.get("objectType").and_then(Value::as_str).unwrap_or("Activity");
    match kind {
        "Agent" | "Group" => privacy(object, &at("object"))?,
        "SubStatement" => {
            if let Value::Object(sub) = object {
                rules(sub, &at("object"))?;
            }
        }
        _ => {}
    }
    if let Some(Value::Object(context)) = s.get("context") {
        for key in ["instructor", "team"] {
            if let Some(agent) = context.get(key) {
                privacy(agent, &at(&format!("context.{key}")))?;
            }
        }
        if kind != "Activity"
            && let Some(key) = ["revision", "platform"].into_iter().find(|k| context.contains_key(*k))
        {
            return Err(Invalid::at(
                at(&format!("context.{key}")),
                "only allowed when the object is an Activity (xAPI 1.0.3, 2.4.6)",
            ));
        }
    }
    if let Some(score) = s.get("result").and_then(|r| r.get("score")) {
        let n = |k: &str| score.get(k).and_then(Value::as_f64);
        if let (Some(min), Some(max)) = (n("min"), n("max"))
            && min > max
        {
            return Err(Invalid::at(at("result.score.min"), "must not be greater than max"));
        }
        if let Some(raw) = n("raw") {
            if n("min").is_some_and(|min| raw < min) {
                return Err(Invalid::at(at("result.score.raw"), "must not be less than min"));
            }
            if n("max").is_some_and(|max| raw > max) {
                return Err(Invalid::at(at("result.score.raw"), "must not be greater than max"));
            }
        }
    }
    let verb = s.get("verb").and_then(|v| v.get("id")).and_then(Value::as_str);
    if verb == Some(VERB_VOIDED) && kind != "StatementRef" {
        return Err(Invalid::at(at("object"), "a voiding statement's object must be a StatementRef"));
    }
    Ok(())
}

/// A single context activity (`"parent": {…}`) becomes an array of one, as the store returns it.
pub fn normalise(s: &mut Map<String, Value>) {
    if let Some(Value::Object(activities)) = s.get_mut("context").and_then(|c| c.get_mut("contextActivities")) {
        for value in activities.values_mut() {
            if value.is_object() {
                *value = Value::Array(vec![value.take()]);
            }
        }
    }
    if let Some(Value::Object(sub)) = s.get_mut("object")
        && sub.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        normalise(sub);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schema_compiles_and_names_the_failing_property() {
        let good = json!({
            "actor": {"account": {"homePage": "https://a.example", "name": "1"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"vi-VN": "xong"}},
            "object": {"id": "https://a.example/x"}
        });
        schema(&good).unwrap();
        let mut bad = good.clone();
        bad["verb"]["display"] = json!({"not a tag": "x"});
        match schema(&bad) {
            Err(Invalid::Property { path, .. }) => assert_eq!(path, "verb.display.not a tag"),
            other => panic!("{other:?}"),
        }
    }
}
