//! The XML side of the contract, in both directions: reading and writing `<lapor>`
//! documents (stream pages, one complaint, write answers, error envelopes, requests).
//!
//! Reading never builds a whole page in memory: [`parse_lapor`] walks the root's children
//! one at a time, each as a small [`Element`] tree with its raw byte range, so a page of
//! complaints is handed over item by item and one bad `<laporan>` is set aside with its
//! raw XML while the rest of the page is used. Complaints (a backfill reads 100,000) are
//! read through a reused tree that borrows names, attributes and text from the document
//! and moves text into the [`Complaint`], so a page costs few allocations beyond the
//! complaints' own strings. A DOCTYPE, invalid UTF-8, an unknown entity,
//! nesting deeper than [`MAX_DEPTH`] or a truncated document rejects the document whole.
//! The client and the simulator share this module, so both halves speak one dialect.

use crate::model::{
    Attachment, Author, Complaint, Location, NewComplaint, Reporter, StatusLabels, StreamKey,
    ThreadEntry, TopicRef, TrackingId, UnitRef, format_wib, parse_timestamp,
};
use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

/// Deepest element nesting accepted; real documents need 4.
pub const MAX_DEPTH: usize = 16;

/// Why a document was rejected whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("response is not valid UTF-8 (first bad byte at offset {0})")]
    NotUtf8(usize),
    #[error("response declares a DOCTYPE, which the contract forbids (refused, nothing expanded)")]
    Doctype,
    #[error("response is truncated: the document ended inside <{0}>")]
    Truncated(String),
    #[error("response is not well-formed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("response nests elements deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("expected a <lapor> document, found {0}")]
    UnexpectedRoot(String),
    #[error("{0}")]
    Invalid(String),
}

/// A small owned element tree: one child of `<lapor>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Text directly inside this element (entities resolved, CDATA included).
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// The root of a `<lapor>` document: its attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Root {
    pub attrs: Vec<(String, String)>,
}

impl Root {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Checks that `bytes` are UTF-8 and returns the text.
pub fn as_utf8(bytes: &[u8]) -> Result<&str, XmlError> {
    std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8(e.valid_up_to()))
}

/// Walks a `<lapor>` document: returns the root's attributes and calls `on_child` with
/// each direct child and its raw byte range in `text`, in document order.
pub fn parse_lapor(
    text: &str,
    mut on_child: impl FnMut(Element, Range<usize>),
) -> Result<Root, XmlError> {
    walk_lapor(text, |tree, range| on_child(tree.to_element(0), range))
}

/// [`parse_lapor`] without the owned copy: each direct child is handed over as node 0 of
/// a [`Tree`] borrowing from `text`. The tree is reused from child to child, so a page
/// costs a few allocations in all rather than several per element.
fn walk_lapor<'a>(
    text: &'a str,
    mut on_child: impl FnMut(&mut Tree<'a>, Range<usize>),
) -> Result<Root, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut tree = Tree::default();
    let mut root: Option<Root> = None;
    let mut closed = false;
    loop {
        let before = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| malformed(&reader, e))?;
        match ev {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if t.xml10_content().trim().is_empty() => {}
            Event::Eof => {
                return match (root, closed) {
                    (Some(r), true) => Ok(r),
                    (Some(_), false) => Err(XmlError::Truncated("lapor".into())),
                    (None, _) => Err(XmlError::UnexpectedRoot("an empty document".into())),
                };
            }
            Event::Start(s) if root.is_some() && !closed => {
                tree.clear();
                read_element(&mut reader, text, &mut tree, &s, 2)?;
                on_child(&mut tree, before..reader.buffer_position() as usize);
            }
            Event::Empty(s) if root.is_some() && !closed => {
                tree.clear();
                let id = tree.open(text, &s)?;
                tree.close(id);
                on_child(&mut tree, before..reader.buffer_position() as usize);
            }
            Event::End(_) if root.is_some() && !closed => closed = true,
            Event::Start(s) if root.is_none() => {
                check_root(&s)?;
                root = Some(Root {
                    attrs: attrs_of(&s)?,
                });
            }
            Event::Empty(s) if root.is_none() => {
                check_root(&s)?;
                root = Some(Root {
                    attrs: attrs_of(&s)?,
                });
                closed = true;
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if root.is_some() => {
                // Stray text between children carries nothing of the contract.
            }
            other => {
                return Err(XmlError::Invalid(format!(
                    "unexpected content {} the <lapor> element",
                    if closed { "after" } else { "outside" }
                ))
                .or_unexpected(&other));
            }
        }
    }
}

trait OrUnexpected {
    fn or_unexpected(self, ev: &Event<'_>) -> XmlError;
}

impl OrUnexpected for XmlError {
    fn or_unexpected(self, ev: &Event<'_>) -> XmlError {
        match ev {
            Event::Start(s) | Event::Empty(s) => {
                XmlError::UnexpectedRoot(format!("<{}>", s.name().as_ref()))
            }
            _ => self,
        }
    }
}

fn check_root(s: &BytesStart<'_>) -> Result<(), XmlError> {
    if s.name().as_ref() == "lapor" {
        Ok(())
    } else {
        Err(XmlError::UnexpectedRoot(format!("<{}>", s.name().as_ref())))
    }
}

fn malformed(reader: &Reader<&[u8]>, e: quick_xml::Error) -> XmlError {
    let message = e.to_string();
    if message.contains("nexpected EOF")
        || message.contains("nexpected end")
        || message.contains("end of input")
    {
        return XmlError::Truncated("a tag".into());
    }
    XmlError::Malformed {
        position: reader.error_position(),
        message,
    }
}

/// Reads every attribute of a tag, normalized as XML 1.0 says, in order.
fn each_attr<'a>(
    attrs: Attributes<'a>,
    mut f: impl FnMut(&'a str, Cow<'a, str>),
) -> Result<(), XmlError> {
    for a in attrs {
        let a = a.map_err(|e| XmlError::Invalid(format!("bad attribute: {e}")))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Invalid(format!("bad attribute value: {e}")))?;
        f(a.key.into_inner(), value);
    }
    Ok(())
}

fn attrs_of(s: &BytesStart<'_>) -> Result<Vec<(String, String)>, XmlError> {
    let mut out = Vec::new();
    each_attr(s.attributes(), |k, v| {
        out.push((k.to_string(), v.into_owned()))
    })?;
    Ok(out)
}

