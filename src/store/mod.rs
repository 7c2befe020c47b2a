//! The local store: every complaint's current record and raw XML, its append-only history,
//! the pull cursor, set-aside items, run reports, the push outbox and the API tokens, in
//! one sled database on disk, with the complaint records themselves in a value log beside
//! it ([`blobs`]): sled keeps each complaint's pointer and content hash.
//!
//! This module owns every sled call of the crate. All methods block (sled does disk I/O):
//! async callers use [`Store::run`] (a `spawn_blocking` wrapper) or call from a blocking
//! thread. Writes that belong together go in one multi-tree transaction and are flushed to
//! disk before the method returns ("durable before acknowledged"). One process holds a
//! store at a time: a lock file with the holder's PID lets a second process say who holds
//! it. The store format version is recorded in a `FORMAT` file and checked at open. A
//! damaged store is an error that names the recovery command (`sp4n store rebuild`),
//! never a panic.

mod blobs;
mod error;
mod lock;
mod record;
mod types;

pub use error::StoreError;
pub use types::*;

use crate::model::{StreamKey, TrackingId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The format this build reads and writes. 2: a page commit stores each complaint's new
/// events as one row (a JSON array) instead of one row per event. 3: complaint records
/// live in the value log; sled's `complaints` tree holds pointer and content hash.
pub const FORMAT_VERSION: u32 = 3;
/// The file inside the store directory that records the format.
pub const FORMAT_FILE: &str = "FORMAT";
/// sled's page cache. Small on purpose: the pull streams, and the target is ≤ 64 MiB RSS.
const CACHE_BYTES: u64 = 4 * 1024 * 1024;

const META_CURSOR: &[u8] = b"cursor";
/// Bytes of the value log that no pointer names any more (superseded records).
const META_BLOB_DEAD: &[u8] = b"blob_dead";
/// Segments below this number were compacted away (deleted at open if still present).
const META_BLOB_FIRST: &[u8] = b"blob_first_segment";
/// Compaction starts when the dead bytes exceed the live ones and this many bytes.
const COMPACT_MIN_DEAD: u64 = 32 * 1024 * 1024;
const META_MAPPING_REVISION: &[u8] = b"mapping_revision";

/// An open store. Cheap to clone (shared handles).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: sled::Db,
    /// tracking id -> pointer into the value log (16 bytes) + content hash (32 bytes): the
    /// pull compares hashes without reading records.
    complaints: sled::Tree,
    /// The complaint records.
    blobs: blobs::BlobLog,
    /// Held by every writer of complaint records, so a read-modify-write needs no retry
    /// and a compaction sees no concurrent change.
    writer: std::sync::Mutex<()>,
    /// Readers of the value log hold it shared; a compaction holds it alone while it
    /// switches pointers and deletes old segments.
    gc: std::sync::RwLock<()>,
    events: sled::Tree,
    meta: sled::Tree,
    quarantine: sled::Tree,
    runs: sled::Tree,
    outbox: sled::Tree,
    outbox_open: sled::Tree,
    tokens: sled::Tree,
    token_hashes: sled::Tree,
    _lock: lock::LockFile,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Filters of [`Store::list_complaints`]; `None` matches everything.
#[derive(Clone, Debug, Default)]
pub struct ComplaintFilter {
    pub status: Option<crate::model::Status>,
    /// Topic id: the topic and its sub-topics in [`Store::list_complaints`]; the topic
    /// alone in [`ComplaintFilter::matches`].
    pub topic: Option<String>,
    /// Kapanewon code `34.01.xx`.
    pub kapanewon: Option<String>,
    pub opd: Option<String>,
    pub in_stream: Option<bool>,
}

impl ComplaintFilter {
    pub fn matches(&self, s: &StoredComplaint) -> bool {
        let c = &s.complaint;
        if self.status.is_some_and(|st| st != c.status) {
            return false;
        }
        if let Some(t) = &self.topic
            && c.topik.as_ref().is_none_or(|tp| &tp.id != t)
        {
            return false;
        }
        if let Some(k) = &self.kapanewon
            && c.kapanewon_code() != Some(k.as_str())
        {
            return false;
        }
        if let Some(o) = &self.opd
            && !s.opd().eq_ignore_ascii_case(o)
        {
            return false;
        }
        if self.in_stream.is_some_and(|b| b != s.in_stream) {
            return false;
        }
        true
    }
}

/// `id` and the ids of every topic under it.
fn topic_and_subtopics(
    tree: &[crate::model::Topic],
    id: &str,
) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::from([id.to_string()]);
    loop {
        let before = ids.len();
        for t in tree {
            if ids.contains(&t.parent) && t.parent != "0" {
                ids.insert(t.id.clone());
            }
        }
        if ids.len() == before {
            return ids;
        }
    }
}

/// How the reason of a set-aside page starts (see the pull's `end_with`).
pub const UNREADABLE_PAGE: &str = "unreadable page";

fn id_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

