//! The `KeyState` object: a key's state read from D1 and cached, its limits' counters, the
//! organization's cap (an object of this class named `org:<id>` holds it), its usage counts,
//! and what it keeps in storage.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use keyscope_ratelimit::{CalendarWindow, Counts as LimitCounts, Limits, QuotaCounter, SlidingWindow};
use policy_core::{Exceeded, Quota, QuotaPeriod, Timestamp};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State, Stub};

use super::storage::{persist, set_alarm};
use super::{Admission, Check, CountsWire, Lease, MutableState, LEASE_MS};
use crate::clock::now;
use crate::store::layout::{D1_BINDING, KEY_STATE_BINDING, KEY_STATE_SELECT, USAGE_ADD};
use crate::store::usage::{Counts, Outcome, Pending, WRITE_AFTER_MS};

/// How many of an organization's cap a key's object leases at a time: a hundredth of the cap,
/// 1 to 50 (a small cap is counted one request at a time, exactly).
pub fn lease_batch(cap: u64) -> u64 {
    (cap / 100).clamp(1, 50)
}

#[derive(Deserialize)]
struct StateRow {
    revoked_at: Option<i64>,
    creator_role: Option<String>,
    #[serde(default)]
    controls: Option<String>,
}

/// What the object keeps in memory.
#[derive(Default)]
struct Inner {
    /// Storage (leases, window) has been read into memory.
    loaded: bool,
    /// Unreleased write leases (their expiry times); persisted.
    leases: Vec<i64>,
    /// The rate-limit window; persisted shortly after every admission.
    window: SlidingWindow,
    /// The quota's count in its window; persisted with the window.
    quota: QuotaCounter,
    /// Usage counts not yet written to D1; persisted with the window.
    usage: Pending,
    /// The key's id and organization, for its usage rows (told by every check).
    owner: Option<(String, String)>,
    /// An alarm to write the usage is set.
    alarm_set: bool,
    /// The organization cap's lease: its window's start and the requests it still holds.
    cap_lease: Option<(i64, u64)>,
    /// The organization's cap this key was last held to.
    cap: Option<Quota>,
    /// The state read from D1 when no lease was held, if still valid.
    cached: Option<MutableState>,
    /// Bumped by every `begin` and `commit`: a D1 read that started before is not cached.
    generation: u64,
    /// A write of the counters to storage is scheduled within [`FLUSH_AFTER_MS`].
    soon_scheduled: bool,
    /// A write of the counters to storage is scheduled within [`LATER_AFTER_MS`].
    later_scheduled: bool,
    /// The counters changed since they were last written.
    dirty: bool,
    /// The quota's count as last written.
    quota_written: u64,
}

/// When a change to the counters is written to storage (record 0110).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flush {
    /// Within [`FLUSH_AFTER_MS`]: what a restart would otherwise forget could let a key past a
    /// limit by more than the bounds of record 0110, or count an organization's cap wrongly.
    Soon,
    /// Within [`LATER_AFTER_MS`]: usage, refunds, and counts a restart may forget within
    /// those bounds.
    Later,
}

/// How long a change whose loss could matter lives in memory only.
const FLUSH_AFTER_MS: u64 = 50;

/// How long any other change lives in memory only.
const LATER_AFTER_MS: u64 = 10_000;

/// How a limit's counters are written after an admission: soon when a restart forgetting them
/// could let the key past a bound of record 0110 — its rate window holds half its rate or more,
/// or its quota's count moved by a thousandth of the quota (at least one) since the last write —
/// else later.
fn flush_after_admission(limits: &Limits, counts: &LimitCounts, quota_written: u64) -> Flush {
    let window_at_risk = limits
        .per_second
        .is_some_and(|rate| u64::from(counts.in_second) * 2 >= u64::from(rate));
    let quota_at_risk = limits
        .quota
        .is_some_and(|quota| counts.in_period.abs_diff(quota_written) >= (quota.limit / 1000).max(1));
    if window_at_risk || quota_at_risk {
        Flush::Soon
    } else {
        Flush::Later
    }
}

