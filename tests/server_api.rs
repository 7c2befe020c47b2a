//! The local HTTP API over real HTTP on loopback, against a real sled store: the
//! authorization matrix (every role against every endpoint, own OPD's complaint and
//! another's, rahasia and not), private fields present or absent exactly as the rules say,
//! JSON errors, the body limit, follow-ups becoming outbox entries, and logs free of
//! tokens and reporter identity.

mod support;
use support::server as server_support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server_support::*;
use sp4n::model::Status;
use sp4n::server::AppState;
use sp4n::store::{OutboxState, RunReport, Store};
use sp4n::upstream::WriteAction;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

// ------------------------------------------------------------------ captured logs

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary: ours at every level, dependencies' from info.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let c = Captured::default();
        let w = c.clone();
        tracing_subscriber::fmt()
            // Everything of ours; dependencies from info up. Their trace events fire while
            // connections are dropped at runtime teardown, inside thread-local destructors,
            // where the fmt layer's own thread-local is gone and the process aborts.
            .with_env_filter("info,sp4n=trace")
            .with_writer(move || w.clone())
            .with_ansi(false)
            .init();
        c
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

// ------------------------------------------------------------------ fixture

const OWN: &str = "DINKES";
const OTHER: &str = "DISHUB";
/// Complaints routed to OWN (plain, rahasia) and to OTHER (plain, rahasia).
const OWN_PLAIN: u64 = 1_000_001;
const OWN_RAHASIA: u64 = 1_000_002;
const OTHER_PLAIN: u64 = 1_000_003;
const OTHER_RAHASIA: u64 = 1_000_004;

struct Fx {
    _dir: tempfile::TempDir,
    api: Api,
    http: reqwest::Client,
    admin: String,
    own: String,
    other: String,
    viewer: String,
    revoked: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    Own,
    Other,
    Viewer,
    NoToken,
    Revoked,
}

const EVERYONE: [Who; 6] = [
    Who::Admin,
    Who::Own,
    Who::Other,
    Who::Viewer,
    Who::NoToken,
    Who::Revoked,
];

impl Fx {
    async fn new(max_body: usize) -> Fx {
        logs();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        seed(
            &store,
            vec![
                stored(complaint(OWN_PLAIN, false, Status::Proses), OWN),
                stored(complaint(OWN_RAHASIA, true, Status::Proses), OWN),
                stored(complaint(OTHER_PLAIN, false, Status::Proses), OTHER),
                stored(complaint(OTHER_RAHASIA, true, Status::Proses), OTHER),
            ],
        );
        store
            .save_run_report(&RunReport {
                job: "pull".into(),
                pulled: 4,
                new: 4,
                ..Default::default()
            })
            .unwrap();
        let admin = token(&store, "admin-bagor", "admin");
        let own = token(&store, "dinkes-staf", &format!("opd:{OWN}"));
        let other = token(&store, "dishub-staf", &format!("opd:{OTHER}"));
        let viewer = token(&store, "koordinator", "viewer");
        let revoked = token(&store, "mantan", "admin");
        assert!(store.revoke_token("mantan").unwrap());
        let state = AppState::with_list_ttl(store, opds(), max_body, Duration::ZERO);
        let api = start(state).await;
        Fx {
            _dir: dir,
            api,
            http: reqwest::Client::new(),
            admin,
            own,
            other,
            viewer,
            revoked,
        }
    }

    fn secret(&self, who: Who) -> Option<&str> {
        match who {
            Who::Admin => Some(&self.admin),
            Who::Own => Some(&self.own),
            Who::Other => Some(&self.other),
            Who::Viewer => Some(&self.viewer),
            Who::Revoked => Some(&self.revoked),
            Who::NoToken => None,
        }
    }

    async fn call(&self, who: Who, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut rb = self.http.request(method.clone(), self.api.url(path));
        if let Some(t) = self.secret(who) {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        let r = rb.send().await.unwrap();
        Resp::read(r, format!("{who:?} {method} {path}")).await
    }

    fn store(&self) -> &Store {
        self.api.state.store()
    }
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    json: Value,
    what: String,
}

impl Resp {
    async fn read(r: reqwest::Response, what: String) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{what}: answer is not JSON ({e}): {text}"));
        Resp {
            status,
            headers,
            json,
            what,
        }
    }

    fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}: {}", self.what, self.json);
        if status >= 400 {
            assert_json_error(&self.json, &self.what);
        }
        if status == 401 {
            let h = self
                .headers
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap());
            assert!(h.is_some_and(|h| h.starts_with("Bearer")), "{}", self.what);
        }
        self
    }
}

fn assert_json_error(v: &Value, what: &str) {
    let code = v["error"]["code"].as_str();
    let msg = v["error"]["message"].as_str();
    assert!(
        code.is_some_and(|c| !c.is_empty()),
        "{what}: no error code: {v}"
    );
    assert!(
        msg.is_some_and(|m| m.len() > 20),
        "{what}: no actionable message: {v}"
    );
}

/// The expected status of a request to an endpoint for a role: unauthenticated 401 first.
fn unauth(who: Who) -> Option<u16> {
    matches!(who, Who::NoToken | Who::Revoked).then_some(401)
}

fn ids(v: &Value) -> Vec<u64> {
    let mut out: Vec<u64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tracking_id"].as_u64().unwrap())
        .collect();
    out.sort();
    out
}

// ------------------------------------------------------------------ the matrix

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_over_http() {
    let fx = Fx::new(64 * 1024).await;

    // GET /complaints: each role sees what it may, never content or identity.
    for who in EVERYONE {
        let r = fx.call(who, Method::GET, "/api/v1/complaints", None).await;
        if let Some(s) = unauth(who) {
            r.expect(s);
            continue;
        }
        r.expect(200);
        let want = match who {
            Who::Own => vec![OWN_PLAIN, OWN_RAHASIA],
            Who::Other => vec![OTHER_PLAIN, OTHER_RAHASIA],
            _ => vec![OWN_PLAIN, OWN_RAHASIA, OTHER_PLAIN, OTHER_RAHASIA],
        };
        assert_eq!(ids(&r.json), want, "{who:?}");
        let text = r.json.to_string();
        assert!(
            !text.contains(REPORTER_EMAIL) && !text.contains(RAHASIA_MARK),
            "{who:?}"
        );
    }

    // GET /complaints/{id}: own OPD and admin get private fields; viewer redacted;
    // another OPD gets 404.
    for id in [OWN_PLAIN, OWN_RAHASIA] {
        let rahasia = id == OWN_RAHASIA;
        for who in EVERYONE {
            let r = fx
                .call(who, Method::GET, &format!("/api/v1/complaints/{id}"), None)
                .await;
            match who {
                Who::NoToken | Who::Revoked => {
                    r.expect(401);
                }
                Who::Other => {
                    r.expect(404);
                    assert!(!r.json.to_string().contains(REPORTER_EMAIL));
                }
                Who::Admin | Who::Own => {
                    r.expect(200);
                    let c = &r.json["complaint"];
                    assert_eq!(c["pelapor"]["email"], REPORTER_EMAIL, "{who:?} {id}");
                    assert_eq!(c["pelapor"]["telpon"], REPORTER_PHONE);
                    assert_eq!(c["pelapor"]["namadepan"], REPORTER_FIRST);
                    assert_eq!(r.json["redacted"], false);
                    assert_eq!(
                        c["isi"].as_str().unwrap().contains(RAHASIA_MARK),
                        rahasia,
                        "{who:?} {id}"
                    );
                    assert!(r.json["history"].is_array());
                }
                Who::Viewer => {
                    r.expect(200);
                    let c = &r.json["complaint"];
                    assert!(c["pelapor"].is_null(), "viewer sees no reporter: {c}");
                    assert_eq!(r.json["redacted"], true);
                    let text = r.json.to_string();
                    assert!(!text.contains(REPORTER_EMAIL) && !text.contains(REPORTER_LAST));
                    assert!(
                        !text.contains(RAHASIA_MARK),
                        "viewer sees no rahasia: {text}"
                    );
                    assert_eq!(c["status"], "proses");
                    if !rahasia {
                        assert!(c["isi"].as_str().unwrap().contains("jalan berlubang"));
                    }
                }
            }
        }
    }
    // The OTHER OPD's complaints are invisible to OWN (404), visible to OTHER.
    for id in [OTHER_PLAIN, OTHER_RAHASIA] {
        let path = format!("/api/v1/complaints/{id}");
        fx.call(Who::Own, Method::GET, &path, None)
            .await
            .expect(404);
        let r = fx.call(Who::Other, Method::GET, &path, None).await;
        r.expect(200);
        assert_eq!(r.json["complaint"]["pelapor"]["email"], REPORTER_EMAIL);
    }
    // A complaint that does not exist answers exactly like another OPD's.
    let missing = fx
        .call(Who::Own, Method::GET, "/api/v1/complaints/42", None)
        .await;
    missing.expect(404);
    let hidden = fx
        .call(
            Who::Own,
            Method::GET,
            &format!("/api/v1/complaints/{OTHER_PLAIN}"),
            None,
        )
        .await;
    assert_eq!(
        missing.json["error"]["code"], hidden.json["error"]["code"],
        "404s must not tell existing from missing"
    );

    // POST follow-ups, status changes and dispositions on both own complaints.
    for id in [OWN_PLAIN, OWN_RAHASIA] {
        let mut closed = false;
        for who in EVERYONE {
            let want_followup = unauth(who).unwrap_or(match who {
                Who::Admin | Who::Own => 202,
                Who::Other => 404,
                _ => 403,
            });
            let text = format!("Sudah ditinjau oleh petugas ({who:?}) untuk {id}");
            let r = fx
                .call(
                    who,
                    Method::POST,
                    &format!("/api/v1/complaints/{id}/followups"),
                    Some(json!({ "text": text })),
                )
                .await;
            r.expect(want_followup);
            if want_followup == 202 {
                assert_eq!(r.json["outbox"]["kind"], "tindaklanjut");
                assert_eq!(r.json["outbox"]["state"], "pending");
                assert_eq!(r.json["outbox"]["unit"], "2405");
            }

            let want_dispose = unauth(who).unwrap_or(match who {
                Who::Admin => 202,
                Who::Other => 404,
                _ => 403,
            });
            let r = fx
                .call(
                    who,
                    Method::POST,
                    &format!("/api/v1/complaints/{id}/disposition"),
                    Some(json!({ "opd": OWN, "note": "Mohon ditindaklanjuti" })),
                )
                .await;
            r.expect(want_dispose);
        }
        // The first permitted status change closes the complaint (as queued); a second
        // one no longer fits its status: 409, whoever asks.
        for who in EVERYONE {
            let want_followup = unauth(who).unwrap_or(match who {
                Who::Admin | Who::Own => 202,
                Who::Other => 404,
                _ => 403,
            });
            let want_status = match want_followup {
                202 if closed => 409,
                other => other,
            };
            let r = fx
                .call(
                    who,
                    Method::POST,
                    &format!("/api/v1/complaints/{id}/status"),
                    Some(json!({ "status": "selesai", "reason": "Jalan sudah diperbaiki" })),
                )
                .await;
            r.expect(want_status);
            closed |= want_status == 202;
        }
    }
    // OWN cannot write to OTHER's complaints (404), nor post as another OPD (403).
    for id in [OTHER_PLAIN, OTHER_RAHASIA] {
        fx.call(
            Who::Own,
            Method::POST,
            &format!("/api/v1/complaints/{id}/followups"),
            Some(json!({ "text": "Bukan milik kami" })),
        )
        .await
        .expect(404);
    }
    fx.call(
        Who::Own,
        Method::POST,
        &format!("/api/v1/complaints/{OWN_PLAIN}/followups"),
        Some(json!({ "text": "Menyamar", "opd": OTHER })),
    )
    .await
    .expect(403);

    // Every 202 left exactly one outbox entry; nothing for refused requests.
    let entries = fx.store().outbox_all().unwrap();
    // Per own complaint: 2 follow-ups (admin, own), 1 status change, 1 disposition.
    assert_eq!(entries.len(), 8, "{entries:#?}");
    assert!(
        entries
            .iter()
            .all(|e| e.tracking_id == Some(OWN_PLAIN) || e.tracking_id == Some(OWN_RAHASIA))
    );
    let own_followup = entries
        .iter()
        .find(|e| e.requested_by == "dinkes-staf" && e.request.action.kind() == "tindaklanjut")
        .expect("the OPD's follow-up is queued");
    assert_eq!(own_followup.opd, OWN);
    assert_eq!(own_followup.state, OutboxState::Pending);
    match &own_followup.request.action {
        WriteAction::TindakLanjut { unit, isi, .. } => {
            assert_eq!(unit, "2405");
            assert!(isi.contains("Own"));
        }
        other => panic!("{other:?}"),
    }

    // GET /outbox: text only for those who may read the complaint's private parts.
    let rahasia_seq = entries
        .iter()
        .find(|e| e.tracking_id == Some(OWN_RAHASIA))
        .unwrap()
        .seq;
    for who in EVERYONE {
        let r = fx.call(who, Method::GET, "/api/v1/outbox", None).await;
        if let Some(s) = unauth(who) {
            r.expect(s);
            continue;
        }
        r.expect(200);
        let items = r.json["items"].as_array().unwrap();
        let n = match who {
            Who::Other => 0,
            _ => 8,
        };
        assert_eq!(items.len(), n, "{who:?}");
        let with_text = items.iter().filter(|i| i["text"].is_string()).count();
        assert_eq!(with_text, if who == Who::Viewer { 0 } else { n }, "{who:?}");
    }
    let held = fx
        .call(Who::Admin, Method::GET, "/api/v1/outbox?held=true", None)
        .await;
    held.expect(200);
    assert_eq!(held.json["items"].as_array().unwrap().len(), 0);

    // Put the rahasia complaint's first entry on hold, as the push stage would.
    let mut e = fx.store().outbox_entry(rahasia_seq).unwrap().unwrap();
    e.state = OutboxState::Held {
        reason: "STATUS_CONFLICT: status sudah Selesai".into(),
        upstream_status: Some("Selesai".into()),
    };
    fx.store().update_entry(&e).unwrap();
    let held = fx
        .call(Who::Own, Method::GET, "/api/v1/outbox?held=true", None)
        .await;
    held.expect(200);
    assert_eq!(held.json["items"][0]["seq"], rahasia_seq);
    assert_eq!(held.json["items"][0]["upstream_status"], "Selesai");

    // POST /outbox/{seq}/retry
    for who in EVERYONE {
        let want = unauth(who).unwrap_or(match who {
            Who::Admin | Who::Own => 200,
            Who::Other => 404,
            _ => 403,
        });
        let r = fx
            .call(
                who,
                Method::POST,
                &format!("/api/v1/outbox/{rahasia_seq}/retry"),
                None,
            )
            .await;
        r.expect(want);
        if want == 200 {
            assert_eq!(r.json["outbox"]["state"], "pending");
        }
    }
    assert_eq!(
        fx.store().outbox_entry(rahasia_seq).unwrap().unwrap().state,
        OutboxState::Pending
    );

    // POST /outbox/{seq}/discard: refused ones change nothing; a discard is recorded.
    let own_seqs: Vec<u64> = entries
        .iter()
        .filter(|e| e.tracking_id == Some(OWN_PLAIN))
        .map(|e| e.seq)
        .collect();
    for who in [Who::NoToken, Who::Revoked, Who::Viewer, Who::Other] {
        let want = unauth(who).unwrap_or(if who == Who::Other { 404 } else { 403 });
        fx.call(
            who,
            Method::POST,
            &format!("/api/v1/outbox/{}/discard", own_seqs[0]),
            Some(json!({ "reason": "Tidak perlu" })),
        )
        .await
        .expect(want);
    }
    for (who, seq) in [(Who::Admin, own_seqs[0]), (Who::Own, own_seqs[1])] {
        let r = fx
            .call(
                who,
                Method::POST,
                &format!("/api/v1/outbox/{seq}/discard"),
                Some(json!({ "reason": "Dikirim ganda oleh petugas" })),
            )
            .await;
        r.expect(200);
        assert_eq!(r.json["outbox"]["state"], "discarded");
    }
    // Discarding twice is a conflict; a discarded entry cannot be retried.
    fx.call(
        Who::Admin,
        Method::POST,
        &format!("/api/v1/outbox/{}/discard", own_seqs[0]),
        Some(json!({ "reason": "lagi" })),
    )
    .await
    .expect(409);
    fx.call(
        Who::Admin,
        Method::POST,
        &format!("/api/v1/outbox/{}/retry", own_seqs[0]),
        None,
    )
    .await
    .expect(409);
    let history = fx.store().events(OWN_PLAIN).unwrap();
    assert!(
        history.iter().any(|ev| matches!(&ev.kind,
            sp4n::store::EventKind::OutboxDiscarded { by, .. } if by == "dinkes-staf")),
        "the discard is in the complaint's history"
    );
    // The history shows through the API.
    let r = fx
        .call(
            Who::Own,
            Method::GET,
            &format!("/api/v1/complaints/{OWN_PLAIN}"),
            None,
        )
        .await;
    r.expect(200);
    assert!(r.json["history"].to_string().contains("outbox_discarded"));

    // GET /runs: every authenticated role.
    for who in EVERYONE {
        let r = fx.call(who, Method::GET, "/api/v1/runs", None).await;
        if let Some(s) = unauth(who) {
            r.expect(s);
            continue;
        }
        r.expect(200);
        assert_eq!(r.json["items"][0]["job"], "pull");
    }

    // The captured logs have a line per request, and none of the secrets.
    let text = log_text();
    assert!(
        text.contains("/api/v1/complaints/{id}"),
        "route templates are logged"
    );
    assert!(text.contains("role=opd:DINKES"), "roles are logged");
    for secret in [&fx.admin, &fx.own, &fx.other, &fx.viewer, &fx.revoked] {
        assert!(!text.contains(secret.as_str()), "a token reached the logs");
        assert!(
            !text.contains(&secret[5..20]),
            "part of a token reached the logs"
        );
    }
    for private in [
        REPORTER_FIRST,
        REPORTER_LAST,
        REPORTER_EMAIL,
        REPORTER_PHONE,
        RAHASIA_MARK,
    ] {
        assert!(!text.contains(private), "'{private}' reached the logs");
    }
    fx.api.shutdown().await.unwrap();
}

