//! `POST /secret-scanning/v1/github`: GitHub's secret-scanning partner endpoint.
//!
//! size check → signature over the raw body (`keyscope-scanning`'s [`PublicKeySet`], keys from
//! `KEYSCOPE_GITHUB_KEYS`) → parse → classify offline → one D1 lookup of the candidate hashes →
//! per `KEYSCOPE_ON_LEAK` (`revoke`, the default, or `flag`) one batch of changes and their audit
//! events (revocations leased like any other, so the key answers `401 key_revoked` on the very
//! next request everywhere) → GitHub's feedback array → the events published as webhooks.
//!
//! Anything refused (no or bad signature, unknown key identifier, oversize or malformed body,
//! unusable configuration) answers a 4xx/503 `{"reason","message"}` and changes nothing. A
//! deployment without `KEYSCOPE_GITHUB_KEYS` has no such endpoint: `404 not_found`. The raw
//! token is never logged or echoed: the feedback carries its SHA-256.
//!
//! The key set comes from configuration only: this module makes no outbound request. Rotate it
//! by updating the secret when GitHub publishes a new key (ARCHITECTURE.md "Choices").

use std::collections::{HashMap, HashSet};

use keyscope_audit::{AuditAction, AuditActor, AuditEvent, RevokeCause};
use keyscope_scanning::{
    classify, feedback_json, parse_report, Classification, FeedbackEntry, LeakEffect, ReportLimits,
    KEY_IDENTIFIER_HEADER, SIGNATURE_HEADER,
};
use policy_core::Timestamp;
use worker::{console_error, Context, Env, Request};

use crate::clock::{format_time, now};
use crate::config::{Config, Scanning};
use crate::events::{cut, event, publish, source};
use crate::respond::{json, json_text, Answer};
use crate::store::rows::KeyRow;
use crate::store::write::Writer;

/// Where the endpoint lives.
pub const PATH: &str = "/secret-scanning/v1/github";

/// The scanner's name in audit events (`scanner:github`).
const SCANNER: &str = "github";

/// The longest leak URL and source kind kept in an event, in bytes.
const MAX_LEAK_URL: usize = 2048;
const MAX_LEAK_SOURCE: usize = 64;

/// A refusal: status, reason code, message.
struct Problem {
    status: u16,
    reason: &'static str,
    message: String,
}

impl Problem {
    fn new(status: u16, reason: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            status,
            reason,
            message: message.into(),
        }
    }

    fn unavailable(message: impl Into<String>) -> Problem {
        Problem::new(503, "unavailable", message)
    }

    fn respond(&self) -> Answer {
        let answer = json(
            self.status,
            &serde_json::json!({ "reason": self.reason, "message": self.message }),
        )?;
        if self.status == 405 {
            answer.headers().set("allow", "POST")?;
        }
        Ok(answer)
    }
}

/// Serves one report.
pub async fn handle(mut req: Request, env: &Env, ctx: &Context, config: &Config) -> Answer {
    match serve(&mut req, env, ctx, config).await {
        Ok(answer) => answer,
        Err(problem) => problem.respond(),
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|v| !v.trim().is_empty())
}

