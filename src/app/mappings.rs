//! The administrator's work on the mapping files: checking them (against the platform's
//! vocabulary when it was read, and the calendar), the platform's units and topics as
//! rows, and adopting a deployment (the platform's unit ids and topic names proposed for
//! the files, written atomically with `--write`).

use super::AppError;
use super::context;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::mapping::vocabulary::Vocabulary;
use crate::mapping::{Mappings, today_wib};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The warning shown while the files are checked against the shipped example tree.
fn example_tree_warning(dir: &Path, why: Option<&str>) -> Diagnostic {
    Diagnostic::warning(
        &dir.join("rules.toml"),
        "",
        None,
        format!(
            "{}{}",
            crate::mapping::vocabulary::NOT_FETCHED,
            why.map(|w| format!(" ({w})")).unwrap_or_default()
        ),
        "run `sp4n pull` or `sp4n mappings topics` with the configuration, or `sp4n mappings check --online`",
    )
}

/// Loads mapping files for a command that needs them valid, checked against the
/// platform's vocabulary when it was read; [`AppError::Config`] with the errors.
pub fn load_valid(dir: &Path, vocab: Option<&Vocabulary>) -> Result<Mappings, AppError> {
    let loaded =
        crate::mapping::read_sources(dir).and_then(|s| crate::mapping::check_against(s, vocab));
    loaded.map(|(m, _)| m).map_err(|d| {
        AppError::Config(format!(
                "{}\n\nthe mapping files in {} are invalid: fix them (`sp4n mappings check --dir {}`), then run again",
                crate::diag::render_all(&d),
                dir.display(),
                dir.display()
            ))
    })
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub dir: PathBuf,
    pub valid: bool,
    pub revision: Option<String>,
    pub rules: Option<usize>,
    pub opds: Option<usize>,
    pub online: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks the files of `dir` against `vocab` (the platform's, when read: `online` also
/// compares the topics; else the units only) or the example tree (`why_not`: why no
/// vocabulary was there), and the calendar.
pub fn check(
    dir: PathBuf,
    vocab: Option<&Vocabulary>,
    why_not: Option<&str>,
    online: bool,
) -> CheckReport {
    let mut diagnostics = Vec::new();
    if vocab.is_none() {
        diagnostics.push(example_tree_warning(&dir, why_not));
    }
    let mut summary = (None, None, None);
    let loaded = crate::mapping::read_sources(&dir)
        .and_then(|s| Mappings::from_sources(s, vocab.map(|v| v.topics.as_slice())));
    match loaded {
        Ok((m, warnings)) => {
            diagnostics.extend(warnings);
            if let Some(v) = vocab {
                if online {
                    diagnostics.extend(m.check_online(&v.topics, &v.units));
                } else {
                    diagnostics.extend(m.check_units(&v.units, today_wib()));
                }
            }
            summary = (
                Some(m.revision().to_string()),
                Some(m.rule_count()),
                Some(m.opds().len()),
            );
        }
        Err(d) => {
            diagnostics.extend(d);
            // Report the unit errors in the same run: the OPD entries do not depend on
            // the topics, so read them with the example tree.
            if let Some(v) = vocab
                && let Ok((m, _)) =
                    crate::mapping::read_sources(&dir).and_then(|s| Mappings::from_sources(s, None))
            {
                diagnostics.extend(m.check_units(&v.units, today_wib()));
            }
        }
    }
    let cal = dir.join("calendar.toml");
    if cal.exists() {
        diagnostics.extend(crate::sla::Calendar::check(&cal, chrono::Utc::now()));
    } else {
        diagnostics.push(Diagnostic::warning(
            &cal,
            "",
            None,
            "there is no calendar.toml: working-day clocks count weekends and fixed-date holidays only",
            "copy mappings/calendar.toml from the release and add this year's holidays",
        ));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    CheckReport {
        valid: errors == 0,
        revision: summary.0,
        rules: summary.1,
        opds: summary.2,
        online,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics,
        dir,
    }
}

#[derive(Debug, Serialize)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// The OPD codes whose entry in force names this unit.
    pub opd: Vec<String>,
}

/// The platform's units, each with the OPD of the files in `dir` that names it.
pub fn unit_rows(v: &Vocabulary, dir: &Path) -> Vec<UnitRow> {
    let m = crate::mapping::read_sources(dir)
        .and_then(|s| Mappings::from_sources(s, Some(&v.topics)))
        .ok();
    let on = today_wib();
    v.units
        .iter()
        .map(|u| UnitRow {
            id: u.id.clone(),
            name: u.name.clone(),
            active: u.active,
            opd: m
                .as_ref()
                .and_then(|m| m.0.opd_by_unit(&u.id, on))
                .map(|o| vec![o.code.clone()])
                .unwrap_or_default(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct TopicRow {
    pub id: String,
    pub parent: String,
    pub name: String,
    /// The path of names a rule can use.
    pub path: String,
}

/// The platform's topic tree, each topic with the path of names a rule can use.
pub fn topic_rows(v: &Vocabulary) -> Vec<TopicRow> {
    let tree = crate::mapping::world::TopicTree::new(&v.topics);
    v.topics
        .iter()
        .filter_map(|t| {
            let i = tree.get(&t.id)?;
            Some(TopicRow {
                id: t.id.clone(),
                parent: t.parent.clone(),
                name: t.name.clone(),
                path: tree.path(i),
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct AdoptReport {
    pub dir: PathBuf,
    pub written: bool,
    #[serde(flatten)]
    pub plan: crate::mapping::adopt::Plan,
    /// After --write: the errors `mappings check` still finds.
    pub remaining_errors: Vec<Diagnostic>,
}

/// Adopts the deployment of `cfg`'s platform in the files of `dir`: reads getunits and
/// gettopics (keeping them in the store), plans the edit and, with `write`, applies it and
/// checks the files again. The report and the files as read before.
pub async fn adopt(
    cfg: &Config,
    dir: PathBuf,
    write: bool,
) -> Result<(AdoptReport, Vec<crate::mapping::SourceFile>), AppError> {
    let sources = crate::mapping::read_sources(&dir).map_err(|d| {
        AppError::Config(format!(
            "{}\n\ncannot read the mapping files",
            crate::diag::render_all(&d)
        ))
    })?;
    let v = context::fetch_vocabulary(cfg).await?;
    context::keep_vocabulary(cfg, &v).await;
    let example = crate::mapping::world::TopicTree::modelled();
    let plan = crate::mapping::adopt::plan(&sources, &v.topics, &v.units, &example, today_wib())
        .map_err(|e| AppError::Config(format!("{e}; fix the file, then run again")))?;
    let mut remaining = Vec::new();
    if write && !plan.edits.is_empty() {
        for f in crate::mapping::adopt::apply(&sources, &plan) {
            if sources.iter().any(|s| s.path == f.path && s.text != f.text) {
                write_atomically(&f.path, &f.text)?;
            }
        }
    }
    if write {
        let after = crate::mapping::read_sources(&dir)
            .and_then(|s| crate::mapping::check_against(s, Some(&v)));
        if let Err(d) = after {
            remaining = d.into_iter().filter(Diagnostic::is_error).collect();
        }
    }
    let report = AdoptReport {
        dir: dir.clone(),
        written: write && !plan.edits.is_empty(),
        plan,
        remaining_errors: remaining,
    };
    Ok((report, sources))
}

/// Replaces a file by writing a sibling and renaming it over, so an interrupted write
/// never leaves half a file for the next run to read.
fn write_atomically(path: &Path, text: &str) -> Result<(), AppError> {
    let fail = |e: std::io::Error| {
        AppError::Io(format!(
            "cannot write {}: {e}; check the folder's permissions",
            path.display()
        ))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    use std::io::Write;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
