//! The authoritative answer for a key's mutable state, at every location: one Durable Object
//! per key id (class `KeyState`, binding `KEY_STATE`).
//!
//! The object answers, in one hop, "is this key still revoked-or-not, and with which creator
//! role" — read from D1 (the source of truth) and cached in the object — and admits the request
//! under the key's limits: its rate ([`SlidingWindow`]) and its quota ([`QuotaCounter`]), both
//! persisted in the object's storage so a restart cannot reset a limit (keyscope-ratelimit's
//! [`Limits::admit`] judges and counts).
//!
//! Writes that change a key's state (revocation, its creator's role change or removal, its
//! allow-list or limits) bracket
//! their D1 batch with [`KeyStateClient::begin`] and [`KeyStateClient::commit`]:
//!
//! 1. `begin` records a lease (persisted) and drops the cached state. While any lease is
//!    unexpired the object reads D1 on every check and caches nothing, so no check can cache a
//!    read taken before the write committed.
//! 2. the D1 batch commits;
//! 3. `commit` releases the lease and drops the cache again: the next check reads D1 afresh.
//!
//! If `begin` fails, the write is not made (nothing changed). If `commit` fails, the lease
//! simply expires after [`LEASE_MS`] and the object goes back to caching — decisions were on D1's
//! state all along. A check that cannot read D1 answers `503` (the gateway then denies
//! `503 unavailable`): never fail open.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use keyscope_ratelimit::{CalendarWindow, Counts as LimitCounts, Limits, QuotaCounter, SlidingWindow};
use policy_core::{Exceeded, Quota, QuotaPeriod, Timestamp};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State, Stub};

use super::layout::{D1_BINDING, KEY_STATE_BINDING, KEY_STATE_SELECT, USAGE_ADD};
use super::usage::{Counts, Outcome, Pending, WRITE_AFTER_MS};
use super::StoreError;
use crate::clock::now;

/// How long a write's lease keeps the object reading D1 on every check, at most. D1 queries
/// time out well within it, so a lease that was never released cannot outlive its write.
pub const LEASE_MS: i64 = 60_000;

/// A key's mutable state as D1 holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutableState {
    /// When the key was (or will be) revoked.
    pub revoked_at: Option<Timestamp>,
    /// The creator's current role in the key's organization; `None` once removed.
    pub role: Option<String>,
    /// The key's `controls` column (allow-list, rate, quota, projects beyond one), which a
    /// change can rewrite: the isolate's cached key is brought up to it.
    #[serde(default)]
    pub controls: Option<String>,
}

/// The answer to one check.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// The key's state, or `None` when D1 has no key with this id.
    pub state: Option<MutableState>,
    /// The rate-limit admission.
    pub admission: Admission,
}

/// What the limiter said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Admission {
    /// No limit was asked for (disabled, or the key is unknown).
    NotAsked,
    /// Admitted at this time (a denial refunds it with [`KeyStateClient::refund`]).
    Admitted {
        /// The time the counters recorded.
        at: Timestamp,
        /// The counters after the request (for the `RateLimit` header field).
        counts: CountsWire,
    },
    /// Over a limit: retry after this many seconds.
    Limited {
        /// `Retry-After`, in seconds.
        retry_after: u32,
        /// The limit reached.
        limit: Exceeded,
        /// The counters (the request not counted).
        counts: CountsWire,
    },
}

/// keyscope-ratelimit's counts as the object answers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountsWire {
    in_second: u32,
    oldest_in_second: Option<i64>,
    in_period: u64,
}

impl From<LimitCounts> for CountsWire {
    fn from(c: LimitCounts) -> CountsWire {
        CountsWire {
            in_second: c.in_second,
            oldest_in_second: c.oldest_in_second.map(Timestamp::millis),
            in_period: c.in_period,
        }
    }
}

impl From<CountsWire> for LimitCounts {
    fn from(c: CountsWire) -> LimitCounts {
        LimitCounts {
            in_second: c.in_second,
            oldest_in_second: c.oldest_in_second.map(Timestamp),
            in_period: c.in_period,
        }
    }
}

/// How many of an organization's cap a key's object leases at a time: a hundredth of the cap,
/// 1 to 50 (a small cap is counted one request at a time, exactly).
pub fn lease_batch(cap: u64) -> u64 {
    (cap / 100).clamp(1, 50)
}

