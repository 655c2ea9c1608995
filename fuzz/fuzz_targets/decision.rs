//! The decision over arbitrary method, target and key-header bytes, with arbitrary store answers
//! (unknown keys, revoked/expired records, inconsistent scopes, unknown roles, foreign
//! resources), a store failure at any lookup, and answers given out of turn. Driven by hand and
//! through `Engine::decide`; both must agree, and every property in `keyscope_fuzz` must hold.
#![no_main]

use std::sync::OnceLock;

use keyscope_fuzz::{decide, drive, fixed_keys, DecisionInput};
use libfuzzer_sys::fuzz_target;
use policy_core::{ApiKey, Engine};

fn world() -> &'static (Engine, Vec<ApiKey>) {
    static WORLD: OnceLock<(Engine, Vec<ApiKey>)> = OnceLock::new();
    WORLD.get_or_init(|| (Engine::align(), fixed_keys()))
}

fuzz_target!(|input: DecisionInput<'_>| {
    let (engine, keys) = world();
    let by_hand = drive(engine, keys, &input);
    if input.noise.is_empty() {
        assert_eq!(
            by_hand,
            decide(engine, keys, &input),
            "Engine::decide disagrees with driving by hand"
        );
    }
});
