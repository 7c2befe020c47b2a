//! Routing: which OPD of Kulon Progo must act on a complaint. This module owns the
//! mapping files in `mappings/` (`opd.toml`, the OPD registry with upstream unit ids,
//! aliases and validity dates; `rules.toml` or `rules/*.toml`, the routing rules), their
//! validation with file/line/column diagnostics, the compiled router that gives every
//! complaint exactly one OPD with the rule that decided it, explanations for people,
//! previews of the effect of an edit, and the reloader that keeps the last valid
//! revision active when an edit is invalid.
//!
//! Semantics of the rules (also documented in `mappings/rules.toml`):
//! - all conditions a rule states must hold; inside one list, any item may match
//!   (except `keywords_all`, where every phrase must occur, and `keywords_none`, where
//!   none may);
//! - a topic matches itself and its descendants; a location prefix matches its
//!   kalurahan; keywords match whole words after lower-casing and accent removal;
//! - the rule with the highest priority wins, ties go to the rule that comes first
//!   (`rules.toml` before `rules/*.toml`, those by file name, then order in the file);
//! - a rule whose target OPD is not valid on the routing date is skipped;
//! - `target = "kapanewon"` sends the complaint to the Kapanewon whose `wilayah`
//!   contains its location (skipped when the complaint has no such location);
//! - when nothing matches, the complaint goes to [`TRIAGE`] with rule id `fallback`.

mod active;
pub mod adopt;
pub mod history;
pub mod kewenangan;
mod keywords;
mod load;
mod raw;
mod reload;
mod rules;
pub mod text;
pub mod vocabulary;
pub mod world;

pub use active::{Active, ActiveError, MappingRouter, check_against, embedded, load_active};
pub use load::{CHANNELS, KAPANEWON_TARGET, KLASIFIKASI, SourceFile, read_sources, revision_of};
pub use reload::{MappingState, ReloadOutcome};

use crate::diag::Diagnostic;
use crate::model::{Complaint, Topic, Unit};
use chrono::NaiveDate;
use keywords::{Lexicon, Scratch};
use rules::{Hits, ORDER, Postings, Rule, Target, View};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use world::TopicTree;

/// The administrator's triage desk: where complaints go when no rule decides.
pub const TRIAGE: &str = "ADMIN";
/// The rule id recorded when no rule matched.
pub const FALLBACK_RULE: &str = "fallback";
/// The rule id recorded when the evidence is too close to call (the complaint goes to
/// the triage desk with its candidates).
pub const DOUBT_RULE: &str = "ragu";
/// Rules of this priority or more decide alone, without weighing (an administrator's
/// override; the shipped rules stay below it).
pub const DECISIVE_PRIORITY: i64 = 1000;
/// Rules of this priority or more are specific: when one wins, other evidence does not
/// send the complaint to triage.
pub const SPECIFIC_PRIORITY: i64 = 800;
/// How much stronger another OPD's evidence must be than the winner's for the complaint
/// to go to triage (see [`Candidate::score`]).
pub const DOUBT_MARGIN: u32 = 4;
/// The rule id recorded when no rule matched and similar past complaints decided.
pub const HISTORY_RULE: &str = "riwayat";

/// An OPD (or the triage desk) as `opd.toml` defines it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Opd {
    pub code: String,
    pub name: String,
    /// The upstream unit id (`getunits`); `None` for the triage desk.
    pub unit_id: Option<String>,
    pub aliases: Vec<String>,
    /// For a Kapanewon: the kapanewon code (`34.01.xx`) it serves.
    pub wilayah: Option<String>,
    /// First day the entry applies (inclusive); `None`: always did.
    pub valid_from: Option<NaiveDate>,
    /// Last day the entry applies (inclusive); `None`: still does.
    pub valid_to: Option<NaiveDate>,
    /// Complaints still route to it, but nothing is pushed for it while paused.
    pub paused: bool,
}

impl Opd {
    /// True when the entry applies on `day`.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day <= t)
    }
}

/// Where an entry of `opd.toml` sits, for diagnostics.
#[derive(Debug, Clone)]
struct OpdMeta {
    code_span: Range<usize>,
    unit_span: Option<Range<usize>>,
    /// Normalised name and aliases with their spans.
    names: Vec<(String, Range<usize>)>,
}

