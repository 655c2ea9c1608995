//! cedar-policy with the smallest entity model that decides every request of the mix.
//!
//! - **Principal**: one entity per decision, the key `Key::"<n>"`, child of its creator's role
//!   `Role::"<name>"` (the role entity itself need not exist), with the attribute `project` on a
//!   project-scoped key and `grants` (a set of action references) on a key with explicit grants.
//! - **Action**: the endpoint's permission, `Action::"read:entry"` (`Action::"me"` for `/me`).
//! - **Resource**: the endpoint row, `Endpoint::"<row>"`, never an entity: the policies compare
//!   it by identity.
//! - **Context**: only on rows that need it: `pathProject` on `own_path` rows, `visible` (the
//!   caller's resource lookup) on `own_resource` rows; empty otherwise.
//!
//! The policies are generated from the lean peer's tables (the same rules, written once).
//! Routing, which Cedar does not do, is the lean router's. "Entities per request" builds the
//! principal each decision (the creator's current role is read per request); "pre-built"
//! builds it once per key.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet,
    RestrictedExpression,
};

use crate::lean::{self, Rule, ROLES, ROWS};
use crate::{Sample, World};

/// The Align rules as Cedar policies, generated from the lean peer's tables.
pub fn cedar_policies() -> String {
    let rows_with = |rule: Rule| {
        ROWS.iter()
            .enumerate()
            .filter(|(_, r)| r.1 == rule)
            .map(|(i, _)| format!("Endpoint::\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::new();
    for (role, bits) in ROLES {
        let actions: Vec<String> = ROWS
            .iter()
            .filter(|r| r.0 != 0 && bits & r.0 != 0)
            .map(|r| format!("Action::\"{}\"", r.2))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let _ = writeln!(
            text,
            "permit(principal in Role::\"{role}\", action in [{}], resource);",
            actions.join(", ")
        );
    }
    let _ = write!(
        text,
        r#"permit(principal, action == Action::"me", resource);
forbid(principal, action, resource) when {{ principal has grants && !(principal.grants.contains(action)) }}
  unless {{ action == Action::"me" }};
forbid(principal, action, resource) when {{ principal has project && resource in [{deny}] }};
forbid(principal, action, resource) when {{
  principal has project && resource in [{own_path}] && context.pathProject != principal.project
}};
forbid(principal, action, resource) when {{
  principal has project && resource in [{own_resource}] && !context.visible
}};
"#,
        deny = rows_with(Rule::Deny),
        own_path = rows_with(Rule::OwnPath),
        own_resource = rows_with(Rule::OwnResource),
    );
    text
}

/// cedar-policy over the same world, routed by the lean router.
pub struct CedarPeer {
    policies: PolicySet,
    authorizer: Authorizer,
    key_type: EntityTypeName,
    role_uids: Vec<(&'static str, EntityUid)>,
    key_uids: Vec<EntityUid>,
    action_uids: Vec<EntityUid>,
    endpoint_uids: Vec<EntityUid>,
    keys: Vec<CedarKey>,
    prebuilt: Vec<Entities>,
}

struct CedarKey {
    id: String,
    organization: String,
    project: Option<String>,
    grants: Option<Vec<EntityUid>>,
    role: &'static str,
}

fn uid(text: &str) -> EntityUid {
    EntityUid::from_str(text).unwrap_or_else(|e| panic!("bad uid {text}: {e}"))
}

impl CedarPeer {
    /// Parses the policies once, loads the keys and pre-builds their entities.
    pub fn new(world: &World) -> CedarPeer {
        let policies =
            PolicySet::from_str(&cedar_policies()).unwrap_or_else(|e| panic!("cedar policies: {e}"));
        let keys = world
            .keys
            .iter()
            .enumerate()
            .map(|(n, k)| CedarKey {
                id: n.to_string(),
                organization: k.record.organization_id.clone(),
                project: k.record.scoped_project_ids.single().map(str::to_owned),
                grants: k.record.permissions.as_ref().map(|names| {
                    names
                        .iter()
                        .filter(|n| lean::permission_bit(n) != 0)
                        .map(|n| uid(&format!("Action::\"{n}\"")))
                        .collect()
                }),
                role: k.role,
            })
            .collect::<Vec<_>>();
        let mut peer = CedarPeer {
            policies,
            authorizer: Authorizer::new(),
            key_type: EntityTypeName::from_str("Key").unwrap_or_else(|e| panic!("{e}")),
            role_uids: ROLES
                .iter()
                .map(|(name, _)| (*name, uid(&format!("Role::\"{name}\""))))
                .collect(),
            key_uids: keys.iter().map(|k| uid(&format!("Key::\"{}\"", k.id))).collect(),
            action_uids: ROWS
                .iter()
                .map(|r| uid(&format!("Action::\"{}\"", r.2)))
                .collect(),
            endpoint_uids: (0..ROWS.len())
                .map(|i| uid(&format!("Endpoint::\"{i}\"")))
                .collect(),
            keys,
            prebuilt: Vec::new(),
        };
        peer.prebuilt = (0..peer.keys.len())
            .map(|k| {
                Entities::from_entities([peer.principal(k, peer.keys[k].role)], None)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        peer
    }

    /// The key as a principal entity, child of `role`.
    fn principal(&self, key: usize, role: &str) -> Entity {
        let k = &self.keys[key];
        let mut attrs = HashMap::new();
        if let Some(project) = &k.project {
            attrs.insert(
                "project".to_string(),
                RestrictedExpression::new_string(project.clone()),
            );
        }
        if let Some(grants) = &k.grants {
            attrs.insert(
                "grants".to_string(),
                RestrictedExpression::new_set(
                    grants.iter().cloned().map(RestrictedExpression::new_entity_uid),
                ),
            );
        }
        let parents = self
            .role_uids
            .iter()
            .filter(|(name, _)| *name == role)
            .map(|(_, uid)| uid.clone())
            .collect();
        let uid = EntityUid::from_type_name_and_id(self.key_type.clone(), EntityId::new(&k.id));
        Entity::new(uid, attrs, parents).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Path matching + decision. `prebuilt` reuses the principal built once per key.
    #[inline]
    pub fn decide(&self, world: &World, sample: &Sample, prebuilt: bool) -> bool {
        let Some((row, id)) = lean::route(sample.method, &sample.target) else {
            return false;
        };
        let k = &self.keys[sample.key];
        let context = match (ROWS[row].1, &id) {
            (Rule::OwnPath, Some(id)) => Context::from_pairs([(
                "pathProject".to_string(),
                RestrictedExpression::new_string(id.as_str().to_owned()),
            )])
            .unwrap_or_else(|e| panic!("{e}")),
            (Rule::OwnResource, Some(id)) => {
                let visible = world.owner("time_entry", id.as_str()).is_some_and(|o| {
                    o.organization_id == k.organization && Some(o.project_id) == k.project.as_deref()
                });
                Context::from_pairs([("visible".to_string(), RestrictedExpression::new_bool(visible))])
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            _ => Context::empty(),
        };
        let request = cedar_policy::Request::new(
            self.key_uids[sample.key].clone(),
            self.action_uids[row].clone(),
            self.endpoint_uids[row].clone(),
            context,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let fresh;
        let entities = if prebuilt {
            &self.prebuilt[sample.key]
        } else {
            fresh = Entities::from_entities([self.principal(sample.key, k.role)], None)
                .unwrap_or_else(|e| panic!("{e}"));
            &fresh
        };
        self.authorizer
            .is_authorized(&request, &self.policies, entities)
            .decision()
            == cedar_policy::Decision::Allow
    }
}
