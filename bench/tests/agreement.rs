//! All peers agree on every request of the benchmark mix, under every grant mix, and the mix
//! covers every outcome.

use keyscope_bench::{GrantMix, World};

#[test]
fn peers_agree_on_the_whole_mix() {
    for mix in [GrantMix::Standard, GrantMix::Inherit, GrantMix::Explicit] {
        let world = World::with_grants(mix);
        let counts = keyscope_bench::verify_agreement(&world).unwrap_or_else(|e| panic!("{mix:?}: {e}"));
        for outcome in ["allow", "scope_violation", "forbidden", "not_found"] {
            assert!(
                counts.get(outcome).copied().unwrap_or(0) > 50,
                "the {mix:?} mix has too few {outcome}: {counts:?}"
            );
        }
    }
}
