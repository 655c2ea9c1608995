//! The caller's side of the `KeyState` object: one stub per key id, and the queries it sends.

use keyscope_ratelimit::Limits;
use policy_core::{Quota, QuotaPeriod, Timestamp};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::Fetcher;
use worker::Env;

use super::{Admission, Check, Lease};
use crate::store::layout::KEY_STATE_BINDING;
use crate::store::usage::Outcome;
use crate::store::StoreError;

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

    fn stub(&self, key_id: &str) -> std::result::Result<Fetcher, StoreError> {
        self.namespace
            .id_from_name(key_id)
            .and_then(|id| id.get_stub())
            .map(|stub| stub.into_rpc::<Fetcher>())
            .map_err(|e| StoreError::KeyState(e.to_string()))
    }

    /// One call to the key's object, answered `200` with a text body. The platform's request and
    /// response are used directly: the framework's wrappers would read the request's `cf` object
    /// and stream the body through a reader, on every call.
    async fn call(
        &self,
        key_id: &str,
        method: worker::Method,
        path_and_query: &str,
    ) -> std::result::Result<String, StoreError> {
        let failed = |e: JsValue| StoreError::KeyState(format!("{e:?}"));
        let url = format!("https://key-state{path_and_query}");
        let stub = self.stub(key_id)?;
        let promise = if method == worker::Method::Get {
            stub.fetch_with_str(&url)
        } else {
            let init = web_sys::RequestInit::new();
            init.set_method(method.as_ref());
            stub.fetch_with_str_and_init(&url, &init)
        }
        .map_err(failed)?;
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .and_then(|value| value.dyn_into())
            .map_err(failed)?;
        let body = JsFuture::from(response.text().map_err(failed)?)
            .await
            .map_err(failed)?
            .as_string()
            .unwrap_or_default();
        if response.status() == 200 {
            Ok(body)
        } else {
            Err(StoreError::KeyState(format!(
                "answered {}: {body}",
                response.status()
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
