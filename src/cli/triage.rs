//! `sp4n triage list|assign`: the administrator's triage desk (`ADMIN`).
//!
//! `list` shows the open complaints no rule could route, oldest first, with their age in
//! working days. `assign` records the administrator's decision (who, when, note) as the
//! complaint's routing and queues the disposition to the chosen OPD's unit, in one store
//! update that is flushed before the command reports success.

use super::{CliError, Ctx, EXIT_CONFIG};
use crate::mapping::TRIAGE;
use crate::model::{Status, format_wib_short};
use crate::push::input::{DEFAULT_DISPOSITION_NOTE, InputError, OpdDirectory};
use crate::push::policy;
use crate::sla::Calendar;
use crate::store::{
    ComplaintFilter, EventKind, NewOutboxEntry, RoutedBy, Routing, StoredComplaint, new_ref,
};
use crate::upstream::{WriteAction, WriteRequest};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, clap::Subcommand)]
pub enum TriageCmd {
    /// Open complaints waiting at the triage desk (ADMIN), oldest first.
    #[command(after_help = "Examples:\n  sp4n triage list\n  sp4n triage list --json")]
    List,
    /// Decide the OPD of a complaint: record it and queue the disposition.
    #[command(
        after_help = "Examples:\n  sp4n triage assign 1916449 DPUPKP\n  sp4n triage assign 1916449 KAP-WATES --note \"Mohon dicek ke lokasi.\" --by budi\n\nThe disposition waits in the outbox until `sp4n push` (or `sp4n sync`) sends it.\nOPD codes are those of mappings/opd.toml (case-sensitive)."
    )]
    Assign {
        /// The complaint's tracking id.
        tracking_id: u64,
        /// The OPD code (mappings/opd.toml).
        opd: String,
        /// The note sent with the disposition (default: "Mohon ditindaklanjuti sesuai kewenangan.").
        #[arg(long)]
        note: Option<String>,
        /// Who decided (default: $USER or $LOGNAME).
        #[arg(long)]
        by: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, cmd: TriageCmd) -> Result<i32, CliError> {
    match cmd {
        TriageCmd::List => list(ctx).await,
        TriageCmd::Assign {
            tracking_id,
            opd,
            note,
            by,
        } => assign(ctx, tracking_id, opd, note, by).await,
    }
}

/// One complaint waiting at the triage desk.
#[derive(Debug, Serialize)]
struct Waiting {
    tracking_id: u64,
    first_seen: DateTime<Utc>,
    /// Working days since it was first stored.
    age_working_days: u32,
    status: String,
    rahasia: bool,
    title: String,
    topic: Option<String>,
    kapanewon: Option<String>,
    /// The stored rule that sent it here (`fallback`, `ragu`, `kewenangan:<id>`, …).
    rule_id: Option<String>,
    /// What the mappings in force advise: suggested action, candidates, similar
    /// complaints disposed before (issue 15).
    advice: Option<crate::mapping::Advice>,
}

fn waiting(
    s: &StoredComplaint,
    cal: &Calendar,
    now: DateTime<Utc>,
    m: Option<&crate::mapping::Mappings>,
) -> Waiting {
    let c = &s.complaint;
    Waiting {
        rule_id: s.routing.as_ref().map(|r| r.rule_id.clone()),
        advice: m.map(|m| m.advise(c, crate::mapping::today_wib())),
        tracking_id: c.tracking_id,
        first_seen: s.first_seen,
        age_working_days: cal.working_days_between(s.first_seen, now),
        status: c.status.to_string(),
        rahasia: c.rahasia,
        title: c.judul.clone(),
        topic: c.topik.as_ref().map(|t| format!("{} {}", t.id, t.name)),
        kapanewon: c.kapanewon_code().map(str::to_string),
    }
}

async fn list(ctx: &Ctx) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let cal = Calendar::load(&cfg.mappings.dir.join("calendar.toml"))
        .map(|(c, _)| c)
        .unwrap_or_else(|_| Calendar::weekends_only(crate::model::WIB));
    let store = ctx.open_store(&cfg).await?;
    let filter = ComplaintFilter {
        opd: Some(TRIAGE.to_string()),
        in_stream: Some(true),
        ..Default::default()
    };
    let mut open: Vec<StoredComplaint> = store
        .run(move |s| s.list_complaints(&filter))
        .await?
        .into_iter()
        .filter(|s| !s.complaint.status.is_closed())
        .collect();
    open.sort_by_key(|s| (s.first_seen, s.tracking_id()));
    let now = Utc::now();
    // Advice needs the mappings in force; the list still shows without them.
    let active = super::pull::active_mappings(&cfg, &store).await.ok();
    let m = active.as_ref().map(|a| a.mappings.as_ref());
    let rows: Vec<Waiting> = open.iter().map(|s| waiting(s, &cal, now, m)).collect();
    if ctx.json {
        ctx.print_json(&rows)?;
        return Ok(0);
    }
    if rows.is_empty() {
        println!("Tidak ada aduan di meja triase ({TRIAGE}).");
        return Ok(0);
    }
    println!(
        "{:>9}  {:<20}  {:>4}  {:<28}  {:<9}  judul",
        "TRACKING", "PERTAMA DILIHAT", "HK", "TOPIK", "KAPANEWON"
    );
    for w in &rows {
        let topic: String = w.topic.as_deref().unwrap_or("-").chars().take(28).collect();
        println!(
            "{:>9}  {:<20}  {:>4}  {:<28}  {:<9}  {}{}",
            w.tracking_id,
            format_wib_short(w.first_seen),
            w.age_working_days,
            topic,
            w.kapanewon.as_deref().unwrap_or("-"),
            if w.rahasia { "[RAHASIA] " } else { "" },
            w.title
        );
        if let Some(a) = &w.advice {
            print_advice(a);
        }
    }
    println!(
        "{} aduan menunggu triase (HK = hari kerja sejak pertama dilihat). Tetapkan OPD: `sp4n triage assign TRACKING OPD`.",
        rows.len()
    );
    Ok(0)
}

