//! "Last used", recorded off the hot path: after an allow, at most once a minute per key and
//! isolate, a D1 update in `wait_until`. It never delays or fails the request, and it does not
//! rewrite any projection (a projection written from a read taken before a concurrent
//! revocation could otherwise undo it).

use std::cell::RefCell;
use std::collections::HashMap;

use policy_core::{KeyRecord, Timestamp};
use worker::{console_error, Context, Env};

use crate::config::Config;
use crate::store::layout::LAST_USED_EVERY_MS;
use crate::store::write::Writer;

thread_local! {
    /// When this isolate last recorded each key's use (bounded: cleared when full).
    static TOUCHED: RefCell<HashMap<String, i64>> = RefCell::new(HashMap::new());
}

/// Records that `record`'s key was used at `now`, if due.
pub fn touch(env: &Env, ctx: &Context, config: &Config, record: &KeyRecord, now: Timestamp) {
    let due = record
        .last_used_at
        .is_none_or(|t| now.0 - t.0 >= LAST_USED_EVERY_MS);
    if !due || !debounce(&record.id, now) {
        return;
    }
    let id = record.id.clone();
    let writer = match Writer::open(env, config) {
        Ok(writer) => writer,
        Err(err) => {
            console_error!("keyscope: last used not recorded: {err}");
            return;
        }
    };
    ctx.wait_until(async move {
        if let Err(err) = writer.touch_last_used(&id, now).await {
            console_error!("keyscope: last used not recorded: {err}");
        }
    });
}

/// Whether this isolate should record a use of `id` at `now` (and notes that it does).
fn debounce(id: &str, now: Timestamp) -> bool {
    TOUCHED.with(|touched| {
        let mut touched = touched.borrow_mut();
        if touched.get(id).is_some_and(|t| now.0 - t < LAST_USED_EVERY_MS) {
            return false;
        }
        if touched.len() >= 10_000 {
            touched.clear();
        }
        touched.insert(id.to_owned(), now.0);
        true
    })
}
