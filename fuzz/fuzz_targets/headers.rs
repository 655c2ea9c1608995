//! `target_of_url` over arbitrary URLs and the credentials headers (`X-Api-Key`,
//! `Authorization`) over arbitrary bytes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use policy_core::{target_of_url, KeyHeaders, Presented};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    url: &'a str,
    x_api_key: Option<&'a [u8]>,
    authorization: Option<&'a [u8]>,
}

fuzz_target!(|input: Input<'_>| {
    let target = target_of_url(input.url);
    assert!(target.starts_with('/'), "{target:?}");
    assert!(
        target == "/" || input.url.ends_with(target),
        "the target is the URL's tail"
    );
    if input.url.starts_with('/') {
        assert_eq!(target, input.url);
    }

    let headers = KeyHeaders {
        x_api_key: input.x_api_key,
        authorization: input.authorization,
    };
    let presented = headers.presented();
    if let Presented::Key(key) = presented {
        assert!(!key.is_empty());
        assert_eq!(key.trim_ascii(), key, "a presented key is trimmed");
        let inside = |h: Option<&[u8]>| h.is_some_and(|h| h.windows(key.len()).any(|w| w == key.as_bytes()));
        assert!(inside(input.x_api_key) || inside(input.authorization));
    }
    // The Authorization header alone presents a key exactly when it carries one.
    let auth_only = KeyHeaders {
        x_api_key: None,
        authorization: input.authorization,
    };
    assert_eq!(
        auth_only.authorization_carries_key(),
        !matches!(auth_only.presented(), Presented::Nothing),
        "{:?}",
        input.authorization
    );
    // Order does not matter: the same value in both headers presents it once.
    if let Some(x) = input.x_api_key {
        let both = KeyHeaders {
            x_api_key: Some(x),
            authorization: Some(&[b"Bearer ", x].concat()),
        };
        let alone = KeyHeaders {
            x_api_key: Some(x),
            authorization: None,
        };
        let (b, a) = (both.presented(), alone.presented());
        match a {
            // "Bearer <x>" with x empty or unreadable: the same verdict either way.
            Presented::Key(_) | Presented::Unreadable => assert_eq!(b, a),
            Presented::Nothing | Presented::Conflict => {}
        }
    }
});
