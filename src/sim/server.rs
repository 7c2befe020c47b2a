//! The platform's two APIs over HTTP: the JSON data API (`gettopics`, `getunits`) and the
//! XML stream API (`getstream`, `getlaporan` and the four writes), with the faults applied
//! request by request, served over TLS from a CA generated at start (rcgen, aws-lc-rs)
//! or, for loopback debugging, plain HTTP. Every connection is its own task, so a hanging
//! answer never blocks another client; shutdown ends them all.

use super::SimError;
use super::clock::Clock;
use super::faults::{FaultKind, FaultState, MAINTENANCE_HTML};
use super::world::{DEFAULT_BATAS, Refusal, World};
use crate::model::StatusLabels;
use crate::upstream::ErrorCode;
use crate::upstream::xml::{self, Request};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_http::compression::CompressionLayer;

/// The state every request handler shares.
pub struct Shared {
    pub world: Mutex<World>,
    pub faults: Mutex<FaultState>,
    pub clock: Clock,
    pub token: String,
    pub labels: StatusLabels,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn fault_state(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the world's own behaviour up to the clock's now.
    pub fn tick(&self) -> chrono::DateTime<chrono::Utc> {
        let now = self.clock.now();
        self.world().tick(now);
        now
    }

    /// Waits until the simulator shuts down (a hanging answer).
    async fn hang(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// The API router with gzip compression for clients that accept it.
pub fn router(shared: Arc<Shared>) -> Router {
    let paths = [
        "/api/services/f01/gettopics",
        "/api/services/f01/getunits",
        "/api/stream/getstream",
        "/api/stream/getlaporan",
        "/api/stream/adddisposisi",
        "/api/stream/addtindaklanjut",
        "/api/stream/setstatus",
        "/api/stream/addstream",
    ];
    let mut r = Router::new();
    for p in paths {
        r = r.route(p, post(api));
    }
    r.layer(CompressionLayer::new()).with_state(shared)
}

const XML_TYPE: &str = "text/xml; charset=UTF-8";
const JSON_TYPE: &str = "application/json; charset=UTF-8";

/// An answer whose connection breaks after half of its body: the client sees a
/// transport error after the write was applied.
fn dropped_mid_answer(status: u16, content_type: &str, text: String) -> Response {
    let mut cut = text.len() / 2;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let half = axum::body::Bytes::copy_from_slice(&text.as_bytes()[..cut]);
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated drop",
        )),
    ];
    let mut resp = respond(status, content_type, String::new(), None);
    *resp.body_mut() = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp
}

fn respond(status: u16, content_type: &str, body: String, retry_after: Option<u64>) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("text/plain")),
    );
    if let Some(s) = retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

fn envelope(data_api: bool, code: &ErrorCode, pesan: &str) -> (String, &'static str) {
    if data_api {
        let v = serde_json::json!({"status": "error", "kode": code.as_str(), "pesan": pesan});
        (v.to_string(), JSON_TYPE)
    } else {
        (xml::write_error_envelope(code.as_str(), pesan), XML_TYPE)
    }
}

fn refusal(data_api: bool, r: &Refusal) -> (u16, String, &'static str) {
    let (body, ct) = envelope(data_api, &r.code, &r.pesan);
    (r.code.http_status(), body, ct)
}

