//! `keyscope policy from-openapi DOC`: a draft policy from an OpenAPI 3.0 or 3.1 document.
//!
//! - `document.rs`: reading the document (JSON or YAML) down to its operations.
//! - `path.rs`: path templates as patterns, and permission words.
//! - `draft.rs`: the draft's rules (docs/decisions/0101-from-openapi-permissions.md).
//!
//! The draft is compiled by policy-core before it is written, so what is written always passes
//! `keyscope policy check`.

mod document;
mod draft;
mod path;

use crate::args::FromOpenapiArgs;
use crate::failure::Outcome;

/// Reads the document, makes the draft, checks it compiles, and writes it; warnings and a
/// summary go to stderr.
pub fn run(args: &FromOpenapiArgs) -> Outcome {
    let document = document::read(&args.document)?;
    let options = draft::Options {
        organization_param: args.organization_param.as_deref(),
        user_param: args.user_param.as_deref(),
        project_param: args.project_param.as_deref(),
        prefix: args.prefix.as_deref(),
        base_path: args.base_path.as_deref(),
    };
    let made = draft::build(&document, &options)?;
    let mut text = serde_json::to_string_pretty(&made.policy).map_err(|err| err.to_string())?;
    text.push('\n');
    if let Err((field, problem)) = super::load::parse(&text) {
        return Err(format!(
            "the draft does not compile ({}: {problem}); this is a bug of from-openapi",
            field.unwrap_or_default()
        )
        .into());
    }
    for warning in &made.warnings {
        eprintln!("warning: {warning}");
    }
    for skipped in &made.skipped {
        eprintln!(
            "warning: skipped {} {}: {}",
            skipped.method, skipped.path, skipped.why
        );
    }
    match &args.output {
        Some(path) => std::fs::write(path, &text).map_err(|err| format!("{}: {err}", path.display()))?,
        None => print!("{text}"),
    }
    eprintln!(
        "from-openapi: OpenAPI {}, {} operations: {} rows, {} skipped; {} permissions; base path {}",
        document.version,
        document.operations.len(),
        made.policy.endpoints.len(),
        made.skipped.len(),
        made.policy.permissions.len(),
        made.policy.base_path,
    );
    Ok(())
}