fn read_element<'a>(
    reader: &mut Reader<&'a [u8]>,
    text: &'a str,
    tree: &mut Tree<'a>,
    start: &BytesStart<'_>,
    depth: usize,
) -> Result<(), XmlError> {
    if depth > MAX_DEPTH {
        return Err(XmlError::TooDeep);
    }
    let id = tree.open(text, start)?;
    loop {
        let ev = reader.read_event().map_err(|e| malformed(reader, e))?;
        match ev {
            Event::Start(s) => read_element(reader, text, tree, &s, depth + 1)?,
            Event::Empty(s) => {
                let child = tree.open(text, &s)?;
                tree.close(child);
            }
            Event::Text(t) => tree.push_text(id, t.xml10_content()),
            Event::CData(c) => tree.push_text(id, c.xml10_content()),
            Event::GeneralRef(r) => {
                if let Some(ch) = r
                    .resolve_char_ref()
                    .map_err(|e| XmlError::Invalid(format!("bad character reference: {e}")))?
                {
                    tree.push_text(id, Cow::Owned(ch.to_string()));
                } else {
                    let name = r.xml10_content();
                    let replacement = match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => {
                            return Err(XmlError::Invalid(format!(
                                "unknown entity &{other}; (entities are never expanded)"
                            )));
                        }
                    };
                    tree.push_text(id, Cow::Borrowed(replacement));
                }
            }
            Event::End(_) => {
                tree.close(id);
                return Ok(());
            }
            Event::Eof => return Err(XmlError::Truncated(tree.nodes[id].name.to_string())),
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
        }
    }
}

/// Marks "no piece" in [`Node`]'s text list.
const NO_PIECE: usize = usize::MAX;

/// One child of `<lapor>` as a flat, pre-order arena of nodes whose names, attributes and
/// text borrow from the document wherever no unescaping was needed. Node 0 is the child
/// itself; a node's children follow it, each subtree ending where [`Node::end`] says.
#[derive(Debug, Default)]
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
    attrs: Vec<(&'a str, Cow<'a, str>)>,
    /// Text pieces in document order, linked per node (a node's text may be split by
    /// children, comments, entity references or CDATA).
    pieces: Vec<Piece<'a>>,
}

#[derive(Debug, Clone, Copy)]
struct Node<'a> {
    name: &'a str,
    attrs: (usize, usize),
    /// One past this node's last descendant: where its next sibling starts.
    end: usize,
    text_head: usize,
    text_tail: usize,
}

#[derive(Debug)]
struct Piece<'a> {
    text: Cow<'a, str>,
    next: usize,
}

impl<'a> Tree<'a> {
    fn clear(&mut self) {
        self.nodes.clear();
        self.attrs.clear();
        self.pieces.clear();
    }

    /// Adds a node for a start tag (attributes read and checked); [`Tree::close`] ends it.
    fn open(&mut self, text: &'a str, s: &BytesStart<'_>) -> Result<usize, XmlError> {
        // The slice reader's events point into `text`; borrow them for as long as it lives.
        let tag = within(text, s).ok_or_else(|| {
            XmlError::Invalid("internal: a tag was not read from the document".into())
        })?;
        let name_len = s.name().as_ref().len();
        let first = self.attrs.len();
        each_attr(Attributes::new(tag, name_len), |k, v| {
            self.attrs.push((k, v))
        })?;
        Ok(self.push_node(&tag[..name_len], first))
    }

    fn push_node(&mut self, name: &'a str, first_attr: usize) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node {
            name,
            attrs: (first_attr, self.attrs.len()),
            end: id + 1,
            text_head: NO_PIECE,
            text_tail: NO_PIECE,
        });
        id
    }

    fn close(&mut self, id: usize) {
        self.nodes[id].end = self.nodes.len();
    }

    fn push_text(&mut self, id: usize, text: Cow<'a, str>) {
        if text.is_empty() {
            return;
        }
        let at = self.pieces.len();
        self.pieces.push(Piece {
            text,
            next: NO_PIECE,
        });
        let node = &mut self.nodes[id];
        match node.text_tail {
            NO_PIECE => node.text_head = at,
            tail => self.pieces[tail].next = at,
        }
        node.text_tail = at;
    }

    fn name(&self, id: usize) -> &'a str {
        self.nodes[id].name
    }

    fn attr(&self, id: usize, name: &str) -> Option<&str> {
        let (from, to) = self.nodes[id].attrs;
        self.attrs[from..to]
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The first child of `parent` named `name` that comes after `after` (or the first
    /// of all when `after` is `None`).
    fn child_after(&self, parent: usize, after: Option<usize>, name: &str) -> Option<usize> {
        let end = self.nodes[parent].end;
        let mut at = after.map_or(parent + 1, |a| self.nodes[a].end);
        while at < end {
            if self.nodes[at].name == name {
                return Some(at);
            }
            at = self.nodes[at].end;
        }
        None
    }

    fn child(&self, parent: usize, name: &str) -> Option<usize> {
        self.child_after(parent, None, name)
    }

    /// The text directly inside a node (entities resolved, CDATA included).
    fn text(&self, id: usize) -> Cow<'_, str> {
        let node = &self.nodes[id];
        if node.text_head == NO_PIECE {
            Cow::Borrowed("")
        } else if node.text_head == node.text_tail {
            Cow::Borrowed(&self.pieces[node.text_head].text)
        } else {
            Cow::Owned(self.joined(id))
        }
    }

    /// The text of a node moved out of the tree (it reads empty afterwards).
    fn take_text(&mut self, id: usize) -> String {
        let node = self.nodes[id];
        let text = if node.text_head != NO_PIECE && node.text_head == node.text_tail {
            std::mem::take(&mut self.pieces[node.text_head].text).into_owned()
        } else {
            self.text(id).into_owned()
        };
        self.nodes[id].text_head = NO_PIECE;
        self.nodes[id].text_tail = NO_PIECE;
        text
    }

    fn joined(&self, id: usize) -> String {
        let mut len = 0;
        let mut at = self.nodes[id].text_head;
        while at != NO_PIECE {
            len += self.pieces[at].text.len();
            at = self.pieces[at].next;
        }
        let mut out = String::with_capacity(len);
        at = self.nodes[id].text_head;
        while at != NO_PIECE {
            out.push_str(&self.pieces[at].text);
            at = self.pieces[at].next;
        }
        out
    }

    /// The text of `parent`'s first child named `name`, moved out; empty when there is none.
    fn take_child_text(&mut self, parent: usize, name: &str) -> String {
        self.take_text_of(self.child(parent, name))
    }

    /// The text of a node that may be missing, moved out; empty when it is.
    fn take_text_of(&mut self, id: Option<usize>) -> String {
        id.map(|c| self.take_text(c)).unwrap_or_default()
    }

    /// The trimmed text of a node that may be missing, unless that is empty.
    fn trimmed_text(&self, id: Option<usize>) -> Option<String> {
        id.map(|c| self.text(c).trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// For `<topik id="5">name</topik>` and the like: a node's trimmed `key` attribute
    /// and its text (moved out), if the node is there and has that attribute.
    fn take_reference(&mut self, id: Option<usize>, key: &str) -> Option<(String, String)> {
        let c = id?;
        let value = self.attr(c, key)?.trim().to_string();
        Some((value, self.take_text(c)))
    }

    /// An owned copy of the subtree at `id`.
    fn to_element(&self, id: usize) -> Element {
        let node = &self.nodes[id];
        let mut children = Vec::new();
        let mut at = id + 1;
        while at < node.end {
            children.push(self.to_element(at));
            at = self.nodes[at].end;
        }
        let (from, to) = node.attrs;
        Element {
            name: node.name.to_string(),
            attrs: self.attrs[from..to]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            text: self.text(id).into_owned(),
            children,
        }
    }

    /// A tree borrowing from an owned element, for code written against [`Tree`].
    fn of_element(el: &'a Element) -> Tree<'a> {
        fn add<'a>(tree: &mut Tree<'a>, el: &'a Element) {
            let first = tree.attrs.len();
            tree.attrs.extend(
                el.attrs
                    .iter()
                    .map(|(k, v)| (k.as_str(), Cow::Borrowed(v.as_str()))),
            );
            let id = tree.push_node(&el.name, first);
            tree.push_text(id, Cow::Borrowed(&el.text));
            for c in &el.children {
                add(tree, c);
            }
            tree.close(id);
        }
        let mut tree = Tree::default();
        add(&mut tree, el);
        tree
    }
}

/// `part` as a slice of `whole`, when it lies inside it.
fn within<'a>(whole: &'a str, part: &str) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    whole.get(start..start.checked_add(part.len())?)
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

/// An error envelope: `<lapor status="error"><kode>…</kode><pesan>…</pesan></lapor>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEnvelope {
    pub kode: String,
    pub pesan: String,
}

