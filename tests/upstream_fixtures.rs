//! Every recorded answer and every quirk in `fixtures/upstream/`, twice: through the parser
//! (insta snapshots of the typed result or the rendered error), and through the client's
//! classification, served byte for byte by a small real loopback HTTP server with the
//! status and headers the quirk comes with, asserting the error kind and action exactly as
//! the spec's table says.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sp4n::config::{PathsConfig, UpstreamConfig};
use sp4n::model::{Complaint, StatusLabels, StreamKey};
use sp4n::upstream::xml::{self, Outcome, SetAside};
use sp4n::upstream::{Action, Client, ErrorCode, Token, UpstreamError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/fixtures/upstream/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum View<T> {
    Ok(T),
    ErrorEnvelope { kode: String, pesan: String },
    Rejected(String),
}

#[derive(Serialize)]
struct PageView {
    items: Vec<Complaint>,
    set_aside: Vec<SetAside>,
    next: Option<StreamKey>,
}

fn view<T, U>(r: Result<Outcome<T>, xml::XmlError>, f: impl FnOnce(T) -> U) -> View<U> {
    match r {
        Ok(Outcome::Ok(t)) => View::Ok(f(t)),
        Ok(Outcome::Error(e)) => View::ErrorEnvelope {
            kode: e.kode,
            pesan: e.pesan,
        },
        Err(e) => View::Rejected(e.to_string()),
    }
}

fn page_view(bytes: &[u8]) -> View<PageView> {
    let labels = StatusLabels::default();
    match xml::as_utf8(bytes) {
        Err(e) => View::Rejected(e.to_string()),
        Ok(text) => view(xml::parse_stream_page(text, &labels), |p| PageView {
            items: p.items.into_iter().map(|r| r.complaint).collect(),
            set_aside: p.set_aside,
            next: p.next,
        }),
    }
}

#[test]
fn stream_pages_and_quirks_through_the_parser() {
    for name in [
        "getstream_page.xml",
        "getstream_last_page.xml",
        "item_without_trackingid.xml",
        "item_bad_timestamp.xml",
        "legacy_timestamps.xml",
        "unknown_extra_elements.xml",
        "truncated.xml",
        "billion_laughs.xml",
        "invalid_utf8.xml",
        "maintenance.html",
        "proxy_error.html",
        "error_token_invalid.xml",
        "error_internal.xml",
        "error_maintenance.xml",
        "error_rate_limited.xml",
        "error_with_http_200.xml",
    ] {
        insta::assert_json_snapshot!(name, page_view(&fixture(name)));
    }
}

#[test]
fn quirks_parse_as_the_spec_says() {
    // Checked in code as well as in the snapshots, so a careless snapshot update fails.
    let View::Ok(p) = page_view(&fixture("item_without_trackingid.xml")) else {
        panic!("page must be usable")
    };
    assert_eq!(p.items.len(), 2);
    assert_eq!(p.set_aside.len(), 1);
    assert!(p.set_aside[0].reason.contains("trackingid"));
    assert!(p.set_aside[0].raw.starts_with("<laporan rahasia="));
    let View::Ok(p) = page_view(&fixture("legacy_timestamps.xml")) else {
        panic!("legacy page must parse")
    };
    assert_eq!(
        p.items[0].complaint_diperbarui(),
        "2026-11-21T03:00:00+00:00"
    );
    assert_eq!(
        p.items[1].complaint_diperbarui(),
        "2026-11-21T03:00:00+00:00"
    );
    assert!(
        matches!(page_view(&fixture("billion_laughs.xml")), View::Rejected(m) if m.contains("DOCTYPE"))
    );
    assert!(
        matches!(page_view(&fixture("invalid_utf8.xml")), View::Rejected(m) if m.contains("UTF-8"))
    );
    assert!(
        matches!(page_view(&fixture("truncated.xml")), View::Rejected(m) if m.contains("truncated"))
    );
}

trait Diperbarui {
    fn complaint_diperbarui(&self) -> String;
}

impl Diperbarui for Complaint {
    fn complaint_diperbarui(&self) -> String {
        self.diperbarui.to_rfc3339()
    }
}

#[test]
fn laporan_and_write_answers_through_the_parser() {
    let labels = StatusLabels::default();
    for name in [
        "getlaporan.xml",
        "error_forbidden.xml",
        "error_not_found.xml",
    ] {
        let text = String::from_utf8(fixture(name)).unwrap();
        let v = view(xml::parse_laporan_answer(&text, &labels), |r| {
            r.map(|c| c.complaint)
        });
        insta::assert_json_snapshot!(name, v);
    }
    for name in [
        "adddisposisi.xml",
        "addtindaklanjut.xml",
        "addtindaklanjut_duplikat.xml",
        "setstatus.xml",
        "addstream.xml",
        "error_ref_conflict.xml",
        "error_status_conflict.xml",
        "error_validation.xml",
    ] {
        let text = String::from_utf8(fixture(name)).unwrap();
        insta::assert_json_snapshot!(name, view(xml::parse_write_answer(&text), |a| a));
    }
}

// ---------------------------------------------------------------------------------------
// Classification through the client, from a real loopback server.
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct Canned {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    retry_after: Option<&'static str>,
    hang: bool,
}

type Table = Arc<HashMap<String, Canned>>;

async fn serve_canned(State(t): State<Table>, Path(name): Path<String>) -> Response {
    let Some(c) = t.get(&name).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if c.hang {
        std::future::pending::<()>().await;
    }
    let mut r = (StatusCode::from_u16(c.status).unwrap(), c.body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(c.content_type),
    );
    if let Some(ra) = c.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(ra));
    }
    r
}

