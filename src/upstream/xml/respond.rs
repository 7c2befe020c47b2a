//! The simulator's side: reading the connector's requests, writing the platform's answers.
//! It lives here so that both halves speak one dialect.

use super::*;

/// Writes one `<laporan>` element as the platform does.
pub fn write_complaint(out: &mut String, c: &Complaint, labels: &StatusLabels) {
    let _ = write!(
        out,
        "<laporan trackingid=\"{}\" rahasia=\"{}\" anonim=\"{}\">",
        c.tracking_id,
        b(c.rahasia),
        b(c.anonim)
    );
    let _ = write!(
        out,
        "<judul>{}</judul><isi>{}</isi>",
        esc(&c.judul),
        esc(&c.isi)
    );
    if let Some(k) = &c.klasifikasi {
        let _ = write!(out, "<klasifikasi>{}</klasifikasi>", esc(k));
    }
    if let Some(t) = &c.topik {
        let _ = write!(out, "<topik id=\"{}\">{}</topik>", esc(&t.id), esc(&t.name));
    }
    for t in &c.tags {
        let _ = write!(out, "<tag>{}</tag>", esc(t));
    }
    if let Some(k) = &c.kanal {
        let _ = write!(out, "<kanal>{}</kanal>", esc(k));
    }
    if let Some(l) = &c.lokasi {
        let _ = write!(
            out,
            "<lokasi kode=\"{}\">{}</lokasi>",
            esc(&l.kode),
            esc(&l.name)
        );
    }
    if let (Some(p), false) = (&c.pelapor, c.anonim) {
        write_reporter(out, p);
    }
    let _ = write!(out, "<status>{}</status>", esc(labels.label(c.status)));
    if let Some(u) = &c.unit {
        let _ = write!(out, "<unit id=\"{}\">{}</unit>", esc(&u.id), esc(&u.name));
    }
    if let Some(d) = c.dibuat {
        let _ = write!(out, "<dibuat>{}</dibuat>", format_wib(d));
    }
    let _ = write!(out, "<diperbarui>{}</diperbarui>", format_wib(c.diperbarui));
    for l in &c.lampiran {
        let _ = write!(
            out,
            "<lampiran url=\"{}\" jenis=\"{}\"/>",
            esc(&l.url),
            esc(&l.jenis)
        );
    }
    for t in &c.thread {
        let _ = write!(
            out,
            "<tindaklanjut transaksiid=\"{}\" oleh=\"{}\"",
            esc(&t.transaksi_id),
            t.oleh.as_str()
        );
        if let Some(u) = &t.unit {
            let _ = write!(out, " unit=\"{}\"", esc(u));
        }
        let _ = write!(out, " waktu=\"{}\"", format_wib(t.waktu));
        if let Some(r) = &t.ref_ {
            let _ = write!(out, " ref=\"{}\"", esc(r));
        }
        let _ = write!(out, "><isi>{}</isi></tindaklanjut>", esc(&t.isi));
    }
    out.push_str("</laporan>");
}

/// Writes a `getstream` answer.
pub fn write_stream_page<'a>(
    items: impl IntoIterator<Item = &'a Complaint>,
    next: Option<&StreamKey>,
    labels: &StatusLabels,
) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"ok\">");
    for c in items {
        out.push('\n');
        write_complaint(&mut out, c, labels);
    }
    if let Some(k) = next {
        let _ = write!(out, "\n<lanjut sejak=\"{}\"", format_wib(k.sejak));
        if let Some(s) = k.setelah {
            let _ = write!(out, " setelah=\"{s}\"");
        }
        out.push_str("/>");
    }
    out.push_str("\n</lapor>\n");
    out
}

/// Writes a `getlaporan` answer.
pub fn write_laporan_answer(c: &Complaint, labels: &StatusLabels) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"ok\">");
    write_complaint(&mut out, c, labels);
    out.push_str("</lapor>\n");
    out
}

/// Writes a write answer.
pub fn write_write_answer(a: &WriteAnswer) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"ok\"><trackingid>{}</trackingid><transaksiid>{}</transaksiid>",
        a.tracking_id,
        esc(&a.transaksi_id)
    );
    if a.duplikat {
        out.push_str("<duplikat>1</duplikat>");
    }
    out.push_str("</lapor>\n");
    out
}

/// Writes a stream-API error envelope.
pub fn write_error_envelope(kode: &str, pesan: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lapor status=\"error\"><kode>{}</kode><pesan>{}</pesan></lapor>\n",
        esc(kode),
        esc(pesan)
    )
}

