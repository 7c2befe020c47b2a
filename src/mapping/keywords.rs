//! Keyword phrases compiled into a byte trie of words, and the scan that finds, in one
//! pass over a complaint's normalised text, every phrase that occurs as a sequence of
//! whole words. A word written with a trailing `*` matches any word that starts with it
//! (`mampet*` matches `mampetnya`); without it the word must match exactly, so `jalan`
//! never matches `jalanan` or `berjalan`.

use super::text::{normalize_into, normalize_words};
use std::collections::HashMap;

/// Shortest stem a `*` word may have: shorter stems match too much.
pub const MIN_STEM_CHARS: usize = 3;

#[derive(Debug, Default, Clone)]
struct Node {
    children: Vec<(u8, u32)>,
    exact: Option<u32>,
    prefix: Option<u32>,
}

/// One compiled phrase: its words as symbols and its display text.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub text: String,
    words: Vec<u32>,
}

/// All phrases of all rules.
#[derive(Debug, Clone)]
pub struct Lexicon {
    nodes: Vec<Node>,
    /// Dense child table of the root (first byte of a word): most words stop here.
    root: Vec<u32>,
    phrases: Vec<Phrase>,
    by_text: HashMap<String, u32>,
    /// Phrases whose first word is the symbol.
    starts: Vec<Vec<u32>>,
    symbols: u32,
}

impl Default for Lexicon {
    fn default() -> Self {
        Lexicon {
            nodes: vec![Node::default()],
            root: vec![u32::MAX; 256],
            phrases: Vec::new(),
            by_text: HashMap::new(),
            starts: Vec::new(),
            symbols: 0,
        }
    }
}

/// A fixed-size set of phrase ids.
#[derive(Debug, Clone, Default)]
pub struct BitSet(Vec<u64>);

impl BitSet {
    pub fn reset(&mut self, n: usize) {
        self.0.clear();
        self.0.resize(n.div_ceil(64), 0);
    }
    pub fn set(&mut self, i: u32) {
        self.0[(i / 64) as usize] |= 1 << (i % 64);
    }
    pub fn get(&self, i: u32) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// Reusable buffers for scanning (one per thread).
#[derive(Debug, Default)]
pub struct Scratch {
    norm: String,
    bounds: Vec<(u32, u32)>,
    syms: Vec<u32>,
    offs: Vec<(u32, u32)>,
    pub title: BitSet,
    pub body: BitSet,
    /// The phrases found in the title / the text, each once, in order of discovery.
    pub found_title: Vec<u32>,
    pub found_body: Vec<u32>,
}

impl Lexicon {
    pub fn phrase(&self, id: u32) -> &Phrase {
        &self.phrases[id as usize]
    }

    /// Compiles a keyword as written in a rule; `Err` says why it cannot be used.
    pub fn add(&mut self, raw: &str) -> Result<u32, String> {
        // (word, is_stem)
        let mut words: Vec<(String, bool)> = Vec::new();
        let mut buf = String::new();
        for piece in raw.split_whitespace() {
            let stem = piece.ends_with('*');
            let body = piece.trim_end_matches('*');
            if body.contains('*') {
                return Err(format!("'*' may only end a word ('{piece}' has it inside)"));
            }
            normalize_into(body, &mut buf);
            let parts: Vec<&str> = buf.split(' ').filter(|w| !w.is_empty()).collect();
            if parts.is_empty() {
                if stem {
                    return Err(format!("'{piece}' has no letters before '*'"));
                }
                continue;
            }
            let last = parts.len() - 1;
            for (i, p) in parts.iter().enumerate() {
                let is_stem = stem && i == last;
                if is_stem && p.chars().count() < MIN_STEM_CHARS {
                    return Err(format!(
                        "the stem '{p}*' is shorter than {MIN_STEM_CHARS} letters and would match too many words"
                    ));
                }
                words.push((p.to_string(), is_stem));
            }
        }
        if words.is_empty() {
            return Err("the keyword has no letters or digits".to_string());
        }
        let text = words
            .iter()
            .map(|(w, s)| if *s { format!("{w}*") } else { w.clone() })
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(id) = self.by_text.get(&text) {
            return Ok(*id);
        }
        let syms: Vec<u32> = words.iter().map(|(w, s)| self.symbol(w, *s)).collect();
        let id = self.phrases.len() as u32;
        self.starts[syms[0] as usize].push(id);
        self.phrases.push(Phrase {
            text: text.clone(),
            words: syms,
        });
        self.by_text.insert(text, id);
        Ok(id)
    }

