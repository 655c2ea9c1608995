//! keyscope's conformance vectors: the file format of `tests/vectors/*.json` (SPEC
//! "Conformance vectors") and a runner that checks `policy-core` against them natively.
//!
//! Unknown fields anywhere in a file are an error, so that a typo cannot silently pass.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use policy_core::{
    client_address, ApiKey, Authorization, ControlsAsk, Decision, Engine, Environment, KeyHash, KeyHeaders,
    KeyRecord, Policy, Quota, RateLimit, Request, ResourceOwner, Scope, Step, Timestamp,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One vector file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// What the file covers.
    pub description: String,
    /// The policy the cases are decided under: a path relative to the vector file
    /// (`policies/<name>.json`; default: Align).
    #[serde(default)]
    pub policy: Option<String>,
    /// `live` (default) or `test`.
    #[serde(default)]
    pub environment: Option<String>,
    /// The time the cases are decided at (RFC 3339; default: the current time).
    #[serde(default)]
    pub now: Option<String>,
    /// Organization memberships (a creator not listed has been removed).
    #[serde(default)]
    pub members: Vec<Member>,
    /// The keys of the world, with their secrets.
    #[serde(default)]
    pub keys: Vec<VectorKey>,
    /// Resource ownership.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// The requests and what must happen.
    pub cases: Vec<Case>,
}

/// A membership.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Member {
    /// The organization.
    pub organization_id: String,
    /// The user.
    pub user_id: String,
    /// The user's current role.
    pub role: String,
}

/// A key of a vector world: the secret plus its stored metadata.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VectorKey {
    /// The full key string.
    pub secret: String,
    /// Key id.
    pub id: String,
    /// Key name.
    pub name: String,
    /// Organization.
    pub organization_id: String,
    /// Creator.
    pub created_by: String,
    /// `organization` or `project`.
    pub scope: Scope,
    /// Project of a project key (one).
    #[serde(default)]
    pub scoped_project_id: Option<String>,
    /// Projects of a project key (1–50).
    #[serde(default)]
    pub scoped_project_ids: Option<Vec<String>>,
    /// The address allow-list.
    #[serde(default)]
    pub allowed_cidrs: Option<Vec<String>>,
    /// The key's own rate.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The key's quota.
    #[serde(default)]
    pub quota: Option<Quota>,
    /// Explicit grants or null.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 or null.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// RFC 3339 or null.
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// RFC 3339 or null.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A resource's ownership.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resource {
    /// Kind, e.g. `time_entry`.
    pub kind: String,
    /// Id.
    pub id: String,
    /// Owning organization.
    pub organization_id: String,
    /// Owning project.
    pub project_id: String,
}

/// One request and its expected outcome.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The rule the case checks.
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Request target (path and optional query).
    pub path: String,
    /// Request headers (names case-insensitive).
    #[serde(default)]
    pub headers: HashMap<String, String>,
    /// The client's address (absent: unknown).
    #[serde(default, rename = "clientIp")]
    pub client_ip: Option<String>,
    /// What must happen.
    pub expect: Expect,
}

/// The expected outcome.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expect {
    /// Allowed or not.
    pub allow: bool,
    /// Status of a denial.
    #[serde(default)]
    pub status: Option<u16>,
    /// Reason code of a denial.
    #[serde(default)]
    pub reason: Option<String>,
    /// The project filter of an allowed request (absent = none).
    #[serde(default)]
    pub project_filter: Option<String>,
    /// Fields the `/me` body must hold with exactly these values.
    #[serde(default)]
    pub me: Option<Map<String, Value>>,
}

/// Why a vector file could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The file is not a vector file (includes unknown fields).
    Format(PathBuf, serde_json::Error),
    /// A value inside is invalid (bad time, environment, key or headers).
    Invalid(PathBuf, String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            LoadError::Format(p, e) => write!(f, "{}: {e}", p.display()),
            LoadError::Invalid(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// A vector world loaded into in-memory stores.
pub struct World {
    keys: HashMap<KeyHash, KeyRecord>,
    members: HashMap<(String, String), String>,
    resources: HashMap<(String, String), (String, String)>,
}

impl World {
    /// Runs a whole decision, answering its lookups from the world (in memory: a lookup never
    /// fails). An answer the decision refuses would deny `503`, never allow.
    pub fn decide<'e>(
        &self,
        engine: &'e Engine,
        request: &Request<'e>,
        now: Timestamp,
    ) -> Authorization<'e, &KeyRecord> {
        let mut auth = engine.authorize(request, now);
        loop {
            let answered = match auth.next() {
                Step::Done(_) => return auth,
                Step::LookupKey(hash) => auth.provide_key(self.key(&hash)),
                Step::LookupMembership {
                    organization_id,
                    user_id,
                } => {
                    let role = self.role(organization_id, user_id);
                    auth.provide_membership(role)
                }
                Step::LookupResource { kind, id } => {
                    let owner = self.resource(kind, id);
                    auth.provide_resource(owner)
                }
            };
            if answered.is_err() {
                auth.store_failed();
            }
        }
    }

    /// The record stored under `hash`.
    fn key(&self, hash: &KeyHash) -> Option<&KeyRecord> {
        self.keys.get(hash)
    }

    /// The current role of `user_id` in `organization_id`, or `None` if not a member.
    fn role(&self, organization_id: &str, user_id: &str) -> Option<&str> {
        self.members
            .get(&(organization_id.to_owned(), user_id.to_owned()))
            .map(String::as_str)
    }

    /// Who owns the resource `kind`/`id`, or `None` if unknown.
    fn resource(&self, kind: &str, id: &str) -> Option<ResourceOwner<'_>> {
        self.resources
            .get(&(kind.to_owned(), id.to_owned()))
            .map(|(org, project)| ResourceOwner {
                organization_id: org,
                project_id: project,
            })
    }
}

