//! Matching a request to an endpoint row (SPEC "Matching a request to an endpoint"), as a leaf
//! module: it knows path patterns and ids, not policies or decisions.
//!
//! The query string is ignored. The path must begin with `<basePath>/`. Segments are split on
//! `/`; an empty segment, `.` or `..`, or an id that is not 1–64 characters of
//! `A-Za-z0-9_-` after percent-decoding matches nothing. Nothing is normalised into another
//! route: static segments compare byte for byte, case-sensitively. `HEAD` is matched as `GET`.
//!
//! - `id.rs`: what a path parameter may hold, and its decoded form.
//! - `trie.rs`: the rows as a trie per method, walked once over the request's bytes.
//! - `index.rs`: a hash index over a node's static children, when it has many.
//! - `span.rs`: where a parameter is in the target, read only by the check that needs it.
//! - `words.rs`: short byte strings as integers, compared eight bytes at a time.
//!
//! The policy compiles its rows into a `Router` and turns what it finds into its own
//! endpoint rows (`policy/routing.rs`).

mod id;
mod index;
mod span;
mod trie;
mod words;

pub use id::{PathId, MAX_ID_LEN};
pub(crate) use span::Span;
pub(crate) use trie::{Router, Row, Wanted};
pub(crate) use words::{word_at, PackedName};

use alloc::boxed::Box;

/// The most path segments an endpoint pattern may have.
pub const MAX_SEGMENTS: usize = 12;

/// One segment of a path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text that must appear as written.
    Static(Box<str>),
    /// A parameter: one id.
    Param,
}