/// A `<laporan>` that could not be used, kept with its raw XML and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SetAside {
    pub tracking_id: Option<TrackingId>,
    pub reason: String,
    pub raw: String,
}

/// A complaint with the exact XML it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawComplaint {
    pub complaint: Complaint,
    pub raw: String,
}

/// One page of `getstream`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamPage {
    pub items: Vec<RawComplaint>,
    pub set_aside: Vec<SetAside>,
    /// The `<lanjut>` key: more remain after it. `None`: the stream is exhausted for now.
    pub next: Option<StreamKey>,
}

/// The answer to a write (endpoints 5–8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteAnswer {
    pub tracking_id: TrackingId,
    pub transaksi_id: String,
    /// The server had seen this `ref` before and applied nothing this time.
    pub duplikat: bool,
}

/// What a response document says at the top level.
pub enum Outcome<T> {
    Ok(T),
    Error(ErrorEnvelope),
}

fn envelope_from(root: &Root, children: &[Element]) -> Option<ErrorEnvelope> {
    if root.attr("status") != Some("error") {
        return None;
    }
    let get = |n: &str| {
        children
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default()
    };
    Some(ErrorEnvelope {
        kode: get("kode"),
        pesan: get("pesan"),
    })
}

fn check_ok(root: &Root) -> Result<(), XmlError> {
    match root.attr("status") {
        Some("ok") => Ok(()),
        Some(other) => Err(XmlError::Invalid(format!(
            "<lapor> has status=\"{other}\" (expected \"ok\" or \"error\")"
        ))),
        None => Err(XmlError::Invalid(
            "<lapor> answer has no status attribute".into(),
        )),
    }
}

/// Parses a `getstream` answer, item by item.
pub fn parse_stream_page(
    text: &str,
    labels: &StatusLabels,
) -> Result<Outcome<StreamPage>, XmlError> {
    let mut page = StreamPage::default();
    let mut others: Vec<Element> = Vec::new();
    let mut lanjut: Option<Result<StreamKey, InvalidItem>> = None;
    let root = walk_lapor(text, |tree, range| match tree.name(0) {
        "laporan" => {
            let raw = text[range].to_string();
            match complaint_from_tree(tree, 0, labels) {
                Ok(complaint) => page.items.push(RawComplaint { complaint, raw }),
                Err(reason) => page.set_aside.push(set_aside(tree, reason, raw)),
            }
        }
        "lanjut" => lanjut = Some(stream_key_from(&tree.to_element(0))),
        _ => others.push(tree.to_element(0)),
    })?;
    if let Some(env) = envelope_from(&root, &others) {
        return Ok(Outcome::Error(env));
    }
    check_ok(&root)?;
    page.next = match lanjut {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => return Err(XmlError::Invalid(format!("bad <lanjut>: {e}"))),
    };
    Ok(Outcome::Ok(page))
}

/// A `<laporan>` (node 0 of `tree`) that cannot be used, with why and its raw XML.
fn set_aside(tree: &Tree<'_>, reason: InvalidItem, raw: String) -> SetAside {
    SetAside {
        tracking_id: tree
            .attr(0, "trackingid")
            .and_then(|t| t.trim().parse().ok()),
        reason: reason.0,
        raw,
    }
}

fn stream_key_from(el: &Element) -> Result<StreamKey, InvalidItem> {
    let sejak = parse_timestamp(el.attr("sejak").ok_or("missing sejak")?)?;
    let setelah = match el.attr("setelah") {
        None => None,
        Some(s) => Some(
            s.trim()
                .parse::<TrackingId>()
                .map_err(|_| format!("setelah '{s}' is not a tracking id"))?,
        ),
    };
    Ok(StreamKey { sejak, setelah })
}