const XML: &str = "text/xml; charset=UTF-8";
const JSON: &str = "application/json; charset=UTF-8";
const HTML: &str = "text/html";

fn canned(status: u16, content_type: &'static str, file: &str) -> Canned {
    Canned {
        status,
        content_type,
        body: fixture(file),
        retry_after: None,
        hang: false,
    }
}

async fn server(table: HashMap<String, Canned>) -> String {
    let app = Router::new()
        .route("/{name}", axum::routing::post(serve_canned))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(Arc::new(table));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn client_for(base: &str, name: &str, max_bytes: usize) -> Client {
    let p = format!("/{name}");
    let cfg = UpstreamConfig {
        base_url: Some(base.to_string()),
        connect_timeout_seconds: 2,
        read_timeout_seconds: 1,
        total_timeout_seconds: 1,
        max_response_bytes: max_bytes,
        paths: PathsConfig {
            gettopics: p.clone(),
            getunits: p.clone(),
            getstream: p.clone(),
            getlaporan: p.clone(),
            adddisposisi: p.clone(),
            addtindaklanjut: p.clone(),
            setstatus: p.clone(),
            addstream: p,
        },
        ..UpstreamConfig::default()
    };
    Client::new(&cfg, Token::new("{3F2504E0-4F89-41D3-9A0C-0305E82C3301}")).unwrap()
}

fn key() -> StreamKey {
    StreamKey::since(sp4n::model::parse_timestamp("2026-11-01T00:00:00+07:00").unwrap())
}

fn secs(s: u64) -> Action {
    Action::RetryLater {
        after: Some(Duration::from_secs(s)),
    }
}

const LATER: Action = Action::RetryLater { after: None };

#[tokio::test]
async fn every_quirk_is_classified_as_the_spec_says() {
    let mut t = HashMap::new();
    let mut add = |name: &str, c: Canned| {
        t.insert(name.to_string(), c);
    };
    add("token", canned(401, XML, "error_token_invalid.xml"));
    add("token_json", canned(401, JSON, "error_token_invalid.json"));
    add("forbidden", canned(403, XML, "error_forbidden.xml"));
    add("not_found", canned(404, XML, "error_not_found.xml"));
    add(
        "status_conflict",
        canned(409, XML, "error_status_conflict.xml"),
    );
    add("ref_conflict", canned(409, XML, "error_ref_conflict.xml"));
    add("validation", canned(422, XML, "error_validation.xml"));
    let mut c = canned(429, XML, "error_rate_limited.xml");
    c.retry_after = Some("30");
    add("rate_limited", c);
    let mut c = canned(503, XML, "error_maintenance.xml");
    c.retry_after = Some("120");
    add("maintenance", c);
    add(
        "maintenance_no_header",
        canned(503, XML, "error_maintenance.xml"),
    );
    add("internal", canned(500, XML, "error_internal.xml"));
    add("error_200", canned(200, XML, "error_with_http_200.xml"));
    add("html_200", canned(200, HTML, "maintenance.html"));
    add("html_503", canned(503, HTML, "maintenance.html"));
    add("html_as_xml", canned(200, XML, "proxy_error.html"));
    add("html_502", canned(502, HTML, "proxy_error.html"));
    add("truncated", canned(200, XML, "truncated.xml"));
    add("laughs", canned(200, XML, "billion_laughs.xml"));
    add("utf8", canned(200, XML, "invalid_utf8.xml"));
    let mut c = canned(200, XML, "getstream_page.xml");
    c.hang = true;
    add("hang", c);
    // A page far over the cap once decoded, though small on the wire (gzip).
    let page = String::from_utf8(fixture("getstream_page.xml")).unwrap();
    let (head, rest) = page.split_at(page.find("<laporan ").unwrap());
    let item = &rest[..rest.find("</laporan>").unwrap() + "</laporan>".len()];
    let mut big = head.to_string();
    while big.len() < 2 * 1024 * 1024 {
        big.push_str(item);
    }
    big.push_str("</lapor>");
    add(
        "big",
        Canned {
            status: 200,
            content_type: XML,
            body: big.into_bytes(),
            retry_after: None,
            hang: false,
        },
    );
    let base = server(t).await;

    // (endpoint name, kind, action, code)
    let cases: &[(&str, &str, Action, Option<ErrorCode>)] = &[
        (
            "token",
            "token_invalid",
            Action::StopAndAlert,
            Some(ErrorCode::TokenInvalid),
        ),
        (
            "forbidden",
            "forbidden",
            Action::HoldForPerson,
            Some(ErrorCode::Forbidden),
        ),
        (
            "not_found",
            "not_found",
            Action::HoldForPerson,
            Some(ErrorCode::NotFound),
        ),
        (
            "status_conflict",
            "status_conflict",
            Action::HoldForPerson,
            Some(ErrorCode::StatusConflict),
        ),
        (
            "ref_conflict",
            "ref_conflict",
            Action::HoldForPerson,
            Some(ErrorCode::RefConflict),
        ),
        (
            "validation",
            "validation",
            Action::HoldForPerson,
            Some(ErrorCode::Validation),
        ),
        (
            "rate_limited",
            "rate_limited",
            secs(30),
            Some(ErrorCode::RateLimited),
        ),
        (
            "maintenance",
            "maintenance",
            secs(120),
            Some(ErrorCode::Maintenance),
        ),
        (
            "maintenance_no_header",
            "maintenance",
            LATER,
            Some(ErrorCode::Maintenance),
        ),
        ("internal", "internal", LATER, Some(ErrorCode::Internal)),
        (
            "error_200",
            "maintenance",
            LATER,
            Some(ErrorCode::Maintenance),
        ),
        ("html_200", "html", LATER, None),
        ("html_503", "html", LATER, None),
        ("html_as_xml", "html", LATER, None),
        ("html_502", "html", LATER, None),
        ("truncated", "malformed", LATER, None),
        ("laughs", "malformed", LATER, None),
        ("utf8", "malformed", LATER, None),
        ("hang", "timeout", LATER, None),
    ];
    for (name, kind, action, code) in cases {
        let client = client_for(&base, name, 8 * 1024 * 1024);
        let e = client.get_stream(&key(), 100).await.unwrap_err();
        assert_eq!(e.kind(), *kind, "{name}: {e:?}");
        assert_eq!(e.action(), *action, "{name}: {e:?}");
        assert_eq!(e.code(), code.as_ref(), "{name}");
        if *name == "error_200" {
            assert!(matches!(e, UpstreamError::Rejected { http: 200, .. }));
        }
        if let UpstreamError::Malformed { raw, .. } = &e {
            assert!(!raw.is_empty(), "{name}: raw bytes kept for inspection");
        }
    }
    // The data API: JSON envelope and HTML.
    let e = client_for(&base, "token_json", 1 << 20)
        .get_topics()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&ErrorCode::TokenInvalid));
    assert_eq!(e.action(), Action::StopAndAlert);
    let e = client_for(&base, "html_503", 1 << 20)
        .get_units()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "html");
    // Writes: a lost answer is an unknown outcome; a refusal is not.
    let w = sp4n::upstream::WriteRequest {
        ref_: "r1".into(),
        action: sp4n::upstream::WriteAction::SetStatus {
            tracking_id: 1_916_449,
            nilai: sp4n::model::Status::Selesai,
            alasan: "x".into(),
        },
    };
    let e = client_for(&base, "hang", 1 << 20)
        .write(&w)
        .await
        .unwrap_err();
    assert!(e.outcome_unknown());
    let e = client_for(&base, "status_conflict", 1 << 20)
        .write(&w)
        .await
        .unwrap_err();
    assert!(!e.outcome_unknown());
    assert_eq!(e.code(), Some(&ErrorCode::StatusConflict));
    // The cap counts decoded bytes.
    let e = client_for(&base, "big", 256 * 1024)
        .get_stream(&key(), 100)
        .await
        .unwrap_err();
    assert!(
        matches!(e, UpstreamError::TooLarge { limit: 262_144 }),
        "{e:?}"
    );
}

