//! OpenAPI path templates as keyscope patterns: `{x}` → `:x`, with policy-core's rules for what
//! a static segment and a parameter name may hold (`policy-core/src/policy/compile.rs`).

/// One segment of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Text that must appear as written.
    Static(String),
    /// A parameter, by name.
    Param(String),
}

/// Whether policy-core takes `segment` as a static segment: `A-Za-z0-9-_.~`, not `.` or `..`.
pub fn is_static(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
}

/// Whether policy-core takes `name` as a parameter name: `A-Za-z0-9_-`.
pub fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `path` (`/orgs/{org}/teams`) as segments, or why it cannot be a row. A parameter name
/// policy-core does not take is renamed (its other characters become `_`), with a warning.
pub fn segments(path: &str, warnings: &mut Vec<String>) -> Result<Vec<Segment>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err("a path starts with '/'".to_owned());
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<Segment> = Vec::new();
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Err(
                "an empty segment ('//' or a trailing '/'): the gateway answers such paths not_found"
                    .to_owned(),
            );
        }
        let whole = segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .filter(|name| !name.contains(['{', '}']));
        if let Some(name) = whole {
            let mut name = name.to_owned();
            if !is_param_name(&name) {
                let renamed: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                warnings.push(format!(
                    "{path}: parameter {{{name}}} is written :{renamed} (a parameter name is A-Za-z0-9_-)"
                ));
                name = renamed;
            }
            if out.contains(&Segment::Param(name.clone())) {
                return Err(format!("parameter {{{name}}} appears twice"));
            }
            out.push(Segment::Param(name));
        } else if segment.contains(['{', '}']) {
            return Err(format!(
                "segment \"{segment}\" holds a parameter inside it: a parameter is a whole segment"
            ));
        } else if is_static(segment) {
            out.push(Segment::Static(segment.to_owned()));
        } else {
            return Err(format!(
                "segment \"{segment}\" has characters a static segment cannot hold (A-Za-z0-9-_.~)"
            ));
        }
    }
    Ok(out)
}

/// The pattern of `segments`: `/orgs/:org/teams`.
pub fn pattern(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        match segment {
            Segment::Static(text) => out.push_str(text),
            Segment::Param(name) => {
                out.push(':');
                out.push_str(name);
            }
        }
    }
    out
}

/// `text` as a permission word: lower-case `a-z0-9`, every other run of characters one `_`,
/// none at either end (`Code Scanning` → `code_scanning`).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn templates_become_patterns() {
        let mut warnings = Vec::new();
        let s = segments("/orgs/{org}/teams/{team_slug}", &mut warnings).unwrap();
        assert_eq!(pattern(&s), "/orgs/:org/teams/:team_slug");
        assert!(segments("/files/{name}.json", &mut warnings)
            .unwrap_err()
            .contains("inside"));
        assert!(segments("/v1/{name}:cancel", &mut warnings).is_err());
        assert!(segments("/a//b", &mut warnings).is_err());
        assert!(segments("/a/", &mut warnings).is_err());
        assert!(segments("/a/b@c", &mut warnings).is_err());
        assert!(segments("/{a}/{a}", &mut warnings).is_err());
        assert!(warnings.is_empty());
        assert_eq!(
            pattern(&segments("/u/{user.id}", &mut warnings).unwrap()),
            "/u/:user_id"
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(segments("/", &mut warnings).unwrap(), Vec::new());
    }

    #[test]
    fn tags_are_slugged() {
        assert_eq!(slug("Code Scanning"), "code_scanning");
        assert_eq!(slug("code-scanning"), "code_scanning");
        assert_eq!(slug("  Time entries (v2) "), "time_entries_v2");
        assert_eq!(slug("Überblick"), "berblick");
        assert_eq!(slug("!!!"), "");
    }
}
