//! The XML side of the contract, in both directions: reading and writing `<lapor>`
//! documents (stream pages, one complaint, write answers, error envelopes, requests).
//!
//! Reading never builds a whole page in memory: [`parse_lapor`] walks the root's children
//! one at a time, each as a small [`Element`] tree with its raw byte range, so a page of
//! complaints is handed over item by item and one bad `<laporan>` is set aside with its
//! raw XML while the rest of the page is used. Complaints (a backfill reads 100,000) are
//! read through a reused tree that borrows names, attributes and text from the document
//! and moves text into the [`Complaint`], so a page costs few allocations beyond the
//! complaints' own strings. A DOCTYPE, invalid UTF-8, an unknown entity,
//! nesting deeper than [`MAX_DEPTH`] or a truncated document rejects the document whole.
//! The client and the simulator share this module, so both halves speak one dialect.

//!
//! Seams: `reader.rs` (the document walk), `decode.rs` (answers into domain types),
//! `request.rs` (the connector's requests), `respond.rs` (the simulator's side).

mod decode;
mod reader;
mod request;
mod respond;

pub use decode::*;
pub use reader::*;
pub use request::*;
pub use respond::*;

use crate::model::{
    Attachment, Author, Complaint, Location, NewComplaint, Reporter, StatusLabels, StreamKey,
    ThreadEntry, TopicRef, TrackingId, UnitRef, format_wib, parse_timestamp,
};
use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<lapor status="ok">
  <laporan trackingid="1916449" rahasia="0" anonim="0">
    <judul>Jalan berlubang di depan SD Triharjo</judul>
    <isi>Sudah dua minggu &amp; membahayakan &#x41;</isi>
    <klasifikasi>pengaduan</klasifikasi>
    <topik id="5">Pekerjaan Umum dan Penataan Ruang</topik>
    <tag>jalan</tag><tag>infrastruktur</tag>
    <kanal>android</kanal>
    <lokasi kode="34.01.02.2006">Kalurahan Triharjo, Kapanewon Wates</lokasi>
    <pelapor><namadepan>Sri</namadepan><namabelakang>Lestari</namabelakang>
      <email>sri@example.org</email><telpon>081200000000</telpon></pelapor>
    <status>Proses</status>
    <unit id="2417">Dinas Pekerjaan Umum</unit>
    <dibuat>2026-11-20T08:15:00+07:00</dibuat>
    <diperbarui>2026-11-21 10:00:00</diperbarui>
    <lampiran url="https://storage.lapor.go.id/app/uploads/public/5a1/b2c/foto.jpg" jenis="image/jpeg"/>
    <tindaklanjut transaksiid="TL-0000123" oleh="instansi" unit="2417" waktu="2026-11-21T10:00:00+07:00" ref="01JDQ8X0"><isi>Sudah kami terima.</isi></tindaklanjut>
    <ekstra>unknown elements are ignored</ekstra>
  </laporan>
  <laporan rahasia="0" anonim="1"><status>Proses</status><diperbarui>2026-11-21T10:00:00+07:00</diperbarui></laporan>
  <laporan trackingid="1916502" rahasia="1" anonim="1"><status>Belum Ditindaklanjuti</status><diperbarui>kemarin</diperbarui></laporan>
  <laporan trackingid="1916503" rahasia="1" anonim="1"><status>Belum Ditindaklanjuti</status><diperbarui>2026-11-21T03:00:01Z</diperbarui></laporan>
  <lanjut sejak="2026-11-21T10:00:01+07:00" setelah="1916503"/>
