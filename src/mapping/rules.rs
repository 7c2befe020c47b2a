//! Compiled routing rules: each condition kind as precomputed data, evaluated against a
//! complaint view in a fixed order (cheapest first). The same evaluation serves routing
//! (stop at the first failure) and explanation (say which condition held or failed).

use super::keywords::{BitSet, Lexicon};
use super::world::{TopicTree, location_within};
use std::ops::Range;

/// Where a rule sends a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A fixed OPD code from `opd.toml`.
    Opd(String),
    /// The Kapanewon whose `wilayah` contains the complaint's location.
    Kapanewon,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Opd(c) => f.write_str(c),
            Target::Kapanewon => f.write_str("kapanewon"),
        }
    }
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub target: Target,
    pub priority: i64,
    /// Index of the rules file and span of the rule's `id` value in it.
    pub file: usize,
    pub span: Range<usize>,
    /// Position in evaluation order (set after sorting).
    pub index: u32,
    /// The stated conditions in evaluation order (set with `index`).
    pub conds: Vec<Cond>,
    pub topics: Vec<u32>,
    pub klasifikasi: Vec<String>,
    pub tags: Vec<String>,
    pub locations: Vec<String>,
    pub channels: Vec<String>,
    pub title_any: Vec<u32>,
    pub any: Vec<u32>,
    pub all: Vec<u32>,
    pub none: Vec<u32>,
    /// `context_any` of a `kewenangan.toml` matter: one of these must also occur.
    pub context: Vec<u32>,
    /// The suggested action shown with the route (matters of `kewenangan.toml`).
    pub advice: Option<String>,
}

/// The parts of a complaint the conditions look at, normalised once.
pub struct View<'a> {
    pub topic: Option<u32>,
    pub topic_raw: Option<&'a str>,
    pub klasifikasi: Option<&'a str>,
    pub kanal: Option<&'a str>,
    pub tags: Vec<String>,
    pub location: Option<&'a str>,
    pub title: &'a BitSet,
    pub body: &'a BitSet,
    pub hits: &'a Hits,
}

/// Which rules' keyword conditions the found phrases satisfy, indexed by rule position;
/// computed once per complaint from the phrases found, through [`Postings`].
#[derive(Debug, Default)]
pub struct Hits {
    any: BitSet,
    title: BitSet,
    none: BitSet,
    all: Vec<u16>,
}

/// For each phrase, the rules that name it in each keyword condition.
#[derive(Debug, Clone, Default)]
pub struct Postings {
    any: Vec<Vec<u32>>,
    title: Vec<Vec<u32>>,
    all: Vec<Vec<u32>>,
    none: Vec<Vec<u32>>,
}

impl Postings {
    pub fn new(rules: &[Rule], phrases: usize) -> Postings {
        let mut p = Postings {
            any: vec![Vec::new(); phrases],
            title: vec![Vec::new(); phrases],
            all: vec![Vec::new(); phrases],
            none: vec![Vec::new(); phrases],
        };
        for r in rules {
            for (list, ids) in [
                (&mut p.any, &r.any),
                (&mut p.title, &r.title_any),
                (&mut p.all, &r.all),
                (&mut p.none, &r.none),
            ] {
                for id in ids {
                    list[*id as usize].push(r.index);
                }
            }
        }
        p
    }

    /// Fills `hits` from the phrases found in the title and the text.
    pub fn fill(
        &self,
        rules: usize,
        title: &[u32],
        body: &[u32],
        in_title: &BitSet,
        hits: &mut Hits,
    ) {
        hits.any.reset(rules);
        hits.title.reset(rules);
        hits.none.reset(rules);
        hits.all.clear();
        hits.all.resize(rules, 0);
        let both = title
            .iter()
            .chain(body.iter().filter(|p| !in_title.get(**p)));
        for &p in both {
            let p = p as usize;
            for &r in &self.any[p] {
                hits.any.set(r);
            }
            for &r in &self.all[p] {
                hits.all[r as usize] += 1;
            }
            for &r in &self.none[p] {
                hits.none.set(r);
            }
        }
        for &p in title {
            for &r in &self.title[p as usize] {
                hits.title.set(r);
            }
        }
    }
}

impl View<'_> {
    fn has(&self, phrase: u32) -> bool {
        self.title.get(phrase) || self.body.get(phrase)
    }
}

/// A condition kind, in evaluation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    Klasifikasi,
    Channel,
    Topic,
    Location,
    Tags,
    TitleAny,
    KeywordsAny,
    KeywordsAll,
    Context,
    KeywordsNone,
}

