//! Structure-aware policy documents: the Align policy (`policy-core/policies/align.json`) as a
//! JSON tree, changed by a fuzzer-chosen list of edits (replace, delete, insert, duplicate,
//! rename a key) at fuzzer-chosen places, with values drawn from the document's own vocabulary.
//! Most edits keep the document valid JSON of nearly the right shape, so the fuzzer spends its
//! time in `Policy::compile`'s checks rather than in the JSON parser (the tree is deserialized
//! into a `PolicyDocument` directly). Whatever compiles must
//! route and decide without panicking.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use keyscope_fuzz::{exercise_policy, NAMES, PERMISSIONS};
use libfuzzer_sys::fuzz_target;
use policy_core::{Policy, PolicyDocument, ALIGN_POLICY_JSON};
use serde_json::{Map, Value};

/// Words the document uses, so that edits produce near-misses.
const WORDS: &[&str] = &[
    "basePath",
    "permissions",
    "roles",
    "keyCreators",
    "presets",
    "endpoints",
    "method",
    "path",
    "permission",
    "projectKey",
    "serve",
    "resourceKind",
    "allow",
    "deny",
    "filtered",
    "own_path",
    "own_resource",
    "me",
    "organization",
    "project",
    "time_entry",
    "GET",
    "POST",
    "get",
    "/api/v1",
    "/",
    "",
    "/me",
    "/projects/:id",
    "/:id/:id",
    "/a/./b",
    "/a//b",
    "/x/:",
    ":id",
    "/projects/:id/entries",
    "/time-entries/:id",
    "read",
    "full",
    "null",
    "é",
    "\u{0}",
];

#[derive(Arbitrary, Debug)]
enum Fresh<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Word(u8),
    Permission(u8),
    Name(u8),
    Text(&'a str),
    EmptyArray,
    EmptyObject,
    /// A copy of another place in the original document.
    Copy(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Edit<'a> {
    Replace(Vec<u8>, Fresh<'a>),
    Delete(Vec<u8>),
    Insert(Vec<u8>, Fresh<'a>, u8),
    Duplicate(Vec<u8>),
    RenameKey(Vec<u8>, u8),
}

fn align() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(ALIGN_POLICY_JSON).unwrap())
}

fn pick<'l>(list: &[&'l str], i: u8) -> &'l str {
    list[usize::from(i) % list.len()]
}

fn fresh(value: &Fresh<'_>) -> Value {
    match value {
        Fresh::Null => Value::Null,
        Fresh::Bool(b) => Value::Bool(*b),
        Fresh::Int(i) => Value::from(*i),
        Fresh::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Fresh::Word(i) => Value::from(pick(WORDS, *i)),
        Fresh::Permission(i) => Value::from(pick(PERMISSIONS, *i)),
        Fresh::Name(i) => Value::from(pick(NAMES, *i)),
        Fresh::Text(s) => Value::from(*s),
        Fresh::EmptyArray => Value::Array(Vec::new()),
        Fresh::EmptyObject => Value::Object(Map::new()),
        Fresh::Copy(path) => {
            let mut at = align();
            for &step in path {
                match child(at, step) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            at.clone()
        }
    }
}

fn child(value: &Value, step: u8) -> Option<&Value> {
    match value {
        Value::Array(items) if !items.is_empty() => items.get(usize::from(step) % items.len()),
        Value::Object(map) if !map.is_empty() => map.values().nth(usize::from(step) % map.len()),
        _ => None,
    }
}

/// Follows `path` as far as it goes to a container, returning it and the last step.
fn walk<'v>(mut at: &'v mut Value, path: &[u8]) -> (&'v mut Value, u8) {
    let Some((&last, init)) = path.split_last() else {
        return (at, 0);
    };
    for &step in init {
        let descend = child(at, step).is_some_and(|v| v.is_object() || v.is_array());
        if !descend {
            break;
        }
        at = match at {
            Value::Array(items) => {
                let len = items.len();
                &mut items[usize::from(step) % len]
            }
            Value::Object(map) => {
                let len = map.len();
                map.values_mut().nth(usize::from(step) % len).unwrap()
            }
            _ => unreachable!(),
        };
    }
    (at, last)
}

fn apply(doc: &mut Value, edit: &Edit<'_>) {
    match edit {
        Edit::Replace(path, value) => {
            let (container, step) = walk(doc, path);
            match container {
                Value::Array(items) if !items.is_empty() => {
                    let len = items.len();
                    items[usize::from(step) % len] = fresh(value);
                }
                Value::Object(map) if !map.is_empty() => {
                    let len = map.len();
                    *map.values_mut().nth(usize::from(step) % len).unwrap() = fresh(value);
                }
                other => *other = fresh(value),
            }
        }
        Edit::Delete(path) => {
            let (container, step) = walk(doc, path);
            match container {
                Value::Array(items) if !items.is_empty() => {
                    let len = items.len();
                    items.remove(usize::from(step) % len);
                }
                Value::Object(map) if !map.is_empty() => {
                    let key = map.keys().nth(usize::from(step) % map.len()).unwrap().clone();
                    map.remove(&key);
                }
                _ => {}
            }
        }
        Edit::Insert(path, value, word) => {
            let (container, step) = walk(doc, path);
            match container {
                Value::Array(items) => {
                    let at = usize::from(step) % (items.len() + 1);
                    items.insert(at, fresh(value));
                }
                Value::Object(map) => {
                    map.insert(pick(WORDS, *word).into(), fresh(value));
                }
                _ => {}
            }
        }
        Edit::Duplicate(path) => {
            let (container, step) = walk(doc, path);
            if let Value::Array(items) = container {
                if !items.is_empty() {
                    let copy = items[usize::from(step) % items.len()].clone();
                    items.push(copy);
                }
            }
        }
        Edit::RenameKey(path, word) => {
            let (container, step) = walk(doc, path);
            if let Value::Object(map) = container {
                if !map.is_empty() {
                    let key = map.keys().nth(usize::from(step) % map.len()).unwrap().clone();
                    if let Some(value) = map.remove(&key) {
                        map.insert(pick(WORDS, *word).into(), value);
                    }
                }
            }
        }
    }
}

fuzz_target!(|edits: Vec<Edit<'_>>| {
    let mut doc = align().clone();
    for edit in edits.iter().take(8) {
        apply(&mut doc, edit);
    }
    // From the tree straight to the document type: the JSON text layer is policy_json's.
    let Ok(document) = serde_json::from_value::<PolicyDocument>(doc) else {
        return;
    };
    if let Ok(policy) = Policy::compile(&document) {
        exercise_policy(&policy);
    }
});
