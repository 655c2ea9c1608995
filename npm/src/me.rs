//! The integration's side of `/me` for `checkKey`: the URL to call and policy-core's judgment
//! of the gateway's answer (the same as `keyscope whoami`'s).

use policy_core::{check_me, me_url, KeyUnfit};
use wasm_bindgen::prelude::*;

/// The `/me` URL of an API whose base URL (base path included) is `base_url`.
#[wasm_bindgen(js_name = meUrl)]
pub fn me_url_of(base_url: &str) -> String {
    me_url(base_url)
}

/// Judges the gateway's answer to `GET /me` against `required`: `""` when the key holds them
/// all, else JSON `{"code", "message", "missing", "scope", "projectId"}`.
#[wasm_bindgen(js_name = checkMe)]
pub fn check_me_answer(status: u16, body: &str, required: Vec<String>) -> String {
    match check_me(status, body, &required) {
        Ok(_) => String::new(),
        Err(unfit) => {
            let (missing, scope, project) = match &unfit {
                KeyUnfit::MissingPermissions(m) => {
                    (m.missing.clone(), Some(m.scope.clone()), m.project_id.clone())
                }
                _ => (Vec::new(), None, None),
            };
            serde_json::json!({
                "code": unfit.code(),
                "message": unfit.to_string(),
                "missing": missing,
                "scope": scope,
                "projectId": project,
            })
            .to_string()
        }
    }
}