pub const ORDER: [Cond; 10] = [
    Cond::Klasifikasi,
    Cond::Channel,
    Cond::Topic,
    Cond::Location,
    Cond::Tags,
    Cond::TitleAny,
    Cond::KeywordsAny,
    Cond::KeywordsAll,
    Cond::Context,
    Cond::KeywordsNone,
];

fn quoted(items: impl IntoIterator<Item = String>, limit: usize) -> String {
    let all: Vec<String> = items.into_iter().collect();
    let mut s = all
        .iter()
        .take(limit)
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > limit {
        s.push_str(&format!(", … ({} more)", all.len() - limit));
    }
    s
}

impl Rule {
    /// True when the rule states this condition.
    pub fn states(&self, c: Cond) -> bool {
        match c {
            Cond::Klasifikasi => !self.klasifikasi.is_empty(),
            Cond::Channel => !self.channels.is_empty(),
            Cond::Topic => !self.topics.is_empty(),
            Cond::Location => !self.locations.is_empty(),
            Cond::Tags => !self.tags.is_empty(),
            Cond::TitleAny => !self.title_any.is_empty(),
            Cond::KeywordsAny => !self.any.is_empty(),
            Cond::KeywordsAll => !self.all.is_empty(),
            Cond::Context => !self.context.is_empty(),
            Cond::KeywordsNone => !self.none.is_empty(),
        }
    }

    /// Whether one stated condition holds.
    pub fn holds(&self, c: Cond, v: &View, tree: &TopicTree) -> bool {
        match c {
            Cond::Klasifikasi => v
                .klasifikasi
                .is_some_and(|k| self.klasifikasi.iter().any(|x| x.eq_ignore_ascii_case(k))),
            Cond::Channel => v
                .kanal
                .is_some_and(|k| self.channels.iter().any(|x| x.eq_ignore_ascii_case(k))),
            Cond::Topic => v
                .topic
                .is_some_and(|t| tree.lineage(t).iter().any(|a| self.topics.contains(a))),
            Cond::Location => v
                .location
                .is_some_and(|l| self.locations.iter().any(|p| location_within(l, p))),
            Cond::Tags => v.tags.iter().any(|t| self.tags.contains(t)),
            Cond::TitleAny => v.hits.title.get(self.index),
            Cond::KeywordsAny => v.hits.any.get(self.index),
            Cond::KeywordsAll => v.hits.all[self.index as usize] as usize == self.all.len(),
            Cond::Context => self.context.iter().any(|p| v.has(*p)),
            Cond::KeywordsNone => !v.hits.none.get(self.index),
        }
    }

    /// The conditions this rule states, in evaluation order.
    pub fn stated(&self) -> Vec<Cond> {
        ORDER.into_iter().filter(|c| self.states(*c)).collect()
    }

    /// The first stated condition that fails, if any.
    pub fn first_failure(&self, v: &View, tree: &TopicTree) -> Option<Cond> {
        self.conds
            .iter()
            .copied()
            .find(|c| !self.holds(*c, v, tree))
    }

    /// A sentence about a condition that held.
    pub fn describe_held(&self, c: Cond, v: &View, tree: &TopicTree, lex: &Lexicon) -> String {
        let found = |ids: &[u32], title_only: bool| {
            quoted(
                ids.iter()
                    .filter(|p| {
                        if title_only {
                            v.title.get(**p)
                        } else {
                            v.has(**p)
                        }
                    })
                    .map(|p| lex.phrase(*p).text.clone()),
                5,
            )
        };
        match c {
            Cond::Klasifikasi => format!(
                "klasifikasi \"{}\" is one of {}",
                v.klasifikasi.unwrap_or(""),
                quoted(self.klasifikasi.iter().cloned(), 5)
            ),
            Cond::Channel => format!(
                "channel \"{}\" is one of {}",
                v.kanal.unwrap_or(""),
                quoted(self.channels.iter().cloned(), 5)
            ),
            Cond::Topic => format!(
                "topic {} lies under {}",
                v.topic.map_or(String::new(), |t| format!(
                    "{} ({})",
                    tree.id(t),
                    tree.name(t)
                )),
                quoted(self.topics.iter().map(|t| tree.id(*t).to_string()), 8)
            ),
            Cond::Location => format!(
                "location {} lies within {}",
                v.location.unwrap_or(""),
                quoted(self.locations.iter().cloned(), 5)
            ),
            Cond::Tags => format!(
                "tags include {}",
                quoted(v.tags.iter().filter(|t| self.tags.contains(t)).cloned(), 5)
            ),
            Cond::TitleAny => format!("title contains {}", found(&self.title_any, true)),
            Cond::KeywordsAny => format!("text contains {}", found(&self.any, false)),
            Cond::KeywordsAll => format!("text contains all of {}", found(&self.all, false)),
            Cond::Context => format!("text also contains {}", found(&self.context, false)),
            Cond::KeywordsNone => format!(
                "text contains none of {}",
                quoted(self.none.iter().map(|p| lex.phrase(*p).text.clone()), 5)
            ),
        }
    }

