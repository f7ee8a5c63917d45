//! The `format` parameter of statement GETs (xAPI 1.0.3, 7.2.3): `ids` keeps only what identifies
//! agents, groups, verbs and activities; `canonical` keeps one language of each language map.

use serde_json::{Map, Value};

const IDENTIFIERS: [&str; 5] = ["objectType", "mbox", "mbox_sha1sum", "openid", "account"];

fn agent_ids(agent: &mut Value) {
    let Value::Object(a) = agent else { return };
    let anonymous = !IDENTIFIERS[1..].iter().any(|k| a.contains_key(*k));
    let members = a.remove("member");
    a.retain(|k, _| IDENTIFIERS.contains(&k.as_str()));
    if let (true, Some(Value::Array(mut members))) = (anonymous, members) {
        members.iter_mut().for_each(agent_ids);
        a.insert("member".into(), Value::Array(members));
    }
}

fn activity_ids(activity: &mut Value) {
    if let Value::Object(a) = activity {
        a.retain(|k, _| k == "id" || k == "objectType");
    }
}

/// Identifiers only, in a statement or a SubStatement.
pub fn ids(statement: &mut Value) {
    let Value::Object(s) = statement else { return };
    for key in ["actor", "authority"] {
        s.get_mut(key).map(agent_ids);
    }
    if let Some(Value::Object(verb)) = s.get_mut("verb") {
        verb.retain(|k, _| k == "id");
    }
    if let Some(object) = s.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str).unwrap_or("Activity") {
            "Activity" => activity_ids(object),
            "Agent" | "Group" => agent_ids(object),
            "SubStatement" => ids(object),
            _ => {}
        }
    }
    if let Some(Value::Object(context)) = s.get_mut("context") {
        for key in ["instructor", "team"] {
            context.get_mut(key).map(agent_ids);
        }
        if let Some(Value::Object(lists)) = context.get_mut("contextActivities") {
            for list in lists.values_mut() {
                if let Value::Array(list) = list {
                    list.iter_mut().for_each(activity_ids);
                }
            }
        }
    }
}

/// Each language map (`display`, `name`, `description` objects) reduced to the entry in the first
/// of `languages` it has (by full tag, then by primary language), else its first entry.
pub fn canonical(value: &mut Value, languages: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "extensions" {
                    continue;
                }
                if matches!(key.as_str(), "display" | "name" | "description")
                    && let Value::Object(languages_map) = v
                {
                    reduce(languages_map, languages);
                } else {
                    canonical(v, languages);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| canonical(v, languages)),
        _ => {}
    }
}

fn reduce(map: &mut Map<String, Value>, languages: &[String]) {
    let primary = |tag: &str| tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
    let chosen = languages
        .iter()
        .find_map(|want| map.keys().find(|k| k.eq_ignore_ascii_case(want)))
        .or_else(|| languages.iter().find_map(|want| map.keys().find(|k| primary(k) == primary(want))))
        .or_else(|| map.keys().next())
        .cloned();
    if let Some(chosen) = chosen {
        map.retain(|k, _| *k == chosen);
    }
}

/// The languages of an `Accept-Language` header, in the order given (weights ignored).
pub fn accepted(header: Option<&str>) -> Vec<String> {
    header
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| part.split(';').next().map(str::trim))
        .filter(|tag| !tag.is_empty() && *tag != "*")
        .map(str::to_owned)
        .collect()
}