/// The organization's cap as a query string (`&cap=…&capPeriod=…`), read back by the object.
fn cap_query(cap: Option<Quota>) -> String {
    cap.map_or(String::new(), |cap| {
        format!("&cap={}&capPeriod={}", cap.limit, cap.period.as_str())
    })
}

/// A key's limits as a query string (`&perSecond=…&quota=…&period=…`), read back by the object.
fn limits_query(limits: &Limits) -> String {
    let mut query = format!("&perSecond={}", limits.per_second.unwrap_or(0));
    if let Some(quota) = limits.quota {
        query.push_str(&format!(
            "&quota={}&period={}",
            quota.limit,
            quota.period.as_str()
        ));
    }
    query
}

/// A write's lease on a key's state, released by [`KeyStateClient::commit`].
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Lease {
    /// When the lease expires (Unix ms); identifies it.
    pub until: i64,
}

#[derive(Deserialize)]
struct StateRow {
    revoked_at: Option<i64>,
    creator_role: Option<String>,
    #[serde(default)]
    controls: Option<String>,
}

/// The caller's side: one stub per key id.
pub struct KeyStateClient {
    namespace: worker::ObjectNamespace,
}

impl KeyStateClient {
    /// Opens the binding (a deployment without it cannot answer: `Unbound`).
    pub fn open(env: &Env) -> std::result::Result<KeyStateClient, StoreError> {
        env.durable_object(KEY_STATE_BINDING)
            .map(|namespace| KeyStateClient { namespace })
            .map_err(|_| StoreError::Unbound(KEY_STATE_BINDING))
    }

    fn stub(&self, key_id: &str) -> std::result::Result<Stub, StoreError> {
        self.namespace
            .id_from_name(key_id)
            .and_then(|id| id.get_stub())
            .map_err(|e| StoreError::KeyState(e.to_string()))
    }

    async fn call(
        &self,
        key_id: &str,
        method: worker::Method,
        path_and_query: &str,
    ) -> std::result::Result<String, StoreError> {
        let mut init = worker::RequestInit::new();
        init.with_method(method);
        let request = Request::new_with_init(&format!("https://key-state{path_and_query}"), &init)
            .map_err(|e| StoreError::KeyState(e.to_string()))?;
        let mut response = self
            .stub(key_id)?
            .fetch_with_request(request)
            .await
            .map_err(|e| StoreError::KeyState(e.to_string()))?;
        let body = response
            .text()
            .await
            .map_err(|e| StoreError::KeyState(e.to_string()))?;
        if response.status_code() == 200 {
            Ok(body)
        } else {
            Err(StoreError::KeyState(format!(
                "answered {}: {body}",
                response.status_code()
            )))
        }
    }

    /// The key's current state, and (under `limits` and the organization's `cap`) an admission.
    /// A known key's request is
    /// counted as allowed unless it is over a limit ([`super::usage`]); `org` is the key's
    /// organization, for its usage rows.
    pub async fn check(
        &self,
        key_id: &str,
        org: &str,
        limits: &Limits,
        cap: Option<Quota>,
    ) -> std::result::Result<Check, StoreError> {
        let body = self
            .call(
                key_id,
                worker::Method::Get,
                &format!(
                    "/check?id={key_id}&org={org}{}{}",
                    limits_query(limits),
                    cap_query(cap)
                ),
            )
            .await?;
        serde_json::from_str(&body).map_err(|e| StoreError::KeyState(e.to_string()))
    }

    /// Admits one request under `limits` without reading the key's state (the `kv` and `d1`
    /// store modes, whose state comes from elsewhere).
    /// `count`: whether an admitted request is counted as allowed (it is not when it was
    /// already counted, by a check whose admission is taken again).
    pub async fn take(
        &self,
        key_id: &str,
        org: &str,
        limits: &Limits,
        cap: Option<Quota>,
        count: bool,
    ) -> std::result::Result<Admission, StoreError> {
        let body = self
            .call(
                key_id,
                worker::Method::Get,
                &format!(
                    "/take?id={key_id}&org={org}&count={count}{}{}",
                    limits_query(limits),
                    cap_query(cap)
                ),
            )
            .await?;
        serde_json::from_str(&body).map_err(|e| StoreError::KeyState(e.to_string()))
    }