async fn api(State(s): State<Arc<Shared>>, uri: Uri, body: Bytes) -> Response {
    let endpoint = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let data_api = matches!(endpoint.as_str(), "gettopics" | "getunits");
    let is_write = matches!(
        endpoint.as_str(),
        "adddisposisi" | "addtindaklanjut" | "setstatus" | "addstream"
    );
    let (fault, retry_after, html_status) = {
        let mut f = s.fault_state();
        let fault = f.next_request(&endpoint, is_write);
        let html_status = (fault == Some(FaultKind::Html)).then(|| f.next_html_status());
        (fault, f.retry_after(), html_status)
    };
    let early = |code: ErrorCode, http: u16, pesan: &str, ra: Option<u64>| {
        let (b, ct) = envelope(data_api, &code, pesan);
        respond(http, ct, b, ra)
    };
    match fault {
        Some(FaultKind::Hang) => {
            s.hang().await;
            return early(ErrorCode::Maintenance, 503, "shutting down", None);
        }
        Some(FaultKind::Internal) => {
            return early(
                ErrorCode::Internal,
                500,
                "Terjadi kesalahan pada server",
                None,
            );
        }
        Some(FaultKind::Maintenance) => {
            return early(
                ErrorCode::Maintenance,
                503,
                "Sistem sedang dalam pemeliharaan",
                Some(retry_after),
            );
        }
        Some(FaultKind::RateLimited) => {
            return early(
                ErrorCode::RateLimited,
                429,
                "Terlalu banyak permintaan",
                Some(retry_after),
            );
        }
        Some(FaultKind::Html) => {
            return respond(
                html_status.unwrap_or(200),
                "text/html; charset=UTF-8",
                MAINTENANCE_HTML.to_string(),
                None,
            );
        }
        Some(FaultKind::Error200) => {
            return early(
                ErrorCode::Maintenance,
                200,
                "Sistem sedang dalam pemeliharaan",
                None,
            );
        }
        _ => {}
    }
    let now = s.tick();
    let (status, mut text, ct) = if data_api {
        data_answer(&s, &endpoint, &body)
    } else {
        stream_answer(&s, &endpoint, &body, now)
    };
    if fault == Some(FaultKind::ApplyThenHang) {
        s.hang().await;
    }
    if fault == Some(FaultKind::ApplyThenDrop) {
        return dropped_mid_answer(status, ct, text);
    }
    if fault == Some(FaultKind::Truncate) {
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    respond(status, ct, text, None)
}

fn data_answer(s: &Shared, endpoint: &str, body: &[u8]) -> (u16, String, &'static str) {
    let token = url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "KEYTOKEN")
        .map(|(_, v)| v.into_owned());
    if token.as_deref().map(str::trim) != Some(s.token.as_str()) {
        return refusal(
            true,
            &Refusal::new(
                ErrorCode::TokenInvalid,
                "KEYTOKEN tidak dikenal atau sudah dicabut",
            ),
        );
    }
    let (numeric, inactive, renamed) = {
        let f = s.fault_state();
        (
            f.faults.numeric_ids,
            f.faults.inactive_units.clone(),
            f.faults.renamed_topics.clone(),
        )
    };
    let vocab = s.world().vocabulary();
    let id = |v: &str| -> serde_json::Value {
        match (numeric, v.parse::<u64>()) {
            (true, Ok(n)) => serde_json::Value::from(n),
            _ => serde_json::Value::from(v),
        }
    };
    let rows: Vec<serde_json::Value> = if endpoint == "gettopics" {
        vocab
            .topics()
            .iter()
            .map(|t| {
                let n = renamed.get(t.id).map_or(t.name, String::as_str);
                serde_json::json!({"id": id(t.id), "parent": id(t.parent), "topic_name": n})
            })
            .collect()
    } else {
        vocab
            .units()
            .iter()
            .map(|u| {
                let uid = u.id.to_string();
                let active = if u.active && !inactive.contains(&uid) {
                    "1"
                } else {
                    "0"
                };
                serde_json::json!({"id": id(&uid), "unit_name": u.name, "active": id(active)})
            })
            .collect()
    };
    (200, serde_json::Value::Array(rows).to_string(), JSON_TYPE)
}