/// The routing decision for one complaint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Route {
    pub opd: String,
    /// The id of the rule that decided, or [`FALLBACK_RULE`].
    pub rule_id: String,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (rule {})", self.opd, self.rule_id)
    }
}

/// A complaint that an edit would move.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Move {
    pub tracking_id: u64,
    pub from: Route,
    pub to: Route,
}

impl fmt::Display for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} -> {}", self.tracking_id, self.from, self.to)
    }
}

/// The rule that matched and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchedRule {
    pub id: String,
    pub description: String,
    pub priority: i64,
    /// One sentence per stated condition, all of which held.
    pub held: Vec<String>,
}

/// A rule checked before the one that decided, and the condition that failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    pub id: String,
    pub priority: i64,
    pub target: String,
    pub failed: String,
}

/// Why a complaint routes where it does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Explanation {
    pub tracking_id: u64,
    pub revision: String,
    pub route: Route,
    /// `None` when no rule matched (fallback to triage).
    pub matched: Option<MatchedRule>,
    /// Every rule checked before the decision, in evaluation order.
    pub rejected: Vec<Rejected>,
    /// The suggested action (a matter of `kewenangan.toml`: "Bukan Wewenang: milik …").
    pub suggestion: Option<String>,
    /// The OPDs the evidence points to, strongest first, with their evidence (shown when
    /// more than one OPD is in play).
    pub candidates: Vec<Candidate>,
    /// Similar complaints disposed before, and where they went.
    pub similar: Vec<history::Similar>,
}

/// An OPD that the complaint's evidence points to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub opd: String,
    /// The weight of the evidence (title word 4, text word 2, topic 3; rules of priority
    /// 800 or more count double, general words of priority under 300 half).
    pub score: u32,
    /// One line per piece of evidence: the rule and what it found.
    pub evidence: Vec<String>,
}

/// What the administrator is told about a complaint: where it routes, a suggested
/// action, the candidates when in doubt, similar past complaints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Advice {
    pub route: Route,
    pub suggestion: Option<String>,
    pub candidates: Vec<Candidate>,
    pub similar: Vec<history::Similar>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Complaint {} routes to {} (mapping revision {}).",
            self.tracking_id, self.route.opd, self.revision
        )?;
        match &self.matched {
            Some(m) => {
                writeln!(
                    f,
                    "Matched rule '{}' (priority {}): {}",
                    m.id, m.priority, m.description
                )?;
                for h in &m.held {
                    writeln!(f, "  held: {h}")?;
                }
            }
            None if self.route.rule_id == DOUBT_RULE => writeln!(
                f,
                "The evidence is too close to call: the complaint goes to triage ({TRIAGE}) with its candidates."
            )?,
            None if self.route.rule_id == HISTORY_RULE => writeln!(
                f,
                "No rule matched: similar complaints disposed before decided ({})",
                self.route.opd
            )?,
            None => writeln!(
                f,
                "No rule matched: the complaint goes to triage ({TRIAGE})."
            )?,
        }
        if let Some(s) = &self.suggestion {
            writeln!(f, "Suggested action: {s}")?;
        }
        if self.candidates.len() > 1 {
            writeln!(f, "Candidates (evidence weight):")?;
            for c in &self.candidates {
                writeln!(f, "  {} ({}): {}", c.opd, c.score, c.evidence.join("; "))?;
            }
        }
        if !self.similar.is_empty() {
            writeln!(f, "Similar complaints disposed before:")?;
            for s in &self.similar {
                writeln!(f, "  {s}")?;
            }
        }
        let quiet = |r: &&Rejected| {
            r.id.starts_with(kewenangan::RULE_PREFIX)
                && r.failed.starts_with("text contains none of")
        };
        let silent = self.rejected.iter().filter(quiet).count();
        if silent > 0 {
            writeln!(
                f,
                "{silent} matter(s) of kewenangan.toml (outside the regency's authority) did not match."
            )?;
        }
        if self.rejected.len() == silent {
            write!(f, "No rule was checked before it.")
        } else {
            write!(f, "Rules checked before it that did not match:")?;
            for r in self.rejected.iter().filter(|r| !quiet(r)) {
                write!(
                    f,
                    "\n  {} (priority {}, to {}): {}",
                    r.id, r.priority, r.target, r.failed
                )?;
            }
            Ok(())
        }
    }
}