    /// Gives back an admission whose request was denied after all (only allowed requests
    /// count against the limits): its place in the rate window and, under a quota of
    /// `period`, its count.
    pub async fn refund(
        &self,
        key_id: &str,
        at: Timestamp,
        period: Option<QuotaPeriod>,
    ) -> std::result::Result<(), StoreError> {
        let period = period.map_or(String::new(), |p| format!("&period={}", p.as_str()));
        self.call(
            key_id,
            worker::Method::Post,
            &format!("/refund?at={}{period}", at.0),
        )
        .await
        .map(drop)
    }

    /// Tells the key's object what a request it counted as allowed at `at` came to
    /// (`outcome`), giving back its admission if it had one (`admitted`, under a quota of
    /// `period`); or, when the object did not count it (`counted` false), counts it.
    #[allow(clippy::too_many_arguments)]
    pub async fn report(
        &self,
        key_id: &str,
        org: &str,
        at: Timestamp,
        outcome: Outcome,
        counted: bool,
        admitted: bool,
        period: Option<QuotaPeriod>,
    ) -> std::result::Result<(), StoreError> {
        let period = period.map_or(String::new(), |p| format!("&period={}", p.as_str()));
        let path = format!(
            "/report?id={key_id}&org={org}&at={}&outcome={}&counted={counted}&admitted={admitted}{period}",
            at.0,
            outcome.name()
        );
        self.call(key_id, worker::Method::Post, &path).await.map(drop)
    }

    /// Takes a lease before a write to the key's state in D1.
    pub async fn begin(&self, key_id: &str) -> std::result::Result<Lease, StoreError> {
        let body = self.call(key_id, worker::Method::Post, "/begin").await?;
        serde_json::from_str(&body).map_err(|e| StoreError::KeyState(e.to_string()))
    }

    /// Releases a lease after the write committed (or failed).
    pub async fn commit(&self, key_id: &str, lease: Lease) -> std::result::Result<(), StoreError> {
        self.call(
            key_id,
            worker::Method::Post,
            &format!("/commit?lease={}", lease.until),
        )
        .await
        .map(drop)
    }
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
    /// A write of the window to storage is scheduled.
    flush_scheduled: bool,
}

/// How long the window may live in memory only after a change: at most this much of a key's
/// admissions can be forgotten by a restart.
const FLUSH_AFTER_MS: u64 = 50;

/// One key's state and window.
#[durable_object]
pub struct KeyState {
    state: State,
    env: Env,
    inner: Rc<RefCell<Inner>>,
}

const LEASES: &str = "leases";
const WINDOW: &str = "window";
/// The quota counter, as `[window start, used]`.
const QUOTA: &str = "quota";
/// The usage not yet written, as `[[hour, [counts…]]…]`.
const USAGE: &str = "usage";

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
                    self.schedule_flush()?;
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
                self.schedule_flush()?;
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
                    self.schedule_flush()?;
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
                self.schedule_flush()?;
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
                self.schedule_flush()?;
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
        self.schedule_flush()
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
        self.schedule_flush().map_err(|e| e.to_string())
    }

    /// Writes the window to storage [`FLUSH_AFTER_MS`] after it changed, off the answer's path:
    /// the object answers from memory, and storage only has to outlive a restart. Writing on
    /// every admission, before answering, cost every allowed request a storage write (measured
    /// in BENCHMARKS.md); this way a busy key's window is written at most every 50 ms, and a
    /// restart can forget at most the admissions of those last 50 ms — never the window.
    fn schedule_flush(&self) -> Result<()> {
        if self.inner.borrow().flush_scheduled {
            return Ok(());
        }
        let storage = self.state.as_raw().storage()?;
        self.inner.borrow_mut().flush_scheduled = true;
        let inner = Rc::clone(&self.inner);
        worker::wasm_bindgen_futures::spawn_local(async move {
            worker::Delay::from(Duration::from_millis(FLUSH_AFTER_MS)).await;
            let (times, quota, usage) = {
                let mut inner = inner.borrow_mut();
                inner.flush_scheduled = false;
                (
                    inner.window.times(),
                    (inner.quota.window_start().0, inner.quota.used()),
                    inner.usage.to_hours(),
                )
            };
            if let Err(err) = persist(&storage, &times, quota, &usage).await {
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

/// Writes the window's times under [`WINDOW`], the quota counter under [`QUOTA`] and the
/// pending usage under [`USAGE`], in one `put` (all or none).
async fn persist(
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
async fn set_alarm(
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

fn json<T: Serialize>(value: &T) -> Result<Response> {
    Response::from_json(value)
}