/// Parses a `getlaporan` answer. An invalid `<laporan>` is an error with its reason.
pub fn parse_laporan_answer(
    text: &str,
    labels: &StatusLabels,
) -> Result<Outcome<Result<RawComplaint, SetAside>>, XmlError> {
    let mut found: Option<Result<RawComplaint, SetAside>> = None;
    let mut others = Vec::new();
    let root = walk_lapor(text, |tree, range| {
        if tree.name(0) == "laporan" && found.is_none() {
            let raw = text[range].to_string();
            found = Some(match complaint_from_tree(tree, 0, labels) {
                Ok(complaint) => Ok(RawComplaint { complaint, raw }),
                Err(reason) => Err(set_aside(tree, reason, raw)),
            });
        } else {
            others.push(tree.to_element(0));
        }
    })?;
    if let Some(env) = envelope_from(&root, &others) {
        return Ok(Outcome::Error(env));
    }
    check_ok(&root)?;
    found
        .map(Outcome::Ok)
        .ok_or_else(|| XmlError::Invalid("answer has no <laporan>".into()))
}

/// Parses a file an administrator gives: a bare `<laporan>` element (with or without an
/// XML declaration or BOM) or a whole `getlaporan` answer, as [`parse_laporan_answer`].
pub fn parse_laporan_file(
    text: &str,
    labels: &StatusLabels,
) -> Result<Outcome<Result<RawComplaint, SetAside>>, XmlError> {
    let mut body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with("<?xml")
        && let Some(end) = body.find("?>")
    {
        body = body[end + 2..].trim_start();
    }
    if body.starts_with("<lapor>") || body.starts_with("<lapor ") {
        parse_laporan_answer(body, labels)
    } else {
        parse_laporan_answer(&format!("<lapor status=\"ok\">{body}</lapor>"), labels)
    }
}

/// Parses a write answer (`<trackingid>`, `<transaksiid>`, optional `<duplikat>`).
pub fn parse_write_answer(text: &str) -> Result<Outcome<WriteAnswer>, XmlError> {
    let mut children = Vec::new();
    let root = parse_lapor(text, |el, _| children.push(el))?;
    if let Some(env) = envelope_from(&root, &children) {
        return Ok(Outcome::Error(env));
    }
    check_ok(&root)?;
    let get = |n: &str| {
        children
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.text.trim().to_string())
    };
    let tracking_id = get("trackingid")
        .ok_or_else(|| XmlError::Invalid("write answer has no <trackingid>".into()))?;
    let tracking_id = tracking_id
        .parse()
        .map_err(|_| XmlError::Invalid(format!("trackingid '{tracking_id}' is not a number")))?;
    let transaksi_id = get("transaksiid")
        .ok_or_else(|| XmlError::Invalid("write answer has no <transaksiid>".into()))?;
    Ok(Outcome::Ok(WriteAnswer {
        tracking_id,
        transaksi_id,
        duplikat: get("duplikat").as_deref() == Some("1"),
    }))
}

fn flag(el: &Element, name: &str) -> Result<bool, InvalidItem> {
    flag_value(el.attr(name), name)
}

/// Reads a 0/1 attribute such as `rahasia` or `anonim` (absent is 0).
fn flag_value(value: Option<&str>, name: &str) -> Result<bool, InvalidItem> {
    match value.map(str::trim) {
        None | Some("0") | Some("") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(format!("{name}=\"{other}\" is not 0 or 1").into()),
    }
}