fn event_key(tid: TrackingId, seq: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&tid.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

type Tx = ConflictableTransactionError<StoreError>;
/// A prepared row keyed by an 8-byte id.
type IdRow = ([u8; 8], Vec<u8>);
/// A prepared event row keyed by (tracking id, seq).
type EventRow = ([u8; 16], Vec<u8>);

impl Store {
    /// Opens (or creates) the store at `path`.
    ///
    /// Errors: [`StoreError::Locked`] when another process holds it (with its PID),
    /// [`StoreError::WrongVersion`] for another format, [`StoreError::Damaged`] when sled
    /// cannot read it (sled panics on some corruptions; those are caught here).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let lock = lock::LockFile::acquire(path)?;
        let format_path = path.join(FORMAT_FILE);
        let fresh = match std::fs::read_to_string(&format_path) {
            Ok(text) => {
                let found = parse_format(&text).ok_or_else(|| StoreError::Damaged {
                    path: path.to_path_buf(),
                    detail: format!("{} is unreadable: {:?}", format_path.display(), text.trim()),
                })?;
                if found != FORMAT_VERSION {
                    return Err(StoreError::WrongVersion {
                        path: path.to_path_buf(),
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if path.join("db").exists() || path.join("conf").exists() {
                    return Err(StoreError::Damaged {
                        path: path.to_path_buf(),
                        detail: format!("the {FORMAT_FILE} file is missing"),
                    });
                }
                true
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: format_path,
                    source,
                });
            }
        };
        let cfg = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .mode(sled::Mode::LowSpace);
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cfg.open()));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(open_error(path, e)),
            Err(panic) => {
                let detail = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the database engine panicked while reading it".into());
                return Err(StoreError::Damaged {
                    path: path.to_path_buf(),
                    detail,
                });
            }
        };
        let t = |name: &str| {
            db.open_tree(name).map_err(|e| StoreError::Damaged {
                path: path.to_path_buf(),
                detail: format!("tree {name}: {e}"),
            })
        };
        let blobs = blobs::BlobLog::open(path)?;
        let inner = Inner {
            path: path.to_path_buf(),
            complaints: t("complaints")?,
            blobs,
            writer: std::sync::Mutex::new(()),
            gc: std::sync::RwLock::new(()),
            events: t("events")?,
            meta: t("meta")?,
            quarantine: t("quarantine")?,
            runs: t("run_reports")?,
            outbox: t("outbox")?,
            outbox_open: t("outbox_open")?,
            tokens: t("api_tokens")?,
            token_hashes: t("api_token_hashes")?,
            db,
            _lock: lock,
        };
        if fresh {
            inner.db.flush().map_err(|e| StoreError::sled(path, e))?;
            write_format(&format_path)?;
        }
        let store = Store {
            inner: Arc::new(inner),
        };
        // A compaction that stopped between switching pointers and deleting old segments.
        if let Some(first) = store.get_meta::<u32>(META_BLOB_FIRST)? {
            store.inner.blobs.delete_below(first)?;
        }
        Ok(store)
    }

    /// Runs `f` on a blocking thread: how async code uses the store.
    pub async fn run<R, F>(&self, f: F) -> R
    where
        F: FnOnce(&Store) -> R + Send + 'static,
        R: Send + 'static,
    {
        let store = self.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Forces everything written so far to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush().map(|_| ()).map_err(|e| self.err(e))
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        let db = self.inner.db.size_on_disk().map_err(|e| self.err(e))?;
        Ok(db + self.inner.blobs.size()?)
    }

    fn err(&self, e: sled::Error) -> StoreError {
        StoreError::sled(&self.inner.path, e)
    }

    fn decode<T: DeserializeOwned>(&self, what: &str, bytes: &[u8]) -> Result<T, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| StoreError::Damaged {
            path: self.inner.path.clone(),
            detail: format!("a stored {what} is unreadable: {e}"),
        })
    }

    fn next_id(&self) -> Result<u64, StoreError> {
        self.inner.db.generate_id().map_err(|e| self.err(e))
    }

    // ---------------------------------------------------------------- complaints

    pub fn get_complaint(&self, id: TrackingId) -> Result<Option<StoredComplaint>, StoreError> {
        let _gc = self.inner.gc.read().unwrap_or_else(|e| e.into_inner());
        match self.index_row(id)? {
            Some(row) => Ok(Some(self.load(id, &row)?)),
            None => Ok(None),
        }
    }

    fn index_row(&self, id: TrackingId) -> Result<Option<IndexRow>, StoreError> {
        match self
            .inner
            .complaints
            .get(id_key(id))
            .map_err(|e| self.err(e))?
        {
            Some(v) => Ok(Some(self.parse_index(id, &v)?)),
            None => Ok(None),
        }
    }

    fn parse_index(&self, id: TrackingId, v: &[u8]) -> Result<IndexRow, StoreError> {
        IndexRow::decode(v).ok_or_else(|| StoreError::Damaged {
            path: self.inner.path.clone(),
            detail: format!("the index row of complaint {id} is unreadable"),
        })
    }

    /// Reads a record from the value log (the caller holds `gc` shared).
    fn load(&self, id: TrackingId, row: &IndexRow) -> Result<StoredComplaint, StoreError> {
        let bytes = self.inner.blobs.read(row.ptr)?;
        record::decode(&bytes, hex::encode(&row.hash)).map_err(|e| StoreError::Damaged {
            path: self.inner.path.clone(),
            detail: format!("the record of complaint {id} is unreadable: {e}"),
        })
    }

    /// The content hash of a stored complaint, without reading the record.
    pub fn complaint_hash(&self, id: TrackingId) -> Result<Option<String>, StoreError> {
        Ok(self.index_row(id)?.map(|r| hex::encode(r.hash)))
    }

    pub fn complaint_count(&self) -> usize {
        self.inner.complaints.len()
    }

    /// Calls `f` for every stored complaint in tracking-id order; stops when it returns false.
    pub fn for_each_complaint(
        &self,
        mut f: impl FnMut(StoredComplaint) -> bool,
    ) -> Result<(), StoreError> {
        for kv in self.inner.complaints.iter() {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let id = u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8]));
            let rec = {
                let _gc = self.inner.gc.read().unwrap_or_else(|e| e.into_inner());
                let row = self.parse_index(id, &v)?;
                match self.load(id, &row) {
                    Ok(rec) => rec,
                    // A compaction moved the record after the iterator read its row.
                    Err(e) => match self.index_row(id)? {
                        Some(now) if now.ptr != row.ptr => self.load(id, &now)?,
                        _ => return Err(e),
                    },
                }
            };
            if !f(rec) {
                break;
            }
        }
        Ok(())
    }

    /// Every stored complaint's tracking id, ascending.
    pub fn complaint_ids(&self) -> Result<Vec<TrackingId>, StoreError> {
        let mut out = Vec::with_capacity(self.complaint_count());
        for k in self.inner.complaints.iter().keys() {
            let k = k.map_err(|e| self.err(e))?;
            out.push(u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8])));
        }
        Ok(out)
    }

    /// The complaints that match `filter`, in tracking-id order.
    pub fn list_complaints(
        &self,
        filter: &ComplaintFilter,
    ) -> Result<Vec<StoredComplaint>, StoreError> {
        // A topic includes its sub-topics, at any depth, in the platform's tree (the
        // example tree before the first fetch).
        let topics = match &filter.topic {
            Some(t) => {
                let tree = match crate::mapping::vocabulary::stored(self)? {
                    Some(v) => v.topics,
                    None => crate::mapping::world::modelled_topics(),
                };
                Some(topic_and_subtopics(&tree, t.trim()))
            }
            None => None,
        };
        let rest = ComplaintFilter {
            topic: None,
            ..filter.clone()
        };
        let mut out = Vec::new();
        self.for_each_complaint(|s| {
            let topic_ok = topics.as_ref().is_none_or(|ids| {
                s.complaint
                    .topik
                    .as_ref()
                    .is_some_and(|tp| ids.contains(&tp.id))
            });
            if topic_ok && rest.matches(&s) {
                out.push(s);
            }
            true
        })?;
        Ok(out)
    }

    /// A complaint's history, oldest first.
    pub fn events(&self, id: TrackingId) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::new();
        let _gc = self.inner.gc.read().unwrap_or_else(|e| e.into_inner());
        for kv in self.inner.events.scan_prefix(id_key(id)) {
            let (_, v) = kv.map_err(|e| self.err(e))?;
            out.extend(self.event_row(&v)?);
        }
        // A batch is keyed by its first seq; sorting keeps seq order even when another
        // writer drew ids between a batch's events.
        out.sort_by_key(|e: &Event| e.seq);
        Ok(out)
    }

    /// The number of events in the store (all complaints). Reads every row (a row holds
    /// one event or a batch written together); unreadable rows count as one.
    pub fn event_count(&self) -> usize {
        let mut n = 0;
        let _gc = self.inner.gc.read().unwrap_or_else(|e| e.into_inner());
        for v in self.inner.events.iter().values() {
            n += match v {
                Ok(v) => self.event_row(&v).map_or(1, |b| b.len()),
                Err(_) => 1,
            };
        }
        n
    }

    /// The events of one row of the events tree: a pointer to a batch in the value log
    /// (written by page commits), a JSON array (a batch) or one JSON event. The caller
    /// holds `gc` shared.
    fn event_row(&self, v: &[u8]) -> Result<Vec<Event>, StoreError> {
        match v.split_first() {
            Some((&EVENTS_IN_LOG, ptr)) => {
                let ptr = blobs::BlobPtr::decode(ptr).ok_or_else(|| StoreError::Damaged {
                    path: self.inner.path.clone(),
                    detail: "an event row is unreadable".into(),
                })?;
                self.decode("event batch", &self.inner.blobs.read(ptr)?)
            }
            Some((b'[', _)) => self.decode("event batch", v),
            _ => Ok(vec![self.decode("event", v)?]),
        }
    }

    /// The events one commit adds to one complaint, as one batch: a JSON array keyed by the
    /// first event's seq (each event still has its own seq). One row instead of one per
    /// event keeps the events tree small (fewer keys for sled to index and rewrite); a
    /// page commit puts the array itself in the value log.
    fn event_batch(
        &self,
        tid: TrackingId,
        now: DateTime<Utc>,
        kinds: &[EventKind],
    ) -> Result<Option<EventRow>, StoreError> {
        let mut events = Vec::with_capacity(kinds.len());
        for kind in kinds {
            events.push(event(tid, self.next_id()?, now, kind));
        }
        let Some(first) = events.first() else {
            return Ok(None);
        };
        Ok(Some((event_key(tid, first.seq), json(&events)?)))
    }

    /// Writes one page atomically: records, their events, set-aside items, queued outbox
    /// entries and the advanced cursor, in one transaction, flushed before returning.
    pub fn commit_page(&self, page: PageCommit) -> Result<(), StoreError> {
        let now = Utc::now();
        let _writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut records = Vec::with_capacity(page.upserts.len());
        let mut event_rows = Vec::new();
        let mut superseded = 0;
        for (rec, kinds) in &page.upserts {
            let tid = rec.tracking_id();
            records.push(self.encode_record(rec)?);
            if let Some(old) = self.index_row(tid)? {
                superseded += old.ptr.framed_len();
            }
            if let Some(row) = self.event_batch(tid, now, kinds)? {
                event_rows.push(row);
            }
        }
        let mut quarantine_rows = Vec::new();
        for q in &page.set_aside {
            let id = self.next_id()?;
            quarantine_rows.push((id_key(id), json(&quarantine_item(id, now, page.run_id, q))?));
        }
        let (outbox_rows, outbox_events) = self.prepare_outbox(&page.outbox, now)?;
        let cursor = page.cursor.as_ref().map(json).transpose()?;
        let dead = self.dead_after(superseded)?;
        // Records and event batches go to the value log, and are on disk before any
        // pointer to them is; sled gets the pointers.
        let n = records.len();
        records.extend(event_rows.iter_mut().map(|(_, v)| std::mem::take(v)));
        let ptrs = self.inner.blobs.append(&records)?;
        for ((_, v), ptr) in event_rows.iter_mut().zip(&ptrs[n..]) {
            *v = event_pointer(*ptr);
        }
        event_rows.extend(outbox_events);
        let complaint_rows: Vec<_> = page
            .upserts
            .iter()
            .zip(ptrs)
            .map(|((rec, _), ptr)| (id_key(rec.tracking_id()), IndexRow::encode(ptr, &rec.hash)))
            .collect();
        let i = &self.inner;
        let res = (
            &i.complaints,
            &i.events,
            &i.meta,
            &i.quarantine,
            &i.outbox,
            &i.outbox_open,
        )
            .transaction(|(tc, te, tm, tq, to, toi)| {
                for (k, v) in &complaint_rows {
                    tc.insert(&k[..], v.as_slice())?;
                }
                if let Some(d) = &dead {
                    tm.insert(META_BLOB_DEAD, d.as_slice())?;
                }
                for (k, v) in &event_rows {
                    te.insert(&k[..], v.as_slice())?;
                }
                for (k, v) in &quarantine_rows {
                    tq.insert(&k[..], v.as_slice())?;
                }
                for (k, v) in &outbox_rows {
                    to.insert(&k[..], v.as_slice())?;
                    toi.insert(&k[..], &[][..])?;
                }
                if let Some(c) = &cursor {
                    tm.insert(META_CURSOR, c.as_slice())?;
                }
                Ok::<_, Tx>(())
            });
        self.finish_tx(res)?;
        self.flush()
    }

    /// Changes one complaint atomically: `f` edits the record and returns the events to
    /// append (an error from `f` aborts with nothing written). Flushed before returning.
    /// Returns the updated record, or `None` when the complaint is unknown.
    pub fn update_complaint(
        &self,
        id: TrackingId,
        f: impl Fn(&mut StoredComplaint) -> Result<Vec<EventKind>, StoreError>,
        outbox: Vec<NewOutboxEntry>,
    ) -> Result<Option<StoredComplaint>, StoreError> {
        let now = Utc::now();
        let _writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let Some(old) = self.index_row(id)? else {
            return Ok(None);
        };
        let mut rec = {
            let _gc = self.inner.gc.read().unwrap_or_else(|e| e.into_inner());
            self.load(id, &old)?
        };
        let kinds = f(&mut rec)?;
        let (outbox_rows, outbox_events) = self.prepare_outbox(&outbox, now)?;
        let mut event_rows = Vec::with_capacity(kinds.len() + outbox_events.len());
        for kind in &kinds {
            let seq = self.next_id()?;
            event_rows.push((event_key(id, seq), json(&event(id, seq, now, kind))?));
        }
        event_rows.extend(outbox_events);
        let record = self.encode_record(&rec)?;
        let dead = self.dead_after(old.ptr.framed_len())?;
        let ptr = self.inner.blobs.append(&[record])?[0];
        let row = IndexRow::encode(ptr, &rec.hash);
        let i = &self.inner;
        let res = (&i.complaints, &i.events, &i.meta, &i.outbox, &i.outbox_open).transaction(
            |(tc, te, tm, to, toi)| {
                tc.insert(&id_key(id)[..], row.as_slice())?;
                if let Some(d) = &dead {
                    tm.insert(META_BLOB_DEAD, d.as_slice())?;
                }
                for (k, v) in &event_rows {
                    te.insert(&k[..], v.as_slice())?;
                }
                for (k, v) in &outbox_rows {
                    to.insert(&k[..], v.as_slice())?;
                    toi.insert(&k[..], &[][..])?;
                }
                Ok::<_, Tx>(())
            },
        );
        self.finish_tx(res)?;
        self.flush()?;
        Ok(Some(rec))
    }

    fn encode_record(&self, rec: &StoredComplaint) -> Result<Vec<u8>, StoreError> {
        record::encode(rec).map_err(|e| {
            StoreError::Encoding(format!(
                "cannot encode complaint {}: {e}",
                rec.tracking_id()
            ))
        })
    }

    /// The dead-bytes counter after `superseded` more bytes of the value log became
    /// garbage, encoded for the meta tree; `None` when nothing was superseded. The caller
    /// holds `writer`, so no other write changes the counter meanwhile.
    fn dead_after(&self, superseded: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if superseded == 0 {
            return Ok(None);
        }
        let dead: u64 = self.get_meta(META_BLOB_DEAD)?.unwrap_or(0);
        json(&(dead + superseded)).map(Some)
    }

    /// What the value log holds: (bytes on disk, bytes no record points to any more).
    pub fn value_log_usage(&self) -> Result<(u64, u64), StoreError> {
        let dead: u64 = self.get_meta(META_BLOB_DEAD)?.unwrap_or(0);
        Ok((self.inner.blobs.size()?, dead))
    }

    /// Compacts the value log when superseded records take more room than the live ones
    /// (and at least 32 MiB), or always with `force`. Returns the bytes reclaimed, or
    /// `None` when nothing was done.
    ///
    /// Live records are copied into new segments and synced; one transaction switches
    /// every pointer (flushed); then the old segments are deleted. A crash before the
    /// switch leaves the old pointers valid (the copies are garbage for the next run); a
    /// crash after it leaves old segments that the next open deletes.
    pub fn compact(&self, force: bool) -> Result<Option<u64>, StoreError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let (size, dead) = self.value_log_usage()?;
        if !force && (dead < COMPACT_MIN_DEAD || dead < size.saturating_sub(dead)) {
            return Ok(None);
        }
        let first = self.inner.blobs.start_segment()?;
        let mut rows = Vec::new();
        let mut batch_keys = Vec::new();
        let mut batch_values = Vec::new();
        let mut hashes = Vec::new();
        let mut flush_batch = |keys: &mut Vec<sled::IVec>,
                               values: &mut Vec<Vec<u8>>,
                               hashes: &mut Vec<Vec<u8>>|
         -> Result<(), StoreError> {
            let ptrs = self.inner.blobs.append(values)?;
            for ((k, ptr), h) in keys.drain(..).zip(ptrs).zip(hashes.drain(..)) {
                let mut row = ptr.encode().to_vec();
                row.extend_from_slice(&h);
                rows.push((k, row));
            }
            values.clear();
            Ok(())
        };
        for kv in self.inner.complaints.iter() {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            let id = u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8]));
            let row = self.parse_index(id, &v)?;
            batch_values.push(self.inner.blobs.read(row.ptr)?);
            hashes.push(row.hash);
            batch_keys.push(k);
            if batch_values.len() == 512 {
                flush_batch(&mut batch_keys, &mut batch_values, &mut hashes)?;
            }
        }
        flush_batch(&mut batch_keys, &mut batch_values, &mut hashes)?;
        let mut batch = sled::Batch::default();
        for (k, row) in rows {
            batch.insert(k, row);
        }
        // Event batches in the value log move too (they are never superseded).
        let mut event_batch = sled::Batch::default();
        let mut keys = Vec::new();
        let mut values = Vec::new();
        let mut move_events =
            |keys: &mut Vec<sled::IVec>, values: &mut Vec<Vec<u8>>| -> Result<(), StoreError> {
                let ptrs = self.inner.blobs.append(values)?;
                for (k, ptr) in keys.drain(..).zip(ptrs) {
                    event_batch.insert(k, event_pointer(ptr));
                }
                values.clear();
                Ok(())
            };
        for kv in self.inner.events.iter() {
            let (k, v) = kv.map_err(|e| self.err(e))?;
            if let Some((&EVENTS_IN_LOG, ptr)) = v.split_first()
                && let Some(ptr) = blobs::BlobPtr::decode(ptr)
            {
                values.push(self.inner.blobs.read(ptr)?);
                keys.push(k);
                if values.len() == 512 {
                    move_events(&mut keys, &mut values)?;
                }
            }
        }
        move_events(&mut keys, &mut values)?;
        let _gc = self.inner.gc.write().unwrap_or_else(|e| e.into_inner());
        let first_json = json(&first)?;
        let zero = json(&0u64)?;
        let i = &self.inner;
        let res = (&i.complaints, &i.events, &i.meta).transaction(|(tc, te, tm)| {
            tc.apply_batch(&batch)?;
            te.apply_batch(&event_batch)?;
            tm.insert(META_BLOB_DEAD, zero.as_slice())?;
            tm.insert(META_BLOB_FIRST, first_json.as_slice())?;
            Ok::<_, Tx>(())
        });
        self.finish_tx(res)?;
        self.flush()?;
        self.inner.blobs.delete_below(first)?;
        let after = self.inner.blobs.size()?;
        Ok(Some(size.saturating_sub(after)))
    }

    /// Appends events exported from another store to the histories they name, keeping
    /// their times and kinds (new sequence numbers), flushed. Used by `store rebuild`.
    pub fn restore_events(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for e in events {
            let seq = self.next_id()?;
            let ev = event(e.tracking_id, seq, e.at, &e.kind);
            batch.insert(&event_key(e.tracking_id, seq)[..], json(&ev)?);
        }
        self.inner
            .events
            .apply_batch(batch)
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    /// Appends one event to a complaint's history (flushed).
    pub fn append_event(&self, id: TrackingId, kind: EventKind) -> Result<Event, StoreError> {
        let seq = self.next_id()?;
        let ev = event(id, seq, Utc::now(), &kind);
        self.inner
            .events
            .insert(event_key(id, seq), json(&ev)?)
            .map_err(|e| self.err(e))?;
        self.flush()?;
        Ok(ev)
    }

    fn finish_tx<T>(&self, res: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
        match res {
            Ok(v) => Ok(v),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(self.err(e)),
        }
    }

    // ---------------------------------------------------------------- meta

    /// The pull cursor: the key of the last stored item.
    pub fn cursor(&self) -> Result<Option<StreamKey>, StoreError> {
        self.get_meta(META_CURSOR)
    }

    /// Sets the cursor (flushed). Normal pulls advance it through [`Store::commit_page`].
    pub fn set_cursor(&self, key: Option<&StreamKey>) -> Result<(), StoreError> {
        match key {
            Some(k) => self.put_meta(META_CURSOR, k),
            None => {
                self.inner
                    .meta
                    .remove(META_CURSOR)
                    .map_err(|e| self.err(e))?;
                self.flush()
            }
        }
    }

    /// The mapping revision the routing uses now.
    pub fn mapping_revision(&self) -> Result<Option<String>, StoreError> {
        self.get_meta(META_MAPPING_REVISION)
    }

    pub fn set_mapping_revision(&self, rev: &str) -> Result<(), StoreError> {
        self.put_meta(META_MAPPING_REVISION, &rev)
    }

    /// The last run of a job (`pull`, `push`, `reconcile`, …).
    pub fn job_run(&self, job: &str) -> Result<Option<JobRun>, StoreError> {
        self.get_meta(format!("job:{job}").as_bytes())
    }

    pub fn set_job_run(&self, run: &JobRun) -> Result<(), StoreError> {
        self.put_meta(format!("job:{}", run.job).as_bytes(), run)
    }

    /// A free-form meta value (JSON), for stages that need a small durable setting.
    pub fn get_meta<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.inner.meta.get(key).map_err(|e| self.err(e))? {
            Some(v) => Ok(Some(self.decode("meta value", &v)?)),
            None => Ok(None),
        }
    }

    /// Writes a meta value (flushed).
    pub fn put_meta<T: Serialize + ?Sized>(&self, key: &[u8], value: &T) -> Result<(), StoreError> {
        self.inner
            .meta
            .insert(key, json(value)?)
            .map_err(|e| self.err(e))?;
        self.flush()
    }

    // ---------------------------------------------------------------- quarantine

    /// Sets items aside outside a page commit (flushed).
    pub fn quarantine(
        &self,
        items: &[NewQuarantine],
        run_id: Option<u64>,
    ) -> Result<Vec<u64>, StoreError> {
        let now = Utc::now();
        let mut ids = Vec::new();
        for q in items {
            let id = self.next_id()?;
            self.inner
                .quarantine
                .insert(id_key(id), json(&quarantine_item(id, now, run_id, q))?)
                .map_err(|e| self.err(e))?;
            ids.push(id);
        }
        self.flush()?;
        Ok(ids)
    }

    /// Set-aside items, oldest first.
    pub fn quarantined(&self) -> Result<Vec<QuarantineItem>, StoreError> {
        let mut out = Vec::new();
        for kv in self.inner.quarantine.iter() {
            let (_, v) = kv.map_err(|e| self.err(e))?;
            out.push(self.decode("quarantine item", &v)?);
        }
        Ok(out)
    }

    /// Removes the set-aside items matching `drop` (flushed when any was removed);
    /// how many.
    fn remove_quarantined(
        &self,
        drop: impl Fn(&QuarantineItem) -> bool,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.quarantined()? {
            if drop(&item) {
                self.inner
                    .quarantine
                    .remove(id_key(item.id))
                    .map_err(|e| self.err(e))?;
                n += 1;
            }
        }
        if n > 0 {
            self.flush()?;
        }
        Ok(n)
    }

    /// Clears the items set aside for complaints in `ids`, which were now read fine.
    pub fn heal_quarantine(&self, ids: &[TrackingId]) -> Result<u64, StoreError> {
        if ids.is_empty() || self.inner.quarantine.is_empty() {
            return Ok(0);
        }
        let ids: std::collections::HashSet<TrackingId> = ids.iter().copied().collect();
        self.remove_quarantined(|q| q.tracking_id.is_some_and(|t| ids.contains(&t)))
    }

    /// Clears unreadable pages set aside before `before`, after a run read every page
    /// from the cursor on; with `every_item`, also items without a tracking id (a complete
    /// reconcile read every complaint fine).
    pub fn heal_unreadable_pages(
        &self,
        before: DateTime<Utc>,
        every_item: bool,
    ) -> Result<u64, StoreError> {
        if self.inner.quarantine.is_empty() {
            return Ok(0);
        }
        self.remove_quarantined(|q| {
            q.at < before
                && q.tracking_id.is_none()
                && (every_item || q.reason.starts_with(UNREADABLE_PAGE))
        })
    }

    /// Clears one set-aside item by a person's decision; the item, or `None` when no
    /// item has that id.
    pub fn clear_quarantined(&self, id: u64) -> Result<Option<QuarantineItem>, StoreError> {
        let old = self
            .inner
            .quarantine
            .remove(id_key(id))
            .map_err(|e| self.err(e))?;
        match old {
            Some(v) => {
                let item = self.decode("quarantine item", &v)?;
                self.flush()?;
                Ok(Some(item))
            }
            None => Ok(None),
        }
    }

    // ---------------------------------------------------------------- run reports

    /// Takes an id for a run that is starting (used on its set-aside items).
    pub fn new_run_id(&self) -> Result<u64, StoreError> {
        self.next_id()
    }

    /// Saves a run report under `report.id` (assigned when 0), flushed. Returns the id.
    pub fn save_run_report(&self, report: &RunReport) -> Result<u64, StoreError> {
        let mut r = report.clone();
        if r.id == 0 {
            r.id = self.next_id()?;
        }
        self.inner
            .runs
            .insert(id_key(r.id), json(&r)?)
            .map_err(|e| self.err(e))?;
        self.flush()?;
        Ok(r.id)
    }

    /// The newest run reports first, at most `limit`; `job` filters by job name.
    pub fn run_reports(
        &self,
        job: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunReport>, StoreError> {
        let mut out = Vec::new();
        for kv in self.inner.runs.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let (_, v) = kv.map_err(|e| self.err(e))?;
            let r: RunReport = self.decode("run report", &v)?;
            if job.is_none_or(|j| j == r.job) {
                out.push(r);
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- outbox

    fn prepare_outbox(
        &self,
        entries: &[NewOutboxEntry],
        now: DateTime<Utc>,
    ) -> Result<(Vec<IdRow>, Vec<EventRow>), StoreError> {
        let mut rows = Vec::new();
        let mut events = Vec::new();
        for n in entries {
            let seq = self.next_id()?;
            let entry = OutboxEntry {
                seq,
                ref_: n.request.ref_.clone(),
                tracking_id: n.request.action.tracking_id(),
                opd: n.opd.clone(),
                requested_by: n.requested_by.clone(),
                requested_at: now,
                request: n.request.clone(),
                state: OutboxState::Pending,
                attempts: 0,
                next_attempt_at: now,
                last_error: None,
                outcome_unknown: false,
                first_attempt_at: None,
                last_attempt_at: None,
                seen_before: None,
                created_tracking_id: None,
            };
            rows.push((id_key(seq), json(&entry)?));
            if let Some(tid) = entry.tracking_id {
                let eseq = self.next_id()?;
                let kind = EventKind::OutboxQueued {
                    ref_: entry.ref_.clone(),
                };
                events.push((event_key(tid, eseq), json(&event(tid, eseq, now, &kind))?));
            }
        }
        Ok((rows, events))
    }

    /// Queues entries (with an `OutboxQueued` event each), flushed before returning.
    pub fn enqueue(&self, entries: Vec<NewOutboxEntry>) -> Result<Vec<OutboxEntry>, StoreError> {
        let (rows, events) = self.prepare_outbox(&entries, Utc::now())?;
        let i = &self.inner;
        let res = (&i.outbox, &i.outbox_open, &i.events).transaction(|(to, toi, te)| {
            for (k, v) in &rows {
                to.insert(&k[..], v.as_slice())?;
                toi.insert(&k[..], &[][..])?;
            }
            for (k, v) in &events {
                te.insert(&k[..], v.as_slice())?;
            }
            Ok::<_, Tx>(())
        });
        self.finish_tx(res)?;
        self.flush()?;
        rows.iter()
            .map(|(_, v)| self.decode("outbox entry", v))
            .collect()
    }

    pub fn outbox_entry(&self, seq: u64) -> Result<Option<OutboxEntry>, StoreError> {
        match self
            .inner
            .outbox
            .get(id_key(seq))
            .map_err(|e| self.err(e))?
        {
            Some(v) => Ok(Some(self.decode("outbox entry", &v)?)),
            None => Ok(None),
        }
    }

    /// Finds an entry by its `ref`.
    pub fn outbox_by_ref(&self, r: &str) -> Result<Option<OutboxEntry>, StoreError> {
        for e in self.outbox_all()? {
            if e.ref_ == r {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Every entry, oldest first.
    pub fn outbox_all(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut out = Vec::new();
        for kv in self.inner.outbox.iter() {
            let (_, v) = kv.map_err(|e| self.err(e))?;
            out.push(self.decode("outbox entry", &v)?);
        }
        Ok(out)
    }

    /// Entries not done or discarded (pending and held), oldest first.
    pub fn outbox_unfinished(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut out = Vec::new();
        for k in self.inner.outbox_open.iter().keys() {
            let k = k.map_err(|e| self.err(e))?;
            if let Some(v) = self.inner.outbox.get(&k).map_err(|e| self.err(e))? {
                out.push(self.decode("outbox entry", &v)?);
            }
        }
        Ok(out)
    }

    /// The number of held entries.
    pub fn held_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .outbox_unfinished()?
            .iter()
            .filter(|e| matches!(e.state, OutboxState::Held { .. }))
            .count() as u64)
    }

    /// The entries to send now: per complaint only the oldest unfinished entry, and only
    /// when it is pending and due (`next_attempt_at <= now`). A held entry blocks the later
    /// entries of its complaint. New-complaint entries (no tracking id) are independent.
    pub fn eligible(&self, now: DateTime<Utc>) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut blocked = std::collections::HashSet::new();
        let mut out = Vec::new();
        for e in self.outbox_unfinished()? {
            if let Some(tid) = e.tracking_id
                && !blocked.insert(tid)
            {
                continue;
            }
            if e.state == OutboxState::Pending && e.next_attempt_at <= now {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Writes an entry back (state, attempts, errors), flushed before returning. A change
    /// of state to done, held or discarded adds the matching event to the complaint's
    /// history in the same transaction.
    pub fn update_entry(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let old = self.outbox_entry(entry.seq)?.ok_or_else(|| {
            StoreError::Refused(format!("outbox entry {} does not exist", entry.seq))
        })?;
        let now = Utc::now();
        let kind = if old.state.name() == entry.state.name() {
            None
        } else {
            match &entry.state {
                OutboxState::Done { transaksi_id, .. } => Some(EventKind::OutboxDone {
                    ref_: entry.ref_.clone(),
                    transaksi_id: transaksi_id.clone(),
                }),
                OutboxState::Held { reason, .. } => Some(EventKind::OutboxHeld {
                    ref_: entry.ref_.clone(),
                    reason: reason.clone(),
                }),
                OutboxState::Discarded { reason, by, .. } => Some(EventKind::OutboxDiscarded {
                    ref_: entry.ref_.clone(),
                    reason: reason.clone(),
                    by: by.clone(),
                }),
                OutboxState::Pending => None,
            }
        };
        let ev = match (kind, entry.tracking_id) {
            (Some(k), Some(tid)) => {
                let seq = self.next_id()?;
                Some((event_key(tid, seq), json(&event(tid, seq, now, &k))?))
            }
            _ => None,
        };
        let bytes = json(entry)?;
        let key = id_key(entry.seq);
        let finished = entry.state.is_finished();
        let i = &self.inner;
        let res = (&i.outbox, &i.outbox_open, &i.events).transaction(|(to, toi, te)| {
            to.insert(&key[..], bytes.as_slice())?;
            if finished {
                toi.remove(&key[..])?;
            } else {
                toi.insert(&key[..], &[][..])?;
            }
            if let Some((k, v)) = &ev {
                te.insert(&k[..], v.as_slice())?;
            }
            Ok::<_, Tx>(())
        });
        self.finish_tx(res)?;
        self.flush()
    }

    // ---------------------------------------------------------------- API tokens

    /// Stores a token (its hash only). Refused when the name or the hash exists.
    pub fn create_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let bytes = json(token)?;
        let name = token.name.clone();
        let hash = token.hash.clone();
        let i = &self.inner;
        let res = (&i.tokens, &i.token_hashes).transaction(|(tt, th)| {
            if tt.get(name.as_bytes())?.is_some() {
                return Err(ConflictableTransactionError::Abort(StoreError::Refused(
                    format!(
                        "a token named '{name}' exists; revoke it first or choose another name"
                    ),
                )));
            }
            if th.get(hash.as_bytes())?.is_some() {
                return Err(ConflictableTransactionError::Abort(StoreError::Refused(
                    "a token with this secret exists".into(),
                )));
            }
            tt.insert(name.as_bytes(), bytes.as_slice())?;
            th.insert(hash.as_bytes(), name.as_bytes())?;
            Ok(())
        });
        self.finish_tx(res)?;
        self.flush()
    }

    /// The token whose secret hashes to `hash` ([`hash_secret`]).
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let Some(name) = self
            .inner
            .token_hashes
            .get(hash.as_bytes())
            .map_err(|e| self.err(e))?
        else {
            return Ok(None);
        };
        match self.inner.tokens.get(&name).map_err(|e| self.err(e))? {
            Some(v) => Ok(Some(self.decode("api token", &v)?)),
            None => Ok(None),
        }
    }

    pub fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let mut out = Vec::new();
        for kv in self.inner.tokens.iter() {
            let (_, v) = kv.map_err(|e| self.err(e))?;
            out.push(self.decode("api token", &v)?);
        }
        Ok(out)
    }

    /// Removes a token; false when no token has that name.
    pub fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let i = &self.inner;
        let name = name.to_string();
        let path = i.path.clone();
        let res = (&i.tokens, &i.token_hashes).transaction(|(tt, th)| {
            let Some(v) = tt.remove(name.as_bytes())? else {
                return Ok(false);
            };
            let t: ApiToken = serde_json::from_slice(&v).map_err(|e| {
                ConflictableTransactionError::Abort(StoreError::Damaged {
                    path: path.clone(),
                    detail: format!("api token '{name}' is unreadable: {e}"),
                })
            })?;
            th.remove(t.hash.as_bytes())?;
            Ok(true)
        });
        let removed = self.finish_tx(res)?;
        self.flush()?;
        Ok(removed)
    }
}

fn json<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Encoding(format!("cannot encode a value: {e}")))
}