/// Per-thread buffers reused by every routing call.
#[derive(Default)]
struct Work {
    scan: Scratch,
    hits: Hits,
}

thread_local! {
    static SCRATCH: RefCell<Work> = RefCell::new(Work::default());
}

/// The compiled mapping files.
#[derive(Debug, Clone)]
pub struct Mappings {
    revision: String,
    opds: Vec<Opd>,
    metas: Vec<OpdMeta>,
    /// In evaluation order.
    rules: Vec<Rule>,
    lex: Lexicon,
    postings: Postings,
    tree: TopicTree,
    sources: Vec<SourceFile>,
    by_code: HashMap<String, Vec<usize>>,
    by_wilayah: HashMap<String, Vec<usize>>,
    /// The matters of `kewenangan.toml`.
    matters: Vec<kewenangan::Matter>,
    /// Complaints disposed before (the store's), when attached.
    history: Option<std::sync::Arc<history::History>>,
}

/// The evidence gathered for one complaint.
struct Decision<'r> {
    /// The first rule that matched (highest priority) and its OPD.
    first: Option<(&'r Rule, String)>,
    /// The route taken.
    route: Route,
    /// The candidates, strongest first (empty unless more than one OPD is in play).
    candidates: Vec<Candidate>,
}

/// Evidence already counted for some OPD.
#[derive(Default)]
struct Claimed {
    phrases: Vec<u32>,
    topic: bool,
}

/// An OPD's evidence while deciding.
struct Weigh<'r> {
    opd: String,
    score: u32,
    rules: Vec<&'r Rule>,
    phrases: Vec<u32>,
    /// Some phrase was found in the title.
    in_title: bool,
    topic: bool,
}

enum Outcome<'a> {
    Routed(&'a Rule, String),
    Failed(Option<rules::Cond>, String),
}

impl Mappings {
    /// Reads and checks the mapping files of `dir` against the modelled topic tree.
    /// `Ok` carries the warnings; `Err` carries the errors (and any warnings).
    pub fn load(dir: &Path) -> Result<(Mappings, Vec<Diagnostic>), Vec<Diagnostic>> {
        Self::load_with_topics(dir, None)
    }

    /// Like [`Mappings::load`], checking topic ids against the platform's tree when given.
    pub fn load_with_topics(
        dir: &Path,
        topics: Option<&[Topic]>,
    ) -> Result<(Mappings, Vec<Diagnostic>), Vec<Diagnostic>> {
        load::build(read_sources(dir)?, topics)
    }