// ------------------------------------------------------------------ errors and limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_and_bodies_are_limited() {
    let fx = Fx::new(16 * 1024).await;
    let path = format!("/api/v1/complaints/{OWN_PLAIN}/followups");

    // Over the body limit: 413 JSON, nothing queued.
    let big = "a".repeat(20 * 1024);
    let r = fx
        .call(Who::Own, Method::POST, &path, Some(json!({ "text": big })))
        .await;
    r.expect(413);
    assert_eq!(r.json["error"]["code"], "payload_too_large");
    // Too long for the platform but within the limit: 422 with the count.
    let long = "b".repeat(10_001);
    let r = fx
        .call(Who::Own, Method::POST, &path, Some(json!({ "text": long })))
        .await;
    r.expect(422);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("10001")
    );
    // Empty text, missing field, broken JSON, wrong content type.
    fx.call(Who::Own, Method::POST, &path, Some(json!({ "text": "  " })))
        .await
        .expect(422);
    fx.call(Who::Own, Method::POST, &path, Some(json!({ "isi": "x" })))
        .await
        .expect(400);
    let r = fx
        .http
        .post(fx.api.url(&path))
        .bearer_auth(&fx.own)
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .unwrap();
    Resp::read(r, "broken json".into()).await.expect(400);
    let r = fx
        .http
        .post(fx.api.url(&path))
        .bearer_auth(&fx.own)
        .body("text=hello")
        .send()
        .await
        .unwrap();
    Resp::read(r, "form body".into()).await.expect(415);
    // A status the contract does not allow from the current one: a conflict (409).
    let r = fx
        .call(
            Who::Own,
            Method::POST,
            &format!("/api/v1/complaints/{OWN_PLAIN}/status"),
            Some(json!({ "status": "ditunda", "reason": "Menunggu anggaran" })),
        )
        .await;
    r.expect(409);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only from")
    );
    fx.call(
        Who::Own,
        Method::POST,
        &format!("/api/v1/complaints/{OWN_PLAIN}/status"),
        Some(json!({ "status": "terbang", "reason": "x" })),
    )
    .await
    .expect(422);
    // Disposition to an OPD that does not exist.
    let r = fx
        .call(
            Who::Admin,
            Method::POST,
            &format!("/api/v1/complaints/{OWN_PLAIN}/disposition"),
            Some(json!({ "opd": "DINASFIKTIF" })),
        )
        .await;
    r.expect(422);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("opd.toml")
    );
    assert!(
        fx.store().outbox_all().unwrap().is_empty(),
        "nothing refused was queued"
    );

    // Unknown routes, wrong methods, bad ids and bad query parameters.
    fx.call(Who::Admin, Method::GET, "/api/v1/nothing", None)
        .await
        .expect(404);
    fx.call(Who::NoToken, Method::GET, "/nothing", None)
        .await
        .expect(404);
    let r = fx
        .call(Who::Admin, Method::DELETE, "/api/v1/complaints", None)
        .await;
    r.expect(405);
    fx.call(Who::Admin, Method::GET, "/api/v1/complaints/abc", None)
        .await
        .expect(400);
    fx.call(
        Who::Admin,
        Method::GET,
        "/api/v1/complaints?status=zzz",
        None,
    )
    .await
    .expect(400);
    fx.call(Who::Admin, Method::GET, "/api/v1/complaints?page=x", None)
        .await
        .expect(400);
    fx.call(Who::Admin, Method::POST, "/api/v1/outbox/999/retry", None)
        .await
        .expect(404);
    // A malformed Authorization header is a 401 like no token.
    let r = fx
        .http
        .get(fx.api.url("/api/v1/complaints"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    Resp::read(r, "basic auth".into()).await.expect(401);
    fx.api.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut items = Vec::new();
    for i in 0..30u64 {
        let (opd, st) = match i % 3 {
            0 => (OWN, Status::Proses),
            1 => (OWN, Status::Selesai),
            _ => (OTHER, Status::Proses),
        };
        items.push(stored(complaint(2_000_000 + i, false, st), opd));
    }
    seed(&store, items);
    let admin = token(&store, "admin", "admin");
    let own = token(&store, "own", &format!("opd:{OWN}"));
    let api = start(AppState::with_list_ttl(
        store,
        opds(),
        65536,
        Duration::ZERO,
    ))
    .await;
    let http = reqwest::Client::new();
    let get = |tok: String, q: &str| {
        let url = api.url(&format!("/api/v1/complaints{q}"));
        let http = http.clone();
        async move {
            let r = http.get(url).bearer_auth(tok).send().await.unwrap();
            assert_eq!(r.status(), 200);
            serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).unwrap()
        }
    };
    let v = get(admin.clone(), "?opd=dinkes&status=proses").await;
    assert_eq!(v["total"], 10);
    let v = get(admin.clone(), "?per_page=7&page=5").await;
    assert_eq!(
        (v["total"].as_u64(), v["items"].as_array().unwrap().len()),
        (Some(30), 2)
    );
    let v = get(admin.clone(), "?status=Selesai").await;
    assert_eq!(v["total"], 10);
    // An OPD filtering on another OPD sees nothing, not the other's list.
    let v = get(own.clone(), &format!("?opd={OTHER}")).await;
    assert_eq!(v["total"], 0);
    let v = get(own.clone(), "").await;
    assert_eq!(v["total"], 20);
    api.shutdown().await.unwrap();
}