    /// A sentence about a condition that failed.
    pub fn describe_failed(&self, c: Cond, v: &View, tree: &TopicTree, lex: &Lexicon) -> String {
        let phrases = |ids: &[u32]| quoted(ids.iter().map(|p| lex.phrase(*p).text.clone()), 5);
        match c {
            Cond::Klasifikasi => format!(
                "klasifikasi {} is not one of {}",
                v.klasifikasi
                    .map_or("(none)".to_string(), |k| format!("\"{k}\"")),
                quoted(self.klasifikasi.iter().cloned(), 5)
            ),
            Cond::Channel => format!(
                "channel {} is not one of {}",
                v.kanal.map_or("(none)".to_string(), |k| format!("\"{k}\"")),
                quoted(self.channels.iter().cloned(), 5)
            ),
            Cond::Topic => format!(
                "topic {} does not lie under {}",
                match (v.topic, v.topic_raw) {
                    (Some(t), _) => format!("{} ({})", tree.id(t), tree.name(t)),
                    (None, Some(raw)) => format!("{raw} (not in the topic tree)"),
                    (None, None) => "(none)".to_string(),
                },
                quoted(self.topics.iter().map(|t| tree.id(*t).to_string()), 8)
            ),
            Cond::Location => format!(
                "location {} is not within {}",
                v.location.unwrap_or("(none)"),
                quoted(self.locations.iter().cloned(), 5)
            ),
            Cond::Tags => format!("no tag among {}", quoted(self.tags.iter().cloned(), 5)),
            Cond::TitleAny => format!("title contains none of {}", phrases(&self.title_any)),
            Cond::KeywordsAny => format!("text contains none of {}", phrases(&self.any)),
            Cond::KeywordsAll => format!(
                "text lacks {}",
                quoted(
                    self.all
                        .iter()
                        .filter(|p| !v.has(**p))
                        .map(|p| lex.phrase(*p).text.clone()),
                    5
                )
            ),
            Cond::Context => format!("text contains none of {}", phrases(&self.context)),
            Cond::KeywordsNone => format!(
                "text contains the excluded {}",
                quoted(
                    self.none
                        .iter()
                        .filter(|p| v.has(**p))
                        .map(|p| lex.phrase(*p).text.clone()),
                    5
                )
            ),
        }
    }

    /// True when `self` matches every complaint that `later` matches (so `later`, which
    /// is evaluated after `self`, can never win). Conservative: `false` when unsure.
    pub fn covers(&self, later: &Rule, tree: &TopicTree) -> bool {
        let subset = |a: &[String], b: &[String]| {
            a.is_empty() || (!b.is_empty() && b.iter().all(|x| a.contains(x)))
        };
        if !subset(&self.klasifikasi, &later.klasifikasi)
            || !subset(&self.channels, &later.channels)
            || !subset(&self.tags, &later.tags)
        {
            return false;
        }
        let topics_ok = self.topics.is_empty()
            || (!later.topics.is_empty()
                && later
                    .topics
                    .iter()
                    .all(|t| tree.lineage(*t).iter().any(|a| self.topics.contains(a))));
        let locations_ok = self.locations.is_empty()
            || (!later.locations.is_empty()
                && later
                    .locations
                    .iter()
                    .all(|l| self.locations.iter().any(|p| location_within(l, p))));
        // A kapanewon target needs a location in a kapanewon; only as broad as `later`
        // when `later` needs that too.
        let target_ok = self.target != Target::Kapanewon
            || later.target == Target::Kapanewon
            || later.locations.iter().all(|l| l.len() >= 8) && !later.locations.is_empty();
        let title_ok = self.title_any.is_empty()
            || (!later.title_any.is_empty()
                && later.title_any.iter().all(|p| self.title_any.contains(p)));
        let any_ok = self.any.is_empty()
            || later.all.iter().any(|p| self.any.contains(p))
            || (!later.any.is_empty() && later.any.iter().all(|p| self.any.contains(p)))
            || (!later.title_any.is_empty()
                && later.title_any.iter().all(|p| self.any.contains(p)));
        let all_ok = self.all.iter().all(|p| later.all.contains(p));
        let none_ok = self.none.iter().all(|p| later.none.contains(p));
        let context_ok = self.context.is_empty()
            || (!later.context.is_empty()
                && later.context.iter().all(|p| self.context.contains(p)));
        topics_ok
            && locations_ok
            && target_ok
            && title_ok
            && any_ok
            && all_ok
            && none_ok
            && context_ok
    }
}
