//! The policy document as written in JSON.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;

/// A policy document as written in JSON. Unknown fields are an error.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyDocument {
    /// The deployment's key prefix (`<keyPrefix>_live_…`); `ck` when left out.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// The prefix every endpoint path is relative to, e.g. `/api/v1`.
    pub base_path: String,
    /// Every permission the API knows, e.g. `read:project` (1 to 256).
    pub permissions: Vec<String>,
    /// The path parameter that names the organization (tenant) wherever a pattern holds it,
    /// e.g. `workspaceId`.
    #[serde(default)]
    pub organization_param: Option<String>,
    /// The path parameter that names a user wherever a pattern holds it, e.g. `userId`.
    #[serde(default)]
    pub user_param: Option<String>,
    /// Role name → the permissions the role holds.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Which roles may create keys of each scope.
    pub key_creators: KeyCreatorsDocument,
    /// Preset name → explicit grants (`null` = inherit everything the role allows).
    #[serde(default)]
    pub presets: BTreeMap<String, Option<Vec<String>>>,
    /// One row per endpoint.
    pub endpoints: Vec<EndpointDocument>,
}

/// Which roles may create keys of each scope.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCreatorsDocument {
    /// Roles that may create organization-scoped keys.
    pub organization: Vec<String>,
    /// Roles that may create project-scoped keys.
    pub project: Vec<String>,
}

/// One endpoint row of a policy document.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointDocument {
    /// Upper-case HTTP method (`HEAD` is matched as `GET` and may not be declared).
    pub method: String,
    /// Path pattern relative to the base path: `/`-separated static segments and `:name`
    /// parameters, e.g. `/projects/:id/entries`.
    pub path: String,
    /// The permission the endpoint needs, or `null` for none.
    #[serde(default)]
    pub permission: Option<String>,
    /// What a project-scoped key may do here.
    pub project_key: ProjectKeyRule,
    /// For `own_resource`: the kind of resource the parameter names (e.g. `time_entry`).
    #[serde(default)]
    pub resource_kind: Option<String>,
    /// For `own_path` / `own_resource`: which parameter holds the project / resource id. May be
    /// omitted when the pattern has exactly one parameter other than the organization and user
    /// parameters.
    #[serde(default)]
    pub param: Option<String>,
    /// On a row whose pattern holds the user parameter: the permission a key needs, beyond
    /// `permission`, to name a user other than its creator. Without it, the row is limited to
    /// the key's own user.
    #[serde(default)]
    pub others_permission: Option<String>,
    /// Set to `me` for the endpoint the gateway answers itself with the key's `/me` view.
    #[serde(default)]
    pub serve: Option<Serve>,
}

/// What a project-scoped key may do on an endpoint (organization keys may do every row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKeyRule {
    /// Allowed, unrestricted (e.g. `GET /me`).
    Allow,
    /// Allowed; the origin is told to filter to the key's project.
    Filtered,
    /// Allowed only when the project id in the path is the key's project.
    OwnPath,
    /// Allowed only when the resource named in the path belongs to the key's project.
    OwnResource,
    /// Never: `403 scope_violation`.
    Deny,
}

/// An endpoint the gateway answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Serve {
    /// The key's `/me` view.
    Me,
}