fn stream_answer(
    s: &Shared,
    endpoint: &str,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> (u16, String, &'static str) {
    let parsed = xml::as_utf8(body).and_then(|t| xml::parse_request(t, &s.labels));
    let (token, req) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return refusal(
                false,
                &Refusal::new(
                    ErrorCode::Validation,
                    format!("Permintaan tidak valid: {e}"),
                ),
            );
        }
    };
    if token.trim() != s.token {
        return refusal(
            false,
            &Refusal::new(
                ErrorCode::TokenInvalid,
                "Token tidak dikenal atau sudah dicabut",
            ),
        );
    }
    let wrong = || {
        refusal(
            false,
            &Refusal::new(
                ErrorCode::Validation,
                format!("Isi permintaan tidak sesuai dengan endpoint {endpoint}"),
            ),
        )
    };
    match req {
        Request::GetStream { key, batas } => {
            if endpoint != "getstream" {
                return wrong();
            }
            let batas = batas.unwrap_or(DEFAULT_BATAS);
            if batas == 0 {
                return refusal(
                    false,
                    &Refusal::new(ErrorCode::Validation, "batas harus 1 sampai 500"),
                );
            }
            let page = s.world().page(&key, batas, now);
            let mut f = s.fault_state();
            let mut items = page.items;
            if f.faults.duplicate_delivery
                && let Some(p) = page.peek
            {
                items.push(p);
            }
            let mut text = xml::write_stream_page(&items, page.next.as_ref(), &s.labels);
            for c in &items {
                if let Some(n) = f.next_item_malformed() {
                    text = mangle_item(&text, c.tracking_id, n % 2 == 1);
                }
            }
            (200, text, XML_TYPE)
        }
        Request::GetLaporan { tracking_id } => {
            if endpoint != "getlaporan" {
                return wrong();
            }
            match s.world().laporan(tracking_id) {
                Ok(c) => (200, xml::write_laporan_answer(&c, &s.labels), XML_TYPE),
                Err(r) => refusal(false, &r),
            }
        }
        Request::Write(w) => {
            let expected = match w.action.kind() {
                "disposisi" => "adddisposisi",
                "tindaklanjut" => "addtindaklanjut",
                other => other,
            };
            if expected != endpoint {
                return wrong();
            }
            let (ignore_ref, inactive) = {
                let f = s.fault_state();
                (f.faults.ignore_ref, f.faults.inactive_units.clone())
            };
            match s.world().write(&w, now, ignore_ref, &inactive) {
                Ok(a) => (200, xml::write_write_answer(&a), XML_TYPE),
                Err(r) => refusal(false, &r),
            }
        }
    }
}

/// Breaks one `<laporan>` of a page: without its trackingid, or with a bad timestamp.
fn mangle_item(text: &str, id: crate::model::TrackingId, drop_id: bool) -> String {
    let head = format!("<laporan trackingid=\"{id}\"");
    let Some(start) = text.find(&head) else {
        return text.to_string();
    };
    if drop_id {
        let mut out = String::with_capacity(text.len());
        out.push_str(&text[..start]);
        out.push_str("<laporan");
        out.push_str(&text[start + head.len()..]);
        return out;
    }
    let end = text[start..]
        .find("</laporan>")
        .map(|e| start + e)
        .unwrap_or(text.len());
    let item = &text[start..end];
    let (Some(a), Some(b)) = (item.find("<diperbarui>"), item.find("</diperbarui>")) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start + a]);
    out.push_str("<diperbarui>kemarin sore</diperbarui>");
    out.push_str(&text[start + b + "</diperbarui>".len()..]);
    out
}

/// The generated CA (PEM) and the server's TLS configuration for 127.0.0.1/localhost.
pub fn make_tls() -> Result<(String, Arc<rustls::ServerConfig>), SimError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SanType,
    };
    let tls = |e: rcgen::Error| SimError::Tls(e.to_string());
    let ca_key = KeyPair::generate().map_err(tls)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sp4n-sim test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls)?;
    let issuer = Issuer::new(ca_params, &ca_key);
    let srv_key = KeyPair::generate().map_err(tls)?;
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).map_err(tls)?;
    p.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )));
    p.distinguished_name.push(DnType::CommonName, "sp4n-sim");
    let srv_cert = p.signed_by(&srv_key, &issuer).map_err(tls)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        srv_key.serialize_der(),
    ));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![srv_cert.der().clone()], key)
        .map_err(|e| SimError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((ca_cert.pem(), Arc::new(cfg)))
}

/// Accepts connections until shutdown; each connection is served by its own task and all
/// of them end at shutdown (hanging answers included).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            r = listener.accept() => r,
        };
        let Ok((tcp, _)) = accepted else { continue };
        // As production web servers do: without it, the last small segment of an answer
        // waits for the client's delayed ACK (about 40 ms on Linux loopback).
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let acceptor = acceptor.clone();
        conns.spawn(async move {
            let svc = hyper_util::service::TowerToHyperService::new(app);
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            match acceptor {
                Some(a) => {
                    let Ok(stream) = a.accept(tcp).await else {
                        return;
                    };
                    let _ = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                }
                None => {
                    let _ = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                        .await;
                }
            }
        });
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}
