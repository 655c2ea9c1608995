//! `cargo bench -p keyscope-bench --bench decisions`: keyscope against a lean hand-written
//! implementation, cedar-policy and the naive hand-written peer, on one 2,000-request mix, in
//! one run. Agreement is verified before anything is timed.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keyscope_bench::{
    verify_agreement, CedarPeer, GrantMix, KeyscopePeer, Lean, Naive, Verdict, World, MIX_LEN,
};
use policy_core::{ApiKey, Environment};

fn decisions(c: &mut Criterion) {
    let world = World::align();
    for mix in [GrantMix::Standard, GrantMix::Inherit, GrantMix::Explicit] {
        let counts =
            verify_agreement(&World::with_grants(mix)).unwrap_or_else(|e| panic!("peers disagree: {e}"));
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort();
        eprintln!("{mix:?}: all peers agree on {MIX_LEN} requests: {counts:?}");
    }

    let keyscope = KeyscopePeer::new(&world);
    let lean = Lean::new(&world);
    let naive = Naive::new(&world);
    let cedar = CedarPeer::new(&world);

    let mut group = c.benchmark_group("decision_mix");
    group.throughput(Throughput::Elements(MIX_LEN as u64));
    let mut peer = |name: &str, decide: &dyn Fn(&keyscope_bench::Sample) -> bool| {
        group.bench_function(name, |b| {
            b.iter(|| world.samples.iter().filter(|s| decide(black_box(s))).count())
        });
    };
    peer("keyscope", &|s| keyscope.decide(s));
    peer("keyscope_raw_record", &|s| keyscope.decide_raw(s));
    peer("lean", &|s| lean.decide(&world, s).allowed());
    peer("keyscope_from_header", &|s| keyscope.decide_from_header(s));
    peer("naive", &|s| matches!(naive.decide(s), Verdict::Allow(_)));
    group.sample_size(10);
    group.bench_function("cedar_prebuilt_entities", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| cedar.decide(&world, black_box(s), true))
                .count()
        })
    });
    group.bench_function("cedar_entities_per_request", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| cedar.decide(&world, black_box(s), false))
                .count()
        })
    });
    group.finish();

    // The same mix with no key carrying explicit grants, then with every key carrying them.
    for (name, mix) in [
        ("decision_mix_inherit", GrantMix::Inherit),
        ("decision_mix_explicit", GrantMix::Explicit),
    ] {
        let world = World::with_grants(mix);
        let keyscope = KeyscopePeer::new(&world);
        let lean = Lean::new(&world);
        let mut group = c.benchmark_group(name);
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
        group.bench_function("keyscope_raw_record", |b| {
            b.iter(|| {
                world
                    .samples
                    .iter()
                    .filter(|s| keyscope.decide_raw(black_box(s)))
                    .count()
            })
        });
        group.bench_function("lean", |b| {
            b.iter(|| {
                world
                    .samples
                    .iter()
                    .filter(|s| lean.decide(&world, black_box(s)).allowed())
                    .count()
            })
        });
        group.finish();
    }

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
    group.bench_function("lean", |b| {
        b.iter(|| {
            world
                .samples
                .iter()
                .filter(|s| keyscope_bench::lean_route(black_box(s.method), black_box(&s.target)).is_some())
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
        let sample = keyscope_bench::Sample {
            method,
            target: target.into(),
            key,
        };
        group.bench_function(name, |b| b.iter(|| keyscope.decide(black_box(&sample))));
    }
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
