//! The simulated platform's state and rules: the complaints addressed to Kulon Progo,
//! built deterministically from a seed; the keyset-ordered index that serves `getstream`
//! in O(log n + page); the four writes with their status rules and `ref` idempotency; and
//! the platform's own behaviour over time ([`World::tick`]): new complaints, reporter
//! replies, re-dispositions and archiving by the national admin, and automatic closing 10
//! working days after the last instansi follow-up.

use super::calendar::add_working_days;
use super::texts::{self, FIRST_UNIT_ID, KAPANEWON, TEMPLATES, UNITS};
use super::vocabulary::{STANDARD, Vocabulary};
use crate::model::{
    Attachment, Author, Complaint, Location, NewComplaint, Reporter, Status, StreamKey,
    ThreadEntry, TopicRef, TrackingId, UnitRef,
};
use crate::upstream::ErrorCode;
use crate::upstream::xml::{WriteAction, WriteAnswer, WriteRequest};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;

/// The first tracking id of a generated world.
pub const FIRST_TRACKING_ID: TrackingId = 1_900_001;
/// How long a `ref` is remembered.
pub const REF_MEMORY_DAYS: i64 = 7;
/// The longest `<isi>` a write may carry, in characters.
pub const MAX_ISI_CHARS: usize = 10_000;
/// The largest page `getstream` serves.
pub const MAX_BATAS: u32 = 500;
/// The page size when the request names none.
pub const DEFAULT_BATAS: u32 = 100;
/// How far back generated complaints were created.
const HISTORY_DAYS: i64 = 180;

/// splitmix64: a tiny generator whose output never changes, so a seed names one world
/// forever.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A `Duration` of 0..`secs` seconds.
    pub fn secs(&mut self, secs: i64) -> Duration {
        Duration::seconds(self.below(secs.max(1) as u64) as i64)
    }
}

/// A complaint with what the platform knows beyond the instansi's view of it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub complaint: Complaint,
    /// When the current version becomes visible in `getstream` (late visibility).
    pub visible_at: DateTime<Utc>,
    /// No longer addressed to the instansi (Bukan Wewenang, moved elsewhere).
    pub left: bool,
    /// When it last became Selesai.
    pub closed_at: Option<DateTime<Utc>>,
    /// When the platform closes it automatically, if nothing happens before.
    pub autoclose_due: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
struct RefRecord {
    fingerprint: String,
    answer: WriteAnswer,
    first_at: DateTime<Utc>,
}

/// A refusal of a request: the contract's error code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub pesan: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, pesan: impl Into<String>) -> Refusal {
        Refusal {
            code,
            pesan: pesan.into(),
        }
    }
}

/// The whole world as tests see it (`GET /truth` on the control API).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroundTruth {
    pub now: DateTime<Utc>,
    /// Complaints addressed to the instansi, as it would see them, by tracking id.
    pub complaints: Vec<Complaint>,
    /// Complaints that left the instansi's stream (Bukan Wewenang, moved elsewhere),
    /// in their last visible state.
    pub left_stream: Vec<Complaint>,
    /// How many times each `ref` was applied (a correct client never sees more than 1).
    pub writes_applied: BTreeMap<String, u32>,
}

impl GroundTruth {
    /// The complaint with this tracking id, whether still addressed or gone.
    pub fn complaint(&self, id: TrackingId) -> Option<&Complaint> {
        self.complaints
            .iter()
            .chain(self.left_stream.iter())
            .find(|c| c.tracking_id == id)
    }

    /// How many times `r` was applied.
    pub fn applied(&self, r: &str) -> u32 {
        self.writes_applied.get(r).copied().unwrap_or(0)
    }
}

/// One page of `getstream`.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Complaint>,
    pub next: Option<StreamKey>,
    /// The first item of the next page (for the duplicate-delivery fault).
    pub peek: Option<Complaint>,
}

/// The simulated platform's state.
#[derive(Debug)]
pub struct World {
    /// The ids this deployment serves (see [`super::vocabulary`]).
    vocab: &'static Vocabulary,
    entries: HashMap<TrackingId, Entry>,
    index: BTreeSet<(DateTime<Utc>, TrackingId)>,
    ids: Vec<TrackingId>,
    foreign: HashSet<TrackingId>,
    refs: HashMap<String, RefRecord>,
    applied: BTreeMap<String, u32>,
    autoclose: BTreeSet<(DateTime<Utc>, TrackingId)>,
    verify: BTreeSet<(DateTime<Utc>, TrackingId)>,
    next_id: TrackingId,
    next_tx: u64,
    rng: Rng,
    vis_rng: Rng,
    last_tick: DateTime<Utc>,
    next_event: DateTime<Utc>,
    events_per_day: u32,
    /// Visibility delay bound for new updates (set from the faults).
    pub late_visibility_max_seconds: u64,
}