/// The advice under a row: suggested action, candidates, similar past complaints.
fn print_advice(a: &crate::mapping::Advice) {
    if let Some(s) = &a.suggestion {
        println!("{:>11}saran: {s}", "");
    }
    if a.candidates.len() > 1 {
        let c: Vec<String> = a
            .candidates
            .iter()
            .map(|c| format!("{} ({})", c.opd, c.score))
            .collect();
        println!("{:>11}kandidat: {}", "", c.join(", "));
    }
    for s in &a.similar {
        println!("{:>11}serupa: {s}", "");
    }
}

/// What `triage assign` reports.
#[derive(Debug, Serialize)]
struct Assigned {
    tracking_id: u64,
    from: String,
    opd: String,
    unit: String,
    by: String,
    note: String,
    disposition_ref: String,
}

fn refused(e: InputError) -> CliError {
    match e {
        InputError::Store(s) => s.into(),
        other => CliError::new(EXIT_CONFIG, other.to_string()),
    }
}

async fn assign(
    ctx: &Ctx,
    id: u64,
    code: String,
    note: Option<String>,
    by: Option<String>,
) -> Result<i32, CliError> {
    let who = super::mappings::operator(by)?;
    let note = note.unwrap_or_else(|| DEFAULT_DISPOSITION_NOTE.to_string());
    policy::check_text("note", &note).map_err(|m| refused(InputError::BadText(m)))?;
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let active = super::pull::active_mappings(&cfg, &store).await?;
    let m = &active.mappings;
    let opd = m
        .lookup(&code)
        .ok_or_else(|| refused(InputError::UnknownOpd(code.clone())))?;
    let day = m.today();
    if !opd.valid_on(day) {
        let show = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
        return Err(refused(InputError::InactiveOpd {
            code,
            day,
            from: show(opd.valid_from),
            to: show(opd.valid_to),
        }));
    }
    let unit = opd
        .unit_id
        .clone()
        .ok_or_else(|| refused(InputError::NoUnit(code.clone())))?;
    let entry = NewOutboxEntry {
        opd: opd.code.clone(),
        requested_by: who.clone(),
        request: WriteRequest {
            ref_: new_ref(),
            action: WriteAction::Disposisi {
                tracking_id: id,
                unit: unit.clone(),
                catatan: note.clone(),
            },
        },
    };
    let ref_ = entry.request.ref_.clone();
    let revision = m.revision().to_string();
    let (to, by, n) = (opd.code.clone(), who.clone(), note.clone());
    let before = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = before.clone();
    store
        .run(move |s| {
            s.update_complaint(
                id,
                |r| {
                    if !r.in_stream {
                        return Err(format!(
                            "complaint {id} has left Kulon Progo's stream ({}): nothing can be disposed",
                            r.left_reason.as_deref().unwrap_or("no longer addressed to the instansi")
                        ));
                    }
                    if !policy::OPEN_FOR_WORK.contains(&r.complaint.status) {
                        return Err(format!(
                            "complaint {id} is '{}': a disposition is accepted only while it is '{}' or '{}'",
                            r.complaint.status,
                            Status::BelumDitindaklanjuti,
                            Status::Proses
                        ));
                    }
                    if let Ok(mut b) = seen.lock() {
                        *b = r.opd().to_string();
                    }
                    r.routing = Some(Routing {
                        opd: to.clone(),
                        rule_id: "triage".into(),
                        revision: revision.clone(),
                        routed_at: Utc::now(),
                        by: RoutedBy::Person(by.clone()),
                    });
                    Ok(vec![EventKind::TriageAssigned {
                        opd: to.clone(),
                        by: by.clone(),
                        note: n.clone(),
                    }])
                },
                vec![entry.clone()],
            )
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Refused(m) => CliError::new(EXIT_CONFIG, m),
            other => other.into(),
        })?
        .ok_or_else(|| {
            CliError::new(
                EXIT_CONFIG,
                format!(
                    "complaint {id} is not in the local store: check the tracking id, or run `sp4n pull` first if it is new"
                ),
            )
        })?;
    let from = before.lock().map(|b| b.clone()).unwrap_or_default();
    let done = Assigned {
        tracking_id: id,
        from,
        opd: opd.code.clone(),
        unit,
        by: who,
        note,
        disposition_ref: ref_,
    };
    if ctx.json {
        ctx.print_json(&done)?;
    } else {
        println!(
            "Aduan {} ditetapkan ke {} ({}) oleh {} (sebelumnya {}); disposisi ke unit {} tersimpan di antrean kirim (ref {}): `sp4n push` atau `sp4n sync` mengirimnya.",
            done.tracking_id,
            done.opd,
            opd.name,
            done.by,
            done.from,
            done.unit,
            done.disposition_ref
        );
    }
    Ok(0)
}
