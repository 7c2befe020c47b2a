//! Writing the connector's requests (`getstream`, `getlaporan`, the four writes).

use super::*;

pub use crate::model::{WriteAction, WriteRequest, valid_ref};

pub(super) fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn open_lapor(out: &mut String, token: &str) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor token=\"");
    out.push_str(&esc(token));
    out.push_str("\">");
}

/// `getstream` request body.
pub fn write_getstream_request(token: &str, key: &StreamKey, batas: u32) -> String {
    let mut out = String::with_capacity(160);
    open_lapor(&mut out, token);
    let _ = write!(out, "<ambil sejak=\"{}\"", format_wib(key.sejak));
    if let Some(s) = key.setelah {
        let _ = write!(out, " setelah=\"{s}\"");
    }
    let _ = write!(out, " batas=\"{batas}\"/></lapor>");
    out
}

/// `getlaporan` request body.
pub fn write_getlaporan_request(token: &str, tracking_id: TrackingId) -> String {
    let mut out = String::with_capacity(128);
    open_lapor(&mut out, token);
    let _ = write!(out, "<ambil trackingid=\"{tracking_id}\"/></lapor>");
    out
}

pub(super) fn write_reporter(out: &mut String, p: &Reporter) {
    let _ = write!(
        out,
        "<pelapor><namadepan>{}</namadepan><namabelakang>{}</namabelakang><email>{}</email><telpon>{}</telpon></pelapor>",
        esc(&p.namadepan),
        esc(&p.namabelakang),
        esc(&p.email),
        esc(&p.telpon)
    );
}

pub(super) fn b(v: bool) -> u8 {
    u8::from(v)
}

/// Body of a write request (endpoints 5–8).
pub fn write_write_request(token: &str, req: &WriteRequest, labels: &StatusLabels) -> String {
    let mut out = String::with_capacity(512);
    open_lapor(&mut out, token);
    let r = esc(&req.ref_);
    match &req.action {
        WriteAction::Disposisi {
            tracking_id,
            unit,
            catatan,
        } => {
            let _ = write!(
                out,
                "<disposisi trackingid=\"{tracking_id}\" unit=\"{}\" ref=\"{r}\"><catatan>{}</catatan></disposisi>",
                esc(unit),
                esc(catatan)
            );
        }
        WriteAction::TindakLanjut {
            tracking_id,
            unit,
            isi,
        } => {
            let _ = write!(
                out,
                "<tindaklanjut trackingid=\"{tracking_id}\" unit=\"{}\" ref=\"{r}\"><isi>{}</isi></tindaklanjut>",
                esc(unit),
                esc(isi)
            );
        }
        WriteAction::SetStatus {
            tracking_id,
            nilai,
            alasan,
        } => {
            let _ = write!(
                out,
                "<status trackingid=\"{tracking_id}\" nilai=\"{}\" ref=\"{r}\"><alasan>{}</alasan></status>",
                esc(labels.label(*nilai)),
                esc(alasan)
            );
        }
        WriteAction::AddStream { laporan: l } => {
            if let (Some(p), false) = (&l.pelapor, l.anonim) {
                write_reporter(&mut out, p);
            }
            let _ = write!(
                out,
                "<laporan rahasia=\"{}\" anonim=\"{}\" ref=\"{r}\"><judul>{}</judul><isi>{}</isi>",
                b(l.rahasia),
                b(l.anonim),
                esc(&l.judul),
                esc(&l.isi)
            );
            if let Some(t) = &l.topik_id {
                let _ = write!(out, "<topik id=\"{}\"/>", esc(t));
            }
            if let Some(k) = &l.lokasi_kode {
                let _ = write!(out, "<lokasi kode=\"{}\"/>", esc(k));
            }
            if let Some(k) = &l.kanal {
                let _ = write!(out, "<kanal>{}</kanal>", esc(k));
            }
            out.push_str("</laporan>");
        }
    }
    out.push_str("</lapor>");
    out
}