fn opt_text(el: &Element, name: &str) -> Option<String> {
    el.child_text(name)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Maps one `<laporan>` element to a complaint, or says why it cannot be used.
pub fn complaint_from_element(
    el: &Element,
    labels: &StatusLabels,
) -> Result<Complaint, InvalidItem> {
    complaint_from_tree(&mut Tree::of_element(el), 0, labels)
}

/// Where a `<laporan>`'s children are, found in one pass: the first child of each name
/// read once, and the first and the count of each repeated one.
#[derive(Default)]
struct Fields {
    diperbarui: Option<usize>,
    dibuat: Option<usize>,
    status: Option<usize>,
    pelapor: Option<usize>,
    judul: Option<usize>,
    isi: Option<usize>,
    klasifikasi: Option<usize>,
    topik: Option<usize>,
    kanal: Option<usize>,
    lokasi: Option<usize>,
    unit: Option<usize>,
    tag: Repeated,
    lampiran: Repeated,
    tindaklanjut: Repeated,
}

#[derive(Default)]
struct Repeated {
    first: Option<usize>,
    count: usize,
}

impl Fields {
    fn of(tree: &Tree<'_>, el: usize) -> Fields {
        let mut f = Fields::default();
        let mut ignored = None;
        let end = tree.nodes[el].end;
        let mut at = el + 1;
        while at < end {
            let first = match tree.nodes[at].name {
                "diperbarui" => &mut f.diperbarui,
                "dibuat" => &mut f.dibuat,
                "status" => &mut f.status,
                "pelapor" => &mut f.pelapor,
                "judul" => &mut f.judul,
                "isi" => &mut f.isi,
                "klasifikasi" => &mut f.klasifikasi,
                "topik" => &mut f.topik,
                "kanal" => &mut f.kanal,
                "lokasi" => &mut f.lokasi,
                "unit" => &mut f.unit,
                "tag" => f.tag.add(),
                "lampiran" => f.lampiran.add(),
                "tindaklanjut" => f.tindaklanjut.add(),
                _ => &mut ignored,
            };
            first.get_or_insert(at);
            at = tree.nodes[at].end;
        }
        f
    }
}

impl Repeated {
    /// Counts one more, and gives the place for the first.
    fn add(&mut self) -> &mut Option<usize> {
        self.count += 1;
        &mut self.first
    }
}

/// [`complaint_from_element`] on node `el` of a tree, moving its texts out of the tree.
fn complaint_from_tree(
    tree: &mut Tree<'_>,
    el: usize,
    labels: &StatusLabels,
) -> Result<Complaint, InvalidItem> {
    let tracking_id = match tree.attr(el, "trackingid").map(str::trim) {
        None | Some("") => return Err("missing trackingid".into()),
        Some(t) => t
            .parse::<TrackingId>()
            .map_err(|_| format!("trackingid '{t}' is not a decimal integer"))?,
    };
    let f = Fields::of(tree, el);
    let time = |id: usize, what: &str| -> Result<DateTime<Utc>, InvalidItem> {
        parse_timestamp(tree.text(id).trim()).map_err(|e| format!("bad <{what}>: {e}").into())
    };
    let diperbarui = time(f.diperbarui.ok_or("missing <diperbarui>")?, "diperbarui")?;
    let dibuat = f.dibuat.map(|d| time(d, "dibuat")).transpose()?;
    let status_label = tree.text(f.status.ok_or("missing <status>")?);
    let status = labels
        .parse(&status_label)
        .ok_or_else(|| format!("unknown status label '{}'", status_label.trim()))?;
    let anonim = flag_value(tree.attr(el, "anonim"), "anonim")?;
    let pelapor = match f.pelapor {
        Some(p) if !anonim => Some(Reporter {
            namadepan: tree.take_child_text(p, "namadepan"),
            namabelakang: tree.take_child_text(p, "namabelakang"),
            email: tree.take_child_text(p, "email"),
            telpon: tree.take_child_text(p, "telpon"),
        }),
        _ => None,
    };
    let mut thread = Vec::with_capacity(f.tindaklanjut.count);
    let mut at = f.tindaklanjut.first;
    while let Some(t) = at {
        let oleh_s = tree.attr(t, "oleh").unwrap_or_default();
        let oleh = Author::parse(oleh_s)
            .ok_or_else(|| format!("thread entry has unknown oleh=\"{oleh_s}\""))?;
        let waktu = parse_timestamp(tree.attr(t, "waktu").unwrap_or_default())
            .map_err(|e| format!("bad thread entry waktu: {e}"))?;
        let transaksi_id = tree.attr(t, "transaksiid").unwrap_or_default().to_string();
        let unit = tree.attr(t, "unit").map(str::to_string);
        let ref_ = tree.attr(t, "ref").map(str::to_string);
        thread.push(ThreadEntry {
            transaksi_id,
            oleh,
            unit,
            waktu,
            ref_,
            isi: tree.take_child_text(t, "isi"),
        });
        at = tree.child_after(el, Some(t), "tindaklanjut");
    }
    let rahasia = flag_value(tree.attr(el, "rahasia"), "rahasia")?;
    let topik = tree
        .take_reference(f.topik, "id")
        .map(|(id, name)| TopicRef { id, name });
    let lokasi = tree
        .take_reference(f.lokasi, "kode")
        .map(|(kode, name)| Location { kode, name });
    let unit = tree
        .take_reference(f.unit, "id")
        .map(|(id, name)| UnitRef { id, name });
    let mut tags = Vec::with_capacity(f.tag.count);
    let mut at = f.tag.first;
    while let Some(t) = at {
        tags.push(tree.take_text(t));
        at = tree.child_after(el, Some(t), "tag");
    }
    let mut lampiran = Vec::with_capacity(f.lampiran.count);
    let mut at = f.lampiran.first;
    while let Some(l) = at {
        lampiran.push(Attachment {
            url: tree.attr(l, "url").unwrap_or_default().to_string(),
            jenis: tree.attr(l, "jenis").unwrap_or_default().to_string(),
        });
        at = tree.child_after(el, Some(l), "lampiran");
    }
    Ok(Complaint {
        tracking_id,
        rahasia,
        anonim,
        judul: tree.take_text_of(f.judul),
        isi: tree.take_text_of(f.isi),
        klasifikasi: tree.trimmed_text(f.klasifikasi),
        topik,
        tags,
        kanal: tree.trimmed_text(f.kanal),
        lokasi,
        pelapor,
        status,
        unit,
        dibuat,
        diperbarui,
        lampiran,
        thread,
    })
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

pub use crate::model::{WriteAction, WriteRequest, valid_ref};

/// Why an item of an answer (a `<laporan>`, a `<lanjut>` key) is not valid: the reason
/// kept with it when it is set aside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidItem(pub String);

impl From<String> for InvalidItem {
    fn from(s: String) -> Self {
        InvalidItem(s)
    }
}

impl From<&str> for InvalidItem {
    fn from(s: &str) -> Self {
        InvalidItem(s.to_string())
    }
}

impl From<crate::model::BadTimestamp> for InvalidItem {
    fn from(e: crate::model::BadTimestamp) -> Self {
        InvalidItem(e.to_string())
    }
}

/// Any request the stream API accepts (what the simulator parses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    GetStream { key: StreamKey, batas: Option<u32> },
    GetLaporan { tracking_id: TrackingId },
    Write(Box<WriteRequest>),
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn open_lapor(out: &mut String, token: &str) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor token=\"");
    out.push_str(&esc(token));
    out.push_str("\">");
}

/// `getstream` request body.
pub fn write_getstream_request(token: &str, key: &StreamKey, batas: u32) -> String {
    let mut out = String::with_capacity(160);
    open_lapor(&mut out, token);
    let _ = write!(out, "<ambil sejak=\"{}\"", format_wib(key.sejak));
    if let Some(s) = key.setelah {
        let _ = write!(out, " setelah=\"{s}\"");
    }
    let _ = write!(out, " batas=\"{batas}\"/></lapor>");
    out
}

/// `getlaporan` request body.
pub fn write_getlaporan_request(token: &str, tracking_id: TrackingId) -> String {
    let mut out = String::with_capacity(128);
    open_lapor(&mut out, token);
    let _ = write!(out, "<ambil trackingid=\"{tracking_id}\"/></lapor>");
    out
}

fn write_reporter(out: &mut String, p: &Reporter) {
    let _ = write!(
        out,
        "<pelapor><namadepan>{}</namadepan><namabelakang>{}</namabelakang><email>{}</email><telpon>{}</telpon></pelapor>",
        esc(&p.namadepan),
        esc(&p.namabelakang),
        esc(&p.email),
        esc(&p.telpon)
    );
}

fn b(v: bool) -> u8 {
    u8::from(v)
}