/// Parses an RFC 3339 time into Unix milliseconds.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("bad time {text:?}: {e}"))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map(Timestamp)
        .map_err(|_| format!("time out of range: {text}"))
}

/// A file loaded and ready to run.
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub file: VectorFile,
    /// The engine for its environment.
    pub engine: Engine,
    /// Its world.
    pub world: World,
    /// Its `now`.
    pub now: Timestamp,
}

/// Reads and validates one vector file, under the policy it names (default: Align).
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let file = read(path)?;
    let invalid = |msg: String| LoadError::Invalid(path.into(), msg);
    let policy = match file.policy.as_deref() {
        None => Policy::align().map_err(|e| invalid(format!("the Align policy: {e}")))?,
        Some(name) => {
            let at = path.parent().unwrap_or(Path::new(".")).join(name);
            let text = std::fs::read_to_string(&at).map_err(|e| LoadError::Io(at.clone(), e))?;
            Policy::from_json(&text).map_err(|e| invalid(format!("{}: {e}", at.display())))?
        }
    };
    prepare(path, file, policy)
}

/// Reads and validates one vector file under `policy`, whatever policy the file names (its
/// `policy` field is kept as written but not read): `keyscope policy test` runs a deployment's
/// own policy against vector files.
pub fn load_with_policy(path: &Path, policy: Policy) -> Result<Loaded, LoadError> {
    let file = read(path)?;
    prepare(path, file, policy)
}

/// Reads a vector file (unknown fields are an error).
fn read(path: &Path) -> Result<VectorFile, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io(path.into(), e))?;
    serde_json::from_str(&text).map_err(|e| LoadError::Format(path.into(), e))
}

/// Validates a read file and builds its engine and world under `policy`.
fn prepare(path: &Path, file: VectorFile, policy: Policy) -> Result<Loaded, LoadError> {
    let invalid = |msg: String| LoadError::Invalid(path.into(), msg);
    let environment = match file.environment.as_deref() {
        None => Environment::Live,
        Some(name) => Environment::from_name(name).ok_or_else(|| invalid(format!("environment {name:?}")))?,
    };
    let now = match file.now.as_deref() {
        Some(t) => parse_time(t).map_err(invalid)?,
        None => Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        ),
    };
    let mut world = World {
        keys: HashMap::new(),
        members: HashMap::new(),
        resources: HashMap::new(),
    };
    for m in &file.members {
        world
            .members
            .insert((m.organization_id.clone(), m.user_id.clone()), m.role.clone());
    }
    for r in &file.resources {
        world.resources.insert(
            (r.kind.clone(), r.id.clone()),
            (r.organization_id.clone(), r.project_id.clone()),
        );
    }
    for k in &file.keys {
        let parsed = ApiKey::parse_with(&k.secret, policy.key_prefix())
            .map_err(|e| invalid(format!("key {}: {e}", k.id)))?;
        let opt_time = |t: &Option<String>| t.as_deref().map(parse_time).transpose();
        let controls = ControlsAsk {
            scoped_project_id: k.scoped_project_id.as_deref(),
            scoped_project_ids: k.scoped_project_ids.as_deref(),
            allowed_cidrs: k.allowed_cidrs.as_deref(),
            rate_limit: k.rate_limit,
            quota: k.quota,
        }
        .check()
        .map_err(|e| invalid(format!("key {}: {e}", k.id)))?;
        let record = KeyRecord {
            id: k.id.clone(),
            name: k.name.clone(),
            hint: parsed.hint().to_owned(),
            organization_id: k.organization_id.clone(),
            created_by: k.created_by.clone(),
            scope: k.scope,
            scoped_project_ids: controls.projects,
            allowed_cidrs: controls.allowed_cidrs,
            rate_limit: controls.rate_limit,
            quota: controls.quota,
            permissions: k.permissions.clone(),
            created_at: parse_time(&k.created_at).map_err(&invalid)?,
            last_used_at: opt_time(&k.last_used_at).map_err(&invalid)?,
            revoked_at: opt_time(&k.revoked_at).map_err(&invalid)?,
            expires_at: opt_time(&k.expires_at).map_err(&invalid)?,
        };
        if world.keys.insert(parsed.hash(), record).is_some() {
            return Err(invalid(format!("key {} appears twice", k.id)));
        }
    }
    for case in &file.cases {
        let mut seen = std::collections::HashSet::new();
        for name in case.headers.keys() {
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(invalid(format!(
                    "case {:?}: header {name} given twice",
                    case.name
                )));
            }
        }
        if !case.expect.allow && case.expect.reason.is_none() {
            return Err(invalid(format!(
                "case {:?}: a denial names its reason",
                case.name
            )));
        }
    }
    Ok(Loaded {
        path: path.into(),
        file,
        engine: Engine::new(policy, environment),
        world,
        now,
    })
}

