//! The integration's side of `/me` (seed 004): at start-up, an integration asks the gateway
//! what its key may do and stops early if it lacks a permission it needs. npm's `checkKey` and
//! the CLI's `keyscope whoami` both do the HTTP call their own way and judge the answer here.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::Value;

/// Where `/me` lives relative to an API's base URL (the base path included), as integrations
/// call it; a gateway's own policy names its row ([`crate::Policy::me_path`]).
pub const ME_PATH: &str = "/me";

/// The `/me` URL of an API whose base URL (base path included) is `base_url`: trailing `/`s
/// dropped, then [`ME_PATH`].
pub fn me_url(base_url: &str) -> String {
    let mut url = String::from(base_url.trim_end_matches('/'));
    url.push_str(ME_PATH);
    url
}

/// Why a key is not fit for the integration, judged from the gateway's answer to `GET /me`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyUnfit {
    /// The gateway refused the key (any answer that is not a success).
    Refused {
        /// The answer's status.
        status: u16,
        /// The denial's `reason`, when the body had one.
        reason: Option<String>,
        /// The denial's `message`, when the body had one.
        message: Option<String>,
    },
    /// A success that is not a `/me` view (no `effectivePermissions` list).
    BadResponse,
    /// The key lacks permissions the integration requires.
    MissingPermissions(Box<MissingPermissions>),
}

/// The permissions a key lacks, and which key it is (from its `/me` view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingPermissions {
    /// The required permissions it lacks, in the order they were required.
    pub missing: Vec<String>,
    /// `organization` or `project` (empty when the view did not say).
    pub scope: String,
    /// The key's project, for a project key.
    pub project_id: Option<String>,
    /// The key's id.
    pub key_id: String,
    /// The key's organization.
    pub organization_id: String,
    /// The creator's role the key acts with.
    pub role: String,
}

impl KeyUnfit {
    /// A stable code: `key_revoked`, `invalid_key`, `missing_key` (the gateway's reasons),
    /// `denied` (any other refusal), `bad_response` or `missing_permissions`.
    pub fn code(&self) -> &'static str {
        match self {
            KeyUnfit::Refused { reason, .. } => match reason.as_deref() {
                Some("key_revoked") => "key_revoked",
                Some("invalid_key") => "invalid_key",
                Some("missing_key") => "missing_key",
                _ => "denied",
            },
            KeyUnfit::BadResponse => "bad_response",
            KeyUnfit::MissingPermissions(_) => "missing_permissions",
        }
    }
}

impl fmt::Display for KeyUnfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyUnfit::Refused {
                status,
                reason,
                message,
            } => {
                let lead = match self.code() {
                    "key_revoked" => "the key has been revoked",
                    "invalid_key" => "the key was refused",
                    _ => "the gateway refused the key",
                };
                f.write_str(lead)?;
                f.write_str(": ")?;
                match message {
                    Some(said) => f.write_str(said)?,
                    None => write!(f, "HTTP {status}")?,
                }
                write!(f, " ({status} {})", reason.as_deref().unwrap_or("no reason"))
            }
            KeyUnfit::BadResponse => f.write_str("the gateway did not answer with a /me view"),
            KeyUnfit::MissingPermissions(m) => {
                f.write_str("the key lacks ")?;
                f.write_str(&m.missing.join(", "))?;
                f.write_str(" (")?;
                if m.scope == "project" {
                    write!(
                        f,
                        "project-scoped key (project {})",
                        m.project_id.as_deref().unwrap_or("?")
                    )?;
                } else {
                    f.write_str("organization-scoped key")?;
                }
                write!(
                    f,
                    " {} in organization {}, role {})",
                    m.key_id, m.organization_id, m.role
                )
            }
        }
    }
}

impl core::error::Error for KeyUnfit {}