/// The display name of a Kemendagri code of Kulon Progo.
pub fn location_name(kode: &str) -> Option<String> {
    if kode == "34.01.02.1001" {
        return Some("Kelurahan Wates, Kapanewon Wates".into());
    }
    let rest = kode.strip_prefix("34.01.")?;
    let (kap, kal) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let (_, kap_name, kals) = KAPANEWON.iter().find(|k| k.0 == kap)?;
    match kal {
        None => Some(format!("Kapanewon {kap_name}")),
        Some(k) => {
            let n: usize = k.parse().ok()?;
            let name = kals.get(n.checked_sub(2001)?)?;
            Some(format!("Kalurahan {name}, Kapanewon {kap_name}"))
        }
    }
}

/// The `<unit>` of a canonical unit, in the deployment's ids.
fn unit_ref(vocab: &Vocabulary, key: u32) -> UnitRef {
    let id = vocab.unit_id(key);
    UnitRef {
        name: vocab
            .unit(&id)
            .map(|u| u.name)
            .unwrap_or_default()
            .to_string(),
        id,
    }
}

impl World {
    /// The ids this deployment serves.
    pub fn vocabulary(&self) -> &'static Vocabulary {
        self.vocab
    }

    /// Builds the world of `seed` with `complaints` complaints created over the months
    /// before `start`. The same arguments always give the same world.
    pub fn new(seed: u64, complaints: usize, start: DateTime<Utc>, events_per_day: u32) -> World {
        Self::with_vocabulary(seed, complaints, start, events_per_day, &STANDARD)
    }

    /// [`World::new`] for a deployment with the ids of `vocab` (the same complaints, the
    /// same random draws; only the ids differ).
    pub fn with_vocabulary(
        seed: u64,
        complaints: usize,
        start: DateTime<Utc>,
        events_per_day: u32,
        vocab: &'static Vocabulary,
    ) -> World {
        let mut w = World {
            vocab,
            entries: HashMap::with_capacity(complaints),
            index: BTreeSet::new(),
            ids: Vec::with_capacity(complaints),
            foreign: HashSet::new(),
            refs: HashMap::new(),
            applied: BTreeMap::new(),
            autoclose: BTreeSet::new(),
            verify: BTreeSet::new(),
            next_id: FIRST_TRACKING_ID,
            next_tx: 100_000,
            rng: Rng::new(seed),
            vis_rng: Rng::new(seed ^ 0x0005_EED0_F715_1B1E),
            last_tick: start,
            next_event: start,
            events_per_day,
            late_visibility_max_seconds: 0,
        };
        let mut created: Vec<DateTime<Utc>> = (0..complaints)
            .map(|_| {
                // Denser towards the present: recent complaints are still open.
                let u = w.rng.unit();
                let secs = (u * u * (HISTORY_DAYS * 86_400) as f64) as i64;
                start - Duration::seconds(secs + 60)
            })
            .collect();
        created.sort();
        let mut prev_diperbarui: Option<DateTime<Utc>> = None;
        for dibuat in created {
            let id = w.take_id();
            let mut e = w.generate_history(id, dibuat, start);
            // Some updates land in the same second as the previous one (batch actions).
            if let Some(p) = prev_diperbarui
                && p >= e.complaint.diperbarui
                && w.rng.percent(4)
            {
                e.complaint.diperbarui = p;
                e.visible_at = p;
            }
            prev_diperbarui = Some(e.complaint.diperbarui);
            w.insert(e);
        }
        w.next_event = start + w.event_gap();
        w
    }

    fn take_id(&mut self) -> TrackingId {
        let id = self.next_id;
        self.next_id += 1;
        // Other instansi's complaints take the ids in between.
        if self.rng.percent(30) {
            let gap = 1 + self.rng.below(3);
            for g in 0..gap {
                if self.rng.percent(40) {
                    self.foreign.insert(self.next_id + g);
                }
            }
            self.next_id += gap;
        }
        id
    }

    fn tx(&mut self, prefix: &str) -> String {
        self.next_tx += 1;
        format!("{prefix}-{:07}", self.next_tx)
    }

    fn insert(&mut self, e: Entry) {
        let id = e.complaint.tracking_id;
        self.index.insert((e.complaint.diperbarui, id));
        if let Some(due) = e.autoclose_due {
            self.autoclose.insert((due, id));
        }
        if e.complaint.status == Status::BelumTerverifikasi {
            self.verify
                .insert((e.complaint.diperbarui + Duration::hours(2), id));
        }
        self.ids.push(id);
        self.entries.insert(id, e);
    }

    /// A fresh complaint as the reporter submitted it (no status history yet).
    fn fresh_complaint(&mut self, id: TrackingId, dibuat: DateTime<Utc>) -> Complaint {
        let rng = &mut self.rng;
        let (topic, judul_t, isi_t) = *rng.pick(TEMPLATES);
        let (kap_code, kap_name, kals) = *rng.pick(KAPANEWON);
        let kal_i = rng.below(kals.len() as u64) as usize;
        let kal_name = kals[kal_i];
        let lokasi = match rng.below(100) {
            0..=69 => Some(Location {
                kode: format!("34.01.{kap_code}.{}", 2001 + kal_i),
                name: format!("Kalurahan {kal_name}, Kapanewon {kap_name}"),
            }),
            70..=71 => Some(Location {
                kode: "34.01.02.1001".into(),
                name: "Kelurahan Wates, Kapanewon Wates".into(),
            }),
            72..=86 => Some(Location {
                kode: format!("34.01.{kap_code}"),
                name: format!("Kapanewon {kap_name}"),
            }),
            _ => None,
        };
        let hari = (3 + rng.below(60)).to_string();
        let places = [
            ("{kal}", kal_name),
            ("{kap}", kap_name),
            ("{jalan}", *rng.pick(texts::ROADS)),
            ("{sekolah}", *rng.pick(texts::SCHOOLS)),
            ("{puskesmas}", *rng.pick(texts::PUSKESMAS)),
            ("{pasar}", *rng.pick(texts::PASAR)),
            ("{wisata}", *rng.pick(texts::WISATA)),
            ("{hari}", hari.as_str()),
        ];
        let fill = |s: &str| {
            places
                .iter()
                .fold(s.to_string(), |acc, (k, v)| acc.replace(k, v))
        };
        let judul = fill(judul_t);
        let mut isi = fill(isi_t);
        if rng.percent(30) {
            isi.push_str(" Terima kasih.");
        }
        let anonim = rng.percent(10);
        let rahasia = rng.percent(3);
        let pelapor = if anonim {
            None
        } else {
            let first = *rng.pick(texts::FIRST_NAMES);
            let last = *rng.pick(texts::LAST_NAMES);
            let missing = rng.below(100);
            Some(Reporter {
                namadepan: first.to_string(),
                namabelakang: last.to_string(),
                email: if missing < 8 {
                    String::new()
                } else {
                    format!("{}{}@example.org", first.to_lowercase(), rng.below(1000))
                },
                telpon: if (8..14).contains(&missing) {
                    String::new()
                } else {
                    format!("08{}", 1_100_000_000 + rng.below(899_999_999))
                },
            })
        };
        let kanal = *rng.pick(&[
            "web",
            "web",
            "web",
            "android",
            "android",
            "android",
            "sms1708",
            "sms1708",
            "ios",
            "twitter",
            "integrasi",
        ]);
        let klasifikasi = match rng.below(100) {
            0..=79 => "pengaduan",
            80..=91 => "aspirasi",
            _ => "permintaan_informasi",
        };
        let mut lampiran = Vec::new();
        if rng.percent(35) {
            for _ in 0..1 + rng.below(2) {
                let h = rng.next_u64();
                let pdf = rng.percent(15);
                lampiran.push(Attachment {
                    url: format!(
                        "https://storage.lapor.go.id/app/uploads/public/{:03x}/{:03x}/{:03x}/{:016x}.{}",
                        h & 0xfff,
                        (h >> 12) & 0xfff,
                        (h >> 24) & 0xfff,
                        h,
                        if pdf { "pdf" } else { "jpg" }
                    ),
                    jenis: if pdf { "application/pdf" } else { "image/jpeg" }.into(),
                });
            }
        }
        Complaint {
            tracking_id: id,
            rahasia,
            anonim,
            judul,
            isi,
            klasifikasi: Some(klasifikasi.into()),
            topik: Some(TopicRef {
                id: self.vocab.topic_id(topic),
                name: texts::TOPICS
                    .iter()
                    .find(|t| t.0 == topic)
                    .map_or("", |t| t.2)
                    .into(),
            }),
            tags: texts::tags_for(topic)
                .iter()
                .map(|t| t.to_string())
                .collect(),
            kanal: Some(kanal.into()),
            lokasi,
            pelapor,
            status: Status::BelumDitindaklanjuti,
            unit: None,
            dibuat: Some(dibuat),
            diperbarui: dibuat,
            lampiran,
            thread: Vec::new(),
        }
    }

    fn responsible_unit(&mut self, c: &Complaint) -> u32 {
        let topic = c
            .topik
            .as_ref()
            .and_then(|t| self.vocab.topic_key(&t.id))
            .unwrap_or("20");
        if self.rng.percent(12) {
            return FIRST_UNIT_ID + self.rng.below(UNITS.len() as u64) as u32;
        }
        if topic == "15"
            && let Some(k) = c.kapanewon_code()
            && let Ok(n) = k[6..8].parse::<u32>()
        {
            return 2430 + n;
        }
        texts::unit_for_topic(topic)
    }

    fn entry(
        &mut self,
        kind: Author,
        unit: Option<u32>,
        t: DateTime<Utc>,
        isi: &str,
    ) -> ThreadEntry {
        ThreadEntry {
            transaksi_id: self.tx("TL"),
            oleh: kind,
            unit: unit.map(|u| self.vocab.unit_id(u)),
            waktu: t,
            ref_: None,
            isi: isi.to_string(),
        }
    }

    /// A complaint created at `dibuat` with a plausible history up to `start`.
    fn generate_history(
        &mut self,
        id: TrackingId,
        dibuat: DateTime<Utc>,
        start: DateTime<Utc>,
    ) -> Entry {
        let mut c = self.fresh_complaint(id, dibuat);
        let age = (start - dibuat).num_seconds().max(60);
        // Successive moments of the history, each a share of the age after the previous.
        let mut t = dibuat;
        let mut step = |rng: &mut Rng, share_max: u64| {
            let d = (age as f64 * (0.02 + rng.unit() * share_max as f64 / 100.0)) as i64;
            t = (t + Duration::seconds(d.max(1))).min(start);
            t
        };
        let days = age / 86_400;
        let roll = self.rng.below(100);
        let outcome = if days < 2 {
            match roll {
                0..=49 => Status::BelumDitindaklanjuti,
                50..=59 => Status::BelumTerverifikasi,
                _ => Status::Proses,
            }
        } else if days < 14 {
            match roll {
                0..=24 => Status::BelumDitindaklanjuti,
                25..=64 => Status::Proses,
                65..=72 => Status::Ditunda,
                73..=78 => Status::BukanWewenang,
                _ => Status::Selesai,
            }
        } else {
            match roll {
                0..=4 => Status::BelumDitindaklanjuti,
                5..=16 => Status::Proses,
                17..=20 => Status::Ditunda,
                21..=25 => Status::BukanWewenang,
                26..=37 => Status::Arsip,
                _ => Status::Selesai,
            }
        };
        let mut e = Entry {
            complaint: c.clone(),
            visible_at: dibuat,
            left: false,
            closed_at: None,
            autoclose_due: None,
        };
        if outcome == Status::BelumTerverifikasi {
            c.status = Status::BelumTerverifikasi;
            c.kanal = Some("integrasi".into());
            e.complaint = c;
            return e;
        }
        // Verification and disposition to the instansi by the national admin.
        let verified = step(&mut self.rng, 5);
        if self.rng.percent(30) {
            let a = self.entry(Author::Admin, None, verified, texts::ADMIN_NOTES[0]);
            c.thread.push(a);
        }
        let mut last = verified;
        match outcome {
            Status::BelumDitindaklanjuti => {
                if self.rng.percent(50) {
                    let u = self.responsible_unit(&c);
                    c.unit = Some(unit_ref(self.vocab, u));
                    last = step(&mut self.rng, 10);
                }
            }
            Status::Ditunda => {
                last = step(&mut self.rng, 20);
                c.status = Status::Ditunda;
            }
            Status::BukanWewenang => {
                last = step(&mut self.rng, 20);
                c.status = Status::BukanWewenang;
                e.left = true;
                if self.rng.percent(50) {
                    let a = self.entry(Author::Admin, None, last, texts::ADMIN_NOTES[1]);
                    c.thread.push(a);
                }
            }
            _ => {
                // Proses, Selesai, Arsip: disposed to a unit that followed up.
                let unit = self.responsible_unit(&c);
                c.unit = Some(unit_ref(self.vocab, unit));
                let assigned = step(&mut self.rng, 10);
                let n = 1 + self.rng.below(2);
                let mut last_instansi = assigned;
                for i in 0..n {
                    let at = step(&mut self.rng, 15);
                    let text = if i + 1 == n && outcome != Status::Proses {
                        texts::INSTANSI_REPLIES[2]
                    } else {
                        texts::INSTANSI_REPLIES[(i as usize) % 2]
                    };
                    let en = self.entry(Author::Instansi, Some(unit), at, text);
                    c.thread.push(en);
                    last_instansi = at;
                }
                last = last_instansi;
                c.status = Status::Proses;
                let reporter_replied = self.rng.percent(25);
                if reporter_replied {
                    last = step(&mut self.rng, 10);
                    let text = *self.rng.pick(texts::PELAPOR_REPLIES);
                    let en = self.entry(Author::Pelapor, None, last, text);
                    c.thread.push(en);
                }
                let mut due = add_working_days(last_instansi, 10);
                if outcome == Status::Proses && !reporter_replied && due <= start {
                    // Keep it open: its last follow-up was within the last working days.
                    let floor = c.thread.iter().rev().nth(1).map_or(assigned, |e| e.waktu);
                    let recent = (start - self.rng.secs(8 * 86_400)).max(floor.max(assigned));
                    if let Some(en) = c.thread.last_mut() {
                        en.waktu = recent;
                    }
                    last = recent;
                    due = add_working_days(recent, 10);
                }
                match outcome {
                    Status::Proses if !reporter_replied => {
                        if due <= start {
                            c.status = Status::Selesai;
                            e.closed_at = Some(due);
                            last = due;
                        } else {
                            e.autoclose_due = Some(due);
                        }
                    }
                    Status::Proses => {}
                    _ => {
                        let closed = if reporter_replied || due > start {
                            step(&mut self.rng, 5)
                        } else {
                            due
                        };
                        c.status = Status::Selesai;
                        e.closed_at = Some(closed);
                        last = closed;
                        if outcome == Status::Arsip {
                            last = step(&mut self.rng, 20);
                            c.status = Status::Arsip;
                            let a = self.entry(Author::Admin, None, last, texts::ADMIN_NOTES[2]);
                            c.thread.push(a);
                        }
                    }
                }
            }
        }
        c.diperbarui = last.max(c.thread.last().map(|x| x.waktu).unwrap_or(last));
        e.visible_at = c.diperbarui;
        e.complaint = c;
        e
    }

    fn event_gap(&mut self) -> Duration {
        if self.events_per_day == 0 {
            return Duration::days(365 * 100);
        }
        let mean = 86_400.0 / f64::from(self.events_per_day);
        let u = self.rng.unit().max(1e-9);
        Duration::seconds(((-u.ln()) * mean).max(1.0) as i64)
    }

    /// The current time of the world's last tick.
    pub fn last_tick(&self) -> DateTime<Utc> {
        self.last_tick
    }

    /// Runs the platform's own behaviour for everything due up to `now`, in time order.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        loop {
            let ev = (self.events_per_day > 0).then_some(self.next_event);
            let ac = self.autoclose.first().map(|x| x.0);
            let vf = self.verify.first().map(|x| x.0);
            let Some(t) = [ev, ac, vf].into_iter().flatten().min() else {
                break;
            };
            if t > now {
                break;
            }
            if Some(t) == vf {
                let (_, id) = self.verify.pop_first().unwrap_or((t, 0));
                self.verify_complaint(id, t);
            } else if Some(t) == ac {
                let (_, id) = self.autoclose.pop_first().unwrap_or((t, 0));
                self.auto_close(id, t);
            } else {
                self.random_event(t);
                self.next_event = t + self.event_gap();
            }
        }
        if now > self.last_tick {
            self.last_tick = now;
        }
    }

    fn verify_complaint(&mut self, id: TrackingId, t: DateTime<Utc>) {
        let Some(e) = self.entries.get(&id) else {
            return;
        };
        if e.complaint.status != Status::BelumTerverifikasi {
            return;
        }
        let a = self.entry(Author::Admin, None, t, texts::ADMIN_NOTES[0]);
        self.update(id, t, |e| {
            e.complaint.status = Status::BelumDitindaklanjuti;
            e.complaint.thread.push(a);
        });
    }

    fn auto_close(&mut self, id: TrackingId, t: DateTime<Utc>) {
        let Some(e) = self.entries.get(&id) else {
            return;
        };
        if e.autoclose_due != Some(t) || e.complaint.status != Status::Proses || e.left {
            return;
        }
        self.update(id, t, |e| {
            e.complaint.status = Status::Selesai;
            e.closed_at = Some(t);
            e.autoclose_due = None;
        });
    }

    fn pick_where(&mut self, pred: impl Fn(&Entry) -> bool) -> Option<TrackingId> {
        if self.ids.is_empty() {
            return None;
        }
        // Prefer recent complaints: half of the picks come from the newest tenth.
        for _ in 0..24 {
            let n = self.ids.len() as u64;
            let i = if self.rng.percent(50) {
                n - 1 - self.rng.below(n.div_ceil(10))
            } else {
                self.rng.below(n)
            };
            let id = self.ids[i as usize];
            if self.entries.get(&id).is_some_and(&pred) {
                return Some(id);
            }
        }
        None
    }

    fn random_event(&mut self, t: DateTime<Utc>) {
        let roll = self.rng.below(100);
        match roll {
            0..=39 => {
                let id = self.take_id();
                let c = self.fresh_complaint(id, t);
                let delay = self.visibility_delay();
                self.insert(Entry {
                    visible_at: c.diperbarui + delay,
                    complaint: c,
                    left: false,
                    closed_at: None,
                    autoclose_due: None,
                });
            }
            40..=64 => {
                let pick = self.pick_where(|e| {
                    !e.left
                        && match e.complaint.status {
                            Status::Proses | Status::Ditunda | Status::BelumDitindaklanjuti => true,
                            Status::Selesai => {
                                e.closed_at.is_some_and(|c| t <= add_working_days(c, 10))
                            }
                            _ => false,
                        }
                });
                if let Some(id) = pick {
                    let text = *self.rng.pick(texts::PELAPOR_REPLIES);
                    self.reporter_reply(id, t, text);
                }
            }
            65..=76 => {
                let pick = self.pick_where(|e| {
                    !e.left
                        && e.complaint.unit.is_some()
                        && matches!(
                            e.complaint.status,
                            Status::BelumDitindaklanjuti | Status::Proses
                        )
                });
                if let Some(id) = pick {
                    let unit = FIRST_UNIT_ID + self.rng.below(UNITS.len() as u64) as u32;
                    let a = self.entry(Author::Admin, None, t, texts::ADMIN_NOTES[1]);
                    let unit = unit_ref(self.vocab, unit);
                    self.update(id, t, |e| {
                        e.complaint.unit = Some(unit);
                        e.complaint.thread.push(a);
                    });
                }
            }
            77..=80 => {
                let pick = self
                    .pick_where(|e| !e.left && e.complaint.status == Status::BelumDitindaklanjuti);
                if let Some(id) = pick {
                    let a = self.entry(Author::Admin, None, t, texts::ADMIN_NOTES[1]);
                    self.update(id, t, |e| {
                        e.complaint.status = Status::BukanWewenang;
                        e.complaint.thread.push(a);
                        e.left = true;
                        e.autoclose_due = None;
                    });
                }
            }
            81..=89 => {
                let pick = self.pick_where(|e| {
                    !e.left && matches!(e.complaint.status, Status::Selesai | Status::Ditunda)
                });
                if let Some(id) = pick {
                    let a = self.entry(Author::Admin, None, t, texts::ADMIN_NOTES[2]);
                    self.update(id, t, |e| {
                        e.complaint.status = Status::Arsip;
                        e.complaint.thread.push(a);
                        e.autoclose_due = None;
                    });
                }
            }
            _ => {}
        }
    }

    /// A reporter's reply: reopens a Selesai complaint (within 10 working days of its
    /// closing) and a Ditunda one, and stops the automatic closing.
    pub fn reporter_reply(&mut self, id: TrackingId, t: DateTime<Utc>, text: &str) -> bool {
        let Some(e) = self.entries.get(&id) else {
            return false;
        };
        if e.left {
            return false;
        }
        let en = self.entry(Author::Pelapor, None, t, text);
        self.update(id, t, |e| {
            e.complaint.thread.push(en);
            match e.complaint.status {
                Status::Selesai if e.closed_at.is_some_and(|c| t <= add_working_days(c, 10)) => {
                    e.complaint.status = Status::Proses;
                    e.closed_at = None;
                }
                Status::Ditunda => e.complaint.status = Status::BelumDitindaklanjuti,
                _ => {}
            }
            e.autoclose_due = None;
        });
        true
    }

    fn visibility_delay(&mut self) -> Duration {
        match self.late_visibility_max_seconds {
            0 => Duration::zero(),
            m => Duration::seconds(self.vis_rng.below(m + 1) as i64),
        }
    }

    /// Applies a change at `t`: bumps `diperbarui`, moves the index key, keeps the
    /// automatic-closing schedule in step, and sets the new version's visibility.
    fn update(&mut self, id: TrackingId, t: DateTime<Utc>, f: impl FnOnce(&mut Entry)) {
        let delay = self.visibility_delay();
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        let old_key = (e.complaint.diperbarui, id);
        let old_due = e.autoclose_due;
        f(e);
        e.complaint.diperbarui = t.max(old_key.0);
        e.visible_at = e.complaint.diperbarui + delay;
        let new_key = (e.complaint.diperbarui, id);
        let new_due = e.autoclose_due;
        self.index.remove(&old_key);
        self.index.insert(new_key);
        if old_due != new_due {
            if let Some(d) = old_due {
                self.autoclose.remove(&(d, id));
            }
            if let Some(d) = new_due {
                self.autoclose.insert((d, id));
            }
        }
    }

    /// One page of the stream after `key`, as visible at `now`.
    pub fn page(&self, key: &StreamKey, batas: u32, now: DateTime<Utc>) -> Page {
        let batas = batas.clamp(1, MAX_BATAS) as usize;
        let lower = match key.setelah {
            Some(after) => Bound::Excluded((key.sejak, after)),
            None => Bound::Included((key.sejak, 0)),
        };
        let mut items = Vec::with_capacity(batas.min(64));
        let mut peek = None;
        for (_, id) in self.index.range((lower, Bound::Unbounded)) {
            let Some(e) = self.entries.get(id) else {
                continue;
            };
            if e.visible_at > now {
                continue;
            }
            if items.len() == batas {
                peek = Some(e.complaint.clone());
                break;
            }
            items.push(e.complaint.clone());
        }
        let next = peek.as_ref().and_then(|_| items.last().map(Complaint::key));
        Page { items, next, peek }
    }

    /// The national admin moves a complaint to another instansi: it leaves the stream
    /// and `getlaporan` answers `FORBIDDEN` (the contract's note under setstatus).
    pub fn move_to_other_instansi(&mut self, id: TrackingId) -> bool {
        let Some(e) = self.entries.remove(&id) else {
            return false;
        };
        self.index.remove(&(e.complaint.diperbarui, id));
        if let Some(d) = e.autoclose_due {
            self.autoclose.remove(&(d, id));
        }
        self.foreign.insert(id);
        true
    }

    /// `getlaporan`: one complaint, if it is (still) addressed to the instansi.
    pub fn laporan(&self, id: TrackingId) -> Result<Complaint, Refusal> {
        self.addressed(id).map(|e| e.complaint.clone())
    }

    fn addressed(&self, id: TrackingId) -> Result<&Entry, Refusal> {
        match self.entries.get(&id) {
            Some(e) if !e.left => Ok(e),
            Some(_) => Err(Refusal::new(
                ErrorCode::Forbidden,
                format!("Laporan {id} tidak lagi ditujukan kepada instansi ini"),
            )),
            None if self.foreign.contains(&id) => Err(Refusal::new(
                ErrorCode::Forbidden,
                format!("Laporan {id} tidak ditujukan kepada instansi ini"),
            )),
            None => Err(Refusal::new(
                ErrorCode::NotFound,
                format!("Laporan {id} tidak ditemukan"),
            )),
        }
    }

    /// The canonical unit of an active unit id of the deployment.
    fn check_unit(vocab: &Vocabulary, unit: &str, inactive: &[String]) -> Result<u32, Refusal> {
        match vocab.unit(unit) {
            Some(u) if u.active && !inactive.iter().any(|i| i.trim() == unit.trim()) => u
                .key
                .ok_or_else(|| Refusal::new(ErrorCode::Validation, "unit tidak aktif")),
            _ => Err(Refusal::new(
                ErrorCode::Validation,
                format!("Unit '{unit}' tidak dikenal atau tidak aktif"),
            )),
        }
    }

    fn check_isi(isi: &str, what: &str) -> Result<(), Refusal> {
        let n = isi.chars().count();
        if n == 0 || n > MAX_ISI_CHARS {
            return Err(Refusal::new(
                ErrorCode::Validation,
                format!("<{what}> harus 1 sampai {MAX_ISI_CHARS} karakter (diterima {n})"),
            ));
        }
        Ok(())
    }

    /// Applies one write at `now` with the contract's rules: `ref` idempotency and its echo
    /// on follow-ups (unless `ignore_ref`: then neither), validation, status rules, thread
    /// and `diperbarui` updates. Ground truth counts every application by `ref` either way.
    pub fn write(
        &mut self,
        req: &WriteRequest,
        now: DateTime<Utc>,
        ignore_ref: bool,
        inactive_units: &[String],
    ) -> Result<WriteAnswer, Refusal> {
        let fingerprint = serde_json::to_string(&req.action).unwrap_or_default();
        if !ignore_ref
            && let Some(r) = self.refs.get(&req.ref_)
            && now - r.first_at < Duration::days(REF_MEMORY_DAYS)
        {
            if r.fingerprint == fingerprint {
                let mut a = r.answer.clone();
                a.duplikat = true;
                return Ok(a);
            }
            return Err(Refusal::new(
                ErrorCode::RefConflict,
                format!(
                    "ref '{}' sudah dipakai untuk permintaan lain dalam {REF_MEMORY_DAYS} hari terakhir",
                    req.ref_
                ),
            ));
        }
        // An older deployment neither deduplicates nor echoes `ref`.
        let echo = (!ignore_ref).then_some(req.ref_.as_str());
        let answer = self.apply(&req.action, echo, now, inactive_units)?;
        *self.applied.entry(req.ref_.clone()).or_insert(0) += 1;
        let fresh = self
            .refs
            .get(&req.ref_)
            .is_none_or(|r| now - r.first_at >= Duration::days(REF_MEMORY_DAYS));
        if fresh {
            self.refs.insert(
                req.ref_.clone(),
                RefRecord {
                    fingerprint,
                    answer: answer.clone(),
                    first_at: now,
                },
            );
        }
        Ok(answer)
    }

    fn apply(
        &mut self,
        action: &WriteAction,
        ref_: Option<&str>,
        now: DateTime<Utc>,
        inactive: &[String],
    ) -> Result<WriteAnswer, Refusal> {
        let conflict = |s: Status, what: &str| {
            Refusal::new(
                ErrorCode::StatusConflict,
                format!("{what} tidak dapat dilakukan: laporan berstatus {s}"),
            )
        };
        let open = |s: Status| matches!(s, Status::BelumDitindaklanjuti | Status::Proses);
        match action {
            WriteAction::Disposisi {
                tracking_id, unit, ..
            } => {
                let status = self.addressed(*tracking_id)?.complaint.status;
                let unit = Self::check_unit(self.vocab, unit, inactive)?;
                if !open(status) {
                    return Err(conflict(status, "Disposisi"));
                }
                let tx = self.tx("DS");
                let unit = unit_ref(self.vocab, unit);
                self.update(*tracking_id, now, |e| {
                    e.complaint.unit = Some(unit);
                });
                Ok(answer(*tracking_id, tx))
            }
            WriteAction::TindakLanjut {
                tracking_id,
                unit,
                isi,
            } => {
                let status = self.addressed(*tracking_id)?.complaint.status;
                Self::check_isi(isi, "isi")?;
                let unit = Self::check_unit(self.vocab, unit, inactive)?;
                if !open(status) {
                    return Err(conflict(status, "Tindak lanjut"));
                }
                let tx = self.tx("TL");
                let entry = ThreadEntry {
                    transaksi_id: tx.clone(),
                    oleh: Author::Instansi,
                    unit: Some(self.vocab.unit_id(unit)),
                    waktu: now,
                    ref_: ref_.map(str::to_string),
                    isi: isi.clone(),
                };
                self.update(*tracking_id, now, |e| {
                    e.complaint.thread.push(entry);
                    e.complaint.status = Status::Proses;
                    e.autoclose_due = Some(add_working_days(now, 10));
                });
                Ok(answer(*tracking_id, tx))
            }
            WriteAction::SetStatus {
                tracking_id, nilai, ..
            } => {
                let status = self.addressed(*tracking_id)?.complaint.status;
                let allowed = match nilai {
                    Status::Selesai => status == Status::Proses,
                    Status::Ditunda => status == Status::BelumDitindaklanjuti,
                    Status::BukanWewenang => open(status),
                    _ => false,
                };
                if !allowed {
                    return Err(Refusal::new(
                        ErrorCode::StatusConflict,
                        format!("Status {nilai} tidak dapat diberikan: laporan berstatus {status}"),
                    ));
                }
                let tx = self.tx("ST");
                let nilai = *nilai;
                self.update(*tracking_id, now, |e| {
                    e.complaint.status = nilai;
                    e.autoclose_due = None;
                    match nilai {
                        Status::Selesai => e.closed_at = Some(now),
                        Status::BukanWewenang => e.left = true,
                        _ => {}
                    }
                });
                Ok(answer(*tracking_id, tx))
            }
            WriteAction::AddStream { laporan } => self.add_stream(laporan, now),
        }
    }

    fn add_stream(&mut self, l: &NewComplaint, now: DateTime<Utc>) -> Result<WriteAnswer, Refusal> {
        Self::check_isi(&l.isi, "isi")?;
        if l.judul.trim().is_empty() {
            return Err(Refusal::new(ErrorCode::Validation, "<judul> wajib diisi"));
        }
        let topik = match &l.topik_id {
            None => None,
            Some(t) => Some(TopicRef {
                id: t.clone(),
                name: self
                    .vocab
                    .topic_name(t)
                    .ok_or_else(|| {
                        Refusal::new(ErrorCode::Validation, format!("Topik '{t}' tidak dikenal"))
                    })?
                    .to_string(),
            }),
        };
        let lokasi = match &l.lokasi_kode {
            None => None,
            Some(k) => Some(Location {
                kode: k.clone(),
                name: location_name(k).ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::Validation,
                        format!("Kode lokasi '{k}' tidak dikenal"),
                    )
                })?,
            }),
        };
        let id = self.take_id();
        let tx = self.tx("TX");
        let delay = self.visibility_delay();
        let c = Complaint {
            tracking_id: id,
            rahasia: l.rahasia,
            anonim: l.anonim,
            judul: l.judul.clone(),
            isi: l.isi.clone(),
            klasifikasi: Some("pengaduan".into()),
            tags: topik
                .as_ref()
                .map(|t| {
                    texts::tags_for(self.vocab.topic_key(&t.id).unwrap_or_default())
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                })
                .unwrap_or_default(),
            topik,
            kanal: Some(l.kanal.clone().unwrap_or_else(|| "integrasi".into())),
            lokasi,
            pelapor: if l.anonim { None } else { l.pelapor.clone() },
            status: Status::BelumTerverifikasi,
            unit: None,
            dibuat: Some(now),
            diperbarui: now,
            lampiran: Vec::new(),
            thread: Vec::new(),
        };
        self.insert(Entry {
            complaint: c,
            visible_at: now + delay,
            left: false,
            closed_at: None,
            autoclose_due: None,
        });
        Ok(answer(id, tx))
    }

    /// The whole world for tests.
    pub fn ground_truth(&self, now: DateTime<Utc>) -> GroundTruth {
        let mut complaints = Vec::new();
        let mut left = Vec::new();
        for e in self.entries.values() {
            if e.left {
                left.push(e.complaint.clone());
            } else {
                complaints.push(e.complaint.clone());
            }
        }
        complaints.sort_by_key(|c| c.tracking_id);
        left.sort_by_key(|c| c.tracking_id);
        GroundTruth {
            now,
            complaints,
            left_stream: left,
            writes_applied: self.applied.clone(),
        }
    }

    /// Number of complaints the instansi has (had) in its stream.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of a complaint (tests and the control API).
    pub fn get(&self, id: TrackingId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    /// One tracking id of another instansi (answers FORBIDDEN), if the world has any.
    pub fn a_foreign_id(&self) -> Option<TrackingId> {
        self.foreign.iter().min().copied()
    }
}

fn answer(tracking_id: TrackingId, transaksi_id: String) -> WriteAnswer {
    WriteAnswer {
        tracking_id,
        transaksi_id,
        duplikat: false,
    }
}
