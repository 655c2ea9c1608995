//! Reading an OpenAPI 3.0 or 3.1 document (JSON or YAML) down to what a draft needs: its
//! operations in document order (method, path, first tag) and the path of `servers[0].url`.
//! Everything else in the document is ignored.

use std::path::Path;

use indexmap::IndexMap;
use serde::de::IgnoredAny;
use serde::Deserialize;

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Upper-case method (`GET`, `HEAD`, …).
    pub method: &'static str,
    /// The path as the document writes it (`/orgs/{org}/teams`).
    pub path: String,
    /// The operation's first tag, if any.
    pub tag: Option<String>,
}

/// What a draft reads from a document.
#[derive(Debug)]
pub struct Document {
    /// The `openapi` version (`3.0.3`, `3.1.0`).
    pub version: String,
    /// The path part of `servers[0].url` (`/api/v1`), when it has one.
    pub server_path: Option<String>,
    /// Every operation, in document order.
    pub operations: Vec<Operation>,
    /// What could not be read (a path item that is not one, a `$ref` not followed, …).
    pub warnings: Vec<String>,
}

/// A version as YAML may write it: `3.1.0` is text, `3.0` a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Version {
    Text(String),
    Number(f64),
}

#[derive(Debug, Deserialize)]
struct Raw {
    #[serde(default)]
    openapi: Option<Version>,
    #[serde(default)]
    swagger: Option<IgnoredAny>,
    #[serde(default)]
    servers: Vec<RawServer>,
    #[serde(default)]
    paths: IndexMap<String, Entry>,
}

#[derive(Debug, Deserialize)]
struct RawServer {
    url: String,
}

/// A member of `paths`: a path item, or something else (an `x-` extension, or a path item this
/// reader cannot read).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Item(Box<PathItem>),
    Other(IgnoredAny),
}

/// A path item's operations, in the order OpenAPI lists its fields.
#[derive(Debug, Deserialize)]
struct PathItem {
    #[serde(rename = "$ref", default)]
    reference: Option<String>,
    #[serde(default)]
    get: Option<RawOperation>,
    #[serde(default)]
    put: Option<RawOperation>,
    #[serde(default)]
    post: Option<RawOperation>,
    #[serde(default)]
    delete: Option<RawOperation>,
    #[serde(default)]
    options: Option<RawOperation>,
    #[serde(default)]
    head: Option<RawOperation>,
    #[serde(default)]
    patch: Option<RawOperation>,
    #[serde(default)]
    trace: Option<RawOperation>,
}

#[derive(Debug, Deserialize)]
struct RawOperation {
    #[serde(default)]
    tags: Vec<String>,
}

/// Reads the document at `path`: JSON when it is named `*.json` or starts with `{`, else YAML.
pub fn read(path: &Path) -> Result<Document, String> {
    let at = |what: String| format!("{}: {what}", path.display());
    let text = std::fs::read_to_string(path).map_err(|err| at(err.to_string()))?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    let raw: Raw = if json {
        serde_json::from_str(&text).map_err(|err| at(format!("not an OpenAPI document (JSON): {err}")))?
    } else {
        serde_norway::from_str(&text).map_err(|err| at(format!("not an OpenAPI document (YAML): {err}")))?
    };
    parse(raw).map_err(at)
}

fn parse(raw: Raw) -> Result<Document, String> {
    let version = match raw.openapi {
        Some(Version::Text(text)) => text,
        Some(Version::Number(n)) => format!("{n:?}"),
        None if raw.swagger.is_some() => {
            return Err("a Swagger 2.0 document: convert it to OpenAPI 3 first".to_owned())
        }
        None => return Err("no `openapi` field: not an OpenAPI 3.0 or 3.1 document".to_owned()),
    };
    let supported = ["3.0", "3.1"]
        .iter()
        .any(|v| version == *v || version.starts_with(&format!("{v}.")));
    if !supported {
        return Err(format!("OpenAPI {version}: only 3.0 and 3.1 are read"));
    }
    let mut warnings = Vec::new();
    let server_path = raw
        .servers
        .first()
        .and_then(|server| server_path(&server.url, &mut warnings));
    let mut operations = Vec::new();
    for (path, entry) in raw.paths {
        let item = match entry {
            Entry::Item(item) => item,
            Entry::Other(_) if path.starts_with("x-") => continue,
            Entry::Other(_) => {
                warnings.push(format!(
                    "paths.{path}: not a path item this reader understands; skipped"
                ));
                continue;
            }
        };
        if let Some(reference) = &item.reference {
            warnings.push(format!(
                "paths.{path}: `$ref: {reference}` is not followed; its operations are skipped"
            ));
        }
        let methods = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                operations.push(Operation {
                    method,
                    path: path.clone(),
                    tag: operation.tags.first().cloned(),
                });
            }
        }
    }
    Ok(Document {
        version,
        server_path,
        operations,
        warnings,
    })
}

/// The path of a server URL (`https://api.example.com/api/v1/` → `/api/v1`), if it has one
/// that can be read: server variables are not resolved.
fn server_path(url: &str, warnings: &mut Vec<String>) -> Option<String> {
    let rest = match url.split_once("://") {
        Some((_, after)) => after.find('/').and_then(|at| after.get(at..)).unwrap_or(""),
        None => url,
    };
    let path = rest.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    if path.is_empty() || !path.starts_with('/') {
        return None;
    }
    if path.contains(['{', '}']) {
        warnings.push(format!(
            "servers[0].url {url}: its path holds server variables; it is not used"
        ));
        return None;
    }
    Some(path.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_server_url_gives_its_path() {
        let mut warnings = Vec::new();
        assert_eq!(
            server_path("https://api.example.com/api/v1/", &mut warnings).as_deref(),
            Some("/api/v1")
        );
        assert_eq!(server_path("https://api.example.com", &mut warnings), None);
        assert_eq!(server_path("/v2", &mut warnings).as_deref(), Some("/v2"));
        assert!(warnings.is_empty());
        assert_eq!(
            server_path("https://{region}.example.com/{base}", &mut warnings),
            None
        );
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn operations_come_in_document_order() {
        let raw: Raw = serde_norway::from_str(
            "openapi: 3.0\npaths:\n  /b:\n    post: {tags: [B]}\n    get: {}\n  x-note: 1\n  /a:\n    head: {}\n",
        )
        .unwrap();
        let doc = parse(raw).unwrap();
        assert_eq!(doc.version, "3.0");
        let seen: Vec<(&str, &str)> = doc
            .operations
            .iter()
            .map(|o| (o.method, o.path.as_str()))
            .collect();
        assert_eq!(seen, [("GET", "/b"), ("POST", "/b"), ("HEAD", "/a")]);
        assert_eq!(doc.operations[1].tag.as_deref(), Some("B"));
    }
}
