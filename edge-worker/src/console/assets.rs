//! The page's three files, embedded in the worker (no CDN, no network at runtime), and the
//! headers they are served with: a strict Content-Security-Policy (no inline script, no other
//! origin), `nosniff`, `no-referrer`.

/// The page.
pub const INDEX_HTML: &str = include_str!("../../console/index.html");
/// Its one ES module.
pub const CONSOLE_JS: &str = include_str!("../../console/console.js");
/// Its one stylesheet.
pub const CONSOLE_CSS: &str = include_str!("../../console/console.css");

/// The variable naming who may frame the console (a CSP `frame-ancestors` source list).
pub const FRAME_ANCESTORS_VAR: &str = "KEYSCOPE_CONSOLE_FRAME_ANCESTORS";

/// The asset at `path` (below `/console`) and its content type.
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/console/" | "/console/index.html" => Some((INDEX_HTML, "text/html; charset=utf-8")),
        "/console/console.js" => Some((CONSOLE_JS, "text/javascript; charset=utf-8")),
        "/console/console.css" => Some((CONSOLE_CSS, "text/css; charset=utf-8")),
        _ => None,
    }
}

/// The `frame-ancestors` sources: the configured list when every source in it is a keyword
/// (`'none'`, `'self'`) or a scheme, host or origin source; otherwise (or unset) `'none'`.
/// Returns the value and whether a configured value was refused.
pub fn frame_ancestors(configured: Option<&str>) -> (String, bool) {
    let Some(value) = configured.map(str::trim).filter(|v| !v.is_empty()) else {
        return ("'none'".into(), false);
    };
    let source_ok = |s: &str| {
        s == "'none'"
            || s == "'self'"
            || s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/*[]".contains(&b))
    };
    let sources: Vec<&str> = value.split_ascii_whitespace().collect();
    let none_alone = !sources.contains(&"'none'") || sources.len() == 1;
    if none_alone && sources.iter().all(|s| source_ok(s)) {
        (sources.join(" "), false)
    } else {
        ("'none'".into(), true)
    }
}

/// The page's Content-Security-Policy.
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_files_are_served() {
        assert_eq!(asset("/console/").map(|a| a.1), Some("text/html; charset=utf-8"));
        assert!(asset("/console/console.js").is_some());
        assert!(asset("/console/api/session").is_none());
        assert!(asset("/console/../Cargo.toml").is_none());
    }

    #[test]
    fn frame_ancestors_default_to_none_and_refuse_injection() {
        assert_eq!(frame_ancestors(None), ("'none'".into(), false));
        assert_eq!(
            frame_ancestors(Some(" https://app.example  'self' ")),
            ("https://app.example 'self'".into(), false)
        );
        for bad in [
            "https://a; script-src *",
            "'unsafe-inline'",
            "a,b",
            "'none' https://x",
        ] {
            assert_eq!(frame_ancestors(Some(bad)), ("'none'".into(), true), "{bad}");
        }
    }

    #[test]
    fn the_policy_allows_nothing_inline_and_no_other_origin() {
        let csp = content_security_policy("'none'");
        assert!(csp.starts_with("default-src 'none'; script-src 'self';"));
        assert!(csp.ends_with("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
    }
}