</lapor>"#;

    fn page(text: &str) -> StreamPage {
        match parse_stream_page(text, &StatusLabels::default()).unwrap() {
            Outcome::Ok(p) => p,
            Outcome::Error(e) => panic!("unexpected envelope {e:?}"),
        }
    }

    #[test]
    fn page_items_set_aside_and_continuation() {
        let p = page(PAGE);
        assert_eq!(p.items.len(), 2);
        let c = &p.items[0].complaint;
        assert_eq!(c.tracking_id, 1916449);
        assert_eq!(c.isi, "Sudah dua minggu & membahayakan A");
        assert_eq!(c.tags, vec!["jalan", "infrastruktur"]);
        assert_eq!(c.thread[0].ref_.as_deref(), Some("01JDQ8X0"));
        assert_eq!(
            c.diperbarui,
            parse_timestamp("2026-11-21T03:00:00Z").unwrap()
        );
        assert!(
            p.items[0]
                .raw
                .starts_with("<laporan trackingid=\"1916449\"")
        );
        assert!(p.items[0].raw.ends_with("</laporan>"));
        assert_eq!(p.set_aside.len(), 2);
        assert_eq!(p.set_aside[0].reason, "missing trackingid");
        assert_eq!(p.set_aside[1].tracking_id, Some(1916502));
        assert!(
            p.set_aside[1].reason.contains("diperbarui"),
            "{}",
            p.set_aside[1].reason
        );
        assert_eq!(p.next.unwrap().setelah, Some(1916503));
    }

    #[test]
    fn split_text_and_escaped_attributes_read_whole() {
        let doc = r#"<lapor status="ok"><laporan trackingid="7" anonim="0">
<judul>a<!-- c -->b&amp;<![CDATA[<c>]]><em>skipped</em>d&#x41;</judul><isi>one</isi>
<tag> spaced </tag><tag>x&lt;y</tag>
<topik id="&#x35;">Per&apos;hubungan</topik><lokasi kode=" 34.01 ">L</lokasi>
<pelapor><namadepan>Sri &amp; Co</namadepan><email>s@e.org</email></pelapor>
<status>Proses</status><diperbarui> 2026-11-21T10:00:00+07:00 </diperbarui>
<lampiran url="https://x/?a=1&amp;b=2" jenis="image/jpeg"/><lampiran url="u2"/>
</laporan></lapor>"#;
        let p = page(doc);
        let c = &p.items[0].complaint;
        assert_eq!(c.judul, "ab&<c>dA");
        assert_eq!(c.tags, vec![" spaced ", "x<y"]);
        let topik = c.topik.as_ref().unwrap();
        assert_eq!(
            (topik.id.as_str(), topik.name.as_str()),
            ("5", "Per'hubungan")
        );
        assert_eq!(c.lokasi.as_ref().unwrap().kode, "34.01");
        let pelapor = c.pelapor.as_ref().unwrap();
        assert_eq!(pelapor.namadepan, "Sri & Co");
        assert_eq!(pelapor.namabelakang, "");
        assert_eq!(c.lampiran[0].url, "https://x/?a=1&b=2");
        assert_eq!(c.lampiran[1].jenis, "");
    }

    #[test]
    fn written_page_reads_back_equal() {
        let p = page(PAGE);
        let labels = StatusLabels::default();
        let items: Vec<&Complaint> = p.items.iter().map(|i| &i.complaint).collect();
        let text = write_stream_page(items.iter().copied(), p.next.as_ref(), &labels);
        let back = page(&text);
        let back_items: Vec<&Complaint> = back.items.iter().map(|i| &i.complaint).collect();
        assert_eq!(items, back_items);
        assert_eq!(back.next, p.next);
    }

    #[test]
    fn documents_rejected_whole() {
        let labels = StatusLabels::default();
        let doctype = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><lapor status=\"ok\"></lapor>";
        assert!(matches!(
            parse_stream_page(doctype, &labels),
            Err(XmlError::Doctype)
        ));
        let truncated = &PAGE[..PAGE.len() / 2];
        assert!(matches!(
            parse_stream_page(truncated, &labels),
            Err(XmlError::Truncated(_))
        ));
        let entity =
            "<lapor status=\"ok\"><laporan trackingid=\"1\"><isi>&lol;</isi></laporan></lapor>";
        assert!(matches!(
            parse_stream_page(entity, &labels),
            Err(XmlError::Invalid(_))
        ));
        assert!(matches!(
            as_utf8(b"<lapor>\xff</lapor>"),
            Err(XmlError::NotUtf8(7))
        ));
        let deep = format!(
            "<lapor status=\"ok\">{}{}</lapor>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert!(matches!(
            parse_stream_page(&deep, &labels),
            Err(XmlError::TooDeep)
        ));
        let mismatched = "<lapor status=\"ok\"><laporan></lapor>";
        assert!(parse_stream_page(mismatched, &labels).is_err());
    }

    #[test]
    fn error_envelope_is_read_whatever_else() {
        let env = write_error_envelope("STATUS_CONFLICT", "Laporan sudah selesai");
        match parse_write_answer(&env).unwrap() {
            Outcome::Error(e) => {
                assert_eq!(e.kode, "STATUS_CONFLICT");
                assert_eq!(e.pesan, "Laporan sudah selesai");
            }
            Outcome::Ok(_) => panic!("envelope read as success"),
        }
    }

    #[test]
    fn requests_round_trip_through_the_simulator_parser() {
        let labels = StatusLabels::default();
        let req = WriteRequest {
            ref_: "01JDQ8W7T3V5K2M9N4P6R8S0TA".into(),
            action: WriteAction::SetStatus {
                tracking_id: 1916449,
                nilai: Status::BukanWewenang,
                alasan: "Bukan <kewenangan> & lain".into(),
            },
        };
        let body = write_write_request("{TOKEN}", &req, &labels);
        let (token, parsed) = parse_request(&body, &labels).unwrap();
        assert_eq!(token, "{TOKEN}");
        assert_eq!(parsed, Request::Write(Box::new(req)));
        let key = StreamKey {
            sejak: parse_timestamp("2026-11-01T00:00:00+07:00").unwrap(),
            setelah: Some(1916449),
        };
        let body = write_getstream_request("{T}", &key, 100);
        let (_, parsed) = parse_request(&body, &labels).unwrap();
        assert_eq!(
            parsed,
            Request::GetStream {
                key,
                batas: Some(100)
            }
        );
        assert!(!valid_ref(""));
        assert!(!valid_ref("a b"));
        assert!(valid_ref(&"x".repeat(64)));
        assert!(!valid_ref(&"x".repeat(65)));
    }
}
