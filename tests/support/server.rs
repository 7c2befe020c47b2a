//! Fixtures for the API tests and benchmark: a real sled store in a temporary directory
//! seeded through the store's API, tokens of every role, and the API served on a
//! loopback port bound by the test (no sleeps: the listener is bound before serving).
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use sp4n::mapping::{Mappings, today_wib};
use sp4n::model::{Author, Complaint, Location, Reporter, Status, ThreadEntry, TopicRef};
use sp4n::server::auth::{Role, hash_token, new_api_token};
use sp4n::server::{AppState, OpdDirectory};
use sp4n::store::{ApiToken, PageCommit, RoutedBy, Routing, Store, StoredComplaint, content_hash};
use std::net::SocketAddr;
use std::path::Path;

/// Private data seeded into every complaint; none of it may ever reach a log.
pub const REPORTER_FIRST: &str = "Sutrisnowati";
pub const REPORTER_LAST: &str = "Kartikaningrum";
pub const REPORTER_EMAIL: &str = "sutrisnowati.k@contoh.id";
pub const REPORTER_PHONE: &str = "081298765432";
pub const RAHASIA_MARK: &str = "ISI-RAHASIA-JANGAN-BOCOR";

pub fn complaint(id: u64, rahasia: bool, status: Status) -> Complaint {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap();
    let isi = if rahasia {
        format!("{RAHASIA_MARK} laporan {id}: pungutan liar di puskesmas")
    } else {
        format!("Laporan {id}: jalan berlubang di depan balai kalurahan")
    };
    Complaint {
        tracking_id: id,
        rahasia,
        anonim: false,
        judul: format!("Laporan nomor {id}"),
        isi: isi.clone(),
        klasifikasi: Some("pengaduan".into()),
        topik: Some(TopicRef {
            id: "2".into(),
            name: "Kesehatan".into(),
        }),
        tags: vec![],
        kanal: Some("website".into()),
        lokasi: Some(Location {
            kode: "34.01.02.2001".into(),
            name: "Giripeni".into(),
        }),
        pelapor: Some(Reporter {
            namadepan: REPORTER_FIRST.into(),
            namabelakang: REPORTER_LAST.into(),
            email: REPORTER_EMAIL.into(),
            telpon: REPORTER_PHONE.into(),
        }),
        status,
        unit: None,
        dibuat: Some(t),
        diperbarui: t + chrono::Duration::seconds(id as i64 % 86_400),
        lampiran: vec![],
        thread: vec![ThreadEntry {
            transaksi_id: format!("T{id}"),
            oleh: Author::Pelapor,
            unit: None,
            waktu: t,
            ref_: None,
            isi: if rahasia {
                format!("{RAHASIA_MARK} tambahan")
            } else {
                "Mohon segera ditangani".into()
            },
        }],
    }
}

pub fn stored(c: Complaint, opd: &str) -> StoredComplaint {
    let now = Utc::now();
    StoredComplaint {
        raw: String::new(),
        hash: content_hash(&c),
        first_seen: now,
        last_seen: now,
        in_stream: true,
        left_reason: None,
        routing: Some(Routing {
            opd: opd.into(),
            rule_id: "test".into(),
            revision: "test".into(),
            routed_at: now,
            by: RoutedBy::Rules,
        }),
        disposed_at: None,
        sla: Default::default(),
        complaint: c,
    }
}

/// Seeds complaints (with routing) through the store's page commit.
pub fn seed(store: &Store, items: Vec<StoredComplaint>) {
    for chunk in items.chunks(500) {
        store
            .commit_page(PageCommit {
                upserts: chunk.iter().map(|s| (s.clone(), vec![])).collect(),
                ..Default::default()
            })
            .unwrap();
    }
}

/// Makes a token of `role` named `name`, stored by hash; returns the secret.
pub fn token(store: &Store, name: &str, role: &str) -> String {
    let secret = new_api_token().unwrap();
    store
        .create_token(&ApiToken {
            name: name.into(),
            role: Role::parse(role).unwrap().to_string(),
            hash: hash_token(&secret),
            created: Utc::now(),
        })
        .unwrap();
    secret
}

/// The OPDs of the shipped mapping files.
pub fn opds() -> OpdDirectory {
    let (m, _) = Mappings::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")))
        .expect("shipped mappings load");
    OpdDirectory::from_mappings(&m, today_wib())
}

/// A running API; dropping it shuts the server down.
pub struct Api {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Asks the server to stop and waits until it did.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take().unwrap().await.unwrap()
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start(state: AppState) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let task = tokio::spawn(async move {
        sp4n::server::serve(listener, st, async move {
            let _ = rx.await;
        })
        .await
    });
    Api {
        addr,
        state,
        stop: Some(tx),
        task: Some(task),
    }
}
