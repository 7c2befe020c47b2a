//! `sp4n complaints list` and `sp4n complaints show ID`.
//!
//! Reporter identity is printed only with `--reveal-reporter`, and never for anonim
//! complaints; rahasia content is marked as such.

use super::{CliError, Ctx};
use crate::model::{Status, TrackingId, format_wib_short};
use crate::store::{ComplaintFilter, Event, StoredComplaint};

#[derive(Debug, clap::Subcommand)]
pub enum ComplaintsCmd {
    /// List stored complaints, newest change first.
    #[command(
        after_help = "Examples:\n  sp4n complaints list --status proses\n  sp4n complaints list --kapanewon 34.01.02 --topic 41 --json"
    )]
    List(ListArgs),
    /// Show one complaint with its thread and history.
    #[command(after_help = "Example:\n  sp4n complaints show 1916449 --reveal-reporter")]
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Status: a key (proses, bukan_wewenang) or a label ("Bukan Wewenang").
    #[arg(long)]
    pub status: Option<String>,
    /// Topic id (e.g. 41).
    #[arg(long)]
    pub topic: Option<String>,
    /// Kapanewon code (e.g. 34.01.02 for Wates).
    #[arg(long)]
    pub kapanewon: Option<String>,
    /// Local OPD code (ADMIN for triage).
    #[arg(long)]
    pub opd: Option<String>,
    /// At most this many lines.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The tracking id.
    pub id: TrackingId,
    /// Print the reporter's name and contact (never for anonim complaints).
    #[arg(long)]
    pub reveal_reporter: bool,
}

pub async fn run(ctx: &Ctx, cmd: ComplaintsCmd) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    match cmd {
        ComplaintsCmd::List(a) => {
            let status = match &a.status {
                Some(s) => Some(Status::parse_loose(s).ok_or_else(|| {
                    CliError::new(
                        2,
                        format!(
                            "unknown status '{s}'; use one of: {}",
                            Status::ALL.map(|s| s.key()).join(", ")
                        ),
                    )
                })?),
                None => None,
            };
            let filter = ComplaintFilter {
                status,
                topic: a.topic,
                kapanewon: a.kapanewon,
                opd: a.opd,
                in_stream: None,
            };
            let mut list = store.run(move |s| s.list_complaints(&filter)).await?;
            list.sort_by_key(|x| std::cmp::Reverse(x.complaint.diperbarui));
            let total = list.len();
            list.truncate(a.limit);
            if ctx.json {
                let rows: Vec<_> = list.iter().map(|s| redact(s, false)).collect();
                ctx.print_json(&rows)?;
            } else {
                for s in &list {
                    println!("{}", line(s));
                }
                println!("{} of {total} complaints shown.", list.len());
            }
            Ok(0)
        }
        ComplaintsCmd::Show(a) => {
            let id = a.id;
            let found = store
                .run(move |s| {
                    Ok::<_, crate::store::StoreError>((s.get_complaint(id)?, s.events(id)?))
                })
                .await?;
            let (Some(rec), events) = found else {
                return Err(CliError::new(
                    1,
                    format!(
                        "complaint {id} is not in the store; run `sp4n pull`, or check the id with `sp4n complaints list`"
                    ),
                ));
            };
            if ctx.json {
                ctx.print_json(&serde_json::json!({
                    "complaint": redact(&rec, a.reveal_reporter),
                    "history": events,
                }))?;
            } else {
                print!("{}", show(&rec, &events, a.reveal_reporter));
            }
            Ok(0)
        }
    }
}

/// The record as printed: reporter identity only when revealed and not anonim.
fn redact(s: &StoredComplaint, reveal: bool) -> serde_json::Value {
    let mut rec = s.clone();
    if !reveal || rec.complaint.anonim {
        rec.complaint.pelapor = None;
    }
    rec.raw = String::new();
    let mut v = serde_json::to_value(&rec).unwrap_or_default();
    if rec.complaint.rahasia {
        v["rahasia_notice"] = serde_json::Value::String(
            "RAHASIA: isi hanya untuk administrator dan OPD tujuan".into(),
        );
    }
    v
}

fn line(s: &StoredComplaint) -> String {
    let c = &s.complaint;
    format!(
        "{:>9}  {:<22} {:<10} {:<10} {}{}",
        c.tracking_id,
        c.status.default_label(),
        s.opd(),
        c.kapanewon_code().unwrap_or("-"),
        if c.rahasia { "[RAHASIA] " } else { "" },
        c.judul
    )
}

fn show(s: &StoredComplaint, events: &[Event], reveal: bool) -> String {
    let c = &s.complaint;
    let mut o = String::new();
    let mut p = |l: String| {
        o.push_str(&l);
        o.push('\n');
    };
    p(format!(
        "Complaint {}{}",
        c.tracking_id,
        if c.rahasia {
            "  [RAHASIA: content confidential]"
        } else {
            ""
        }
    ));
    p(format!("  judul:      {}", c.judul));
    p(format!("  status:     {}", c.status));
    p(format!(
        "  topik:      {}",
        c.topik
            .as_ref()
            .map(|t| format!("{} {}", t.id, t.name))
            .unwrap_or_else(|| "-".into())
    ));
    p(format!(
        "  lokasi:     {}",
        c.lokasi
            .as_ref()
            .map(|l| format!("{} {}", l.kode, l.name))
            .unwrap_or_else(|| "-".into())
    ));
    p(format!(
        "  unit:       {}",
        c.unit
            .as_ref()
            .map(|u| format!("{} {}", u.id, u.name))
            .unwrap_or_else(|| "-".into())
    ));
    p(format!(
        "  OPD:        {}{}",
        s.opd(),
        s.routing
            .as_ref()
            .map(|r| format!(" (rule {}, revision {})", r.rule_id, r.revision))
            .unwrap_or_default()
    ));
    p(format!("  diperbarui: {}", format_wib_short(c.diperbarui)));
    if !s.in_stream {
        p(format!(
            "  left the stream: {}",
            s.left_reason.as_deref().unwrap_or("-")
        ));
    }
    let pelapor = if c.anonim {
        "anonim".to_string()
    } else if !reveal {
        "hidden (use --reveal-reporter)".to_string()
    } else {
        match &c.pelapor {
            Some(r) => format!(
                "{} {} <{}> {}",
                r.namadepan, r.namabelakang, r.email, r.telpon
            ),
            None => "-".into(),
        }
    };
    p(format!("  pelapor:    {pelapor}"));
    p(format!("  isi:        {}", c.isi));
    if !c.thread.is_empty() {
        p("Thread:".into());
        for t in &c.thread {
            p(format!(
                "  {} {} {}: {}",
                format_wib_short(t.waktu),
                t.transaksi_id,
                t.oleh.as_str(),
                t.isi
            ));
        }
    }
    p("History:".into());
    for e in events {
        let kind = serde_json::to_value(&e.kind).unwrap_or_default();
        p(format!("  {} {}", format_wib_short(e.at), kind));
    }
    o
}
