//! `cargo bench -p keyscope-bench --bench policy_size`: what a decision costs as a policy grows,
//! in one run, with the key compiled once and the role resolved once (the worker's hot path; the
//! key's SHA-256, the same for every policy, is left out so that it does not hide a difference).
//!
//! - `align_20_rows` and `align_plus_1980_rows`: the requests of `align_matrix.json` under Align,
//!   and under Align with 1,980 more rows and 241 more permissions (256 in all) — the same
//!   requests, so the ratio is the cost of the policy's size alone.
//! - `large_2000_rows`: the requests of `large.json` under its own 2,000-row, 256-permission
//!   policy (tenant and user in the path): another mix, longer paths, shown for scale.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use policy_core::{
    ApiKey, Decision, Engine, KeyHash, KeyRecord, KeyState, Policy, PreparedKey, ProjectIds, RoleId, Step,
    Timestamp,
};
use serde_json::Value;

/// One request of a vector file, with its key compiled and its creator's role resolved.
struct Sample {
    method: String,
    target: String,
    hash: KeyHash,
    key: usize,
    role: Option<RoleId>,
}

struct Side {
    engine: Engine,
    keys: Vec<PreparedKey>,
    samples: Vec<Sample>,
}

/// Align's document with `extra` more rows under their own static prefixes (five methods each)
/// and permissions up to 256, all granted to `admin`.
fn align_grown(extra: usize) -> Policy {
    let mut doc: Value =
        serde_json::from_str(policy_core::ALIGN_POLICY_JSON).unwrap_or_else(|e| panic!("{e}"));
    let declared = doc["permissions"].as_array().map_or(0, Vec::len);
    let more: Vec<Value> = (declared..256).map(|i| format!("ext:{i}").into()).collect();
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let rows: Vec<Value> = (0..extra)
        .map(|i| {
            serde_json::json!({
                "method": methods[i % 5],
                "path": format!("/ext{}/items/:id", i / 5),
                "permission": more[i % more.len()],
                "projectKey": "deny",
            })
        })
        .collect();
    for (field, added) in [("permissions", &more), ("endpoints", &rows)] {
        if let Some(list) = doc[field].as_array_mut() {
            list.extend(added.iter().cloned());
        }
    }
    if let Some(admin) = doc["roles"]["admin"].as_array_mut() {
        admin.extend(more.iter().cloned());
    }
    Policy::from_json(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn side(vector_file: &str, grown: Option<usize>) -> Side {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let vector: Value = serde_json::from_str(&read(&dir.join(vector_file))).unwrap_or_else(|e| panic!("{e}"));
    let policy = match (vector["policy"].as_str(), grown) {
        (_, Some(extra)) => align_grown(extra),
        (Some(name), None) => Policy::from_json(&read(&dir.join(name))).unwrap_or_else(|e| panic!("{e}")),
        (None, None) => Policy::align().unwrap_or_else(|e| panic!("{e}")),
    };
    let engine = Engine::new(policy, policy_core::Environment::Live);
    let members: HashMap<(String, String), String> = vector["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let s = |f: &str| m[f].as_str().unwrap_or_default().to_owned();
            ((s("organizationId"), s("userId")), s("role"))
        })
        .collect();
    let mut keys = Vec::new();
    let mut by_secret = HashMap::new();
    for k in vector["keys"].as_array().into_iter().flatten() {
        let secret = k["secret"].as_str().unwrap_or_default();
        let Ok(parsed) = ApiKey::parse_with(secret, engine.policy().key_prefix()) else {
            continue;
        };
        // The matrix files' keys are live: their times do not change a decision here.
        let text = |f: &str| k[f].as_str().unwrap_or_default().to_owned();
        let record = KeyRecord {
            id: text("id"),
            name: text("name"),
            hint: parsed.hint().to_owned(),
            organization_id: text("organizationId"),
            created_by: text("createdBy"),
            scope: serde_json::from_value(k["scope"].clone()).unwrap_or_else(|e| panic!("{e}")),
            scoped_project_ids: k["scopedProjectId"]
                .as_str()
                .map_or_else(ProjectIds::none, ProjectIds::one),
            allowed_cidrs: None,
            rate_limit: None,
            quota: None,
            permissions: serde_json::from_value(k["permissions"].clone()).unwrap_or_else(|e| panic!("{e}")),
            created_at: Timestamp(0),
            last_used_at: None,
            revoked_at: None,
            expires_at: None,
        };
        by_secret.insert(secret.to_owned(), (keys.len(), parsed.hash()));
        keys.push(engine.prepare(record));
    }
    let samples = vector["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let headers = c["headers"].as_object()?;
            let secret = headers.get("x-api-key").and_then(Value::as_str).or_else(|| {
                headers
                    .get("authorization")
                    .and_then(Value::as_str)?
                    .strip_prefix("Bearer ")
            })?;
            let &(key, hash) = by_secret.get(secret)?;
            let record = keys.get(key)?.record();
            let role = members
                .get(&(record.organization_id.clone(), record.created_by.clone()))
                .and_then(|r| engine.policy().role_id(r));
            Some(Sample {
                method: c["method"].as_str()?.to_owned(),
                target: c["path"].as_str()?.to_owned(),
                hash,
                key,
                role,
            })
        })
        .collect();
    Side {
        engine,
        keys,
        samples,
    }
}

/// One decision on the hot path; `true` when allowed.
fn decide(side: &Side, s: &Sample) -> bool {
    let Some(key) = side.keys.get(s.key) else {
        return false;
    };
    let mut auth = side.engine.authorize_hash::<&PreparedKey>(
        s.hash,
        &s.method,
        &s.target,
        None,
        Timestamp(1_800_000_000_000),
    );
    let _ = auth.provide_prepared(key, KeyState::of(key.record()));
    loop {
        let answered = match auth.next() {
            Step::Done(Decision::Allow(_)) => return true,
            Step::Done(Decision::Deny(_)) | Step::LookupKey(_) => return false,
            Step::LookupMembership { .. } => auth.provide_role(s.role),
            Step::LookupResource { .. } => auth.provide_resource(None),
        };
        if answered.is_err() {
            return false;
        }
    }
}

fn policy_size(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_size");
    let mut allowed_align = None;
    for (name, file, grown) in [
        ("align_20_rows", "align_matrix.json", None),
        ("align_plus_1980_rows", "align_matrix.json", Some(1980)),
        ("large_2000_rows", "large.json", None),
    ] {
        let side = side(file, grown);
        assert!(
            side.samples.len() >= 100,
            "{file}: {} requests",
            side.samples.len()
        );
        let allowed = side.samples.iter().filter(|s| decide(&side, s)).count();
        eprintln!(
            "{name}: {} rows, {} requests, {allowed} allowed",
            side.engine.policy().endpoints().len(),
            side.samples.len()
        );
        // The grown policy must decide Align's requests exactly as Align does.
        if file == "align_matrix.json" {
            assert_eq!(
                *allowed_align.get_or_insert(allowed),
                allowed,
                "{name} decides otherwise"
            );
        }
        group.throughput(Throughput::Elements(side.samples.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                side.samples
                    .iter()
                    .filter(|s| decide(&side, black_box(s)))
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, policy_size);
criterion_main!(benches);
