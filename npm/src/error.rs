//! Errors as JavaScript sees them: `Error` objects with a `name` the JavaScript half maps to its
//! own classes (`npm/js/errors.cjs`), and the field a refused policy document names.

use js_sys::{Error as JsErrorObject, Reflect};
use policy_core::{PolicyDocument, PolicyError};
use wasm_bindgen::prelude::*;

/// A `PolicyError` whose `field` always names the offending field: the invalid value's, or for
/// a document of the wrong shape the path serde stopped at (`document` for text that is not
/// JSON at all).
pub(crate) fn policy_error(error: &PolicyError, text: &str) -> JsValue {
    let field = match error {
        PolicyError::Invalid(invalid) => invalid.field().to_owned(),
        _ => {
            let mut json = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, PolicyDocument>(&mut json) {
                Err(e) if e.inner().is_data() && e.path().iter().next().is_some() => e.path().to_string(),
                _ => "document".to_owned(),
            }
        }
    };
    named_error("PolicyError", &error.to_string(), Some(("field", &field)))
}

/// A JS `Error` with `name` and, optionally, one extra string property.
pub(crate) fn named_error(name: &str, message: &str, extra: Option<(&str, &str)>) -> JsValue {
    let error = JsErrorObject::new(message);
    error.set_name(name);
    if let Some((key, value)) = extra {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&error, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    error.into()
}