/// Any request the stream API accepts (what the simulator parses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    GetStream { key: StreamKey, batas: Option<u32> },
    GetLaporan { tracking_id: TrackingId },
    Write(Box<WriteRequest>),
}

/// Parses any stream-API request: the token and what it asks. Used by the simulator.
pub fn parse_request(text: &str, labels: &StatusLabels) -> Result<(String, Request), XmlError> {
    let mut children = Vec::new();
    let root = parse_lapor(text, |el, _| children.push(el))?;
    let token = root.attr("token").unwrap_or_default().to_string();
    let invalid = |m: &str| XmlError::Invalid(m.to_string());
    let num = |el: &Element, a: &str| -> Result<TrackingId, XmlError> {
        el.attr(a)
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| XmlError::Invalid(format!("<{}> needs a numeric {a}", el.name)))
    };
    let ref_of = |el: &Element| -> Result<String, XmlError> {
        let r = el.attr("ref").unwrap_or_default();
        if valid_ref(r) {
            Ok(r.to_string())
        } else {
            Err(XmlError::Invalid(
                "ref must be 1 to 64 characters of A-Z a-z 0-9 . _ -".into(),
            ))
        }
    };
    let first = children
        .iter()
        .find(|c| c.name != "pelapor")
        .ok_or_else(|| invalid("the request is empty"))?;
    let req = match first.name.as_str() {
        "ambil" if first.attr("trackingid").is_some() => Request::GetLaporan {
            tracking_id: num(first, "trackingid")?,
        },
        "ambil" => {
            let key = stream_key_from(first).map_err(|e| XmlError::Invalid(e.to_string()))?;
            let batas = match first.attr("batas") {
                None => None,
                Some(v) => Some(
                    v.trim()
                        .parse()
                        .map_err(|_| invalid("batas must be a number"))?,
                ),
            };
            Request::GetStream { key, batas }
        }
        "disposisi" => Request::Write(Box::new(WriteRequest {
            ref_: ref_of(first)?,
            action: WriteAction::Disposisi {
                tracking_id: num(first, "trackingid")?,
                unit: first.attr("unit").unwrap_or_default().to_string(),
                catatan: first.child_text("catatan").unwrap_or_default().to_string(),
            },
        })),
        "tindaklanjut" => Request::Write(Box::new(WriteRequest {
            ref_: ref_of(first)?,
            action: WriteAction::TindakLanjut {
                tracking_id: num(first, "trackingid")?,
                unit: first.attr("unit").unwrap_or_default().to_string(),
                isi: first.child_text("isi").unwrap_or_default().to_string(),
            },
        })),
        "status" => {
            let nilai = first.attr("nilai").unwrap_or_default();
            Request::Write(Box::new(WriteRequest {
                ref_: ref_of(first)?,
                action: WriteAction::SetStatus {
                    tracking_id: num(first, "trackingid")?,
                    nilai: labels
                        .parse(nilai)
                        .ok_or_else(|| XmlError::Invalid(format!("unknown status '{nilai}'")))?,
                    alasan: first.child_text("alasan").unwrap_or_default().to_string(),
                },
            }))
        }
        "laporan" => {
            let anonim = flag(first, "anonim").map_err(|e| XmlError::Invalid(e.0))?;
            let pelapor = children
                .iter()
                .find(|c| c.name == "pelapor")
                .map(|p| Reporter {
                    namadepan: p.child_text("namadepan").unwrap_or_default().to_string(),
                    namabelakang: p.child_text("namabelakang").unwrap_or_default().to_string(),
                    email: p.child_text("email").unwrap_or_default().to_string(),
                    telpon: p.child_text("telpon").unwrap_or_default().to_string(),
                });
            Request::Write(Box::new(WriteRequest {
                ref_: ref_of(first)?,
                action: WriteAction::AddStream {
                    laporan: NewComplaint {
                        rahasia: flag(first, "rahasia").map_err(|e| XmlError::Invalid(e.0))?,
                        anonim,
                        pelapor: if anonim { None } else { pelapor },
                        judul: first.child_text("judul").unwrap_or_default().to_string(),
                        isi: first.child_text("isi").unwrap_or_default().to_string(),
                        topik_id: first
                            .child("topik")
                            .and_then(|t| t.attr("id"))
                            .map(str::to_string),
                        lokasi_kode: first
                            .child("lokasi")
                            .and_then(|t| t.attr("kode"))
                            .map(str::to_string),
                        kanal: opt_text(first, "kanal"),
                    },
                },
            }))
        }
        other => return Err(XmlError::Invalid(format!("unknown request <{other}>"))),
    };
    Ok((token, req))
}
