//! Reading the mapping files and turning them into [`Mappings`]: parse with spans, check
//! meaning (every error a [`Diagnostic`] pointing at the value), compile rules, and look
//! for rules that can never win, OPDs no rule reaches and paused OPDs (warnings).

use super::keywords::Lexicon;
use super::raw::{OpdFile, RawOpd, RawRule, RulesFile};
use super::rules::{Rule, Target};
use super::text::normalize;
use super::world::{TopicMiss, TopicTree, check_location};
use super::{Mappings, Opd, OpdMeta, TRIAGE};
use crate::diag::Diagnostic;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The klasifikasi values of the platform contract.
pub const KLASIFIKASI: &[&str] = &["pengaduan", "aspirasi", "permintaan_informasi"];
/// The channels (`kanal`) of the platform contract.
pub const CHANNELS: &[&str] = &["web", "sms1708", "android", "ios", "twitter", "integrasi"];
/// The `target` value that sends a complaint to the Kapanewon of its location.
pub const KAPANEWON_TARGET: &str = "kapanewon";

/// One mapping file's path and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// Reads `opd.toml` and the rules (`rules.toml`, then `rules/*.toml` by name) of `dir`.
/// The first file is always `opd.toml`.
pub fn read_sources(dir: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let mut paths = vec![dir.join("opd.toml")];
    let single = dir.join("rules.toml");
    if single.exists() {
        paths.push(single.clone());
    }
    let sub = dir.join("rules");
    if sub.is_dir() {
        let mut more: Vec<PathBuf> = std::fs::read_dir(&sub)
            .map_err(|e| vec![unreadable(&sub, &e)])?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        more.sort();
        paths.extend(more);
    }
    let mut errors = Vec::new();
    if paths.len() == 1 {
        errors.push(Diagnostic::error(
            &single,
            "",
            None,
            "no rules file found",
            format!(
                "create {} (or .toml files in {})",
                single.display(),
                sub.display()
            ),
        ));
    }
    let authority = dir.join(super::kewenangan::FILE);
    if authority.exists() {
        paths.push(authority);
    }
    let mut out = Vec::new();
    for p in paths {
        match crate::limits::read_capped(&p, crate::limits::MAX_MAPPING_FILE_BYTES) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => out.push(SourceFile { path: p, text }),
                Err(_) => errors.push(Diagnostic::error(
                    &p,
                    "",
                    None,
                    "the file is not UTF-8 text",
                    "save it as UTF-8 (the default of most editors)",
                )),
            },
            Err(e) => errors.push(unreadable(&p, &e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn unreadable(p: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(
        p,
        "",
        None,
        format!("cannot read the file: {e}"),
        "check that the mappings directory in sp4n.toml points at the right folder",
    )
}

/// The revision of a set of mapping files: short SHA-256 over names and bytes.
pub fn revision_of(sources: &[SourceFile]) -> String {
    let mut h = Sha256::new();
    for s in sources {
        let name = s
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        h.update(name.as_bytes());
        h.update([0]);
        h.update((s.text.len() as u64).to_le_bytes());
        h.update(s.text.as_bytes());
    }
    hex::encode(h.finalize())[..12].to_string()
}

struct Ctx<'a> {
    sources: &'a [SourceFile],
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn error(
        &mut self,
        file: usize,
        span: Range<usize>,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let s = &self.sources[file];
        self.diags
            .push(Diagnostic::error(&s.path, &s.text, Some(span), msg, hint));
    }
    fn warning(
        &mut self,
        file: usize,
        span: Range<usize>,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let s = &self.sources[file];
        self.diags
            .push(Diagnostic::warning(&s.path, &s.text, Some(span), msg, hint));
    }
    fn line_of(&self, file: usize, offset: usize) -> usize {
        self.sources[file].text[..offset.min(self.sources[file].text.len())]
            .matches('\n')
            .count()
            + 1
    }
}

fn date_of(ctx: &mut Ctx, v: &Option<Spanned<toml::Value>>, key: &str) -> Option<NaiveDate> {
    let v = v.as_ref()?;
    let parsed = match v.get_ref() {
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
            .date
            .and_then(|d| NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)),
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        _ => None,
    };
    if parsed.is_none() {
        ctx.error(
            0,
            v.span(),
            format!("{key} is not a date"),
            format!("write a date as YYYY-MM-DD, for example {key} = 2020-01-02"),
        );
    }
    parsed
}

fn overlaps(
    a: (Option<NaiveDate>, Option<NaiveDate>),
    b: (Option<NaiveDate>, Option<NaiveDate>),
) -> bool {
    let starts_before_end = |s: Option<NaiveDate>, e: Option<NaiveDate>| match (s, e) {
        (Some(s), Some(e)) => s <= e,
        _ => true,
    };
    starts_before_end(a.0, b.1) && starts_before_end(b.0, a.1)
}

use super::world::distance;

fn suggest<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_uppercase();
    options
        .into_iter()
        .map(|o| (distance(&w, &o.to_uppercase()), o))
        .filter(|(d, o)| *d <= 2.max(o.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

struct ParsedOpd {
    opd: Opd,
    meta: OpdMeta,
}

fn check_opds(ctx: &mut Ctx, raw: Vec<RawOpd>) -> Vec<ParsedOpd> {
    let mut out: Vec<ParsedOpd> = Vec::new();
    for r in raw {
        let code = r.code.get_ref().trim().to_string();
        let code_span = r.code.span();
        if code.is_empty() || code.chars().any(|c| c.is_whitespace()) {
            ctx.error(
                0,
                code_span.clone(),
                format!("'{code}' is not a usable OPD code"),
                "use a short code without spaces, e.g. DINKES or KAP-WATES",
            );
        }
        if r.name.get_ref().trim().is_empty() {
            ctx.error(
                0,
                r.name.span(),
                "the OPD name is empty",
                "write the official name",
            );
        }
        let valid_from = date_of(ctx, &r.valid_from, "valid_from");
        let valid_to = date_of(ctx, &r.valid_to, "valid_to");
        if let (Some(f), Some(t)) = (valid_from, valid_to)
            && f > t
        {
            let span = r.valid_to.as_ref().map_or(code_span.clone(), |v| v.span());
            ctx.error(
                0,
                span,
                format!("valid_to {t} is before valid_from {f}"),
                "valid_to is the last day the entry applies; it cannot precede valid_from",
            );
        }
        let wilayah = r.wilayah.as_ref().and_then(|w| {
            let code = w.get_ref().trim();
            match check_location(code) {
                Ok(()) if code.len() == 8 => Some(code.to_string()),
                Ok(()) => {
                    ctx.error(
                        0,
                        w.span(),
                        format!("wilayah '{code}' is not a kapanewon code"),
                        "wilayah names the kapanewon an entry serves: 34.01.xx",
                    );
                    None
                }
                Err(m) => {
                    ctx.error(
                        0,
                        w.span(),
                        m,
                        "wilayah is a kapanewon code, 34.01.01 to 34.01.12",
                    );
                    None
                }
            }
        });
        let unit_id = r.unit_id.as_ref().map(|u| u.get_ref().trim().to_string());
        if let Some(u) = &r.unit_id
            && u.get_ref().trim().is_empty()
        {
            ctx.error(
                0,
                u.span(),
                "unit_id is empty",
                "write the upstream unit id from getunits, or remove the key for an OPD without an upstream account",
            );
        }
        let opd = Opd {
            code: code.clone(),
            name: r.name.get_ref().trim().to_string(),
            unit_id,
            aliases: r
                .aliases
                .iter()
                .map(|a| a.get_ref().trim().to_string())
                .collect(),
            wilayah,
            valid_from,
            valid_to,
            paused: r.paused,
        };
        let meta = OpdMeta {
            code_span,
            unit_span: r.unit_id.as_ref().map(|u| u.span()),
            names: std::iter::once((normalize(r.name.get_ref()), r.name.span()))
                .chain(r.aliases.iter().map(|a| (normalize(a.get_ref()), a.span())))
                .collect(),
        };
        // Same code twice: allowed only for successive periods (a renamed OPD).
        if let Some(prev) = out.iter().find(|p| {
            p.opd.code == opd.code
                && overlaps((p.opd.valid_from, p.opd.valid_to), (valid_from, valid_to))
        }) {
            let line = ctx.line_of(0, prev.meta.code_span.start);
            ctx.error(
                0,
                meta.code_span.clone(),
                format!(
                    "OPD '{}' is defined twice for overlapping dates (first at line {line})",
                    opd.code
                ),
                "give the older entry a valid_to and this one a later valid_from, or remove one",
            );
        }
        for prev in out.iter().filter(|p| p.opd.code != opd.code) {
            for (n, span) in &meta.names {
                if let Some((_, pspan)) = prev
                    .meta
                    .names
                    .iter()
                    .find(|(pn, _)| pn == n && !n.is_empty())
                {
                    let line = ctx.line_of(0, pspan.start);
                    ctx.error(
                        0,
                        span.clone(),
                        format!(
                            "the name or alias '{}' also belongs to OPD '{}' (line {line})",
                            ctx.sources[0].text[span.clone()].trim_matches('"'),
                            prev.opd.code
                        ),
                        "a name must identify one OPD; remove it from one of the two",
                    );
                }
            }
            if let (Some(u), Some(pu)) = (&opd.unit_id, &prev.opd.unit_id)
                && u == pu
                && overlaps(
                    (prev.opd.valid_from, prev.opd.valid_to),
                    (valid_from, valid_to),
                )
            {
                let line = ctx.line_of(0, prev.meta.code_span.start);
                ctx.error(
                    0,
                    meta.unit_span.clone().unwrap_or(meta.code_span.clone()),
                    format!(
                        "unit_id {u} is also used by OPD '{}' (line {line}) for overlapping dates",
                        prev.opd.code
                    ),
                    "each upstream unit belongs to one OPD at a time",
                );
            }
            if let (Some(w), Some(pw)) = (&opd.wilayah, &prev.opd.wilayah)
                && w == pw
                && overlaps(
                    (prev.opd.valid_from, prev.opd.valid_to),
                    (valid_from, valid_to),
                )
            {
                let line = ctx.line_of(0, prev.meta.code_span.start);
                ctx.error(
                    0,
                    meta.code_span.clone(),
                    format!(
                        "wilayah {w} is also served by OPD '{}' (line {line})",
                        prev.opd.code
                    ),
                    "each kapanewon has one Kapanewon office at a time",
                );
            }
        }
        out.push(ParsedOpd { opd, meta });
    }
    out
}

fn topic_list(ctx: &mut Ctx, file: usize, tree: &TopicTree, items: &[Spanned<String>]) -> Vec<u32> {
    let mut out = Vec::new();
    for t in items {
        let raw = t.get_ref().trim();
        match tree.resolve(raw) {
            Ok(i) => {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            Err(TopicMiss::UnknownId) => ctx.error(
                file,
                t.span(),
                format!("unknown topic id '{raw}'"),
                "name the topic by its path of names (e.g. \"Pekerjaan Umum dan Penataan Ruang/Jalan dan Jembatan\"), which works on every deployment, or use an id that `sp4n mappings topics` lists",
            ),
            Err(TopicMiss::UnknownName { suggestion }) => ctx.error(
                file,
                t.span(),
                format!("no topic of the platform is named '{raw}'"),
                match suggestion {
                    Some(p) => format!("did you mean \"{p}\"? (`sp4n mappings topics` lists every topic)"),
                    None => "write the topic's path of names as `sp4n mappings topics` lists it, parent first, separated by /".to_string(),
                },
            ),
            Err(TopicMiss::Ambiguous { paths }) => ctx.error(
                file,
                t.span(),
                format!("'{raw}' names {} topics", paths.len()),
                format!("write the whole path of the one you mean: {}", paths.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(" or ")),
            ),
        }
    }
    out
}

fn phrase_list(
    ctx: &mut Ctx,
    file: usize,
    lex: &mut Lexicon,
    items: &[Spanned<String>],
) -> Vec<u32> {
    let mut out = Vec::new();
    for k in items {
        match lex.add(k.get_ref()) {
            Ok(id) => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            Err(m) => ctx.error(
                file,
                k.span(),
                format!("unusable keyword: {m}"),
                "write one or more whole words; end a word with * to match words that start with it (mampet*)",
            ),
        }
    }
    out
}

fn word_list(
    ctx: &mut Ctx,
    file: usize,
    items: &[Spanned<String>],
    known: Option<(&[&str], &str)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for v in items {
        let w = v.get_ref().trim().to_lowercase();
        if let Some((known, what)) = known
            && !known.contains(&w.as_str())
        {
            ctx.warning(
                file,
                v.span(),
                format!("'{w}' is not a {what} of the platform contract"),
                format!("the contract knows {}; a rule with an unknown value only matches if the platform starts sending it", known.join(", ")),
            );
        }
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn compile_rule(
    ctx: &mut Ctx,
    file: usize,
    r: &RawRule,
    tree: &TopicTree,
    lex: &mut Lexicon,
    codes: &[&str],
) -> Option<Rule> {
    let id = r.id.get_ref().trim().to_string();
    if id.is_empty() {
        ctx.error(
            file,
            r.id.span(),
            "the rule id is empty",
            "give every rule a short unique id, e.g. jalan-rusak",
        );
    }
    let target_raw = r.target.get_ref().trim();
    let target = if target_raw == KAPANEWON_TARGET {
        Some(Target::Kapanewon)
    } else if codes.contains(&target_raw) {
        Some(Target::Opd(target_raw.to_string()))
    } else {
        let hint = match suggest(target_raw, codes.iter().copied()) {
            Some(s) => format!("did you mean '{s}'? The OPD codes are defined in opd.toml"),
            None => format!(
                "use an OPD code defined in opd.toml, or \"{KAPANEWON_TARGET}\" for the Kapanewon of the complaint's location"
            ),
        };
        ctx.error(
            file,
            r.target.span(),
            format!("unknown OPD code '{target_raw}'"),
            hint,
        );
        None
    };
    let topics = topic_list(ctx, file, tree, &r.topics);
    let mut locations = Vec::new();
    for l in &r.locations {
        let code = l.get_ref().trim();
        match check_location(code) {
            Ok(()) if code.len() >= 8 => locations.push(code.to_string()),
            Ok(()) => ctx.error(
                file,
                l.span(),
                format!("'{code}' is the whole regency or province, not a kapanewon or kalurahan"),
                "use a kapanewon code (34.01.xx) or a kalurahan code (34.01.xx.xxxx), or drop the condition",
            ),
            Err(m) => ctx.error(
                file,
                l.span(),
                m,
                "kapanewon codes are 34.01.01 (Temon) to 34.01.12 (Kalibawang); kalurahan codes add .2001 upward",
            ),
        }
    }
    let rule = Rule {
        id,
        description: r.description.trim().to_string(),
        target: target.clone().unwrap_or(Target::Opd(String::new())),
        priority: *r.priority.get_ref(),
        file,
        span: r.id.span(),
        index: 0,
        conds: Vec::new(),
        topics,
        klasifikasi: word_list(
            ctx,
            file,
            &r.klasifikasi,
            Some((KLASIFIKASI, "klasifikasi")),
        ),
        tags: r.tags.iter().map(|t| normalize(t.get_ref())).collect(),
        locations,
        channels: word_list(ctx, file, &r.channels, Some((CHANNELS, "channel"))),
        title_any: phrase_list(ctx, file, lex, &r.title_any),
        any: phrase_list(ctx, file, lex, &r.keywords_any),
        all: phrase_list(ctx, file, lex, &r.keywords_all),
        none: phrase_list(ctx, file, lex, &r.keywords_none),
        context: Vec::new(),
        advice: None,
    };
    let stated = !(r.topics.is_empty()
        && r.klasifikasi.is_empty()
        && r.tags.is_empty()
        && r.locations.is_empty()
        && r.channels.is_empty()
        && r.title_any.is_empty()
        && r.keywords_any.is_empty()
        && r.keywords_all.is_empty());
    if !stated {
        ctx.error(
            file,
            r.id.span(),
            format!("rule '{}' has no conditions", rule.id),
            "add topics, keywords_any, locations or another condition; complaints that no rule matches already go to ADMIN (keywords_none alone is not a condition)",
        );
    }
    target.map(|_| rule)
}

/// Builds mappings from already-read sources. `topics`: the platform's tree, or `None`
/// for the modelled tree.
pub fn build(
    sources: Vec<SourceFile>,
    topics: Option<&[crate::model::Topic]>,
) -> Result<(Mappings, Vec<Diagnostic>), Vec<Diagnostic>> {
    let revision = revision_of(&sources);
    let tree = match topics {
        Some(t) => TopicTree::new(t),
        None => TopicTree::modelled(),
    };
    let mut ctx = Ctx {
        sources: &sources,
        diags: Vec::new(),
    };
    let opd_raw = match toml::from_str::<OpdFile>(&sources[0].text) {
        Ok(f) => Some(f.opd),
        Err(e) => {
            ctx.diags.push(Diagnostic::from_toml(
                &sources[0].path,
                &sources[0].text,
                &e,
            ));
            None
        }
    };
    let mut rule_raw: Vec<(usize, Vec<RawRule>)> = Vec::new();
    let is_authority = |s: &SourceFile| {
        s.path
            .file_name()
            .is_some_and(|n| n == super::kewenangan::FILE)
    };
    let mut lex = Lexicon::default();
    let mut matters = Vec::new();
    let mut rules: Vec<Rule> = Vec::new();
    for (i, s) in sources.iter().enumerate().skip(1) {
        if is_authority(s) {
            for (rule, matter) in super::kewenangan::compile(s, i, &mut lex, &mut ctx.diags) {
                rules.push(rule);
                matters.push(matter);
            }
            continue;
        }
        match toml::from_str::<RulesFile>(&s.text) {
            Ok(f) => rule_raw.push((i, f.rule)),
            Err(e) => ctx.diags.push(Diagnostic::from_toml(&s.path, &s.text, &e)),
        }
    }
    let Some(opd_raw) = opd_raw else {
        return Err(ctx.diags);
    };
    let parsed = check_opds(&mut ctx, opd_raw);
    if !parsed.iter().any(|p| p.opd.code == TRIAGE) {
        ctx.error(
            0,
            0..0,
            format!("opd.toml has no '{TRIAGE}' entry"),
            format!(
                "add an [[opd]] with code = \"{TRIAGE}\": complaints that no rule matches go there"
            ),
        );
    }
    let mut codes: Vec<&str> = parsed.iter().map(|p| p.opd.code.as_str()).collect();
    codes.dedup();
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    for (file, raws) in &rule_raw {
        for r in raws {
            let id = r.id.get_ref().trim().to_string();
            if let Some((f, off)) = seen.get(&id) {
                let line = ctx.line_of(*f, *off);
                let name = sources[*f]
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ctx.error(
                    *file,
                    r.id.span(),
                    format!("duplicate rule id '{id}' (first used in {name} line {line})"),
                    "rule ids name a rule in the routing record of every complaint; give this rule another id",
                );
            } else {
                seen.insert(id, (*file, r.id.span().start));
            }
            if let Some(rule) = compile_rule(&mut ctx, *file, r, &tree, &mut lex, &codes) {
                rules.push(rule);
            }
        }
    }
    // Highest priority first; ties keep file order (sort is stable).
    rules.sort_by_key(|r| std::cmp::Reverse(r.priority));
    for (i, r) in rules.iter_mut().enumerate() {
        r.index = i as u32;
        r.conds = r.stated();
    }
    if ctx.diags.iter().any(Diagnostic::is_error) {
        return Err(ctx.diags);
    }
    // Warnings: shadowed rules.
    for j in 0..rules.len() {
        if let Some(i) = (0..j).find(|&i| rules[i].covers(&rules[j], &tree)) {
            let (a, b) = (&rules[i], &rules[j]);
            let line = ctx.line_of(a.file, a.span.start);
            let name = sources[a.file]
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            ctx.warning(
                b.file,
                b.span.clone(),
                format!(
                    "rule '{}' can never match: rule '{}' ({name} line {line}, priority {}) matches every complaint it matches and is checked first",
                    b.id, a.id, a.priority
                ),
                "give this rule a higher priority than the broader rule, narrow the broader rule, or remove this one",
            );
        }
    }
    // Warnings: OPDs that no rule reaches, paused OPDs.
    let kapanewon_rule = rules.iter().any(|r| r.target == Target::Kapanewon);
    let mut warned: Vec<&str> = Vec::new();
    for p in &parsed {
        let code = p.opd.code.as_str();
        if warned.contains(&code) {
            continue;
        }
        let reached = code == TRIAGE
            || rules
                .iter()
                .any(|r| r.target == Target::Opd(code.to_string()))
            || (kapanewon_rule && p.opd.wilayah.is_some());
        if !reached {
            warned.push(code);
            ctx.warning(
                0,
                p.meta.code_span.clone(),
                format!("no rule routes complaints to OPD '{code}'"),
                "complaints reach it only by upstream re-disposition or manual triage; add a rule if that is not intended",
            );
        }
    }
    for p in &parsed {
        if p.opd.paused {
            ctx.warning(
                0,
                p.meta.code_span.clone(),
                format!("OPD '{}' is paused: complaints still route to it, but nothing is pushed upstream for it", p.opd.code),
                "set paused = false when its pejabat penghubung is available again",
            );
        }
    }
    let warnings = ctx.diags;
    let (opds, metas): (Vec<Opd>, Vec<OpdMeta>) =
        parsed.into_iter().map(|p| (p.opd, p.meta)).unzip();
    Ok((
        Mappings::assemble(revision, opds, metas, rules, lex, tree, sources, matters),
        warnings,
    ))
}