/// Body of a write request (endpoints 5–8).
pub fn write_write_request(token: &str, req: &WriteRequest, labels: &StatusLabels) -> String {
    let mut out = String::with_capacity(512);
    open_lapor(&mut out, token);
    let r = esc(&req.ref_);
    match &req.action {
        WriteAction::Disposisi {
            tracking_id,
            unit,
            catatan,
        } => {
            let _ = write!(
                out,
                "<disposisi trackingid=\"{tracking_id}\" unit=\"{}\" ref=\"{r}\"><catatan>{}</catatan></disposisi>",
                esc(unit),
                esc(catatan)
            );
        }
        WriteAction::TindakLanjut {
            tracking_id,
            unit,
            isi,
        } => {
            let _ = write!(
                out,
                "<tindaklanjut trackingid=\"{tracking_id}\" unit=\"{}\" ref=\"{r}\"><isi>{}</isi></tindaklanjut>",
                esc(unit),
                esc(isi)
            );
        }
        WriteAction::SetStatus {
            tracking_id,
            nilai,
            alasan,
        } => {
            let _ = write!(
                out,
                "<status trackingid=\"{tracking_id}\" nilai=\"{}\" ref=\"{r}\"><alasan>{}</alasan></status>",
                esc(labels.label(*nilai)),
                esc(alasan)
            );
        }
        WriteAction::AddStream { laporan: l } => {
            if let (Some(p), false) = (&l.pelapor, l.anonim) {
                write_reporter(&mut out, p);
            }
            let _ = write!(
                out,
                "<laporan rahasia=\"{}\" anonim=\"{}\" ref=\"{r}\"><judul>{}</judul><isi>{}</isi>",
                b(l.rahasia),
                b(l.anonim),
                esc(&l.judul),
                esc(&l.isi)
            );
            if let Some(t) = &l.topik_id {
                let _ = write!(out, "<topik id=\"{}\"/>", esc(t));
            }
            if let Some(k) = &l.lokasi_kode {
                let _ = write!(out, "<lokasi kode=\"{}\"/>", esc(k));
            }
            if let Some(k) = &l.kanal {
                let _ = write!(out, "<kanal>{}</kanal>", esc(k));
            }
            out.push_str("</laporan>");
        }
    }
    out.push_str("</lapor>");
    out
}

/// Parses any stream-API request: the token and what it asks. Used by the simulator.
pub fn parse_request(text: &str, labels: &StatusLabels) -> Result<(String, Request), XmlError> {
    let mut children = Vec::new();
    let root = parse_lapor(text, |el, _| children.push(el))?;
    let token = root.attr("token").unwrap_or_default().to_string();
    let invalid = |m: &str| XmlError::Invalid(m.to_string());
    let num = |el: &Element, a: &str| -> Result<TrackingId, XmlError> {
        el.attr(a)
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| XmlError::Invalid(format!("<{}> needs a numeric {a}", el.name)))
    };
    let ref_of = |el: &Element| -> Result<String, XmlError> {
        let r = el.attr("ref").unwrap_or_default();
        if valid_ref(r) {
            Ok(r.to_string())
        } else {
            Err(XmlError::Invalid(
                "ref must be 1 to 64 characters of A-Z a-z 0-9 . _ -".into(),
            ))
        }
    };
    let first = children
        .iter()
        .find(|c| c.name != "pelapor")
        .ok_or_else(|| invalid("the request is empty"))?;
    let req = match first.name.as_str() {
        "ambil" if first.attr("trackingid").is_some() => Request::GetLaporan {
            tracking_id: num(first, "trackingid")?,
        },
        "ambil" => {
            let key = stream_key_from(first).map_err(|e| XmlError::Invalid(e.to_string()))?;
            let batas = match first.attr("batas") {
                None => None,
                Some(v) => Some(
                    v.trim()
                        .parse()
                        .map_err(|_| invalid("batas must be a number"))?,
                ),
            };
            Request::GetStream { key, batas }
        }
        "disposisi" => Request::Write(Box::new(WriteRequest {
            ref_: ref_of(first)?,
            action: WriteAction::Disposisi {
                tracking_id: num(first, "trackingid")?,
                unit: first.attr("unit").unwrap_or_default().to_string(),
                catatan: first.child_text("catatan").unwrap_or_default().to_string(),
            },
        })),
        "tindaklanjut" => Request::Write(Box::new(WriteRequest {
            ref_: ref_of(first)?,
            action: WriteAction::TindakLanjut {
                tracking_id: num(first, "trackingid")?,
                unit: first.attr("unit").unwrap_or_default().to_string(),
                isi: first.child_text("isi").unwrap_or_default().to_string(),
            },
        })),
        "status" => {
            let nilai = first.attr("nilai").unwrap_or_default();
            Request::Write(Box::new(WriteRequest {
                ref_: ref_of(first)?,
                action: WriteAction::SetStatus {
                    tracking_id: num(first, "trackingid")?,
                    nilai: labels
                        .parse(nilai)
                        .ok_or_else(|| XmlError::Invalid(format!("unknown status '{nilai}'")))?,
                    alasan: first.child_text("alasan").unwrap_or_default().to_string(),
                },
            }))
        }
        "laporan" => {
            let anonim = flag(first, "anonim").map_err(|e| XmlError::Invalid(e.0))?;
            let pelapor = children
                .iter()
                .find(|c| c.name == "pelapor")
                .map(|p| Reporter {
                    namadepan: p.child_text("namadepan").unwrap_or_default().to_string(),
                    namabelakang: p.child_text("namabelakang").unwrap_or_default().to_string(),
                    email: p.child_text("email").unwrap_or_default().to_string(),
                    telpon: p.child_text("telpon").unwrap_or_default().to_string(),
                });
            Request::Write(Box::new(WriteRequest {
                ref_: ref_of(first)?,
                action: WriteAction::AddStream {
                    laporan: NewComplaint {
                        rahasia: flag(first, "rahasia").map_err(|e| XmlError::Invalid(e.0))?,
                        anonim,
                        pelapor: if anonim { None } else { pelapor },
                        judul: first.child_text("judul").unwrap_or_default().to_string(),
                        isi: first.child_text("isi").unwrap_or_default().to_string(),
                        topik_id: first
                            .child("topik")
                            .and_then(|t| t.attr("id"))
                            .map(str::to_string),
                        lokasi_kode: first
                            .child("lokasi")
                            .and_then(|t| t.attr("kode"))
                            .map(str::to_string),
                        kanal: opt_text(first, "kanal"),
                    },
                },
            }))
        }
        other => return Err(XmlError::Invalid(format!("unknown request <{other}>"))),
    };
    Ok((token, req))
}

// ---------------------------------------------------------------------------------------
// Responses, written (the simulator's side)
// ---------------------------------------------------------------------------------------