/// One key's state and window.
#[durable_object]
pub struct KeyState {
    state: State,
    env: Env,
    inner: Rc<RefCell<Inner>>,
}

pub(super) const LEASES: &str = "leases";
pub(super) const WINDOW: &str = "window";
/// The quota counter, as `[window start, used]`.
pub(super) const QUOTA: &str = "quota";
/// The usage not yet written, as `[[hour, [counts…]]…]`.
pub(super) const USAGE: &str = "usage";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    id: Option<String>,
    org: Option<String>,
    outcome: Option<Outcome>,
    counted: Option<bool>,
    admitted: Option<bool>,
    count: Option<bool>,
    /// The organization's cap, and its period (with `org`).
    cap: Option<u64>,
    cap_period: Option<QuotaPeriod>,
    /// How many of the cap's requests a lease asks for.
    n: Option<u64>,
    per_second: Option<u32>,
    quota: Option<u64>,
    period: Option<QuotaPeriod>,
    at: Option<i64>,
    lease: Option<i64>,
}

impl Query {
    /// The organization's cap the caller asked to be held to, if any.
    fn cap(&self) -> std::result::Result<Option<Quota>, String> {
        match (self.cap, self.cap_period) {
            (Some(limit), Some(period)) => Quota::new(limit, period).map(Some).map_err(|e| e.to_string()),
            (None, None) => Ok(None),
            _ => Err("cap and capPeriod go together".into()),
        }
    }

    /// The limits the caller asked to be admitted under (`None`: none asked, or a quota out of
    /// bounds, which a caller never sends).
    fn limits(&self) -> std::result::Result<Limits, String> {
        let quota = match (self.quota, self.period) {
            (Some(limit), Some(period)) => Some(Quota::new(limit, period).map_err(|e| e.to_string())?),
            (None, None) => None,
            _ => return Err("quota and period go together".into()),
        };
        Ok(Limits {
            per_second: self.per_second.filter(|&n| n > 0),
            quota,
        })
    }
}