    /// Builds mappings from file contents: the first source is `opd.toml`, the rest are
    /// rules files in evaluation order.
    pub fn from_sources(
        sources: Vec<SourceFile>,
        topics: Option<&[Topic]>,
    ) -> Result<(Mappings, Vec<Diagnostic>), Vec<Diagnostic>> {
        load::build(sources, topics)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        revision: String,
        opds: Vec<Opd>,
        metas: Vec<OpdMeta>,
        rules: Vec<Rule>,
        lex: Lexicon,
        tree: TopicTree,
        sources: Vec<SourceFile>,
        matters: Vec<kewenangan::Matter>,
    ) -> Mappings {
        let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_wilayah: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, o) in opds.iter().enumerate() {
            by_code.entry(o.code.clone()).or_default().push(i);
            if let Some(w) = &o.wilayah {
                by_wilayah.entry(w.clone()).or_default().push(i);
            }
        }
        Mappings {
            postings: Postings::new(&rules, lex.phrase_count()),
            revision,
            opds,
            metas,
            rules,
            lex,
            tree,
            sources,
            by_code,
            by_wilayah,
            matters,
            history: None,
        }
    }

    /// The matters of `kewenangan.toml` (outside the regency's authority).
    pub fn matters(&self) -> &[kewenangan::Matter] {
        &self.matters
    }

    /// These mappings with the complaints disposed before: they are shown as similar
    /// complaints, and decide when no rule matches ([`HISTORY_RULE`]).
    pub fn with_history(mut self, h: history::History) -> Mappings {
        self.history = Some(std::sync::Arc::new(h));
        self
    }

    /// The attached history, if any.
    pub fn history(&self) -> Option<&history::History> {
        self.history.as_deref()
    }

    /// Short SHA-256 (hex) of the mapping files' names and bytes.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// Every entry of `opd.toml`, in file order (a renamed OPD has one entry per period).
    pub fn opds(&self) -> &[Opd] {
        &self.opds
    }

    /// The current entry of a code: the one without `valid_to`, else the latest.
    pub fn opd(&self, code: &str) -> Option<&Opd> {
        self.by_code
            .get(code)?
            .iter()
            .map(|i| &self.opds[*i])
            .max_by_key(|o| o.valid_to.unwrap_or(NaiveDate::MAX))
    }

    /// The entry of a code that applies on `on`.
    pub fn opd_on(&self, code: &str, on: NaiveDate) -> Option<&Opd> {
        self.by_code
            .get(code)?
            .iter()
            .map(|i| &self.opds[*i])
            .find(|o| o.valid_on(on))
    }

    /// The OPD that holds an upstream unit id on `on` (for upstream re-disposition).
    pub fn opd_by_unit(&self, unit_id: &str, on: NaiveDate) -> Option<&Opd> {
        let u = unit_id.trim();
        self.opds
            .iter()
            .find(|o| o.unit_id.as_deref() == Some(u) && o.valid_on(on))
    }

    /// The number of compiled rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The topic tree the rules were checked against.
    pub fn topics(&self) -> &TopicTree {
        &self.tree
    }

    fn view<'a>(&self, c: &'a Complaint, w: &'a mut Work) -> View<'a> {
        let s = &mut w.scan;
        self.lex.scan(&c.judul, s, true);
        self.lex.scan(&c.isi, s, false);
        self.postings.fill(
            self.rules.len(),
            &s.found_title,
            &s.found_body,
            &s.title,
            &mut w.hits,
        );
        let s = &w.scan;
        let topic_raw = c
            .topik
            .as_ref()
            .map(|t| t.id.trim())
            .filter(|t| !t.is_empty());
        View {
            topic: topic_raw.and_then(|t| self.tree.get(t)),
            topic_raw,
            klasifikasi: c.klasifikasi.as_deref().map(str::trim),
            kanal: c.kanal.as_deref().map(str::trim),
            tags: c.tags.iter().map(|t| text::normalize(t)).collect(),
            location: c
                .lokasi
                .as_ref()
                .map(|l| l.kode.trim())
                .filter(|l| !l.is_empty()),
            title: &s.title,
            body: &s.body,
            hits: &w.hits,
        }
    }

    /// Resolves a rule's target for this complaint on `on`; `Err` says why it cannot.
    fn resolve(&self, r: &Rule, v: &View, on: NaiveDate) -> Result<String, String> {
        match &r.target {
            Target::Opd(code) => match self.opd_on(code, on) {
                Some(o) => Ok(o.code.clone()),
                None => Err(format!("target OPD {code} is not valid on {on}")),
            },
            Target::Kapanewon => {
                let Some(kap) = v.location.and_then(|l| l.get(..8)) else {
                    return Err(format!(
                        "target kapanewon needs a location, and {} has none",
                        "the complaint"
                    ));
                };
                self.by_wilayah
                    .get(kap)
                    .and_then(|ix| ix.iter().map(|i| &self.opds[*i]).find(|o| o.valid_on(on)))
                    .map(|o| o.code.clone())
                    .ok_or_else(|| {
                        format!("no Kapanewon in opd.toml serves location {kap} on {on}")
                    })
            }
        }
    }

    fn outcome<'r>(&self, r: &'r Rule, v: &View, on: NaiveDate) -> Outcome<'r> {
        if let Some(c) = r.first_failure(v, &self.tree) {
            return Outcome::Failed(Some(c), String::new());
        }
        match self.resolve(r, v, on) {
            Ok(code) => Outcome::Routed(r, code),
            Err(why) => Outcome::Failed(None, why),
        }
    }

    /// The evidence one matched rule brings to its OPD.
    /// A phrase (or the topic) counts once, for the first OPD that claims it: rules
    /// written as fallbacks of one another (a kalurahan matter with and without a location)
    /// or sharing a word do not make a rival out of the same evidence.
    fn weigh<'r>(&self, r: &'r Rule, v: &View, w: &mut Weigh<'r>, claimed: &mut Claimed) {
        let tier = |base: u32| -> u32 {
            if r.priority >= 800 {
                base * 2
            } else if r.priority < 300 {
                base.div_ceil(2)
            } else {
                base
            }
        };
        for &p in r.title_any.iter().chain(&r.any).chain(&r.all) {
            if w.phrases.contains(&p) || claimed.phrases.contains(&p) {
                continue;
            }
            let base = if v.title.get(p) {
                4
            } else if v.body.get(p) {
                2
            } else {
                continue;
            };
            w.phrases.push(p);
            claimed.phrases.push(p);
            w.in_title |= base == 4;
            w.score += tier(base);
        }
        if r.states(rules::Cond::Topic) && !w.topic && !claimed.topic {
            w.topic = true;
            claimed.topic = true;
            w.score += tier(3);
        }
        if r.states(rules::Cond::Tags) || r.states(rules::Cond::Location) {
            w.score += 1;
        }
        w.rules.push(r);
    }

    fn candidate(&self, w: &Weigh, v: &View) -> Candidate {
        Candidate {
            opd: w.opd.clone(),
            score: w.score,
            evidence: w
                .rules
                .iter()
                .map(|r| {
                    let held: Vec<String> = r
                        .conds
                        .iter()
                        .filter(|k| !matches!(k, rules::Cond::KeywordsNone))
                        .map(|k| r.describe_held(*k, v, &self.tree, &self.lex))
                        .collect();
                    format!("rule {}: {}", r.id, held.join(", "))
                })
                .collect(),
        }
    }

    /// Weighs every rule that matches. The first (highest priority) decides unless
    /// another OPD's evidence is at least as strong: then the complaint goes to the
    /// triage desk with the candidates ([`DOUBT_RULE`]). Matters of `kewenangan.toml` and
    /// rules that target the triage desk decide alone.
    fn decide<'r>(&'r self, v: &View, on: NaiveDate, full: bool) -> Decision<'r> {
        let mut first: Option<(&Rule, String)> = None;
        let mut weighs: Vec<Weigh> = Vec::new();
        let mut claimed = Claimed::default();
        for r in &self.rules {
            let Outcome::Routed(r, opd) = self.outcome(r, v, on) else {
                continue;
            };
            if first.is_none() {
                if opd == TRIAGE || r.advice.is_some() || r.priority >= DECISIVE_PRIORITY {
                    return Decision {
                        route: Route {
                            opd,
                            rule_id: r.id.clone(),
                        },
                        first: Some((r, TRIAGE.to_string())),
                        candidates: Vec::new(),
                    };
                }
                first = Some((r, opd.clone()));
            }
            if opd == TRIAGE {
                continue;
            }
            let i = match weighs.iter().position(|w| w.opd == opd) {
                Some(i) => i,
                None => {
                    weighs.push(Weigh {
                        opd,
                        score: 0,
                        rules: Vec::new(),
                        phrases: Vec::new(),
                        in_title: false,
                        topic: false,
                    });
                    weighs.len() - 1
                }
            };
            self.weigh(r, v, &mut weighs[i], &mut claimed);
        }
        let Some((r, opd)) = first else {
            return Decision {
                first: None,
                route: Route {
                    opd: TRIAGE.to_string(),
                    rule_id: FALLBACK_RULE.to_string(),
                },
                candidates: Vec::new(),
            };
        };
        let top = weighs[0].score;
        let rival = weighs[1..].iter().max_by_key(|w| w.score);
        let weak = {
            let w = &weighs[0];
            w.phrases.len() <= 1 && !w.in_title && !w.topic
        };
        // Rules of priority 800 or more name a specific matter (a hospital, a disaster,
        // a civil-registry document): their evidence is not second-guessed.
        let specific = r.priority >= SPECIFIC_PRIORITY;
        let doubt = !specific
            && rival.is_some_and(|w| {
                // The rest of the text points elsewhere, clearly more than to the winner
                // (two more words in the text, or one more in the title)…
                w.score >= top + DOUBT_MARGIN
                // …or the winner's only evidence is one word of the text (not the
                // title, no topic), against the topic.
                || (weak && w.topic)
            });
        let candidates = if (doubt || full) && weighs.len() > 1 {
            let mut c: Vec<Candidate> = weighs.iter().map(|w| self.candidate(w, v)).collect();
            c.sort_by_key(|c| std::cmp::Reverse(c.score));
            c
        } else {
            Vec::new()
        };
        // The winner's one weak word against overwhelming evidence elsewhere (at least
        // twice its weight and two more words): the evidence decides.
        let overwhelmed = rival.filter(|w| !specific && weak && w.score >= 2 * top + DOUBT_MARGIN);
        let route = if let Some(w) = overwhelmed {
            Route {
                opd: w.opd.clone(),
                rule_id: w.rules[0].id.clone(),
            }
        } else if doubt {
            Route {
                opd: TRIAGE.to_string(),
                rule_id: DOUBT_RULE.to_string(),
            }
        } else {
            Route {
                opd: opd.clone(),
                rule_id: r.id.clone(),
            }
        };
        Decision {
            first: Some((r, opd)),
            route,
            candidates,
        }
    }

    /// Routes a complaint: exactly one OPD, the same for the same input and files (and
    /// attached history).
    pub fn route(&self, c: &Complaint, on: NaiveDate) -> Route {
        let route = SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let v = self.view(c, &mut s);
            self.decide(&v, on, false).route
        });
        if route.rule_id == FALLBACK_RULE
            && let Some(h) = &self.history
            && let Some(opd) = h.decide(c)
            && self.opd_on(&opd, on).is_some()
        {
            return Route {
                opd,
                rule_id: HISTORY_RULE.to_string(),
            };
        }
        route
    }

    /// The route with what the administrator should see: the suggested action, the
    /// candidates and similar past complaints (for `triage list` and the API).
    pub fn advise(&self, c: &Complaint, on: NaiveDate) -> Advice {
        let e = self.explain(c, on);
        Advice {
            route: e.route,
            suggestion: e.suggestion,
            candidates: e.candidates,
            similar: e.similar,
        }
    }

    /// Routes and says why: the rule that matched, the conditions that held, and for each
    /// rule checked before it the condition that failed; the suggested action, the
    /// candidates and similar complaints disposed before.
    pub fn explain(&self, c: &Complaint, on: NaiveDate) -> Explanation {
        let mut e = SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let v = self.view(c, &mut s);
            let d = self.decide(&v, on, true);
            let mut rejected = Vec::new();
            let mut matched = None;
            // The rule recorded on the route (the highest priority, or the rule of the
            // OPD whose evidence overwhelmed it).
            let winner = self
                .rules
                .iter()
                .find(|r| r.id == d.route.rule_id)
                .map(|r| r.index);
            for r in &self.rules {
                if Some(r.index) == winner {
                    let held = ORDER
                        .into_iter()
                        .filter(|k| r.states(*k))
                        .map(|k| r.describe_held(k, &v, &self.tree, &self.lex))
                        .collect();
                    matched = Some(MatchedRule {
                        id: r.id.clone(),
                        description: r.description.clone(),
                        priority: r.priority,
                        held,
                    });
                    break;
                }
                match self.outcome(r, &v, on) {
                    Outcome::Routed(..) => {}
                    Outcome::Failed(cond, why) => rejected.push(Rejected {
                        id: r.id.clone(),
                        priority: r.priority,
                        target: r.target.to_string(),
                        failed: match cond {
                            Some(k) => r.describe_failed(k, &v, &self.tree, &self.lex),
                            None => why,
                        },
                    }),
                }
            }
            let doubt = d.route.rule_id == DOUBT_RULE;
            Explanation {
                tracking_id: c.tracking_id,
                revision: self.revision.clone(),
                suggestion: d.first.as_ref().and_then(|(r, _)| r.advice.clone()),
                candidates: d.candidates,
                route: d.route,
                matched: if doubt { None } else { matched },
                rejected,
                similar: Vec::new(),
            }
        });
        if let Some(h) = &self.history {
            e.similar = h.similar(c, 3);
            if e.route.rule_id == FALLBACK_RULE
                && let Some(opd) = h.decide(c)
                && self.opd_on(&opd, on).is_some()
            {
                e.route = Route {
                    opd,
                    rule_id: HISTORY_RULE.to_string(),
                };
            }
        }
        e
    }

    /// Compares with the platform: every topic of `topics` reached by some rule
    /// (warning otherwise: such complaints go to triage), every unit id of an entry that
    /// applies today known and active in `units` (error otherwise).
    pub fn check_online(&self, topics: &[Topic], units: &[Unit]) -> Vec<Diagnostic> {
        self.check_online_on(topics, units, today_wib())
    }

    /// [`Mappings::check_online`] for a given day.
    pub fn check_online_on(
        &self,
        topics: &[Topic],
        units: &[Unit],
        on: NaiveDate,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let up = TopicTree::new(topics);
        let rule_file = self.sources.get(1).unwrap_or(&self.sources[0]);
        for t in topics {
            let Some(ti) = up.get(&t.id) else { continue };
            // Only topic conditions count: keyword rules may or may not catch a topic.
            let reached = self.rules.iter().any(|r| {
                r.topics.iter().any(|rt| {
                    let rid = self.tree.id(*rt);
                    up.lineage(ti).iter().any(|a| up.id(*a) == rid)
                })
            });
            if !reached {
                out.push(Diagnostic::warning(
                    &rule_file.path,
                    &rule_file.text,
                    None,
                    format!(
                        "no rule covers upstream topic {} ({}): its complaints go to {TRIAGE} unless keywords catch them",
                        t.id, t.name
                    ),
                    format!("add \"{}\" to a rule's topics", up.path(ti)),
                ));
            }
        }
        out.extend(self.check_units(units, on));
        out
    }

    /// Every unit id of an entry that applies on `on`, checked against the platform's
    /// units: unknown or inactive is an error pointing at the `unit_id`.
    pub fn check_units(&self, units: &[Unit], on: NaiveDate) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let src = &self.sources[0];
        for (o, m) in self.opds.iter().zip(&self.metas) {
            let Some(u) = &o.unit_id else { continue };
            if !o.valid_on(on) {
                continue;
            }
            let span = m.unit_span.clone().or(Some(m.code_span.clone()));
            match units.iter().find(|x| x.id.trim() == u) {
                None => out.push(Diagnostic::error(
                    &src.path,
                    &src.text,
                    span,
                    format!("unit_id {u} of OPD '{}' is not a unit of the instansi upstream", o.code),
                    match adopt::best_unit(o, units) {
                        Some(m) => format!("did you mean unit {} (\"{}\", {})? `sp4n mappings adopt` proposes every such fix", m.unit.id, m.unit.name, m.reason),
                        None => "`sp4n mappings units` lists the platform's units; `sp4n mappings adopt` proposes the fix".to_string(),
                    },
                )),
                Some(x) if !x.active => out.push(Diagnostic::error(
                    &src.path,
                    &src.text,
                    span,
                    format!("unit_id {u} of OPD '{}' is inactive upstream ({})", o.code, x.name),
                    match adopt::best_unit(o, units).filter(|m| m.unit.id != *u) {
                        Some(m) => format!("dispositions to an inactive unit fail; the active unit {} (\"{}\", {}) may be its successor: give this entry a valid_to and add one with that unit_id (`sp4n mappings adopt` proposes it)", m.unit.id, m.unit.name, m.reason),
                        None => "dispositions to an inactive unit fail; ask the national admin which unit took over, or set valid_to on this entry".to_string(),
                    },
                )),
                Some(_) => {}
            }
        }
        out
    }
}