// ------------------------------------------------------------------ hostile input (issue 14)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_before_anything_is_queued() {
    let fx = Fx::new(64 * 1024).await;
    let path = format!("/api/v1/complaints/{OWN_PLAIN}/followups");
    for text in [
        "Sudah\u{0}ditambal.",
        "Escape \u{1b}[31m merah",
        "Form\u{c}feed",
    ] {
        let r = fx
            .call(Who::Own, Method::POST, &path, Some(json!({ "text": text })))
            .await;
        r.expect(422);
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{}",
            r.json
        );
    }
    assert!(fx.store().outbox_unfinished().unwrap().is_empty());
    // Line breaks and tabs are text, not control characters to refuse.
    fx.call(
        Who::Own,
        Method::POST,
        &path,
        Some(json!({ "text": "Baris satu.\r\n\tBaris dua." })),
    )
    .await
    .expect(202);
}

/// Sends `request` as is and reads the answer to the end: its status and body.
async fn raw_request(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_414_and_431_carry_the_json_error_body() {
    let fx = Fx::new(64 * 1024).await;
    // A path longer than the HTTP layer takes (and than clients build): 414, over a raw
    // socket.
    let (status, body) = raw_request(
        fx.api.addr,
        &format!(
            "GET /api/v1/complaints?opd={} HTTP/1.1\r\nHost: x\r\n\r\n",
            "A".repeat(70_000)
        ),
    )
    .await;
    assert_eq!(status, 414, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_json_error(&v, "414");
    assert_eq!(v["error"]["code"], "uri_too_long");
    // More headers than the HTTP layer takes: 431.
    let mut rb = fx.http.get(fx.api.url("/api/v1/complaints"));
    for i in 0..150 {
        rb = rb.header(format!("x-padding-{i}"), "x");
    }
    let r = Resp::read(rb.send().await.unwrap(), "431".into()).await;
    r.expect(431);
    assert_eq!(r.json["error"]["code"], "headers_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_page_outside_its_range_is_refused_not_clamped() {
    let fx = Fx::new(64 * 1024).await;
    for q in ["per_page=0", "per_page=100000", "per_page=501", "page=0"] {
        let r = fx
            .call(
                Who::Admin,
                Method::GET,
                &format!("/api/v1/complaints?{q}"),
                None,
            )
            .await;
        r.expect(400);
    }
    let r = fx
        .call(
            Who::Admin,
            Method::GET,
            "/api/v1/complaints?per_page=500",
            None,
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["per_page"], 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discard_reason_is_hidden_from_viewers() {
    let fx = Fx::new(64 * 1024).await;
    let r = fx
        .call(
            Who::Own,
            Method::POST,
            &format!("/api/v1/complaints/{OWN_PLAIN}/followups"),
            Some(json!({ "text": "Sudah ditambal." })),
        )
        .await;
    r.expect(202);
    let seq = r.json["outbox"]["seq"].as_u64().unwrap();
    let reason = format!("Salah kirim, pelapor {REPORTER_FIRST} minta dibatalkan");
    fx.call(
        Who::Admin,
        Method::POST,
        &format!("/api/v1/outbox/{seq}/discard"),
        Some(json!({ "reason": reason })),
    )
    .await
    .expect(200);
    let path = format!("/api/v1/complaints/{OWN_PLAIN}");
    let admin = fx.call(Who::Admin, Method::GET, &path, None).await;
    admin.expect(200);
    assert!(
        admin.json.to_string().contains("Salah kirim"),
        "{}",
        admin.json
    );
    let viewer = fx.call(Who::Viewer, Method::GET, &path, None).await;
    viewer.expect(200);
    assert_eq!(viewer.json["outbox"][0]["state"], "discarded");
    assert!(
        !viewer.json.to_string().contains("Salah kirim"),
        "{}",
        viewer.json
    );
}