/// Writes one `<laporan>` element as the platform does.
pub fn write_complaint(out: &mut String, c: &Complaint, labels: &StatusLabels) {
    let _ = write!(
        out,
        "<laporan trackingid=\"{}\" rahasia=\"{}\" anonim=\"{}\">",
        c.tracking_id,
        b(c.rahasia),
        b(c.anonim)
    );
    let _ = write!(
        out,
        "<judul>{}</judul><isi>{}</isi>",
        esc(&c.judul),
        esc(&c.isi)
    );
    if let Some(k) = &c.klasifikasi {
        let _ = write!(out, "<klasifikasi>{}</klasifikasi>", esc(k));
    }
    if let Some(t) = &c.topik {
        let _ = write!(out, "<topik id=\"{}\">{}</topik>", esc(&t.id), esc(&t.name));
    }
    for t in &c.tags {
        let _ = write!(out, "<tag>{}</tag>", esc(t));
    }
    if let Some(k) = &c.kanal {
        let _ = write!(out, "<kanal>{}</kanal>", esc(k));
    }
    if let Some(l) = &c.lokasi {
        let _ = write!(
            out,
            "<lokasi kode=\"{}\">{}</lokasi>",
            esc(&l.kode),
            esc(&l.name)
        );
    }
    if let (Some(p), false) = (&c.pelapor, c.anonim) {
        write_reporter(out, p);
    }
    let _ = write!(out, "<status>{}</status>", esc(labels.label(c.status)));
    if let Some(u) = &c.unit {
        let _ = write!(out, "<unit id=\"{}\">{}</unit>", esc(&u.id), esc(&u.name));
    }
    if let Some(d) = c.dibuat {
        let _ = write!(out, "<dibuat>{}</dibuat>", format_wib(d));
    }
    let _ = write!(out, "<diperbarui>{}</diperbarui>", format_wib(c.diperbarui));
    for l in &c.lampiran {
        let _ = write!(
            out,
            "<lampiran url=\"{}\" jenis=\"{}\"/>",
            esc(&l.url),
            esc(&l.jenis)
        );
    }
    for t in &c.thread {
        let _ = write!(
            out,
            "<tindaklanjut transaksiid=\"{}\" oleh=\"{}\"",
            esc(&t.transaksi_id),
            t.oleh.as_str()
        );
        if let Some(u) = &t.unit {
            let _ = write!(out, " unit=\"{}\"", esc(u));
        }
        let _ = write!(out, " waktu=\"{}\"", format_wib(t.waktu));
        if let Some(r) = &t.ref_ {
            let _ = write!(out, " ref=\"{}\"", esc(r));
        }
        let _ = write!(out, "><isi>{}</isi></tindaklanjut>", esc(&t.isi));
    }
    out.push_str("</laporan>");
}

/// Writes a `getstream` answer.
pub fn write_stream_page<'a>(
    items: impl IntoIterator<Item = &'a Complaint>,
    next: Option<&StreamKey>,
    labels: &StatusLabels,
) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"ok\">");
    for c in items {
        out.push('\n');
        write_complaint(&mut out, c, labels);
    }
    if let Some(k) = next {
        let _ = write!(out, "\n<lanjut sejak=\"{}\"", format_wib(k.sejak));
        if let Some(s) = k.setelah {
            let _ = write!(out, " setelah=\"{s}\"");
        }
        out.push_str("/>");
    }
    out.push_str("\n</lapor>\n");
    out
}

/// Writes a `getlaporan` answer.
pub fn write_laporan_answer(c: &Complaint, labels: &StatusLabels) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"ok\">");
    write_complaint(&mut out, c, labels);
    out.push_str("</lapor>\n");
    out
}

/// Writes a write answer.
pub fn write_write_answer(a: &WriteAnswer) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"ok\"><trackingid>{}</trackingid><transaksiid>{}</transaksiid>",
        a.tracking_id,
        esc(&a.transaksi_id)
    );
    if a.duplikat {
        out.push_str("<duplikat>1</duplikat>");
    }
    out.push_str("</lapor>\n");
    out
}

