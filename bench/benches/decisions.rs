//! `cargo bench -p keyscope-bench`: keyscope vs a hand-written implementation vs cedar-policy,
//! on one 2,000-request mix, in one run. Agreement is verified before anything is timed.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keyscope_bench::{verify_agreement, CedarPeer, Handwritten, KeyscopePeer, World, MIX_LEN};
use policy_core::{ApiKey, Environment};

fn decisions(c: &mut Criterion) {
    let world = World::align();
    let counts = verify_agreement(&world).unwrap_or_else(|e| panic!("peers disagree: {e}"));
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    eprintln!("all peers agree on {MIX_LEN} requests: {counts:?}");

    let keyscope = KeyscopePeer::new(&world);
    let hand = Handwritten::new(&world);
    let cedar = CedarPeer::new(&hand);

    let mut group = c.benchmark_group("decision_mix");
    group.throughput(Throughput::Elements(MIX_LEN as u64));
    group.bench_function("keyscope", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| keyscope.decide(black_box(s)))
                .count()
        })
    });
    group.bench_function("handwritten", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| matches!(hand.decide(black_box(s)), keyscope_bench::Verdict::Allow(_)))
                .count()
        })
    });
    group.bench_function("keyscope_from_header", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| keyscope.decide_from_header(black_box(s)))
                .count()
        })
    });
    group.sample_size(10);
    group.bench_function("cedar_prebuilt_entities", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| cedar.decide(black_box(s), true))
                .count()
        })
    });
    group.bench_function("cedar_entities_per_request", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| cedar.decide(black_box(s), false))
                .count()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("matching_mix");
    group.throughput(Throughput::Elements(MIX_LEN as u64));
    let policy = keyscope.engine().policy();
    group.bench_function("keyscope", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| policy.route(black_box(s.method), black_box(&s.target)).is_some())
                .count()
        })
    });
    group.bench_function("handwritten", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| hand.route(black_box(s.method), black_box(&s.target)).is_some())
                .count()
        })
    });
    group.finish();

    let secret = world.keys[0].secret.clone();
    c.bench_function("key/parse_checksum_and_sha256", |b| {
        b.iter(|| ApiKey::parse_for(black_box(&secret), Environment::Live).map(|k| k.hash()))
    });

    // One decision per outcome, to show each deny path's cost.
    let mut group = c.benchmark_group("decision_path");
    let pick = |method: &str, target: &str, key: usize| {
        world
            .samples
            .iter()
            .position(|s| s.method == method && s.target == target && s.key == key)
            .map(|i| &world.samples[i])
    };
    let paths = [
        ("allow_org_key", "GET", "/api/v1/projects", 6),
        ("allow_project_key_filtered", "GET", "/api/v1/projects", 7),
        (
            "allow_project_key_own_resource",
            "PATCH",
            "/api/v1/time-entries/te_1",
            7,
        ),
        ("scope_violation", "GET", "/api/v1/users", 7),
        ("forbidden", "POST", "/api/v1/users/invite", 0),
        ("not_found_route", "GET", "/api/v1/nothing-here", 0),
        ("not_found_resource", "PATCH", "/api/v1/time-entries/te_2", 7),
    ];
    for (name, method, target, key) in paths {
        let owned;
        let sample = match pick(method, target, key) {
            Some(s) => s,
            None => {
                owned = keyscope_bench::Sample {
                    method: Box::leak(method.to_string().into_boxed_str()),
                    target: target.into(),
                    key,
                };
                &owned
            }
        };
        group.bench_function(name, |b| b.iter(|| keyscope.decide(black_box(sample))));
    }
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