    fn symbol(&mut self, word: &str, stem: bool) -> u32 {
        let mut n = 0usize;
        for &b in word.as_bytes() {
            n = match self.nodes[n].children.iter().find(|(c, _)| *c == b) {
                Some((_, next)) => *next as usize,
                None => {
                    let next = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[n].children.push((b, next as u32));
                    if n == 0 {
                        self.root[b as usize] = next as u32;
                    }
                    next
                }
            };
        }
        let slot = if stem {
            &mut self.nodes[n].prefix
        } else {
            &mut self.nodes[n].exact
        };
        match slot {
            Some(s) => *s,
            None => {
                let s = self.symbols;
                *slot = Some(s);
                self.symbols += 1;
                self.starts.push(Vec::new());
                s
            }
        }
    }

    /// The number of phrases.
    pub fn phrase_count(&self) -> usize {
        self.phrases.len()
    }

    /// Sets in the title or body set (and list) every phrase that occurs in `text`.
    pub fn scan(&self, text: &str, scratch: &mut Scratch, title: bool) {
        let Scratch {
            norm,
            bounds,
            syms,
            offs,
            title: tb,
            body: bb,
            found_title,
            found_body,
        } = scratch;
        let (out, found) = if title {
            (tb, found_title)
        } else {
            (bb, found_body)
        };
        found.clear();
        out.reset(self.phrases.len());
        normalize_words(text, norm, bounds);
        syms.clear();
        offs.clear();
        for &(a, b) in bounds.iter() {
            let word = &norm[a as usize..b as usize];
            let start = syms.len() as u32;
            let bytes = word.as_bytes();
            let Some(&first) = bytes.first() else {
                offs.push((start, start));
                continue;
            };
            let r = self.root[first as usize];
            if r == u32::MAX {
                offs.push((start, start));
                continue;
            }
            let mut n = r as usize;
            if let Some(p) = self.nodes[n].prefix {
                syms.push(p);
            }
            let mut complete = true;
            for &b in &bytes[1..] {
                match self.nodes[n].children.iter().find(|(c, _)| *c == b) {
                    Some((_, next)) => {
                        n = *next as usize;
                        if let Some(p) = self.nodes[n].prefix {
                            syms.push(p);
                        }
                    }
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete && let Some(e) = self.nodes[n].exact {
                syms.push(e);
            }
            offs.push((start, syms.len() as u32));
        }
        let at = |pos: usize| -> &[u32] {
            let (a, b) = offs[pos];
            &syms[a as usize..b as usize]
        };
        for pos in 0..offs.len() {
            for &s in at(pos) {
                for &p in &self.starts[s as usize] {
                    let words = &self.phrases[p as usize].words;
                    if pos + words.len() > offs.len() {
                        continue;
                    }
                    if words[1..]
                        .iter()
                        .enumerate()
                        .all(|(k, w)| at(pos + 1 + k).contains(w))
                        && !out.get(p)
                    {
                        out.set(p);
                        found.push(p);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(lex: &Lexicon, text: &str, id: u32) -> bool {
        let mut s = Scratch::default();
        lex.scan(text, &mut s, false);
        s.body.get(id)
    }

    #[test]
    fn whole_words_stems_and_phrases() {
        let mut lex = Lexicon::default();
        let jalan = lex.add("jalan").unwrap();
        let berlubang = lex.add("Jalan  BERLUBANG").unwrap();
        let mampet = lex.add("mampet*").unwrap();
        let ktp = lex.add("KTP-el").unwrap();
        assert_eq!(lex.add("jalan berlubang").unwrap(), berlubang);
        assert!(found(&lex, "Jalan rusak", jalan));
        assert!(!found(&lex, "jalanan rusak", jalan));
        assert!(!found(&lex, "sedang berjalan", jalan));
        assert!(found(&lex, "JALAN berlubang!", berlubang));
        assert!(!found(&lex, "jalan yang berlubang", berlubang));
        assert!(found(&lex, "selokan mampetnya parah", mampet));
        assert!(found(&lex, "mampet", mampet));
        assert!(!found(&lex, "mam", mampet));
        assert!(found(&lex, "ktp el saya", ktp));
        assert!(lex.add("ab*").is_err());
        assert!(lex.add("--").is_err());
        assert!(lex.add("a*b").is_err());
    }
}
