//! The three peers agree on every request of the benchmark mix, and the mix covers every outcome.

#[test]
fn peers_agree_on_the_whole_mix() {
    let world = keyscope_bench::World::align();
    let counts = keyscope_bench::verify_agreement(&world).unwrap_or_else(|e| panic!("{e}"));
    for outcome in ["allow", "scope_violation", "forbidden", "not_found"] {
        assert!(
            counts.get(outcome).copied().unwrap_or(0) > 50,
            "the mix has too few {outcome}: {counts:?}"
        );
    }
}