fn hash_bytes(hash: &str) -> Vec<u8> {
    hex::decode(hash).unwrap_or_else(|_| hash.as_bytes().to_vec())
}

/// Marks a row of the events tree that points to its batch in the value log (JSON rows
/// start with `[` or `{`).
const EVENTS_IN_LOG: u8 = 0xB1;

fn event_pointer(ptr: blobs::BlobPtr) -> Vec<u8> {
    let mut row = Vec::with_capacity(1 + blobs::BlobPtr::BYTES);
    row.push(EVENTS_IN_LOG);
    row.extend_from_slice(&ptr.encode());
    row
}

/// A row of the `complaints` tree: where the record is, and its content hash.
struct IndexRow {
    ptr: blobs::BlobPtr,
    hash: Vec<u8>,
}

impl IndexRow {
    fn encode(ptr: blobs::BlobPtr, hash: &str) -> Vec<u8> {
        let mut row = ptr.encode().to_vec();
        row.extend_from_slice(&hash_bytes(hash));
        row
    }

    fn decode(v: &[u8]) -> Option<IndexRow> {
        Some(IndexRow {
            ptr: blobs::BlobPtr::decode(v)?,
            hash: v[blobs::BlobPtr::BYTES..].to_vec(),
        })
    }
}

fn event(tid: TrackingId, seq: u64, at: DateTime<Utc>, kind: &EventKind) -> Event {
    Event {
        tracking_id: tid,
        seq,
        at,
        kind: kind.clone(),
    }
}

fn quarantine_item(
    id: u64,
    at: DateTime<Utc>,
    run_id: Option<u64>,
    q: &NewQuarantine,
) -> QuarantineItem {
    let (raw, raw_is_hex) = match std::str::from_utf8(&q.raw) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (hex::encode(&q.raw), true),
    };
    QuarantineItem {
        id,
        at,
        run_id,
        tracking_id: q.tracking_id,
        reason: q.reason.clone(),
        raw,
        raw_is_hex,
    }
}

fn parse_format(text: &str) -> Option<u32> {
    text.trim().strip_prefix("sp4n-store ")?.trim().parse().ok()
}

fn write_format(path: &Path) -> Result<(), StoreError> {
    use std::io::Write;
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(path).map_err(io)?;
    writeln!(f, "sp4n-store {FORMAT_VERSION}").map_err(io)?;
    f.sync_all().map_err(io)
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(ref io) if io.kind() == std::io::ErrorKind::WouldBlock => {
            StoreError::Locked {
                path: path.to_path_buf(),
                pid: lock::read_pid(path),
            }
        }
        sled::Error::Io(io) => StoreError::Io {
            path: path.to_path_buf(),
            source: io,
        },
        other => StoreError::Damaged {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
