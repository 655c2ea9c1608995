//! The endpoint rows as a trie per method, walked once over the request's bytes.
//!
//! Each node holds the static segments that may follow (compiled [`StaticText`]s), at most one
//! parameter child, and the row that ends there. Matching compares static text in place and
//! scans a parameter only as far as its id bytes go, so every byte of the path is read about
//! once and no segment list is built. A static segment is tried before the parameter at the
//! same position; when the rest of the path fails under it, the parameter is tried (rows such
//! as `/a/:id/x` and `/a/b/y` need that). So a static segment beside a parameter always wins
//! where the whole path matches under it (`/expenses/categories` beside `/expenses/:id`), and
//! no two rows of one method have the same shape (the policy refuses it): the answer is one
//! row, the same whatever order the rows were written in.

use alloc::format;
use alloc::vec::Vec;

use super::id::{is_id_byte, PathId, MAX_ID_LEN};
use super::index::StaticIndex;
use super::span::Span;
use super::words::{word_at, PackedName, StaticText};
use super::{Segment, MAX_SEGMENTS};

/// The routing tables of one policy.
#[derive(Clone, Debug)]
pub(crate) struct Router {
    /// The base path and its closing `/`.
    base: StaticText,
    methods: Vec<MethodTable>,
    nodes: Vec<Node>,
}

#[derive(Clone, Debug)]
struct MethodTable {
    name: PackedName,
    root: usize,
}

#[derive(Clone, Debug, Default)]
struct Node {
    statics: Vec<Edge>,
    /// Over `statics`, when there are more than [`LINEAR_LIMIT`].
    index: Option<StaticIndex>,
    param: Option<usize>,
    end: Option<End>,
}

#[derive(Clone, Debug)]
struct Edge {
    text: StaticText,
    child: usize,
}

/// One row to index: its method, its pattern's segments, and the positions of the parameters
/// whose values its caller reads (the others are only checked).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row<'r> {
    /// The method, upper case (`HEAD` is matched as `GET`).
    pub(crate) method: &'r str,
    /// The pattern's segments, after the base path.
    pub(crate) segments: &'r [Segment],
    /// The segment positions whose values [`Found`] locates.
    pub(crate) wanted: Wanted,
}

/// The segment positions of the parameters a row's caller reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Wanted {
    /// The parameter the project-key rule reads.
    pub(crate) rule: Option<usize>,
    /// The organization parameter.
    pub(crate) organization: Option<usize>,
    /// The user parameter.
    pub(crate) user: Option<usize>,
}

/// A row ending at a node, kept small (a walk copies it out): its index and the positions of
/// the parameters its caller reads, [`NOT_WANTED`] for none.
#[derive(Clone, Copy, Debug)]
struct End {
    row: u32,
    /// Positions of the rule's parameter, the organization's and the user's.
    wanted: [u8; 3],
}

/// An [`End`] position that wants no parameter (no pattern has this many segments).
const NOT_WANTED: u8 = u8::MAX;

impl End {
    fn new(row: usize, wanted: Wanted) -> Option<End> {
        let position = |p: Option<usize>| match p {
            None => Some(NOT_WANTED),
            Some(p) if p < MAX_SEGMENTS => u8::try_from(p).ok(),
            Some(_) => None,
        };
        Some(End {
            row: u32::try_from(row).ok()?,
            wanted: [
                position(wanted.rule)?,
                position(wanted.organization)?,
                position(wanted.user)?,
            ],
        })
    }
}

/// A matched row and where, in the target, the parameters it reads are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    /// The index of the matched row, in the order given to [`Router::new`].
    pub(crate) row: usize,
    /// The parameter the project-key rule reads.
    pub(crate) param: Option<Span>,
    /// The organization parameter.
    pub(crate) organization: Option<Span>,
    /// The user parameter.
    pub(crate) user: Option<Span>,
}

