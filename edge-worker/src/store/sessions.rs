//! The key console's D1 rows (`migrations/0003_console.sql`): one-time links and sessions, each
//! stored by the SHA-256 digest of its token (the tokens themselves: `crate::console::session`).

use policy_core::Timestamp;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use super::layout::{
    D1_BINDING, LINKS_SWEEP, LINK_INSERT, LINK_REDEEM, SESSIONS_SWEEP, SESSION_DELETE, SESSION_INSERT,
    SESSION_SELECT,
};
use super::rows::{opt_text, text, time};
use super::StoreError;

/// Who a link or session acts for.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Holder {
    /// The organization.
    pub organization_id: String,
    /// The user.
    pub user_id: String,
    /// Where the page's Back link goes.
    pub return_url: Option<String>,
}

/// The console's D1 tables.
pub struct Sessions {
    db: D1Database,
}

fn d1<T>(result: worker::Result<T>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::D1(e.to_string()))
}

/// The parameters of a link or session insert ([`LINK_INSERT`], [`SESSION_INSERT`]).
fn holder_params(hash: &str, holder: &Holder, expires_at: Timestamp) -> [JsValue; 5] {
    [
        text(hash),
        text(&holder.organization_id),
        text(&holder.user_id),
        opt_text(holder.return_url.as_deref()),
        time(expires_at),
    ]
}

impl Sessions {
    /// Opens the tables (the `DB` binding).
    pub fn open(env: &Env) -> Result<Sessions, StoreError> {
        let db = env.d1(D1_BINDING).map_err(|_| StoreError::Unbound(D1_BINDING))?;
        Ok(Sessions { db })
    }

    async fn run(&self, sql: &str, args: &[JsValue]) -> Result<(), StoreError> {
        d1(d1(self.db.prepare(sql).bind(args))?.run().await)?;
        Ok(())
    }

    async fn first<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, StoreError> {
        d1(d1(self.db.prepare(sql).bind(args))?.first::<T>(None).await)
    }

    /// Stores a one-time link (by its token's digest).
    pub async fn issue_link(
        &self,
        token_hash: &str,
        holder: &Holder,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(LINK_INSERT, &holder_params(token_hash, holder, expires_at))
            .await
    }

    /// Takes a link: deletes it and answers who it was for, when it exists and has not expired.
    /// One statement, so a link opens at most one session. Expired rows are swept on the way.
    pub async fn redeem_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<Holder>, StoreError> {
        let holder = self
            .first::<Holder>(LINK_REDEEM, &[text(token_hash), time(now)])
            .await?;
        self.run(LINKS_SWEEP, &[time(now)]).await?;
        self.run(SESSIONS_SWEEP, &[time(now)]).await?;
        Ok(holder)
    }

    /// Stores a session (by its cookie's digest).
    pub async fn start(
        &self,
        session_hash: &str,
        holder: &Holder,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(SESSION_INSERT, &holder_params(session_hash, holder, expires_at))
            .await
    }

    /// The session with this cookie digest, unless it has expired.
    pub async fn session(&self, session_hash: &str, now: Timestamp) -> Result<Option<Holder>, StoreError> {
        self.first::<Holder>(SESSION_SELECT, &[text(session_hash), time(now)])
            .await
    }

    /// Ends a session (its user is no longer a member).
    pub async fn end(&self, session_hash: &str) -> Result<(), StoreError> {
        self.run(SESSION_DELETE, &[text(session_hash)]).await
    }
}