impl DurableObject for KeyState {
    fn new(state: State, env: Env) -> Self {
        KeyState {
            state,
            env,
            inner: Rc::new(RefCell::new(Inner::default())),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        // The URL by hand: `Request::url` would link the `url` crate's IDNA tables.
        let url = req.inner().url();
        let after_host = url.strip_prefix("https://key-state").unwrap_or("");
        let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
        let query: Query = match serde_urlencoded::from_str(query) {
            Ok(query) => query,
            Err(e) => return Response::error(format!("bad query: {e}"), 400),
        };
        if let Err(e) = self.load().await {
            return Response::error(format!("storage: {e}"), 503);
        }
        let now = now();
        self.prune(now);
        match path {
            "/check" => {
                let Some(id) = query.id.as_deref() else {
                    return Response::error("id required", 400);
                };
                let state = match self.state_of(id).await {
                    Ok(state) => state,
                    Err(e) => return Response::error(e, 503),
                };
                let limits = match query.limits() {
                    Ok(limits) => limits,
                    Err(e) => return Response::error(e, 400),
                };
                let cap = match query.cap() {
                    Ok(cap) => cap,
                    Err(e) => return Response::error(e, 400),
                };
                let admission = match &state {
                    Some(_) => self.admit(&limits, cap, query.org.as_deref(), now).await?,
                    None => Admission::NotAsked,
                };
                if state.is_some() && !matches!(admission, Admission::Limited { .. }) {
                    self.count(&query, Outcome::Allowed, now)?;
                }
                json(&Check { state, admission })
            }
            "/take" => match query.limits().and_then(|limits| Ok((limits, query.cap()?))) {
                Ok((limits, cap)) => {
                    let admission = self.admit(&limits, cap, query.org.as_deref(), now).await?;
                    if query.count != Some(false) && matches!(admission, Admission::Admitted { .. }) {
                        self.count(&query, Outcome::Allowed, now)?;
                    }
                    json(&admission)
                }
                Err(e) => Response::error(e, 400),
            },
            "/report" => {
                let (Some(at), Some(outcome)) = (query.at, query.outcome) else {
                    return Response::error("at and outcome required", 400);
                };
                let at = Timestamp(at);
                {
                    let mut inner = self.inner.borrow_mut();
                    if query.admitted == Some(true) {
                        inner.window.forget(at);
                        if let Some(period) = query.period {
                            inner.quota.forget(period, at);
                        }
                    }
                }
                // The organization's cap counted it when it was leased: given back there, so
                // that another key may use it.
                let cap = self.inner.borrow().cap;
                if let (true, Some(cap), Some(org)) =
                    (query.admitted == Some(true), cap, query.org.as_deref())
                {
                    self.give_back(org, cap, at).await?;
                }
                if query.counted == Some(true) {
                    self.inner.borrow_mut().usage.recount(outcome, at);
                    self.schedule_flush(Flush::Later)?;
                } else {
                    self.count(&query, outcome, at)?;
                }
                Response::ok("ok")
            }
            // An organization's object: takes back one request of its cap admitted at `at`.
            "/unlease" => {
                let (Ok(Some(cap)), Some(at)) = (query.cap(), query.at) else {
                    return Response::error("cap, capPeriod and at required", 400);
                };
                self.inner.borrow_mut().quota.forget(cap.period, Timestamp(at));
                self.schedule_flush(Flush::Soon)?;
                Response::ok("ok")
            }
            // An organization's object: grants up to `n` requests of its cap's current window.
            "/lease" => {
                let (cap, Some(n)) = (query.cap(), query.n) else {
                    return Response::error("cap, capPeriod and n required", 400);
                };
                let cap = match cap {
                    Ok(Some(cap)) => cap,
                    Ok(None) => return Response::error("cap, capPeriod and n required", 400),
                    Err(e) => return Response::error(e, 400),
                };
                let granted = {
                    let mut inner = self.inner.borrow_mut();
                    let used = inner.quota.used_at(cap.period, now);
                    let granted = n.min(cap.limit.saturating_sub(used));
                    let start = CalendarWindow::containing(cap.period, now).start;
                    inner.quota = QuotaCounter::from_parts(start, used + granted);
                    granted
                };
                if granted > 0 {
                    // A grant forgotten by a restart could be granted twice: written soon.
                    self.schedule_flush(Flush::Soon)?;
                }
                json(&serde_json::json!({ "granted": granted }))
            }
            "/flush-usage" => match self.write_usage().await {
                Ok(()) => Response::ok("ok"),
                Err(e) => Response::error(e, 503),
            },
            "/refund" => {
                let Some(at) = query.at else {
                    return Response::error("at required", 400);
                };
                {
                    let mut inner = self.inner.borrow_mut();
                    inner.window.forget(Timestamp(at));
                    if let Some(period) = query.period {
                        inner.quota.forget(period, Timestamp(at));
                    }
                }
                // A refund forgotten by a restart only refuses early: written later.
                self.schedule_flush(Flush::Later)?;
                Response::ok("ok")
            }
            "/begin" => {
                let lease = Lease {
                    until: now.0 + LEASE_MS,
                };
                let leases = {
                    let mut inner = self.inner.borrow_mut();
                    inner.leases.push(lease.until);
                    inner.generation += 1;
                    inner.cached = None;
                    inner.leases.clone()
                };
                self.state.storage().put(LEASES, leases).await?;
                json(&lease)
            }
            "/commit" => {
                let leases = {
                    let mut inner = self.inner.borrow_mut();
                    if let Some(at) = query
                        .lease
                        .and_then(|l| inner.leases.iter().position(|&x| x == l))
                    {
                        inner.leases.swap_remove(at);
                    }
                    inner.generation += 1;
                    inner.cached = None;
                    inner.leases.clone()
                };
                self.state.storage().put(LEASES, leases).await?;
                Response::ok("ok")
            }
            _ => Response::error("no such call", 404),
        }
    }

    /// Writes the pending usage to D1 (a failure is retried by the platform).
    async fn alarm(&self) -> Result<Response> {
        self.inner.borrow_mut().alarm_set = false;
        self.load().await?;
        match self.write_usage().await {
            Ok(()) => Response::ok("ok"),
            Err(e) => Err(worker::Error::RustError(format!("usage not written: {e}"))),
        }
    }
}

impl KeyState {
    /// Reads leases and window from storage once per object instance.
    async fn load(&self) -> Result<()> {
        if self.inner.borrow().loaded {
            return Ok(());
        }
        let storage = self.state.storage();
        let leases: Option<Vec<i64>> = storage.get(LEASES).await?;
        let window: Option<Vec<i64>> = storage.get(WINDOW).await?;
        let quota: Option<(i64, u64)> = storage.get(QUOTA).await?;
        // Usage that cannot be read (a format of another version) is dropped, not a reason to
        // refuse the key: its limits and state are what must survive.
        let usage: Option<Vec<(i64, Counts)>> = match storage.get(USAGE).await {
            Ok(usage) => usage,
            Err(err) => {
                worker::console_error!("keyscope: pending usage unreadable, dropped: {err}");
                None
            }
        };
        let mut inner = self.inner.borrow_mut();
        if !inner.loaded {
            inner.leases = leases.unwrap_or_default();
            inner.window = SlidingWindow::from_times(window.unwrap_or_default().into_iter().map(Timestamp));
            inner.quota = quota.map_or_else(QuotaCounter::new, |(start, used)| {
                QuotaCounter::from_parts(Timestamp(start), used)
            });
            inner.usage = usage.map(Pending::from_hours).unwrap_or_default();
            inner.quota_written = inner.quota.used();
            inner.loaded = true;
        }
        Ok(())
    }

