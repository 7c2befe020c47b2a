//! Adopting a deployment: rewriting the ids in the mapping files for the platform the
//! connector talks to, in one command (`sp4n mappings adopt`).
//!
//! Every OPD entry that applies today is matched to a unit of `getunits` by its name,
//! then its aliases, then the names of its older entries (same code, earlier period);
//! an active unit wins over an inactive one, and two units matching equally well are
//! reported, never guessed. Every topic a rule names by id is renamed to its path of
//! names (which works on any deployment whose tree carries them): an id of the
//! platform's tree by that tree, otherwise an id of the example tree by finding the same
//! path of names in the platform's tree. The plan is a list of byte-range edits of
//! quoted values, so applying it keeps every comment, key and the order of the files.

use super::SourceFile;
use super::raw::{OpdFile, RawOpd, RulesFile};
use super::text::normalize;
use super::world::TopicTree;
use super::{Opd, TRIAGE};
use crate::model::{Topic, Unit};
use chrono::NaiveDate;
use serde::Serialize;
use std::ops::Range;
use std::path::PathBuf;

/// A unit of the platform that an OPD entry's names point to, and why.
#[derive(Debug, Clone)]
pub struct UnitMatch<'a> {
    pub unit: &'a Unit,
    pub reason: String,
}

/// The unit of `units` that the names of `o` point to, if exactly one does best.
pub fn best_unit<'a>(o: &Opd, units: &'a [Unit]) -> Option<UnitMatch<'a>> {
    let names: Vec<(String, String)> = std::iter::once((o.name.clone(), "name".to_string()))
        .chain(
            o.aliases
                .iter()
                .map(|a| (a.clone(), format!("alias \"{a}\""))),
        )
        .collect();
    match_names(&names, units).ok()
}

/// Why no unit was chosen.
enum NoMatch {
    None,
    Tied(Vec<String>),
}

/// (inactive, index of the name that matched): lower is better.
type Rank = (bool, usize);

/// `names` in order of preference, each with how to call it in a reason.
fn match_names<'a>(
    names: &[(String, String)],
    units: &'a [Unit],
) -> Result<UnitMatch<'a>, NoMatch> {
    let mut best: Option<(Rank, Vec<(&'a Unit, &str)>)> = None;
    for u in units {
        let un = normalize(&u.name);
        let Some((rank, (_, why))) = names
            .iter()
            .enumerate()
            .find(|(_, (n, _))| !n.trim().is_empty() && normalize(n) == un)
        else {
            continue;
        };
        let key = (!u.active, rank);
        match &mut best {
            Some((k, list)) if *k == key => list.push((u, why)),
            Some((k, _)) if *k < key => {}
            _ => best = Some((key, vec![(u, why)])),
        }
    }
    match best {
        None => Err(NoMatch::None),
        Some((_, list)) if list.len() > 1 => Err(NoMatch::Tied(
            list.iter()
                .map(|(u, _)| format!("{} \"{}\"", u.id, u.name))
                .collect(),
        )),
        Some((_, list)) => {
            let (unit, why) = list[0];
            let mut reason = format!("{why} matches unit \"{}\"", unit.name);
            if !unit.active {
                reason.push_str(" (inactive upstream: only an inactive unit carries this name)");
            }
            Ok(UnitMatch { unit, reason })
        }
    }
}

/// One edit of a quoted value in a mapping file.
#[derive(Debug, Clone, Serialize)]
pub struct Edit {
    pub file: PathBuf,
    pub line: usize,
    #[serde(skip)]
    pub range: Range<usize>,
    /// What the file says now (the value, unquoted).
    pub old: String,
    /// What it should say.
    pub new: String,
    pub reason: String,
}

/// Something the adoption could not match.
#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub file: PathBuf,
    pub line: usize,
    /// The OPD code or the topic as written.
    pub what: String,
    pub why: String,
}