impl Router {
    /// Indexes `rows` under `base_path` (rows of one method must not overlap: the policy
    /// refuses documents where they do).
    pub(crate) fn new<'r>(base_path: &str, rows: impl IntoIterator<Item = Row<'r>>) -> Router {
        let mut router = Router {
            base: StaticText::new(format!("{base_path}/").as_bytes()),
            methods: Vec::new(),
            nodes: Vec::new(),
        };
        for (i, row) in rows.into_iter().enumerate() {
            let mut node = router.root_for(row.method);
            for segment in row.segments {
                node = match segment {
                    Segment::Static(text) => router.static_child(node, text.as_bytes()),
                    Segment::Param => router.param_child(node),
                };
            }
            if let Some(node) = router.nodes.get_mut(node) {
                node.end = End::new(i, row.wanted);
            }
        }
        // A node with many static children is looked up by hash, not scanned.
        for node in &mut router.nodes {
            if node.statics.len() > LINEAR_LIMIT {
                node.index = Some(StaticIndex::new(node.statics.iter().map(|e| &e.text)));
            }
        }
        router
    }

    fn push_node(&mut self) -> usize {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    fn root_for(&mut self, name: &str) -> usize {
        if let Some(table) = self.methods.iter().find(|t| t.name.as_str() == name) {
            return table.root;
        }
        let root = self.push_node();
        self.methods.push(MethodTable {
            name: PackedName::new(name),
            root,
        });
        root
    }

    fn static_child(&mut self, node: usize, text: &[u8]) -> usize {
        let existing = self.nodes.get(node).and_then(|n| {
            n.statics
                .iter()
                .find(|e| *e.text.text() == *text)
                .map(|e| e.child)
        });
        if let Some(child) = existing {
            return child;
        }
        let child = self.push_node();
        if let Some(n) = self.nodes.get_mut(node) {
            n.statics.push(Edge {
                text: StaticText::new(text),
                child,
            });
        }
        child
    }

    fn param_child(&mut self, node: usize) -> usize {
        if let Some(child) = self.nodes.get(node).and_then(|n| n.param) {
            return child;
        }
        let child = self.push_node();
        if let Some(n) = self.nodes.get_mut(node) {
            n.param = Some(child);
        }
        child
    }

    /// The trie of `method` (`HEAD` is `GET`).
    #[inline]
    fn root(&self, method: &str) -> Option<usize> {
        const HEAD: u64 = 0x4441_4548;
        let (method, word) = match word_at(method.as_bytes(), 0) {
            HEAD if method.len() == 4 => ("GET", 0x54_4547),
            word => (method, word),
        };
        self.methods
            .iter()
            .find(|t| t.name.is(method, word))
            .map(|t| t.root)
    }

    /// Matches `method` and the request target `target` (its query ignored).
    #[inline(always)]
    pub(crate) fn find(&self, method: &str, target: &str) -> Option<Found> {
        let path = target.as_bytes();
        if !self.base.starts(path, 0, word_at(path, 0)) {
            return None;
        }
        let root = self.root(method)?;
        let mut params = Params {
            spans: [(0, 0); MAX_SEGMENTS],
            escaped: 0,
        };
        let end = self.walk(path, &mut params, root, self.base.len(), 0)?;
        let [rule, organization, user] = end.wanted.map(|pos| params.get(pos));
        Some(Found {
            row: end.row as usize,
            param: rule,
            organization,
            user,
        })
    }

    /// Matches the path from `at` (the start of segment number `depth` of a row) against the
    /// rows under `node`. A loop, except where a node has both static children and a parameter:
    /// there the static child is tried in a nested walk first.
    #[inline(always)]
    fn walk(
        &self,
        path: &[u8],
        params: &mut Params,
        mut node: usize,
        mut at: usize,
        mut depth: usize,
    ) -> Option<End> {
        loop {
            let here = self.nodes.get(node)?;
            let mut next = None;
            if let Some(index) = &here.index {
                let found = index.find(path, at, |i| here.statics.get(i).map(|e| &e.text));
                if let Some(edge) = found.and_then(|i| here.statics.get(i)) {
                    let end = at + edge.text.len();
                    if here.param.is_none() {
                        next = Some((edge.child, end));
                    } else if let Some(found) = self.after(path, params, edge.child, end, depth) {
                        return Some(found);
                    }
                }
            } else if !here.statics.is_empty() {
                let first = word_at(path, at);
                for edge in &here.statics {
                    let end = at + edge.text.len();
                    if edge.text.starts(path, at, first) && is_segment_end(path, end) {
                        if here.param.is_none() {
                            next = Some((edge.child, end));
                        } else if let Some(found) = self.after(path, params, edge.child, end, depth) {
                            return Some(found);
                        }
                        // No other static segment can span the same bytes.
                        break;
                    }
                }
            }
            let (child, end) = match next {
                Some(next) => next,
                None => {
                    let child = here.param?;
                    let (end, escaped) = scan_id(path, at)?;
                    params.record(depth, at, end, escaped)?;
                    (child, end)
                }
            };
            if path.get(end) != Some(&b'/') {
                return self.nodes.get(child)?.end;
            }
            (node, at, depth) = (child, end + 1, depth + 1);
        }
    }

    /// A segment ended at `end`: the path ends there (the row of `node`), or goes on after `/`
    /// (a nested walk, kept out of line: only a node with both kinds of children needs it).
    #[inline(never)]
    fn after(&self, path: &[u8], params: &mut Params, node: usize, end: usize, depth: usize) -> Option<End> {
        match path.get(end) {
            Some(b'/') => self.walk(path, params, node, end + 1, depth + 1),
            _ => self.nodes.get(node)?.end,
        }
    }
}