/// Today's date in WIB.
pub fn today_wib() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&crate::model::WIB)
        .date_naive()
}

/// Re-routes `complaints` with both mappings and lists those whose OPD would change.
pub fn preview(
    old: &Mappings,
    new: &Mappings,
    complaints: &[Complaint],
    on: NaiveDate,
) -> Vec<Move> {
    complaints
        .iter()
        .filter_map(|c| {
            let from = old.route(c, on);
            let to = new.route(c, on);
            (from.opd != to.opd).then_some(Move {
                tracking_id: c.tracking_id,
                from,
                to,
            })
        })
        .collect()
}

/// Renders a preview for people: one line per move, then counts per OPD pair.
pub fn render_preview(moves: &[Move]) -> String {
    if moves.is_empty() {
        return "No complaint would move.".to_string();
    }
    let mut out = format!("{} complaint(s) would move:\n", moves.len());
    for m in moves {
        out.push_str(&format!("  {m}\n"));
    }
    let mut pairs: Vec<((String, String), usize)> = Vec::new();
    for m in moves {
        let k = (m.from.opd.clone(), m.to.opd.clone());
        match pairs.iter_mut().find(|(p, _)| *p == k) {
            Some((_, n)) => *n += 1,
            None => pairs.push((k, 1)),
        }
    }
    pairs.sort();
    out.push_str("By OPD:");
    for ((a, b), n) in pairs {
        out.push_str(&format!("\n  {a} -> {b}: {n}"));
    }
    out
}
