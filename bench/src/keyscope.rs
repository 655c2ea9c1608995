//! keyscope, driven as a caller that keeps its keys in memory drives it.

use policy_core::{
    Authorization, Decision, Engine, KeyHeaders, KeyRecord, KeySource, KeyState, PreparedKey, Request, Step,
    Timestamp,
};

use crate::{Sample, Verdict, World, WorldKey};

/// policy-core with keys from memory: prepared once ([`KeyscopePeer::decide`]) or raw records
/// ([`KeyscopePeer::decide_raw`]).
pub struct KeyscopePeer<'w> {
    engine: Engine,
    world: &'w World,
    prepared: Vec<PreparedKey>,
    now: Timestamp,
}

impl<'w> KeyscopePeer<'w> {
    /// The Align engine over `world`, with every key prepared.
    pub fn new(world: &'w World) -> Self {
        let engine = Engine::align().expect("the Align policy compiles");
        let prepared = world
            .keys
            .iter()
            .map(|k| engine.prepare(k.record.clone()))
            .collect();
        KeyscopePeer {
            engine,
            world,
            prepared,
            now: Timestamp(1),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Path matching + decision for a sample whose key was already found (key lookup excluded,
    /// like the peers), on the key prepared once; the key's state (revocation, expiry) is
    /// supplied per decision, as from an authoritative store. Returns whether it was allowed.
    #[inline]
    pub fn decide(&self, sample: &Sample) -> bool {
        let key = &self.world.keys[sample.key];
        let mut auth = self.engine.authorize_hash::<&PreparedKey>(
            key.hash,
            sample.method,
            &sample.target,
            None,
            self.now,
        );
        self.answer_prepared(&mut auth, sample.key)
    }

    /// The same on the raw record (grant names compiled per decision).
    #[inline]
    pub fn decide_raw(&self, sample: &Sample) -> bool {
        let key = &self.world.keys[sample.key];
        let mut auth =
            self.engine
                .authorize_hash::<&KeyRecord>(key.hash, sample.method, &sample.target, None, self.now);
        self.answer(&mut auth, key, &key.record)
    }

    /// The whole pipeline from the raw `X-Api-Key` header: presence, checksum, environment,
    /// SHA-256, then the decision on the prepared key.
    #[inline]
    pub fn decide_from_header(&self, sample: &Sample) -> bool {
        let key = &self.world.keys[sample.key];
        let request = Request {
            method: sample.method,
            target: &sample.target,
            headers: KeyHeaders::from_strs(Some(&key.secret), None),
            client: None,
        };
        let mut auth = self.engine.authorize::<&PreparedKey>(&request, self.now);
        self.answer_prepared(&mut auth, sample.key)
    }

    /// Answers the decision's lookups from memory until it is made; whether it allowed.
    #[inline]
    fn answer_prepared<'a>(&'a self, auth: &mut Authorization<'_, &'a PreparedKey>, index: usize) -> bool {
        let key = &self.world.keys[index];
        loop {
            let answered = match auth.next() {
                Step::LookupKey(_) => {
                    let prepared = &self.prepared[index];
                    auth.provide_prepared(prepared, KeyState::of(&key.record))
                }
                Step::LookupMembership { .. } => auth.provide_membership(Some(key.role)),
                Step::LookupResource { kind, id } => auth.provide_resource(self.world.owner(kind, id)),
                Step::Done(decision) => return matches!(decision, Decision::Allow(_)),
            };
            if answered.is_err() {
                auth.store_failed();
            }
        }
    }

    /// Answers the decision's lookups from memory until it is made; whether it allowed.
    #[inline]
    fn answer<R: KeySource>(&self, auth: &mut Authorization<'_, R>, key: &WorldKey, record: R) -> bool {
        let mut record = Some(record);
        loop {
            let answered = match auth.next() {
                Step::LookupKey(_) => auth.provide_key(record.take()),
                Step::LookupMembership { .. } => auth.provide_membership(Some(key.role)),
                Step::LookupResource { kind, id } => auth.provide_resource(self.world.owner(kind, id)),
                Step::Done(decision) => return matches!(decision, Decision::Allow(_)),
            };
            if answered.is_err() {
                auth.store_failed();
            }
        }
    }

    fn verdict_of<R: KeySource>(auth: &Authorization<'_, R>) -> Verdict {
        match auth.decision() {
            Some(Decision::Allow(a)) => Verdict::Allow(a.project_filter.map(|f| f.to_string())),
            Some(Decision::Deny(d)) => Verdict::Deny(d.reason().code()),
            None => Verdict::Deny("unfinished"),
        }
    }

    /// The full verdict on the prepared key (for agreement checks).
    pub fn verdict(&self, sample: &Sample) -> Verdict {
        let key = &self.world.keys[sample.key];
        let mut auth = self.engine.authorize_hash::<&PreparedKey>(
            key.hash,
            sample.method,
            &sample.target,
            None,
            self.now,
        );
        let _ = self.answer_prepared(&mut auth, sample.key);
        Self::verdict_of(&auth)
    }

    /// The full verdict on the raw record (for agreement checks).
    pub fn verdict_raw(&self, sample: &Sample) -> Verdict {
        let key = &self.world.keys[sample.key];
        let mut auth =
            self.engine
                .authorize_hash::<&KeyRecord>(key.hash, sample.method, &sample.target, None, self.now);
        let _ = self.answer(&mut auth, key, &key.record);
        Self::verdict_of(&auth)
    }
}
