//! Policy documents over arbitrary bytes: `Policy::from_json` must refuse or compile without
//! panicking, and whatever compiles must route and decide without panicking.
#![no_main]

use keyscope_fuzz::exercise_policy;
use libfuzzer_sys::fuzz_target;
use policy_core::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = Policy::from_json(text) {
        exercise_policy(&policy);
        // Compiling is deterministic.
        assert_eq!(
            format!("{policy:?}"),
            format!("{:?}", Policy::from_json(text).unwrap())
        );
    }
});