/// Writes a stream-API error envelope.
pub fn write_error_envelope(kode: &str, pesan: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"error\"><kode>{}</kode><pesan>{}</pesan></lapor>\n",
        esc(kode),
        esc(pesan)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<lapor status="ok">
  <laporan trackingid="1916449" rahasia="0" anonim="0">
    <judul>Jalan berlubang di depan SD Triharjo</judul>
    <isi>Sudah dua minggu &amp; membahayakan &#x41;</isi>
    <klasifikasi>pengaduan</klasifikasi>
    <topik id="5">Pekerjaan Umum dan Penataan Ruang</topik>
    <tag>jalan</tag><tag>infrastruktur</tag>
    <kanal>android</kanal>
    <lokasi kode="34.01.02.2006">Kalurahan Triharjo, Kapanewon Wates</lokasi>
    <pelapor><namadepan>Sri</namadepan><namabelakang>Lestari</namabelakang>
      <email>sri@example.org</email><telpon>081200000000</telpon></pelapor>
    <status>Proses</status>
    <unit id="2417">Dinas Pekerjaan Umum</unit>
    <dibuat>2026-11-20T08:15:00+07:00</dibuat>
    <diperbarui>2026-11-21 10:00:00</diperbarui>
    <lampiran url="https://storage.lapor.go.id/app/uploads/public/5a1/b2c/foto.jpg" jenis="image/jpeg"/>
    <tindaklanjut transaksiid="TL-0000123" oleh="instansi" unit="2417" waktu="2026-11-21T10:00:00+07:00" ref="01JDQ8X0"><isi>Sudah kami terima.</isi></tindaklanjut>
    <ekstra>unknown elements are ignored</ekstra>
  </laporan>
  <laporan rahasia="0" anonim="1"><status>Proses</status><diperbarui>2026-11-21T10:00:00+07:00</diperbarui></laporan>
  <laporan trackingid="1916502" rahasia="1" anonim="1"><status>Belum Ditindaklanjuti</status><diperbarui>kemarin</diperbarui></laporan>
  <laporan trackingid="1916503" rahasia="1" anonim="1"><status>Belum Ditindaklanjuti</status><diperbarui>2026-11-21T03:00:01Z</diperbarui></laporan>
  <lanjut sejak="2026-11-21T10:00:01+07:00" setelah="1916503"/>
</lapor>"#;

    fn page(text: &str) -> StreamPage {
        match parse_stream_page(text, &StatusLabels::default()).unwrap() {
            Outcome::Ok(p) => p,
            Outcome::Error(e) => panic!("unexpected envelope {e:?}"),
        }
    }

    #[test]
    fn page_items_set_aside_and_continuation() {
        let p = page(PAGE);
        assert_eq!(p.items.len(), 2);
        let c = &p.items[0].complaint;
        assert_eq!(c.tracking_id, 1916449);
        assert_eq!(c.isi, "Sudah dua minggu & membahayakan A");
        assert_eq!(c.tags, vec!["jalan", "infrastruktur"]);
        assert_eq!(c.thread[0].ref_.as_deref(), Some("01JDQ8X0"));
        assert_eq!(
            c.diperbarui,
            parse_timestamp("2026-11-21T03:00:00Z").unwrap()
        );
        assert!(
            p.items[0]
                .raw
                .starts_with("<laporan trackingid=\"1916449\"")
        );
        assert!(p.items[0].raw.ends_with("</laporan>"));
        assert_eq!(p.set_aside.len(), 2);
        assert_eq!(p.set_aside[0].reason, "missing trackingid");
        assert_eq!(p.set_aside[1].tracking_id, Some(1916502));
        assert!(
            p.set_aside[1].reason.contains("diperbarui"),
            "{}",
            p.set_aside[1].reason
        );
        assert_eq!(p.next.unwrap().setelah, Some(1916503));
    }

    #[test]
    fn split_text_and_escaped_attributes_read_whole() {
        let doc = r#"<lapor status="ok"><laporan trackingid="7" anonim="0">
<judul>a<!-- c -->b&amp;<![CDATA[<c>]]><em>skipped</em>d&#x41;</judul><isi>one</isi>
<tag> spaced </tag><tag>x&lt;y</tag>
<topik id="&#x35;">Per&apos;hubungan</topik><lokasi kode=" 34.01 ">L</lokasi>
<pelapor><namadepan>Sri &amp; Co</namadepan><email>s@e.org</email></pelapor>
<status>Proses</status><diperbarui> 2026-11-21T10:00:00+07:00 </diperbarui>
<lampiran url="https://x/?a=1&amp;b=2" jenis="image/jpeg"/><lampiran url="u2"/>
</laporan></lapor>"#;
        let p = page(doc);
        let c = &p.items[0].complaint;
        assert_eq!(c.judul, "ab&<c>dA");
        assert_eq!(c.tags, vec![" spaced ", "x<y"]);
        let topik = c.topik.as_ref().unwrap();
        assert_eq!(
            (topik.id.as_str(), topik.name.as_str()),
            ("5", "Per'hubungan")
        );
        assert_eq!(c.lokasi.as_ref().unwrap().kode, "34.01");
        let pelapor = c.pelapor.as_ref().unwrap();
        assert_eq!(pelapor.namadepan, "Sri & Co");
        assert_eq!(pelapor.namabelakang, "");
        assert_eq!(c.lampiran[0].url, "https://x/?a=1&b=2");
        assert_eq!(c.lampiran[1].jenis, "");
        // The owned route (parse_lapor's Element) reads the same complaint.
        let labels = StatusLabels::default();
        let mut via_element = Vec::new();
        parse_lapor(doc, |el, _| {
            via_element.push(complaint_from_element(&el, &labels).unwrap())
        })
        .unwrap();
        assert_eq!(via_element, vec![c.clone()]);
    }

    #[test]
    fn written_page_reads_back_equal() {
        let p = page(PAGE);
        let labels = StatusLabels::default();
        let items: Vec<&Complaint> = p.items.iter().map(|i| &i.complaint).collect();
        let text = write_stream_page(items.iter().copied(), p.next.as_ref(), &labels);
        let back = page(&text);
        let back_items: Vec<&Complaint> = back.items.iter().map(|i| &i.complaint).collect();
        assert_eq!(items, back_items);
        assert_eq!(back.next, p.next);
    }

    #[test]
    fn documents_rejected_whole() {
        let labels = StatusLabels::default();
        let doctype = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><lapor status=\"ok\"></lapor>";
        assert!(matches!(
            parse_stream_page(doctype, &labels),
            Err(XmlError::Doctype)
        ));
        let truncated = &PAGE[..PAGE.len() / 2];
        assert!(matches!(
            parse_stream_page(truncated, &labels),
            Err(XmlError::Truncated(_))
        ));
        let entity =
            "<lapor status=\"ok\"><laporan trackingid=\"1\"><isi>&lol;</isi></laporan></lapor>";
        assert!(matches!(
            parse_stream_page(entity, &labels),
            Err(XmlError::Invalid(_))
        ));
        assert!(matches!(
            as_utf8(b"<lapor>\xff</lapor>"),
            Err(XmlError::NotUtf8(7))
        ));
        let deep = format!(
            "<lapor status=\"ok\">{}{}</lapor>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert!(matches!(
            parse_stream_page(&deep, &labels),
            Err(XmlError::TooDeep)
        ));
        let mismatched = "<lapor status=\"ok\"><laporan></lapor>";
        assert!(parse_stream_page(mismatched, &labels).is_err());
    }

    #[test]
    fn error_envelope_is_read_whatever_else() {
        let env = write_error_envelope("STATUS_CONFLICT", "Laporan sudah selesai");
        match parse_write_answer(&env).unwrap() {
            Outcome::Error(e) => {
                assert_eq!(e.kode, "STATUS_CONFLICT");
                assert_eq!(e.pesan, "Laporan sudah selesai");
            }
            Outcome::Ok(_) => panic!("envelope read as success"),
        }
    }

    #[test]
    fn requests_round_trip_through_the_simulator_parser() {
        let labels = StatusLabels::default();
        let req = WriteRequest {
            ref_: "01JDQ8W7T3V5K2M9N4P6R8S0TA".into(),
            action: WriteAction::SetStatus {
                tracking_id: 1916449,
                nilai: Status::BukanWewenang,
                alasan: "Bukan <kewenangan> & lain".into(),
            },
        };
        let body = write_write_request("{TOKEN}", &req, &labels);
        let (token, parsed) = parse_request(&body, &labels).unwrap();
        assert_eq!(token, "{TOKEN}");
        assert_eq!(parsed, Request::Write(Box::new(req)));
        let key = StreamKey {
            sejak: parse_timestamp("2026-11-01T00:00:00+07:00").unwrap(),
            setelah: Some(1916449),
        };
        let body = write_getstream_request("{T}", &key, 100);
        let (_, parsed) = parse_request(&body, &labels).unwrap();
        assert_eq!(
            parsed,
            Request::GetStream {
                key,
                batas: Some(100)
            }
        );
        assert!(!valid_ref(""));
        assert!(!valid_ref("a b"));
        assert!(valid_ref(&"x".repeat(64)));
        assert!(!valid_ref(&"x".repeat(65)));
    }
}
