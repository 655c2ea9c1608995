//! The decision over arbitrary method, target and key-header bytes, with arbitrary store answers
//! (unknown keys, revoked/expired records, inconsistent scopes, unknown roles, foreign
//! resources), a store failure at any lookup, and answers given out of turn. Every property in
//! `keyscope_fuzz` must hold.
#![no_main]

use std::sync::OnceLock;

use keyscope_fuzz::{drive, fixed_keys, DecisionInput};
use libfuzzer_sys::fuzz_target;
use policy_core::{ApiKey, Engine};

fn world() -> &'static (Engine, Vec<ApiKey>) {
    static WORLD: OnceLock<(Engine, Vec<ApiKey>)> = OnceLock::new();
    WORLD.get_or_init(|| (Engine::align().expect("the shipped Align policy compiles"), fixed_keys()))
}

fuzz_target!(|input: DecisionInput<'_>| {
    let (engine, keys) = world();
    drive(engine, keys, &input);
});