    /// Forgets expired leases (in memory; storage catches up at the next begin or commit).
    fn prune(&self, now: Timestamp) {
        let mut inner = self.inner.borrow_mut();
        let before = inner.leases.len();
        inner.leases.retain(|&until| until > now.0);
        if inner.leases.len() != before {
            inner.generation += 1;
            inner.cached = None;
        }
    }

    /// The key's state: cached, or read from D1 (and cached only if no lease is held and no
    /// write began or ended while reading).
    async fn state_of(&self, id: &str) -> std::result::Result<Option<MutableState>, String> {
        let generation = {
            let inner = self.inner.borrow();
            if inner.leases.is_empty() {
                if let Some(cached) = &inner.cached {
                    return Ok(Some(cached.clone()));
                }
            }
            inner.generation
        };
        let db = self
            .env
            .d1(D1_BINDING)
            .map_err(|_| format!("the {D1_BINDING} binding is not configured"))?;
        let row = db
            .prepare(KEY_STATE_SELECT)
            .bind(&[id.into()])
            .map_err(|e| e.to_string())?
            .first::<StateRow>(None)
            .await
            .map_err(|e| e.to_string())?;
        let state = row.map(|r| MutableState {
            revoked_at: r.revoked_at.map(Timestamp),
            role: r.creator_role,
            controls: r.controls,
        });
        let mut inner = self.inner.borrow_mut();
        if inner.leases.is_empty() && inner.generation == generation {
            inner.cached.clone_from(&state);
        }
        Ok(state)
    }