/// The proposed edit of the mapping files.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Plan {
    pub edits: Vec<Edit>,
    /// OPD entries already naming the right unit, topics already named by name.
    pub already_right: usize,
    pub unmatched: Vec<Unmatched>,
    /// Active units of the platform that no OPD entry names after the edit.
    pub unclaimed_units: Vec<Unit>,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("{file}: cannot be read as TOML: {message}")]
    Parse { file: PathBuf, message: String },
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn date(v: &Option<toml::Spanned<toml::Value>>) -> Option<NaiveDate> {
    match v.as_ref()?.get_ref() {
        toml::Value::Datetime(dt) => dt
            .date
            .and_then(|d| NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)),
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        _ => None,
    }
}

/// The span of a quoted string's content (without its quotes).
fn inner(text: &str, span: Range<usize>) -> Range<usize> {
    let s = &text[span.clone()];
    if s.len() >= 2 && (s.starts_with('"') || s.starts_with('\'')) {
        span.start + 1..span.end - 1
    } else {
        span
    }
}

/// Plans the adoption of `topics` and `units` for `sources` (the first is `opd.toml`).
/// `example` is the tree the files' topic ids were written against when they are not
/// the platform's (the example tree shipped with sp4n).
pub fn plan(
    sources: &[SourceFile],
    topics: &[Topic],
    units: &[Unit],
    example: &TopicTree,
    on: NaiveDate,
) -> Result<Plan, AdoptError> {
    let mut plan = Plan::default();
    let opd_src = &sources[0];
    let opds: Vec<RawOpd> = toml::from_str::<OpdFile>(&opd_src.text)
        .map_err(|e| AdoptError::Parse {
            file: opd_src.path.clone(),
            message: e.message().to_string(),
        })?
        .opd;
    let mut claimed: Vec<String> = Vec::new();
    for (i, o) in opds.iter().enumerate() {
        let code = o.code.get_ref().trim();
        let line = line_of(&opd_src.text, o.code.span().start);
        if code == TRIAGE && o.unit_id.is_none() {
            continue;
        }
        let ended = date(&o.valid_to).is_some_and(|t| t < on);
        if ended {
            // An earlier period of a renamed OPD: history, not routing.
            continue;
        }
        let mut names: Vec<(String, String)> = vec![(o.name.get_ref().clone(), "name".into())];
        names.extend(
            o.aliases
                .iter()
                .map(|a| (a.get_ref().clone(), format!("alias \"{}\"", a.get_ref()))),
        );
        names.extend(
            opds.iter()
                .enumerate()
                .filter(|(j, p)| *j != i && p.code.get_ref().trim() == code)
                .map(|(_, p)| {
                    (
                        p.name.get_ref().clone(),
                        format!("older name \"{}\"", p.name.get_ref()),
                    )
                }),
        );
        match match_names(&names, units) {
            Ok(m) => {
                claimed.push(m.unit.id.trim().to_string());
                match &o.unit_id {
                    Some(u) if u.get_ref().trim() == m.unit.id.trim() => plan.already_right += 1,
                    Some(u) => plan.edits.push(Edit {
                        file: opd_src.path.clone(),
                        line: line_of(&opd_src.text, u.span().start),
                        range: inner(&opd_src.text, u.span()),
                        old: u.get_ref().clone(),
                        new: m.unit.id.trim().to_string(),
                        reason: format!("OPD {code}: {}", m.reason),
                    }),
                    None => plan.unmatched.push(Unmatched {
                        file: opd_src.path.clone(),
                        line,
                        what: code.to_string(),
                        why: format!(
                            "has no unit_id line; add unit_id = \"{}\" ({}) by hand",
                            m.unit.id, m.reason
                        ),
                    }),
                }
            }
            Err(NoMatch::None) => plan.unmatched.push(Unmatched {
                file: opd_src.path.clone(),
                line,
                what: code.to_string(),
                why: format!(
                    "no unit of the platform is named \"{}\" or by one of its aliases; add the unit's name to aliases, or set unit_id by hand (`sp4n mappings units`)",
                    o.name.get_ref()
                ),
            }),
            Err(NoMatch::Tied(list)) => plan.unmatched.push(Unmatched {
                file: opd_src.path.clone(),
                line,
                what: code.to_string(),
                why: format!(
                    "its names match several units equally well: {}; set unit_id by hand",
                    list.join(", ")
                ),
            }),
        }
    }
    plan.unclaimed_units = units
        .iter()
        .filter(|u| u.active && !claimed.contains(&u.id.trim().to_string()))
        .cloned()
        .collect();
    let tree = TopicTree::new(topics);
    for src in &sources[1..] {
        if src
            .path
            .file_name()
            .is_some_and(|n| n == super::kewenangan::FILE)
        {
            continue;
        }
        let rules = toml::from_str::<RulesFile>(&src.text)
            .map_err(|e| AdoptError::Parse {
                file: src.path.clone(),
                message: e.message().to_string(),
            })?
            .rule;
        for r in &rules {
            for t in &r.topics {
                let raw = t.get_ref().trim();
                let line = line_of(&src.text, t.span().start);
                let is_id = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
                if !is_id {
                    if tree.resolve(raw).is_ok() {
                        plan.already_right += 1;
                    } else {
                        plan.unmatched.push(Unmatched {
                            file: src.path.clone(),
                            line,
                            what: raw.to_string(),
                            why: format!(
                                "rule {}: no single topic of the platform has this path of names (`sp4n mappings topics`)",
                                r.id.get_ref()
                            ),
                        });
                    }
                    continue;
                }
                let (path, reason) = if let Some(i) = tree.get(raw) {
                    (
                        Some(tree.path(i)),
                        format!("rule {}: topic {raw} of the platform", r.id.get_ref()),
                    )
                } else if let Some(e) = example.get(raw) {
                    let want = example.path(e);
                    match tree.resolve(&want) {
                        Ok(i) => (
                            Some(tree.path(i)),
                            format!(
                                "rule {}: example topic {raw} \"{want}\" is topic {} of the platform",
                                r.id.get_ref(),
                                tree.id(i)
                            ),
                        ),
                        Err(_) => {
                            plan.unmatched.push(Unmatched {
                                file: src.path.clone(),
                                line,
                                what: raw.to_string(),
                                why: format!(
                                    "rule {}: example topic {raw} is \"{want}\", which the platform's tree does not carry; choose a topic from `sp4n mappings topics`",
                                    r.id.get_ref()
                                ),
                            });
                            (None, String::new())
                        }
                    }
                } else {
                    plan.unmatched.push(Unmatched {
                        file: src.path.clone(),
                        line,
                        what: raw.to_string(),
                        why: format!(
                            "rule {}: topic id {raw} is neither the platform's nor the example tree's",
                            r.id.get_ref()
                        ),
                    });
                    (None, String::new())
                };
                if let Some(path) = path {
                    plan.edits.push(Edit {
                        file: src.path.clone(),
                        line,
                        range: inner(&src.text, t.span()),
                        old: raw.to_string(),
                        new: path,
                        reason,
                    });
                }
            }
        }
    }
    Ok(plan)
}