#[tokio::test]
async fn data_api_fixtures_through_the_client() {
    let mut t = HashMap::new();
    for f in [
        "gettopics.json",
        "gettopics_numeric_ids.json",
        "gettopics_mixed_ids.json",
        "getunits.json",
        "getunits_numeric_ids.json",
    ] {
        t.insert(f.replace(".json", ""), canned(200, JSON, f));
    }
    let base = server(t).await;
    let topics = client_for(&base, "gettopics", 1 << 20)
        .get_topics()
        .await
        .unwrap();
    let numeric = client_for(&base, "gettopics_numeric_ids", 1 << 20)
        .get_topics()
        .await
        .unwrap();
    assert_eq!(topics, numeric, "ids as numbers or strings read the same");
    insta::assert_json_snapshot!("gettopics", topics);
    let mixed = client_for(&base, "gettopics_mixed_ids", 1 << 20)
        .get_topics()
        .await
        .unwrap();
    insta::assert_json_snapshot!("gettopics_mixed_ids", mixed);
    let units = client_for(&base, "getunits", 1 << 20)
        .get_units()
        .await
        .unwrap();
    let numeric = client_for(&base, "getunits_numeric_ids", 1 << 20)
        .get_units()
        .await
        .unwrap();
    assert_eq!(units, numeric);
    insta::assert_json_snapshot!("getunits", units);
}