    /// Admits one request under `limits` and, with `cap`, the organization's cap (the counters
    /// are written to storage shortly after: [`KeyState::schedule_flush`]). The cap is counted
    /// by the organization's object, which leases this object batches of it ([`lease_batch`]):
    /// the organization never exceeds it, and what a lease holds unused is at most a batch per
    /// key (ARCHITECTURE.md "Limits and usage"). No limit: nothing is counted.
    async fn admit(
        &self,
        limits: &Limits,
        cap: Option<Quota>,
        org: Option<&str>,
        now: Timestamp,
    ) -> Result<Admission> {
        if limits.is_unlimited() && cap.is_none() {
            return Ok(Admission::NotAsked);
        }
        if let (Some(cap), Some(org)) = (cap, org) {
            let window = CalendarWindow::containing(cap.period, now);
            let remaining = match self.inner.borrow().cap_lease {
                Some((start, remaining)) if start == window.start.0 => remaining,
                _ => 0,
            };
            self.inner.borrow_mut().cap = Some(cap);
            if remaining == 0 {
                let granted = self.lease(org, cap, now).await?;
                // Other requests may have run (and leased) while this one waited: a lease adds
                // to what this window's lease holds now, never replaces it.
                let remaining = {
                    let mut inner = self.inner.borrow_mut();
                    let held = match inner.cap_lease {
                        Some((start, held)) if start == window.start.0 => held,
                        _ => 0,
                    };
                    inner.cap_lease = Some((window.start.0, held + granted));
                    held + granted
                };
                if remaining == 0 {
                    let counts = {
                        let mut inner = self.inner.borrow_mut();
                        let (in_second, oldest) = inner.window.in_window(now);
                        LimitCounts {
                            in_second,
                            oldest_in_second: oldest,
                            in_period: limits.quota.map_or(0, |q| inner.quota.used_at(q.period, now)),
                        }
                    };
                    return Ok(Admission::Limited {
                        retry_after: window.retry_after(now),
                        limit: Exceeded::Organization {
                            limit: cap.limit,
                            period: cap.period,
                        },
                        counts: counts.into(),
                    });
                }
            }
        }
        let judged = {
            let mut inner = self.inner.borrow_mut();
            let Inner { window, quota, .. } = &mut *inner;
            limits.admit(window, quota, now)
        };
        let counts = CountsWire::from(judged.counts);
        Ok(match judged.refused {
            None => {
                if cap.is_some() {
                    if let Some((_, remaining)) = &mut self.inner.borrow_mut().cap_lease {
                        *remaining = remaining.saturating_sub(1);
                    }
                }
                let quota_written = self.inner.borrow().quota_written;
                self.schedule_flush(flush_after_admission(limits, &judged.counts, quota_written))?;
                Admission::Admitted { at: now, counts }
            }
            Some(refusal) => Admission::Limited {
                retry_after: refusal.retry_after,
                limit: refusal.exceeded,
                counts,
            },
        })
    }

    /// The organization's object (the same class, named `org:<id>`).
    fn organization(&self, org: &str) -> Result<Stub> {
        self.env
            .durable_object(KEY_STATE_BINDING)?
            .id_from_name(&format!("org:{org}"))?
            .get_stub()
    }

    /// Gives one request admitted at `at` back to the organization's cap.
    async fn give_back(&self, org: &str, cap: Quota, at: Timestamp) -> Result<()> {
        let url = format!(
            "https://key-state/unlease?cap={}&capPeriod={}&at={}",
            cap.limit,
            cap.period.as_str(),
            at.0
        );
        let response = self.organization(org)?.fetch_with_str(&url).await?;
        if response.status_code() == 200 {
            Ok(())
        } else {
            Err(worker::Error::RustError(format!(
                "the organization's cap answered {}",
                response.status_code()
            )))
        }
    }