/// Looks a header up by case-insensitive name.
pub fn header<'a>(headers: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Loaded {
    /// Runs every case; returns one message per failing case.
    pub fn run(&self) -> Vec<String> {
        self.file
            .cases
            .iter()
            .filter_map(|case| self.check(case).err())
            .collect()
    }

    fn check(&self, case: &Case) -> Result<(), String> {
        let request = Request {
            method: &case.method,
            target: &case.path,
            headers: KeyHeaders::from_strs(
                header(&case.headers, "x-api-key"),
                header(&case.headers, "authorization"),
            ),
            client: case.client_ip.as_deref().and_then(client_address),
        };
        let auth = self.world.decide(&self.engine, &request, self.now);
        let fail = |what: String| Err(format!("{} :: {}: {what}", self.path.display(), case.name));
        let Some(decision) = auth.decision() else {
            return fail("the decision did not finish".into());
        };
        let expect = &case.expect;
        match decision {
            Decision::Deny(denial) => {
                if expect.allow {
                    return fail(format!("expected allow, got {denial}"));
                }
                if expect.reason.as_deref() != Some(denial.reason().code()) {
                    return fail(format!("expected {:?}, got {denial}", expect.reason));
                }
                if expect.status.is_some_and(|s| s != denial.status()) {
                    return fail(format!("expected status {:?}, got {denial}", expect.status));
                }
                let body: Value = serde_json::from_str(&denial.to_json()).map_err(|e| e.to_string())?;
                let secret_like = |s: &str| s.contains("_live_") || s.contains("_test_");
                if body["reason"] != denial.reason().code()
                    || body["message"].as_str().is_none_or(secret_like)
                {
                    return fail(format!("bad denial body {body}"));
                }
            }
            Decision::Allow(allow) => {
                if !expect.allow {
                    return fail(format!("expected {:?}, got allow", expect.reason));
                }
                let filter = allow.project_filter.map(|f| f.to_string());
                if filter != expect.project_filter {
                    return fail(format!(
                        "expected project filter {:?}, got {:?}",
                        expect.project_filter, filter
                    ));
                }
                if let Some(fields) = &expect.me {
                    let Some(me) = auth.me() else {
                        return fail("no /me view".into());
                    };
                    if !allow.serves_me() {
                        return fail("expected /me, but the endpoint is forwarded".into());
                    }
                    let body: Value = serde_json::from_str(&me.to_json()).map_err(|e| e.to_string())?;
                    for (field, want) in fields {
                        if body.get(field) != Some(want) {
                            return fail(format!(
                                "/me field {field}: expected {want}, got {:?}",
                                body.get(field)
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Every `*.json` file of the vectors directory, sorted.
pub fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
    }

    fn workspaces_policy() -> Policy {
        let text = std::fs::read_to_string(vectors().join("policies/workspaces.json")).unwrap();
        Policy::from_json(&text).unwrap()
    }

    #[test]
    fn a_file_runs_under_the_policy_it_is_given() {
        let loaded = load_with_policy(&vectors().join("workspaces.json"), workspaces_policy()).unwrap();
        assert!(!loaded.file.cases.is_empty());
        assert_eq!(loaded.run(), Vec::<String>::new());
        assert_eq!(loaded.engine.policy().key_prefix().as_str(), "clk");
    }

    #[test]
    fn the_files_own_policy_is_not_read() {
        // Align's keys are `ck_…`: the file's `clk_…` keys do not load under it.
        let align = Policy::align().unwrap();
        let err = load_with_policy(&vectors().join("workspaces.json"), align)
            .err()
            .unwrap();
        assert!(matches!(err, LoadError::Invalid(..)), "{err}");
        // And a workspaces file under a policy whose rows differ fails cases.
        let text = std::fs::read_to_string(vectors().join("policies/workspaces.json"))
            .unwrap()
            .replace("\"projectKey\": \"filtered\"", "\"projectKey\": \"deny\"");
        let loaded = load_with_policy(
            &vectors().join("workspaces.json"),
            Policy::from_json(&text).unwrap(),
        )
        .unwrap();
        assert!(!loaded.run().is_empty());
    }
}