#[tokio::test]
async fn recorded_endpoints_through_the_client() {
    let mut t = HashMap::new();
    for f in [
        "getstream_page.xml",
        "getlaporan.xml",
        "adddisposisi.xml",
        "addtindaklanjut_duplikat.xml",
    ] {
        t.insert(f.replace(".xml", ""), canned(200, XML, f));
    }
    let base = server(t).await;
    let page = client_for(&base, "getstream_page", 1 << 20)
        .get_stream(&key(), 3)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.next.is_some());
    let one = client_for(&base, "getlaporan", 1 << 20)
        .get_laporan(1)
        .await
        .unwrap();
    assert!(!one.complaint.thread.is_empty());
    let w = sp4n::upstream::WriteRequest {
        ref_: "r1".into(),
        action: sp4n::upstream::WriteAction::Disposisi {
            tracking_id: one.complaint.tracking_id,
            unit: "2406".into(),
            catatan: "x".into(),
        },
    };
    let a = client_for(&base, "adddisposisi", 1 << 20)
        .write(&w)
        .await
        .unwrap();
    assert!(!a.duplikat);
    let d = client_for(&base, "addtindaklanjut_duplikat", 1 << 20)
        .write(&w)
        .await
        .unwrap();
    assert!(d.duplikat);
}