    /// Asks the organization's object for a batch of its cap's current window; what it grants
    /// (0: the cap is reached).
    async fn lease(&self, org: &str, cap: Quota, _now: Timestamp) -> Result<u64> {
        let stub = self.organization(org)?;
        let url = format!(
            "https://key-state/lease?cap={}&capPeriod={}&n={}",
            cap.limit,
            cap.period.as_str(),
            lease_batch(cap.limit)
        );
        let mut response = stub.fetch_with_str(&url).await?;
        if response.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "the organization's cap answered {}",
                response.status_code()
            )));
        }
        #[derive(Deserialize)]
        struct Lease {
            granted: u64,
        }
        Ok(response.json::<Lease>().await?.granted)
    }

    /// Counts one request of the key the query names (its id and organization are kept for
    /// the usage rows) at `at`.
    fn count(&self, query: &Query, outcome: Outcome, at: Timestamp) -> Result<()> {
        {
            let mut inner = self.inner.borrow_mut();
            if let (Some(id), Some(org)) = (&query.id, &query.org) {
                if inner.owner.as_ref().is_none_or(|(i, o)| i != id || o != org) {
                    inner.owner = Some((id.clone(), org.clone()));
                }
            }
            inner.usage.count(outcome, at);
        }
        self.schedule_flush(Flush::Later)
    }

    /// Writes the pending usage to D1 as additions, in one batch; what was written is then
    /// forgotten (counts made meanwhile stay). Nothing pending, or no owner known yet: nothing.
    async fn write_usage(&self) -> std::result::Result<(), String> {
        let (snapshot, owner) = {
            let inner = self.inner.borrow();
            (inner.usage.clone(), inner.owner.clone())
        };
        let Some((key_id, org)) = owner else {
            return Ok(());
        };
        if snapshot.is_empty() {
            return Ok(());
        }
        let db = self
            .env
            .d1(D1_BINDING)
            .map_err(|_| format!("the {D1_BINDING} binding is not configured"))?;
        let mut statements = Vec::new();
        for (hour, counts) in snapshot.hours() {
            let mut args: Vec<worker::wasm_bindgen::JsValue> =
                vec![key_id.as_str().into(), org.as_str().into(), (hour as f64).into()];
            args.extend(
                counts
                    .iter()
                    .map(|&c| worker::wasm_bindgen::JsValue::from_f64(c as f64)),
            );
            statements.push(db.prepare(USAGE_ADD).bind(&args).map_err(|e| e.to_string())?);
        }
        db.batch(statements).await.map_err(|e| e.to_string())?;
        self.inner.borrow_mut().usage.written(&snapshot);
        // Written usage still in storage would be written again after a restart: soon.
        self.schedule_flush(Flush::Soon).map_err(|e| e.to_string())
    }

    /// Writes the counters (window, quota, pending usage) to storage after they changed, off
    /// the answer's path: the object answers from memory, and storage only has to outlive a
    /// restart. Writing on every admission, before answering, cost every allowed request a
    /// storage write; writing every change within 50 ms still cost one for every request of a
    /// key with fewer than 20 a second (BENCHMARKS.md "Edge: where the time goes"). So a change
    /// is written [`Flush::Soon`] only when a restart forgetting it could matter, else
    /// [`Flush::Later`] (record 0110); each write takes every counter as it is then.
    fn schedule_flush(&self, when: Flush) -> Result<()> {
        {
            let mut inner = self.inner.borrow_mut();
            inner.dirty = true;
            let scheduled = match when {
                Flush::Soon => &mut inner.soon_scheduled,
                Flush::Later => &mut inner.later_scheduled,
            };
            if *scheduled {
                return Ok(());
            }
            *scheduled = true;
        }
        let storage = self.state.as_raw().storage()?;
        let inner = Rc::clone(&self.inner);
        let after = match when {
            Flush::Soon => FLUSH_AFTER_MS,
            Flush::Later => LATER_AFTER_MS,
        };
        worker::wasm_bindgen_futures::spawn_local(async move {
            worker::Delay::from(Duration::from_millis(after)).await;
            let (times, quota, usage) = {
                let mut inner = inner.borrow_mut();
                match when {
                    Flush::Soon => inner.soon_scheduled = false,
                    Flush::Later => inner.later_scheduled = false,
                }
                if !inner.dirty {
                    return;
                }
                inner.dirty = false;
                inner.quota_written = inner.quota.used();
                (
                    inner.window.times(),
                    (inner.quota.window_start().0, inner.quota.used()),
                    inner.usage.to_hours(),
                )
            };
            if let Err(err) = persist(&storage, &times, quota, &usage).await {
                // Written again by the next flush.
                inner.borrow_mut().dirty = true;
                worker::console_error!("keyscope: limit counters not persisted: {err:?}");
            }
            // Pending usage is written to D1 by the object's alarm, at most WRITE_AFTER_MS
            // after its first count.
            let wants_alarm = {
                let mut inner = inner.borrow_mut();
                let wants = !usage.is_empty() && !inner.alarm_set;
                inner.alarm_set |= wants;
                wants
            };
            if wants_alarm {
                if let Err(err) = set_alarm(&storage, WRITE_AFTER_MS).await {
                    inner.borrow_mut().alarm_set = false;
                    worker::console_error!("keyscope: usage alarm not set: {err:?}");
                }
            }
        });
        Ok(())
    }
}

fn json<T: Serialize>(value: &T) -> Result<Response> {
    Response::from_json(value)
}
