//! The object's raw storage writes, made off the answer's path through the platform's own
//! `DurableObjectStorage` (one `put` of several keys, the alarm).

use crate::store::usage::Counts;

use super::object::{QUOTA, USAGE, WINDOW};

/// Writes the window's times under `window`, the quota counter under `quota` and the
/// pending usage under `usage`, in one `put` (all or none).
pub(super) async fn persist(
    storage: &worker::worker_sys::DurableObjectStorage,
    times: &[i64],
    (quota_start, quota_used): (i64, u64),
    usage: &[(i64, Counts)],
) -> std::result::Result<(), worker::wasm_bindgen::JsValue> {
    use worker::js_sys::{Array, Function, Object, Promise, Reflect};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let put: Function = Reflect::get(storage, &JsValue::from_str("put"))?.dyn_into()?;
    let values: Array = times.iter().map(|&t| JsValue::from_f64(t as f64)).collect();
    // A counter that never counted holds the earliest time; 0 (1970) is as old and a safe
    // JavaScript integer.
    let quota: Array = [quota_start.max(0) as f64, quota_used as f64]
        .into_iter()
        .map(JsValue::from_f64)
        .collect();
    let entries = Object::new();
    Reflect::set(&entries, &JsValue::from_str(WINDOW), &values)?;
    Reflect::set(&entries, &JsValue::from_str(QUOTA), &quota)?;
    let hours: Array = usage
        .iter()
        .map(|(hour, counts)| {
            // `[hour, [counts…]]`: what `load` reads back as `(i64, Counts)`.
            let counts: Array = counts.iter().map(|&c| JsValue::from_f64(c as f64)).collect();
            JsValue::from(Array::of2(&JsValue::from_f64(*hour as f64), &counts))
        })
        .collect();
    Reflect::set(&entries, &JsValue::from_str(USAGE), &hours)?;
    let written: Promise = put.call1(storage, &entries)?.dyn_into()?;
    worker::wasm_bindgen_futures::JsFuture::from(written)
        .await
        .map(drop)
}

/// Sets the object's alarm `after_ms` from now (the platform's clock).
pub(super) async fn set_alarm(
    storage: &worker::worker_sys::DurableObjectStorage,
    after_ms: i64,
) -> std::result::Result<(), worker::wasm_bindgen::JsValue> {
    use worker::js_sys::{Date, Function, Promise, Reflect};
    use worker::wasm_bindgen::{JsCast, JsValue};
    let set: Function = Reflect::get(storage, &JsValue::from_str("setAlarm"))?.dyn_into()?;
    let at = JsValue::from_f64(Date::now() + after_ms as f64);
    let done: Promise = set.call1(storage, &at)?.dyn_into()?;
    worker::wasm_bindgen_futures::JsFuture::from(done).await.map(drop)
}
