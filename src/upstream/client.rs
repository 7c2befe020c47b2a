//! The HTTP client for the platform: TLS with verification always on, every call bounded
//! in time and in bytes, every answer classified into data or one [`UpstreamError`].
//!
//! Classification follows the contract's table: an HTML page is a transient failure with
//! any status; an error envelope is read whatever the HTTP status (200 included); a
//! response with a DOCTYPE, invalid UTF-8 or a truncated document is rejected whole with
//! its raw bytes kept. The token goes only into request bodies and never into a log line
//! or an error.

use super::error::{ErrorCode, UpstreamError};
use super::token::Token;
use super::xml::{self, Outcome, StreamPage, WriteAnswer, WriteRequest, XmlError};
use crate::config::{PathsConfig, UpstreamConfig, check_base_url};
use crate::model::{StatusLabels, StreamKey, Topic, TrackingId, Unit};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use std::time::Duration;
use tracing::debug;

/// A client for one instansi account on the platform.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    paths: PathsConfig,
    token: Token,
    labels: StatusLabels,
    max_response_bytes: usize,
    total_timeout: Duration,
    connect_timeout: Duration,
    read_timeout: Duration,
    page_size: u32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

enum Body {
    Xml(String),
    Form,
}

impl Client {
    /// Builds a client from the `[upstream]` configuration and a token.
    pub fn new(cfg: &UpstreamConfig, token: Token) -> Result<Client, UpstreamError> {
        let base = cfg.base_url.clone().ok_or_else(|| {
            UpstreamError::Config(
                "no base_url in [upstream]: set it to https://www.lapor.go.id".into(),
            )
        })?;
        check_base_url(&base).map_err(|e| UpstreamError::Config(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("sp4n-connector/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_seconds))
            .read_timeout(Duration::from_secs(cfg.read_timeout_seconds))
            .timeout(Duration::from_secs(cfg.total_timeout_seconds));
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                UpstreamError::Config(format!("cannot read ca_file {}: {e}", ca.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                UpstreamError::Config(format!(
                    "ca_file {} is not PEM certificates: {e}",
                    ca.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(UpstreamError::Config(format!(
                    "ca_file {} holds no certificate",
                    ca.display()
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| UpstreamError::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            paths: cfg.paths.clone(),
            token,
            labels: cfg.labels(),
            max_response_bytes: cfg.max_response_bytes,
            total_timeout: Duration::from_secs(cfg.total_timeout_seconds),
            connect_timeout: Duration::from_secs(cfg.connect_timeout_seconds),
            read_timeout: Duration::from_secs(cfg.read_timeout_seconds),
            page_size: cfg.page_size,
        })
    }

    /// The configured page size.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The status labels this deployment uses.
    pub fn labels(&self) -> &StatusLabels {
        &self.labels
    }

    /// `gettopics`: the topic tree.
    pub async fn get_topics(&self) -> Result<Vec<Topic>, UpstreamError> {
        let (status, headers, bytes) = self.post(&self.paths.gettopics, Body::Form).await?;
        let rows = json_rows(status, &headers, bytes)?;
        rows.iter()
            .map(|r| {
                Ok(Topic {
                    id: json_id(r, "id")?,
                    parent: json_id(r, "parent").unwrap_or_else(|_| "0".into()),
                    name: json_str(r, "topic_name"),
                })
            })
            .collect()
    }

    /// `getunits`: the units (OPD accounts) under the instansi.
    pub async fn get_units(&self) -> Result<Vec<Unit>, UpstreamError> {
        let (status, headers, bytes) = self.post(&self.paths.getunits, Body::Form).await?;
        let rows = json_rows(status, &headers, bytes)?;
        rows.iter()
            .map(|r| {
                let active = match r.get("active") {
                    Some(serde_json::Value::String(s)) => s.trim() == "1" || s == "true",
                    Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
                    Some(serde_json::Value::Bool(b)) => *b,
                    _ => true,
                };
                Ok(Unit {
                    id: json_id(r, "id")?,
                    name: json_str(r, "unit_name"),
                    active,
                })
            })
            .collect()
    }

    /// `getstream`: one page of complaints after `key`, at most `batas` items.
    pub async fn get_stream(
        &self,
        key: &StreamKey,
        batas: u32,
    ) -> Result<StreamPage, UpstreamError> {
        let body = xml::write_getstream_request(self.token.expose(), key, batas);
        let (status, headers, bytes) = self.post(&self.paths.getstream, Body::Xml(body)).await?;
        let text = xml_text(status, &headers, &bytes)?;
        match xml::parse_stream_page(text, &self.labels) {
            Ok(Outcome::Ok(page)) => ok_status(status, &headers, &bytes).map(|_| page),
            Ok(Outcome::Error(env)) => Err(rejected(status, &headers, env)),
            Err(e) => Err(unreadable(status, &headers, e, bytes)),
        }
    }

    /// `getlaporan`: one complaint, with its raw XML. An unusable `<laporan>` is
    /// `Malformed` with the reason.
    pub async fn get_laporan(&self, id: TrackingId) -> Result<xml::RawComplaint, UpstreamError> {
        let body = xml::write_getlaporan_request(self.token.expose(), id);
        let (status, headers, bytes) = self.post(&self.paths.getlaporan, Body::Xml(body)).await?;
        let text = xml_text(status, &headers, &bytes)?;
        match xml::parse_laporan_answer(text, &self.labels) {
            Ok(Outcome::Ok(Ok(c))) => ok_status(status, &headers, &bytes).map(|_| c),
            Ok(Outcome::Ok(Err(aside))) => Err(UpstreamError::Malformed {
                reason: aside.reason,
                raw: aside.raw.into_bytes(),
            }),
            Ok(Outcome::Error(env)) => Err(rejected(status, &headers, env)),
            Err(e) => Err(unreadable(status, &headers, e, bytes)),
        }
    }

    /// Sends one write (disposition, follow-up, status change or new complaint).
    pub async fn write(&self, req: &WriteRequest) -> Result<WriteAnswer, UpstreamError> {
        let path = match &req.action {
            xml::WriteAction::Disposisi { .. } => &self.paths.adddisposisi,
            xml::WriteAction::TindakLanjut { .. } => &self.paths.addtindaklanjut,
            xml::WriteAction::SetStatus { .. } => &self.paths.setstatus,
            xml::WriteAction::AddStream { .. } => &self.paths.addstream,
        };
        let body = xml::write_write_request(self.token.expose(), req, &self.labels);
        let (status, headers, bytes) = self.post(path, Body::Xml(body)).await?;
        let text = xml_text(status, &headers, &bytes)?;
        match xml::parse_write_answer(text) {
            Ok(Outcome::Ok(a)) => ok_status(status, &headers, &bytes).map(|_| a),
            Ok(Outcome::Error(env)) => Err(rejected(status, &headers, env)),
            Err(e) => Err(unreadable(status, &headers, e, bytes)),
        }
    }

    async fn post(
        &self,
        path: &str,
        body: Body,
    ) -> Result<(u16, HeaderMap, Vec<u8>), UpstreamError> {
        let url = format!("{}{}", self.base, path);
        let req = self.http.post(&url);
        let req = match body {
            Body::Xml(b) => req.header(CONTENT_TYPE, "text/xml; charset=UTF-8").body(b),
            Body::Form => req.form(&[("KEYTOKEN", self.token.expose())]),
        };
        let started = std::time::Instant::now();
        let mut resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(e, started))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport_error(e, started))?
        {
            if bytes.len() + chunk.len() > self.max_response_bytes {
                return Err(UpstreamError::TooLarge {
                    limit: self.max_response_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        debug!(path, status, bytes = bytes.len(), "Upstream answered.");
        Ok((status, headers, bytes))
    }

    fn transport_error(&self, e: reqwest::Error, started: std::time::Instant) -> UpstreamError {
        // reqwest's messages name the URL but never the body, so the token cannot appear.
        let msg = error_chain(&e);
        if e.is_timeout() {
            // reqwest does not say which timeout fired: the connect one, the gap between
            // two reads (read_timeout) or the whole request (total_timeout).
            let (phase, seconds) = if e.is_connect() {
                ("connect", self.connect_timeout.as_secs())
            } else if started.elapsed() + Duration::from_millis(500) < self.total_timeout {
                ("reading the answer", self.read_timeout.as_secs())
            } else {
                ("waiting for the answer", self.total_timeout.as_secs())
            };
            UpstreamError::Timeout { phase, seconds }
        } else if e.is_connect() {
            UpstreamError::Connect(msg)
        } else {
            UpstreamError::Transport(msg)
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(0) as u64))
}

/// True when the body is an HTML page rather than the XML or JSON the contract promises.
fn looks_like_html(headers: &HeaderMap, bytes: &[u8]) -> bool {
    let ct_html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"));
    let start: Vec<u8> = bytes
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(64)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    ct_html || start.starts_with(b"<!doctype html") || start.starts_with(b"<html")
}

fn rejected(status: u16, headers: &HeaderMap, env: xml::ErrorEnvelope) -> UpstreamError {
    UpstreamError::Rejected {
        code: ErrorCode::parse(&env.kode),
        pesan: env.pesan,
        http: status,
        retry_after: retry_after(headers),
    }
}

/// The text of an XML answer, or the error that an HTML page or bad bytes mean.
fn xml_text<'a>(
    status: u16,
    headers: &HeaderMap,
    bytes: &'a [u8],
) -> Result<&'a str, UpstreamError> {
    if looks_like_html(headers, bytes) {
        return Err(UpstreamError::Html { status });
    }
    xml::as_utf8(bytes).map_err(|e| unreadable(status, headers, e, bytes.to_vec()))
}

/// A document that parsed as data but came with a failure status.
fn ok_status(status: u16, headers: &HeaderMap, _bytes: &[u8]) -> Result<(), UpstreamError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(UpstreamError::Http {
            status,
            retry_after: retry_after(headers),
        })
    }
}

fn unreadable(status: u16, headers: &HeaderMap, e: XmlError, raw: Vec<u8>) -> UpstreamError {
    if !(200..300).contains(&status) {
        return UpstreamError::Http {
            status,
            retry_after: retry_after(headers),
        };
    }
    UpstreamError::Malformed {
        reason: e.to_string(),
        raw,
    }
}

fn json_rows(
    status: u16,
    headers: &HeaderMap,
    bytes: Vec<u8>,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, UpstreamError> {
    if looks_like_html(headers, &bytes) {
        return Err(UpstreamError::Html { status });
    }
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            if !(200..300).contains(&status) {
                return Err(UpstreamError::Http {
                    status,
                    retry_after: retry_after(headers),
                });
            }
            return Err(UpstreamError::Malformed {
                reason: format!("the answer is not JSON: {e}"),
                raw: bytes,
            });
        }
    };
    match value {
        serde_json::Value::Object(o)
            if o.get("status").and_then(|s| s.as_str()) == Some("error") =>
        {
            Err(rejected(
                status,
                headers,
                xml::ErrorEnvelope {
                    kode: json_str(&o, "kode"),
                    pesan: json_str(&o, "pesan"),
                },
            ))
        }
        serde_json::Value::Array(rows) => {
            ok_status(status, headers, &bytes)?;
            rows.into_iter()
                .map(|r| match r {
                    serde_json::Value::Object(o) => Ok(o),
                    other => Err(UpstreamError::Malformed {
                        reason: format!("expected an object in the array, found {other}"),
                        raw: Vec::new(),
                    }),
                })
                .collect()
        }
        _ => Err(UpstreamError::Malformed {
            reason: "expected a JSON array".into(),
            raw: bytes,
        }),
    }
}

/// An id that may arrive as a JSON string or number.
fn json_id(
    o: &serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<String, UpstreamError> {
    match o.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.trim().to_string()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        _ => Err(UpstreamError::Malformed {
            reason: format!("a row has no usable '{key}'"),
            raw: serde_json::to_vec(o).unwrap_or_default(),
        }),
    }
}

fn json_str(o: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    match o.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) if !other.is_null() => other.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_base_url("https://www.lapor.go.id").is_ok());
        assert!(check_base_url("http://127.0.0.1:8443").is_ok());
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://[::1]:1").is_ok());
        let e = check_base_url("http://www.lapor.go.id").unwrap_err();
        assert!(e.to_string().contains("not loopback"), "{e}");
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("not a url").is_err());
    }
}
