//! `cargo bench -p keyscope-bench --bench policy_size`: what a decision costs under Align's
//! 20-row policy and under a 2,000-row, 256-permission policy
//! (`tests/vectors/policies/large.json`), in one run. Each side decides the requests of its own
//! conformance vector file (`align_matrix.json`, `large.json`) with the key compiled once and the
//! role resolved once — the worker's hot path — so what differs is the policy: the trie walk,
//! the permission set's width and the tenant and user checks. The key's SHA-256, the same for
//! every policy, is left out so that it does not hide the difference.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use policy_core::{
    ApiKey, Decision, Engine, KeyHash, KeyState, Policy, PreparedKey, RoleId, Step, Timestamp,
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

fn side(vector_file: &str) -> Side {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let vector: Value = serde_json::from_str(&read(&dir.join(vector_file))).unwrap_or_else(|e| panic!("{e}"));
    let policy = match vector["policy"].as_str() {
        Some(name) => Policy::from_json(&read(&dir.join(name))).unwrap_or_else(|e| panic!("{e}")),
        None => Policy::align().unwrap_or_else(|e| panic!("{e}")),
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
        let mut record = k.clone();
        let fields = record.as_object_mut().unwrap_or_else(|| unreachable!());
        fields.remove("secret");
        fields.insert("hint".into(), parsed.hint().into());
        let record = serde_json::from_value(record).unwrap_or_else(|e| panic!("{e}"));
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
    for (name, file) in [
        ("align_20_rows", "align_matrix.json"),
        ("large_2000_rows", "large.json"),
    ] {
        let side = side(file);
        assert!(
            side.samples.len() >= 100,
            "{file}: {} requests",
            side.samples.len()
        );
        let allowed = side.samples.iter().filter(|s| decide(&side, s)).count();
        eprintln!("{name}: {} requests, {allowed} allowed", side.samples.len());
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
