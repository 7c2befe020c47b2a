//! `sp4n demo`: the bundled simulator in-process on loopback TLS, a temporary store, one
//! full pull (routed complaints get a disposition queued), one push of those dispositions,
//! and a summary of what arrived (by status, topic, kapanewon and OPD), what the platform
//! applied, and whether anything is held or late, then what to try next. Needs no configuration file.

use super::{CliError, Ctx, EXIT_STORE};
use crate::pull::{Mode, PullOptions};
use crate::store::StoredComplaint;
use crate::upstream::Client;
use std::collections::BTreeMap;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many complaints the simulated platform holds.
    #[arg(long, default_value_t = 1000)]
    pub complaints: usize,
    /// The simulator's seed (same seed, same world).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(ctx: &Ctx, args: DemoArgs) -> Result<i32, CliError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        CliError::new(EXIT_STORE, format!("demo: {what}: {e}"))
    };
    let dir = tempfile::tempdir().map_err(|e| fail("cannot make a temporary directory", &e))?;
    let sim = crate::sim::start(crate::sim::SimOptions::new(
        args.seed,
        args.complaints,
        &dir.path().join("sim"),
    ))
    .await
    .map_err(|e| fail("the simulator did not start", &e))?;
    let upstream = sim.upstream_config();
    let client =
        Client::new(&upstream, sim.token()).map_err(|e| fail("cannot reach the simulator", &e))?;
    let store_path = dir.path().join("store");
    let store = super::open_store(&store_path).await?;
    let mut opts = PullOptions::new(Mode::Pull);
    opts.page_size = 500;
    opts.progress = !ctx.json;
    // Queue a disposition for every complaint a rule routes to an OPD.
    opts.auto_dispose = true;
    let report = crate::pull::pull(
        &store,
        &client,
        std::sync::Arc::new(crate::mapping::MappingRouter(std::sync::Arc::new(
            crate::mapping::embedded(),
        ))),
        &opts,
    )
    .await?;
    // Push the queued dispositions to the simulator, then count what it applied.
    let pushed = crate::push::run(&store, &client, &crate::push::PushOptions::default()).await?;
    let applied_upstream = sim.ground_truth().writes_applied.len();
    let all = store
        .run(|s| s.list_complaints(&Default::default()))
        .await?;
    let summary = Summary::of(&all);
    let now = chrono::Utc::now();
    let (cal, _) = crate::app::report::load_calendar(std::path::Path::new("mappings"));
    let names = crate::mapping::embedded();
    let rows = store
        .run(move |s| crate::app::report::rows(s, &names, &cal, now))
        .await?;
    let coord = crate::report::Report::build(&rows, Default::default(), now);
    let held = store.run(|s| s.held_count()).await?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "run": report,
            "push": pushed,
            "applied_upstream": applied_upstream,
            "summary": summary,
            "overdue": coord.overdue.len(),
        }))?;
    } else {
        println!(
            "Simulator: {} (seed {}, {} complaints), store: {}",
            sim.base_url(),
            args.seed,
            args.complaints,
            store_path.display()
        );
        println!("{}", super::pull::summary(&report));
        print!("{}", summary.render());
        println!(
            "\nPushed: {} disposition(s) confirmed by the platform, {} applied upstream (simulator ground truth), {} held, {} deferred",
            pushed.done(),
            applied_upstream,
            pushed.held,
            pushed.deferred
        );
        println!(
            "\nIs it healthy? {}",
            if held == 0 && report.set_aside == 0 {
                "yes: nothing held, nothing set aside (`sp4n status` shows this for a real store)"
            } else {
                "needs a person: see `sp4n outbox list --held` and `sp4n quarantine list`"
            }
        );
        println!(
            "Who is late? {} overdue of {} (`sp4n report` lists them per OPD with LAPOR! links)",
            coord.overdue.len(),
            coord.total.received
        );
        for o in coord.overdue.iter().take(3) {
            println!("  {} {} {}", o.opd, o.clock, o.link);
        }
        println!(
            "\nWhat to try next:\n  sp4n --help                       every command, with examples\n  sp4n-sim --help                   run the simulator on its own and point sp4n.toml at it\n  sp4n pull / sp4n reconcile        against your configured platform (sp4n.toml)\n  sp4n complaints list --status proses --kapanewon 34.01.02\n  sp4n complaints show ID --reveal-reporter"
        );
    }
    sim.shutdown().await;
    Ok(crate::pull::exit_code(&report))
}

/// Counts of the stored complaints.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_status: BTreeMap<String, usize>,
    pub by_topic: BTreeMap<String, usize>,
    pub by_kapanewon: BTreeMap<String, usize>,
    pub by_opd: BTreeMap<String, usize>,
}

impl Summary {
    pub fn of(all: &[StoredComplaint]) -> Summary {
        let mut s = Summary {
            total: all.len(),
            ..Default::default()
        };
        for rec in all {
            let c = &rec.complaint;
            *s.by_status.entry(c.status.to_string()).or_default() += 1;
            let topic = c
                .topik
                .as_ref()
                .map(|t| format!("{} {}", t.id, t.name))
                .unwrap_or_else(|| "(tanpa topik)".into());
            *s.by_topic.entry(topic).or_default() += 1;
            let kap = match (&c.lokasi, c.kapanewon_code()) {
                (Some(l), Some(k)) => {
                    let name = l.name.rsplit(", ").next().unwrap_or(&l.name);
                    format!("{k} {name}")
                }
                _ => "(tanpa lokasi)".into(),
            };
            *s.by_kapanewon.entry(kap).or_default() += 1;
            *s.by_opd.entry(rec.opd().to_string()).or_default() += 1;
        }
        s
    }

    pub fn render(&self) -> String {
        let mut o = format!("\nStored complaints: {}\n", self.total);
        for (title, map) in [
            ("By status", &self.by_status),
            ("By topic", &self.by_topic),
            ("By kapanewon", &self.by_kapanewon),
            ("By OPD", &self.by_opd),
        ] {
            o.push_str(&format!("{title}:\n"));
            for (k, v) in map {
                o.push_str(&format!("  {v:>6}  {k}\n"));
            }
        }
        o
    }
}
