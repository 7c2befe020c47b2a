//! Routing accuracy, throughput and load time (run with `cargo bench --bench routing`).
//!
//! 1. Shipped rules, accuracy on `fixtures/routing/labelled.toml` (the set the rules are
//!    tuned on) and `fixtures/routing/heldout.toml` (issue 15: never tuned on): right OPD
//!    or an acceptable alternate, hard cases, outside-authority matters sent to the triage
//!    desk, and the share of all cases that went to triage.
//! 2. Shipped rules: complaints/s on one core, complaints built from the labelled
//!    real-style fixtures (title + 2-4 sentences, about 400 characters).
//! 3. 1,000 generated rules: load + check time (parse, validate, compile, shadow check)
//!    and complaints/s.

#[path = "../tests/support/mod.rs"]
mod support;
use support::mapping as mapping_support;

use chrono::NaiveDate;
use mapping_support::{complaint, day, load_cases, score, with_location, with_topic};
use sp4n::mapping::Mappings;
use sp4n::model::Complaint;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() as usize) % v.len()]
    }
}

fn complaints(n: usize) -> Vec<Complaint> {
    let cases = load_cases("labelled.toml");
    let mut rng = Lcg(42);
    (0..n)
        .map(|i| {
            let k = rng.pick(&cases);
            let extra = rng.pick(&cases);
            let filler = "Mohon segera ditindaklanjuti karena sangat mengganggu warga sekitar. Terima kasih atas perhatiannya.";
            let mut c = complaint(
                i as u64,
                &k.title,
                &format!("{} {} {filler}", k.text, extra.text),
            );
            c.kanal = Some("android".into());
            if let Some(t) = &k.topic {
                c = with_topic(c, t);
            }
            if let Some(l) = &k.location {
                c = with_location(c, l);
            }
            c
        })
        .collect()
}

/// CPU time of this thread: the machine is shared, so wall-clock rates understate what
/// one core does; both are reported.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// (complaints per wall-clock second, complaints per CPU second).
fn throughput(m: &Mappings, cs: &[Complaint]) -> (f64, f64) {
    let on = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    // Warm up.
    for c in cs.iter().take(1000) {
        black_box(m.route(c, on));
    }
    let start = Instant::now();
    let cpu = thread_cpu();
    let mut routed = 0usize;
    while start.elapsed() < Duration::from_secs(3) {
        for c in cs {
            black_box(m.route(black_box(c), on));
        }
        routed += cs.len();
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = (thread_cpu() - cpu).as_secs_f64();
    (routed as f64 / wall, routed as f64 / cpu)
}

const WORDS: &[&str] = &[
    "jalan", "rusak", "lampu", "sampah", "saluran", "pasar", "sekolah", "guru", "obat", "dokter",
    "izin", "pajak", "pupuk", "nelayan", "wisata", "parkir", "angkutan", "bansos", "ktp", "akta",
    "banjir", "longsor", "miras", "limbah", "internet", "pegawai", "koperasi", "harga", "air",
    "jembatan",
];

fn generated_rules(n: usize) -> String {
    let mut rng = Lcg(7);
    let topics = [
        "1", "2", "3", "4", "41", "42", "43", "5", "6", "61", "7", "8", "9", "10", "11",
    ];
    let targets = [
        "DPUPKP",
        "DINKES",
        "DIKPORA",
        "DISHUB",
        "DLH",
        "DINSOSP3A",
        "DPP",
        "kapanewon",
    ];
    let mut s = String::new();
    for i in 0..n {
        let w = |rng: &mut Lcg| format!("{}{}", rng.pick(WORDS), rng.next() % 50);
        s.push_str(&format!(
            "[[rule]]\nid = \"r{i}\"\ndescription = \"aturan {i}\"\ntarget = \"{}\"\npriority = {}\n",
            rng.pick(&targets),
            rng.next() % 1000
        ));
        match i % 4 {
            0 => s.push_str(&format!("topics = [\"{}\"]\n", rng.pick(&topics))),
            1 => s.push_str(&format!(
                "locations = [\"34.01.{:02}\"]\nkeywords_any = [\"{}\"]\n",
                rng.next() % 12 + 1,
                w(&mut rng)
            )),
            _ => {}
        }
        s.push_str(
            &format!(
                "keywords_any = [\"{}\", \"{} {}\", \"{}*\"]\n",
                w(&mut rng),
                rng.pick(WORDS),
                w(&mut rng),
                rng.pick(WORDS)
            )
            .replace(
                "keywords_any",
                if i % 4 == 1 {
                    "keywords_all"
                } else {
                    "keywords_any"
                },
            ),
        );
        s.push('\n');
    }
    s
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cs = complaints(10_000);
    let avg_len: usize = cs
        .iter()
        .map(|c| c.judul.len() + c.isi.len())
        .sum::<usize>()
        / cs.len();

    let t = Instant::now();
    let (shipped, _) = Mappings::load(&root.join("mappings")).expect("shipped mappings");
    let shipped_load = t.elapsed();
    println!(
        "shipped rules: {} rules, load+check {:.1} ms",
        shipped.rule_count(),
        shipped_load.as_secs_f64() * 1e3
    );
    for (name, note) in [
        ("labelled.toml", "tuned on"),
        ("heldout.toml", "held out, never tuned on"),
    ] {
        let cases = load_cases(name);
        let s = score(&shipped, &cases, day());
        println!("shipped rules on {name} ({} cases, {note}):", cases.len());
        println!("  right OPD or alternate      {}", s.overall);
        println!("  hard cases                  {}", s.hard);
        println!("  outside authority to ADMIN  {}", s.outside_to_admin);
        println!(
            "  to triage (ADMIN)           {} ({} by no rule)",
            s.triage, s.no_route
        );
    }
    let (wall, cpu) = throughput(&shipped, &cs);
    println!(
        "shipped rules: {cpu:.0} complaints per CPU-second ({wall:.0}/s wall clock; one thread, {} complaints of ~{avg_len} chars)",
        cs.len()
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("mappings/opd.toml"), dir.path().join("opd.toml")).unwrap();
    std::fs::write(dir.path().join("rules.toml"), generated_rules(1000)).unwrap();
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    let mut big = None;
    for _ in 0..5 {
        let t = Instant::now();
        let cpu = thread_cpu();
        let (m, _warnings) = Mappings::load(dir.path()).expect("generated rules load");
        cpu_times.push(thread_cpu() - cpu);
        times.push(t.elapsed());
        big = Some(m);
    }
    times.sort();
    cpu_times.sort();
    let big = big.unwrap();
    println!(
        "1,000 generated rules: load+check median {:.1} ms wall (min {:.1}, max {:.1}), median {:.1} ms CPU",
        times[2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[4].as_secs_f64() * 1e3,
        cpu_times[2].as_secs_f64() * 1e3
    );
    let (wall, cpu) = throughput(&big, &cs);
    println!(
        "1,000 generated rules: {cpu:.0} complaints per CPU-second ({wall:.0}/s wall clock; one thread)"
    );
}
