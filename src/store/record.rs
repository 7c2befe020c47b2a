//! How a [`StoredComplaint`] is laid out in the value log: the local fields and the typed
//! complaint as JSON, then the raw `<laporan>` XML as it came, the whole LZ4-compressed.
//!
//! The raw XML is kept verbatim (not escaped into a JSON string), and LZ4 rather than
//! deflate keeps encoding cheap on the pull's path while still making the record smaller
//! than the raw XML alone. The content hash is not in the record: the index row beside
//! the pointer holds it, so the pull can compare hashes without reading records.

use super::types::{Routing, StoredComplaint};
use crate::model::Complaint;
use crate::sla::SlaEvidence;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The first byte of a record (before compression): the layout version.
const LAYOUT: u8 = 1;

/// The local fields of a record, borrowed for writing.
#[derive(Serialize)]
struct MetaOut<'a> {
    first_seen: &'a DateTime<Utc>,
    last_seen: &'a DateTime<Utc>,
    in_stream: bool,
    left_reason: &'a Option<String>,
    routing: &'a Option<Routing>,
    disposed_at: &'a Option<DateTime<Utc>>,
    sla: &'a SlaEvidence,
}

#[derive(Deserialize)]
struct MetaIn {
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    in_stream: bool,
    left_reason: Option<String>,
    routing: Option<Routing>,
    disposed_at: Option<DateTime<Utc>>,
    /// Absent in records written before the connector kept it.
    #[serde(default)]
    sla: SlaEvidence,
}

/// Why a record could not be encoded or decoded (decoding: the value log is damaged).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(String);

impl From<String> for RecordError {
    fn from(s: String) -> Self {
        RecordError(s)
    }
}

impl From<&str> for RecordError {
    fn from(s: &str) -> Self {
        RecordError(s.to_string())
    }
}

/// Encodes a record for the value log.
pub fn encode(rec: &StoredComplaint) -> Result<Vec<u8>, RecordError> {
    // Destructured so that a new field of `StoredComplaint` cannot be forgotten here.
    let StoredComplaint {
        complaint,
        raw,
        hash: _,
        first_seen,
        last_seen,
        in_stream,
        left_reason,
        routing,
        disposed_at,
        sla,
    } = rec;
    let meta = serde_json::to_vec(&MetaOut {
        first_seen,
        last_seen,
        in_stream: *in_stream,
        left_reason,
        routing,
        disposed_at,
        sla,
    })
    .map_err(|e| e.to_string())?;
    let complaint = serde_json::to_vec(complaint).map_err(|e| e.to_string())?;
    let mut plain = Vec::with_capacity(9 + meta.len() + complaint.len() + raw.len());
    plain.push(LAYOUT);
    for section in [&meta, &complaint] {
        let len = u32::try_from(section.len())
            .map_err(|_| RecordError::from("a record section is too large"))?;
        plain.extend_from_slice(&len.to_le_bytes());
        plain.extend_from_slice(section);
    }
    plain.extend_from_slice(raw.as_bytes());
    Ok(lz4_flex::compress_prepend_size(&plain))
}

/// Decodes a record; `hash` comes from the index row.
pub fn decode(bytes: &[u8], hash: String) -> Result<StoredComplaint, RecordError> {
    let plain = lz4_flex::decompress_size_prepended(bytes).map_err(|e| e.to_string())?;
    let rest = match plain.split_first() {
        Some((&LAYOUT, rest)) => rest,
        Some((v, _)) => return Err(format!("unknown record layout {v}").into()),
        None => return Err("empty record".into()),
    };
    let (meta, rest) = section(rest)?;
    let (complaint, raw) = section(rest)?;
    let meta: MetaIn = serde_json::from_slice(meta).map_err(|e| e.to_string())?;
    let complaint: Complaint = serde_json::from_slice(complaint).map_err(|e| e.to_string())?;
    let raw = std::str::from_utf8(raw)
        .map_err(|e| format!("raw XML: {e}"))?
        .to_string();
    Ok(StoredComplaint {
        complaint,
        raw,
        hash,
        first_seen: meta.first_seen,
        last_seen: meta.last_seen,
        in_stream: meta.in_stream,
        left_reason: meta.left_reason,
        routing: meta.routing,
        disposed_at: meta.disposed_at,
        sla: meta.sla,
    })
}

fn section(b: &[u8]) -> Result<(&[u8], &[u8]), RecordError> {
    let (len, rest) = b
        .split_first_chunk::<4>()
        .ok_or(RecordError::from("record cut short"))?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err("record cut short".into());
    }
    Ok(rest.split_at(len))
}
