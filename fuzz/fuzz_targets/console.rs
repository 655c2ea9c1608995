//! The console's natively testable helpers (`edge_worker::console`): the session cookie in a
//! `Cookie` header, the CSRF proof and its comparison, return URLs, and the `frame-ancestors`
//! list of the page's Content-Security-Policy.
#![no_main]

use arbitrary::Arbitrary;
use edge_worker::console::assets::{content_security_policy, frame_ancestors};
use edge_worker::console::session::{
    cookie_value, csrf_proof, digest, is_return_url, is_token, same_secret, set_cookie, COOKIE,
    MAX_RETURN_URL,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// A whole `Cookie` header.
    Header(&'a str),
    /// A real session cookie (32 fuzzed bytes) set by `set_cookie`, among fuzzed pairs.
    Among {
        token: [u8; 32],
        secure: bool,
        before: &'a str,
        after: &'a str,
    },
    /// Two secrets compared.
    Secrets(&'a str, &'a str),
    /// A return URL.
    ReturnUrl(&'a str),
    /// A `KEYSCOPE_CONSOLE_FRAME_ANCESTORS` value.
    FrameAncestors(Option<&'a str>),
}

fn check_header(header: &str) {
    if let Some(value) = cookie_value(header) {
        assert!(is_token(value), "{value:?}");
        assert!(header.contains(value));
        assert!(header.contains(COOKIE));
    }
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Header(header) => check_header(header),
    Input::Among {
        token,
        secure,
        before,
        after,
    } => {
        let token = hex_token(&token);
        assert!(is_token(&token));
        let set = set_cookie(&token, secure);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert_eq!(set.ends_with("; Secure"), secure);
        // What a browser sends back is the cookie's first pair.
        let pair = set.split(';').next().unwrap_or_default();
        assert_eq!(cookie_value(pair), Some(token.as_str()));
        // Among other pairs that do not name the cookie, it is still found.
        if !before.contains(COOKIE) && !after.contains(COOKIE) {
            let header = format!("{before}; {pair}; {after}");
            assert_eq!(cookie_value(&header), Some(token.as_str()), "{header:?}");
        }
        check_header(&format!("{before}{pair}{after}"));
        // The CSRF proof is a token unlike the cookie and its stored digest.
        let proof = csrf_proof(&token);
        assert!(is_token(&proof));
        assert_ne!(proof, token);
        assert_ne!(proof, digest(&token));
        assert!(same_secret(&proof, &csrf_proof(&token)));
        assert!(!same_secret(&token, &proof));
    }
    Input::Secrets(a, b) => {
        assert_eq!(same_secret(a, b), a == b && !a.is_empty());
        assert_eq!(same_secret(a, b), same_secret(b, a));
        let _ = csrf_proof(a);
        assert!(is_token(&digest(a)));
    }
    Input::ReturnUrl(url) => {
        if is_return_url(url) {
            let lower = url.to_ascii_lowercase();
            assert!(
                lower.starts_with("https://") || lower.starts_with("http://"),
                "{url:?}"
            );
            assert!(url.len() <= MAX_RETURN_URL && url.len() > "http://".len());
            assert!(
                !url.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{url:?}"
            );
        }
    }
    Input::FrameAncestors(configured) => {
        let (value, refused) = frame_ancestors(configured);
        assert!(!value.is_empty());
        if refused {
            assert_eq!(value, "'none'");
        }
        // The value can never end the directive or start another one.
        assert!(
            value
                .split(' ')
                .all(|s| s == "'none'" || s == "'self'" || !s.contains('\'')),
            "{value:?}"
        );
        assert!(!value.contains([';', ',', '"', '\n', '\r']), "{value:?}");
        let csp = content_security_policy(&value);
        assert!(csp.ends_with(&format!("frame-ancestors {value}")));
        assert_eq!(csp.matches(';').count(), 7, "{csp}");
    }
});

fn hex_token(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