/// The sources with the plan's edits made.
pub fn apply(sources: &[SourceFile], plan: &Plan) -> Vec<SourceFile> {
    sources
        .iter()
        .map(|s| {
            let mut edits: Vec<&Edit> = plan.edits.iter().filter(|e| e.file == s.path).collect();
            edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
            let mut text = s.text.clone();
            for e in edits {
                text.replace_range(e.range.clone(), &escape(&e.new));
            }
            SourceFile {
                path: s.path.clone(),
                text,
            }
        })
        .collect()
}

/// A value as it goes between TOML basic-string quotes.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The plan as a unified diff (one hunk per changed line) with each edit's reason, then
/// what could not be matched.
pub fn render(sources: &[SourceFile], plan: &Plan) -> String {
    let mut out = String::new();
    let after = apply(sources, plan);
    for (before, after) in sources.iter().zip(&after) {
        let mut lines: Vec<usize> = plan
            .edits
            .iter()
            .filter(|e| e.file == before.path)
            .map(|e| e.line)
            .collect();
        lines.dedup();
        if lines.is_empty() {
            continue;
        }
        let old: Vec<&str> = before.text.lines().collect();
        let new: Vec<&str> = after.text.lines().collect();
        out.push_str(&format!(
            "--- {}\n+++ {}\n",
            before.path.display(),
            after.path.display()
        ));
        for l in lines {
            for e in plan
                .edits
                .iter()
                .filter(|e| e.file == before.path && e.line == l)
            {
                out.push_str(&format!("# {}\n", e.reason));
            }
            out.push_str(&format!(
                "@@ -{l},1 +{l},1 @@\n-{}\n+{}\n",
                old.get(l - 1).unwrap_or(&""),
                new.get(l - 1).unwrap_or(&"")
            ));
        }
    }
    if plan.edits.is_empty() {
        out.push_str("No edit needed: the files already use the platform's ids and names.\n");
    }
    if !plan.unmatched.is_empty() {
        out.push_str(&format!("\nCould not match ({}):\n", plan.unmatched.len()));
        for u in &plan.unmatched {
            out.push_str(&format!(
                "  {}:{}: {}: {}\n",
                u.file.display(),
                u.line,
                u.what,
                u.why
            ));
        }
    }
    if !plan.unclaimed_units.is_empty() {
        out.push_str(&format!(
            "\nActive units of the platform that no OPD names ({}): complaints the platform disposes to them go to {TRIAGE}:\n",
            plan.unclaimed_units.len()
        ));
        for u in &plan.unclaimed_units {
            out.push_str(&format!("  {} {}\n", u.id, u.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, name: &str, active: bool) -> Unit {
        Unit {
            id: id.into(),
            name: name.into(),
            active,
        }
    }

    #[test]
    fn prefers_active_names_and_keeps_comments() {
        let opd = "# komentar\n[[opd]]\ncode = \"ADMIN\"\nname = \"Meja\"\n\n[[opd]]\ncode = \"DLH\"\nname = \"Dinas Lingkungan Hidup\"\nunit_id = \"2418\" # lama\naliases = [\"Badan Lingkungan Hidup\"]\n\n[[opd]]\ncode = \"X\"\nname = \"Tidak Ada\"\nunit_id = \"1\"\n";
        let rules = "[[rule]]\nid = \"a\"\ndescription = \"\"\ntarget = \"DLH\"\npriority = 1\ntopics = [\"61\", \"Kesehatan\"] # sampah\n";
        let sources = vec![
            SourceFile {
                path: "opd.toml".into(),
                text: opd.into(),
            },
            SourceFile {
                path: "rules.toml".into(),
                text: rules.into(),
            },
        ];
        let units = [
            unit("6918", "Badan Lingkungan Hidup", false),
            unit("7018", "DINAS LINGKUNGAN HIDUP", true),
            unit("7020", "Dinas Baru", true),
        ];
        let topics = [
            Topic {
                id: "304".into(),
                parent: "0".into(),
                name: "Lingkungan Hidup dan Kehutanan".into(),
            },
            Topic {
                id: "341".into(),
                parent: "304".into(),
                name: "Sampah".into(),
            },
            Topic {
                id: "301".into(),
                parent: "0".into(),
                name: "Kesehatan".into(),
            },
        ];
        let on = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let p = plan(&sources, &topics, &units, &TopicTree::modelled(), on).unwrap();
        assert_eq!(p.edits.len(), 2, "{p:#?}");
        assert_eq!(p.edits[0].new, "7018");
        assert!(
            p.edits[0].reason.contains("name matches"),
            "{}",
            p.edits[0].reason
        );
        assert_eq!(p.edits[1].new, "Lingkungan Hidup dan Kehutanan/Sampah");
        assert_eq!(p.unmatched.len(), 1);
        assert_eq!(p.unmatched[0].what, "X");
        assert_eq!(p.unclaimed_units.len(), 1);
        let after = apply(&sources, &p);
        assert!(after[0].text.contains("unit_id = \"7018\" # lama"));
        assert!(after[0].text.starts_with("# komentar\n"));
        assert!(after[1].text.contains(
            "topics = [\"Lingkungan Hidup dan Kehutanan/Sampah\", \"Kesehatan\"] # sampah"
        ));
        let diff = render(&sources, &p);
        assert!(
            diff.contains("-unit_id = \"2418\" # lama\n+unit_id = \"7018\" # lama"),
            "{diff}"
        );
    }
}
