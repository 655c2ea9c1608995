//! The command line's grammar (clap derive): every command, flag and its help. The commands
//! themselves live in their own modules and receive these structs already parsed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use policy_core::Environment;

/// keyscope: scoped, explainable API keys for any HTTP API.
#[derive(Debug, Parser)]
#[command(name = "keyscope", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make new keys offline from the OS random source: one JSON line per key (secret, hash,
    /// hint, environment). Show the secret once; store only the hash.
    Keygen(KeygenArgs),
    /// Validate a key read from stdin (format, prefix, environment, checksum) and print its
    /// hash; the key is never echoed. Exits 1 when the key is invalid.
    Check(CheckArgs),
    /// Ask a gateway's `/me` what the key may do, and fail naming each required permission it
    /// lacks. The key comes from $KEYSCOPE_KEY (or --key-env NAME), else stdin.
    Whoami(WhoamiArgs),
    /// Work with policy documents: check, explain, test, draft from OpenAPI.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

/// Parses `live` or `test`.
fn environment(name: &str) -> Result<Environment, String> {
    Environment::from_name(name).ok_or_else(|| format!("\"{name}\" is not an environment: live or test"))
}

/// `keyscope keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The keys' environment.
    #[arg(long = "env", value_name = "live|test", default_value = "live", value_parser = environment)]
    pub environment: Environment,
    /// How many keys to make.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: usize,
    /// A policy document: the keys take its `keyPrefix` (default `ck`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `keyscope check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The environment the key must belong to.
    #[arg(long = "env", value_name = "live|test", default_value = "live", value_parser = environment)]
    pub environment: Environment,
    /// A policy document: the key must have its `keyPrefix` (default `ck`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `keyscope whoami`.
#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// The API's base URL, base path included (`https://api.example.com/api/v1`).
    #[arg(long, value_name = "BASE")]
    pub url: String,
    /// Permissions the integration needs (comma-separated; repeatable).
    #[arg(long, value_name = "P[,P…]")]
    pub require: Vec<String>,
    /// The environment variable holding the key (else the key is read from stdin).
    #[arg(long, value_name = "NAME", default_value = "KEYSCOPE_KEY")]
    pub key_env: String,
    /// How long to wait for the gateway, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
}

/// `keyscope policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy document and print its endpoint table (method, path with the base
    /// path, permission, othersPermission, project-key rule, tenant and user parameters). An
    /// invalid document exits 1, naming the field (`endpoints[12].param: …`).
    Check(PolicyCheckArgs),
    /// Explain the decision for a key record on one request — the verdict, its reason and
    /// message, the check that decided it and the matched row — or, with --table, the key's
    /// access table (every row and what the key gets there).
    Explain(ExplainArgs),
    /// Run conformance vector files under the policy FILE (the files' own `policy` field is
    /// ignored); prints each file's result and every failing case. Exits 1 on any failure.
    Test(PolicyTestArgs),
    /// Draft a policy from an OpenAPI 3.0 or 3.1 document (JSON or YAML): one row per
    /// operation, a permission per tag (read:<tag> for GET, write:<tag> otherwise), one role
    /// `owner` holding everything, project keys denied. What it cannot decide is skipped with
    /// a warning on stderr. The draft always passes `policy check`.
    FromOpenapi(FromOpenapiArgs),
}

impl PolicyCommand {
    /// The command as typed (`policy check`), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyCommand::Check(_) => "policy check",
            PolicyCommand::Explain(_) => "policy explain",
            PolicyCommand::Test(_) => "policy test",
            PolicyCommand::FromOpenapi(_) => "policy from-openapi",
        }
    }
}

/// `keyscope policy check`.
#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The policy document (JSON).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the result as JSON (`{"valid": …}`) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `keyscope policy explain`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("membership").required(true).args(["role", "no_member"]))]
pub struct ExplainArgs {
    /// The policy document (JSON).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The key record as the admin API returns it (camelCase; RFC 3339 times). The secret is
    /// never needed.
    #[arg(long, value_name = "RECORD.json")]
    pub key: PathBuf,
    /// The key creator's current role in the organization.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// The key's creator is no longer a member of the organization.
    #[arg(long)]
    pub no_member: bool,
    /// The time to decide at (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Print the key's access table instead of one decision.
    #[arg(long, conflicts_with_all = ["method", "path", "resource_project", "resource_org"])]
    pub table: bool,
    /// For an own_resource row: the project the resource belongs to (else the answer is "it
    /// depends on the resource").
    #[arg(long, value_name = "P")]
    pub resource_project: Option<String>,
    /// For an own_resource row: the organization the resource belongs to (default: the key's).
    #[arg(long, value_name = "O", requires = "resource_project")]
    pub resource_org: Option<String>,
    /// The client's address the request comes from (judged against the key's `allowedCidrs`;
    /// default: unknown).
    #[arg(long, value_name = "IP", conflicts_with = "table")]
    pub client_ip: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The request's method (`GET`, `POST`, …).
    #[arg(value_name = "METHOD", required_unless_present = "table")]
    pub method: Option<String>,
    /// The request's path, base path included (or a full URL).
    #[arg(value_name = "PATH", required_unless_present = "table")]
    pub path: Option<String>,
}

/// `keyscope policy test`.
#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// The policy document the vectors are decided under.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Conformance vector files (the format of tests/vectors/*.json).
    #[arg(value_name = "VECTORS", required = true)]
    pub vectors: Vec<PathBuf>,
}

/// `keyscope policy from-openapi`.
#[derive(Debug, Args)]
pub struct FromOpenapiArgs {
    /// The OpenAPI 3.0 or 3.1 document (JSON or YAML).
    #[arg(value_name = "DOC")]
    pub document: PathBuf,
    /// The path parameter that names the tenant (`organizationParam`); every path holding it
    /// is checked against the key's organization.
    #[arg(long, value_name = "NAME")]
    pub organization_param: Option<String>,
    /// The path parameter that names a user (`userParam`).
    #[arg(long, value_name = "NAME")]
    pub user_param: Option<String>,
    /// The path parameter that names a project: rows holding it become `own_path` (all other
    /// rows deny project keys).
    #[arg(long, value_name = "NAME")]
    pub project_param: Option<String>,
    /// The key prefix (`keyPrefix`: 2–12 of a-z0-9, a letter first; default ck).
    #[arg(long, value_name = "P")]
    pub prefix: Option<String>,
    /// The base path. Paths under it are taken relative to it; if no path is under it, the
    /// document's paths are served below it. Default: the longest common static prefix of
    /// servers[0].url's path and the document's paths.
    #[arg(long, value_name = "/x")]
    pub base_path: Option<String>,
    /// Where to write the draft (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
}
