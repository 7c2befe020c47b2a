//! Reading `<lapor>` documents: the checked walk over the root's children, each child as a
//! small [`Element`] (owned) or a reused borrowed [`Tree`] with its raw byte range.

use super::*;

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
pub(super) fn walk_lapor<'a>(
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
pub(super) struct Tree<'a> {
    pub(super) nodes: Vec<Node<'a>>,
    pub(super) attrs: Vec<(&'a str, Cow<'a, str>)>,
    /// Text pieces in document order, linked per node (a node's text may be split by
    /// children, comments, entity references or CDATA).
    pieces: Vec<Piece<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Node<'a> {
    pub(super) name: &'a str,
    pub(super) attrs: (usize, usize),
    /// One past this node's last descendant: where its next sibling starts.
    pub(super) end: usize,
    pub(super) text_head: usize,
    pub(super) text_tail: usize,
}

#[derive(Debug)]
struct Piece<'a> {
    text: Cow<'a, str>,
    next: usize,
}

impl<'a> Tree<'a> {
    pub(super) fn clear(&mut self) {
        self.nodes.clear();
        self.attrs.clear();
        self.pieces.clear();
    }

    /// Adds a node for a start tag (attributes read and checked); [`Tree::close`] ends it.
    pub(super) fn open(&mut self, text: &'a str, s: &BytesStart<'_>) -> Result<usize, XmlError> {
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

    pub(super) fn push_node(&mut self, name: &'a str, first_attr: usize) -> usize {
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

    pub(super) fn close(&mut self, id: usize) {
        self.nodes[id].end = self.nodes.len();
    }

    pub(super) fn push_text(&mut self, id: usize, text: Cow<'a, str>) {
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

    pub(super) fn name(&self, id: usize) -> &'a str {
        self.nodes[id].name
    }

    pub(super) fn attr(&self, id: usize, name: &str) -> Option<&str> {
        let (from, to) = self.nodes[id].attrs;
        self.attrs[from..to]
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The first child of `parent` named `name` that comes after `after` (or the first
    /// of all when `after` is `None`).
    pub(super) fn child_after(
        &self,
        parent: usize,
        after: Option<usize>,
        name: &str,
    ) -> Option<usize> {
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

    pub(super) fn child(&self, parent: usize, name: &str) -> Option<usize> {
        self.child_after(parent, None, name)
    }

    /// The text directly inside a node (entities resolved, CDATA included).
    pub(super) fn text(&self, id: usize) -> Cow<'_, str> {
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
    pub(super) fn take_text(&mut self, id: usize) -> String {
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

    pub(super) fn joined(&self, id: usize) -> String {
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
    pub(super) fn take_child_text(&mut self, parent: usize, name: &str) -> String {
        self.take_text_of(self.child(parent, name))
    }

    /// The text of a node that may be missing, moved out; empty when it is.
    pub(super) fn take_text_of(&mut self, id: Option<usize>) -> String {
        id.map(|c| self.take_text(c)).unwrap_or_default()
    }

    /// The trimmed text of a node that may be missing, unless that is empty.
    pub(super) fn trimmed_text(&self, id: Option<usize>) -> Option<String> {
        id.map(|c| self.text(c).trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// For `<topik id="5">name</topik>` and the like: a node's trimmed `key` attribute
    /// and its text (moved out), if the node is there and has that attribute.
    pub(super) fn take_reference(
        &mut self,
        id: Option<usize>,
        key: &str,
    ) -> Option<(String, String)> {
        let c = id?;
        let value = self.attr(c, key)?.trim().to_string();
        Some((value, self.take_text(c)))
    }

    /// An owned copy of the subtree at `id`.
    pub(super) fn to_element(&self, id: usize) -> Element {
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
}

/// `part` as a slice of `whole`, when it lies inside it.
fn within<'a>(whole: &'a str, part: &str) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    whole.get(start..start.checked_add(part.len())?)
}