async fn serve(req: &mut Request, env: &Env, ctx: &Context, config: &Config) -> Result<Answer, Problem> {
    let configured = match &config.scanning {
        // Not configured: absent, like any address the deployment does not serve.
        Scanning::Off => {
            return Err(Problem::new(
                404,
                "not_found",
                "secret scanning is not configured on this deployment",
            ))
        }
        Scanning::Refused(message) => Err(message),
        Scanning::On { keys, on_leak } => Ok((keys, *on_leak)),
    };
    if req.inner().method() != "POST" {
        return Err(Problem::new(405, "method_not_allowed", "send reports with POST"));
    }
    let (keys, on_leak) = configured.map_err(|message| {
        console_error!("keyscope: secret scanning refused its configuration: {message}");
        Problem::unavailable(message.clone())
    })?;
    let limits = ReportLimits::DEFAULT;
    let too_large = |e: keyscope_scanning::ReportError| Problem::new(e.status(), e.reason(), e.to_string());
    let declared = header(req, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(length) = declared {
        limits.check_size(length).map_err(too_large)?;
    }
    let body = req
        .bytes()
        .await
        .map_err(|_| Problem::new(400, "invalid_request", "the body could not be read"))?;
    limits.check_size(body.len()).map_err(too_large)?;
    let (Some(key_id), Some(signature)) = (header(req, KEY_IDENTIFIER_HEADER), header(req, SIGNATURE_HEADER))
    else {
        return Err(Problem::new(
            401,
            "missing_signature",
            format!("send the report with the {KEY_IDENTIFIER_HEADER} and {SIGNATURE_HEADER} headers"),
        ));
    };
    keys.verify(key_id.trim(), &signature, &body)
        .map_err(|e| Problem::new(e.status(), e.reason(), e.to_string()))?;
    let tokens = parse_report(&body, limits).map_err(too_large)?;

    let environment = config.engine.environment();
    let prefix = config.engine.policy().key_prefix();
    let classes: Vec<Classification> = tokens
        .iter()
        .map(|t| classify(&t.token, prefix, environment))
        .collect();
    let mut hashes: Vec<String> = classes
        .iter()
        .filter_map(|c| match c {
            Classification::Candidate(hash) => Some(hash.to_hex().as_str().to_owned()),
            Classification::NotOurs => None,
        })
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    let writer = Writer::open(env, config).map_err(|e| Problem::unavailable(e.to_string()))?;
    let rows = writer
        .keys_by_hashes(&hashes)
        .await
        .map_err(|e| Problem::unavailable(format!("{e}; nothing was changed")))?;
    let mut found: HashMap<String, KeyRow> = rows.into_iter().map(|r| (r.key_hash().to_owned(), r)).collect();

    // Each key found is acted on once, for the first report entry that names it.
    let at = now();
    let policy = config.engine.policy();
    let request_source = source(req.headers());
    let mut revoked: Vec<(String, Timestamp)> = Vec::new();
    let mut flagged: Vec<(String, Timestamp)> = Vec::new();
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut feedback = Vec::with_capacity(tokens.len());
    for (token, class) in tokens.iter().zip(&classes) {
        let hex = match class {
            Classification::Candidate(hash) => hash.to_hex().as_str().to_owned(),
            Classification::NotOurs => String::new(),
        };
        let ours = found.contains_key(&hex) || seen.contains(&hex);
        feedback.push(FeedbackEntry::verdict(token, *class, ours));
        let Some(row) = found.remove(&hex) else { continue };
        seen.insert(hex);
        let leaked_at = row.leaked_at();
        let record = row
            .into_entry()
            .map_err(|_| Problem::unavailable("a stored key could not be read; nothing was changed"))?
            .record;
        let (action, details) = match on_leak.effect_on(policy, &record, leaked_at, at) {
            LeakEffect::Revoke { revoked_at } => {
                revoked.push((record.id.clone(), revoked_at));
                (
                    AuditAction::KeyRevoked(RevokeCause::LeakReport),
                    serde_json::json!({ "revokedAt": format_time(revoked_at) }),
                )
            }
            LeakEffect::Flag { at: flagged_at } => {
                flagged.push((record.id.clone(), flagged_at));
                (
                    AuditAction::KeyLeakFlagged,
                    serde_json::json!({ "leakedAt": format_time(flagged_at) }),
                )
            }
            _ => continue,
        };
        let mut leak_source = request_source.clone();
        leak_source.leak_url = Some(cut(&token.url, MAX_LEAK_URL).to_owned()).filter(|s| !s.is_empty());
        leak_source.leak_source =
            Some(cut(&token.source, MAX_LEAK_SOURCE).to_owned()).filter(|s| !s.is_empty());
        let mut leak = event(
            &record.organization_id,
            action,
            AuditActor::Scanner(SCANNER.to_owned()),
            leak_source,
            at,
        )
        .map_err(|e| Problem::unavailable(format!("{e}; nothing was changed")))?;
        leak.key_id = Some(record.id.clone());
        leak.key_hint = Some(record.hint.clone());
        leak.details = match details {
            serde_json::Value::Object(mut map) => {
                map.insert("tokenType".into(), cut(&token.token_type, MAX_LEAK_SOURCE).into());
                map.insert("onLeak".into(), on_leak.as_str().into());
                map
            }
            _ => serde_json::Map::new(),
        };
        events.push(leak);
    }
    if !events.is_empty() {
        let applied = writer
            .leaks(&revoked, &flagged, &events)
            .await
            .map_err(|e| Problem::unavailable(format!("{e}; nothing was changed")))?;
        if !applied.pending.is_empty() {
            console_error!(
                "keyscope: a leak report was saved with {} projection(s) pending; POST …/keys/{{id}}/sync repairs them",
                applied.pending.len()
            );
        }
        publish(env, config, ctx, &events);
    }
    Ok(json_text(200, &feedback_json(&feedback)))
}