/// Up to this many static children are compared in place one by one (each a masked integer
/// comparison); past it, a node looks its segment up in a [`StaticIndex`].
const LINEAR_LIMIT: usize = 8;

/// Where each parameter of the walk's current path is.
struct Params {
    /// Start and end of the parameter at each segment position.
    spans: [(u32, u32); MAX_SEGMENTS],
    /// Bit `i`: the parameter at position `i` holds a `%` escape.
    escaped: u16,
}

impl Params {
    #[inline]
    fn record(&mut self, depth: usize, start: usize, end: usize, escaped: bool) -> Option<()> {
        *self.spans.get_mut(depth)? = (u32::try_from(start).ok()?, u32::try_from(end).ok()?);
        let bit = 1u16 << depth;
        self.escaped = if escaped {
            self.escaped | bit
        } else {
            self.escaped & !bit
        };
        Some(())
    }

    /// The span recorded at `pos` (`None` for [`NOT_WANTED`]: every wanted position is a
    /// parameter of the matched row, so the walk recorded it).
    #[inline]
    fn get(&self, pos: u8) -> Option<Span> {
        let (start, end) = *self.spans.get(usize::from(pos))?;
        Span::new(start as usize, end as usize, self.escaped >> pos & 1 != 0)
    }
}

/// Whether a segment ending at `end` ends there: the path ends, or a `/` or the query follows.
#[inline]
fn is_segment_end(path: &[u8], end: usize) -> bool {
    matches!(path.get(end), None | Some(b'/' | b'?'))
}

/// The end of the id segment starting at `at`, and whether it holds a `%` escape; `None` when
/// the segment is not a valid id (empty, too long, or a byte outside `A-Za-z0-9_-` after
/// decoding).
#[inline]
fn scan_id(path: &[u8], at: usize) -> Option<(usize, bool)> {
    let mut end = at;
    while path.get(end).is_some_and(|&b| is_id_byte(b)) {
        end += 1;
    }
    match path.get(end) {
        None | Some(b'/' | b'?') => (end > at && end - at <= MAX_ID_LEN).then_some((end, false)),
        Some(b'%') => {
            let rest = path.get(end..)?;
            let stop = rest
                .iter()
                .position(|&b| b == b'/' || b == b'?')
                .map_or(path.len(), |i| end + i);
            let raw = core::str::from_utf8(path.get(at..stop)?).ok()?;
            PathId::check(raw).then_some((stop, true))
        }
        Some(_) => None,
    }
}