/// Judges the gateway's answer to `GET /me` (its status and body text) against the permissions
/// the integration requires: the `/me` view when the key holds every one of them (its
/// `effectivePermissions`), else why not.
pub fn check_me(status: u16, body: &str, required: &[String]) -> Result<Value, KeyUnfit> {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    if !(200..300).contains(&status) {
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|b| b.get(name))
                .and_then(Value::as_str)
                .map(ToString::to_string)
        };
        return Err(KeyUnfit::Refused {
            status,
            reason: field("reason"),
            message: field("message"),
        });
    }
    let view = parsed.filter(Value::is_object).ok_or(KeyUnfit::BadResponse)?;
    let held = view
        .get("effectivePermissions")
        .and_then(Value::as_array)
        .ok_or(KeyUnfit::BadResponse)?;
    let missing: Vec<String> = required
        .iter()
        .filter(|p| !held.iter().any(|h| h.as_str() == Some(p.as_str())))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(view);
    }
    let text = |name: &str| view.get(name).and_then(Value::as_str).map(ToString::to_string);
    Err(KeyUnfit::MissingPermissions(Box::new(MissingPermissions {
        missing,
        scope: text("scope").unwrap_or_default(),
        project_id: text("scopedProjectId"),
        key_id: text("apiKeyId").unwrap_or_else(|| "?".into()),
        organization_id: text("organizationId").unwrap_or_else(|| "?".into()),
        role: text("role").unwrap_or_else(|| "?".into()),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    const VIEW: &str = r#"{"apiKeyId":"key_1","scope":"project","scopedProjectId":"p1","permissions":null,
        "organizationId":"org_a","role":"engineer","effectivePermissions":["read:project","search"]}"#;

    fn required(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_me_url_is_the_base_url_and_me() {
        assert_eq!(
            me_url("https://api.example.com/api/v1"),
            "https://api.example.com/api/v1/me"
        );
        assert_eq!(
            me_url("https://api.example.com/api/v1//"),
            "https://api.example.com/api/v1/me"
        );
    }

    #[test]
    fn a_key_holding_every_required_permission_is_fit() {
        let view = check_me(200, VIEW, &required(&["search", "read:project"])).unwrap();
        assert_eq!(view["apiKeyId"], "key_1");
        assert!(check_me(200, VIEW, &[]).is_ok());
    }

    #[test]
    fn a_missing_permission_is_named_with_the_key() {
        let err = check_me(200, VIEW, &required(&["invite:user", "search", "write:entry"])).unwrap_err();
        assert_eq!(err.code(), "missing_permissions");
        let KeyUnfit::MissingPermissions(m) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(m.missing, vec!["invite:user", "write:entry"]);
        assert_eq!(
            (m.scope.as_str(), m.project_id.as_deref()),
            ("project", Some("p1"))
        );
        assert_eq!(
            err.to_string(),
            "the key lacks invite:user, write:entry (project-scoped key (project p1) key_1 in organization org_a, role engineer)"
        );
        let org = VIEW.replace(r#""scope":"project""#, r#""scope":"organization""#);
        let err = check_me(200, &org, &required(&["invite:user"])).unwrap_err();
        assert!(
            err.to_string().contains("(organization-scoped key key_1"),
            "{err}"
        );
    }

    #[test]
    fn refusals_carry_the_gateways_reason() {
        let denial = |reason: &str| format!(r#"{{"reason":"{reason}","message":"Said."}}"#);
        let refused = |status, body: &str| check_me(status, body, &[]).unwrap_err();
        assert_eq!(refused(401, &denial("key_revoked")).code(), "key_revoked");
        assert_eq!(
            refused(401, &denial("key_revoked")).to_string(),
            "the key has been revoked: Said. (401 key_revoked)"
        );
        assert_eq!(refused(401, &denial("invalid_key")).code(), "invalid_key");
        assert_eq!(refused(401, &denial("missing_key")).code(), "missing_key");
        assert_eq!(refused(403, &denial("forbidden")).code(), "denied");
        let html = refused(502, "<html>");
        assert_eq!(html.code(), "denied");
        assert_eq!(
            html.to_string(),
            "the gateway refused the key: HTTP 502 (502 no reason)"
        );
    }

    #[test]
    fn a_success_that_is_no_me_view_is_a_bad_response() {
        for body in [
            "",
            "[]",
            "null",
            r#"{"effectivePermissions":"all"}"#,
            r#"{"apiKeyId":"k"}"#,
        ] {
            assert_eq!(
                check_me(200, body, &[]).unwrap_err(),
                KeyUnfit::BadResponse,
                "{body}"
            );
        }
        assert_eq!(KeyUnfit::BadResponse.code(), "bad_response");
    }
}
