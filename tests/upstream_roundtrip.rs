//! Property: any complaint the simulator's XML writer produces is read back by the
//! client's parser as the same typed value, alone and inside a page with its `<lanjut>`.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use sp4n::model::{
    Attachment, Author, Complaint, Location, Reporter, Status, StatusLabels, StreamKey,
    ThreadEntry, TopicRef, UnitRef,
};
use sp4n::upstream::xml::{self, Outcome};

/// Text as complaints carry it: any XML-valid characters except `\r` (XML normalises it).
fn text() -> impl Strategy<Value = String> {
    "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\r\u{7f}\u{fffe}\u{ffff}]{0,60}"
}

/// Values that travel in attributes or are trimmed by the reader: no white space at the
/// edges, no tabs or newlines.
fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 _.,/:-]{0,20}[A-Za-z0-9]"
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn entry() -> impl Strategy<Value = ThreadEntry> {
    (
        "[A-Z]{2}-[0-9]{7}",
        prop::sample::select(vec![Author::Instansi, Author::Pelapor, Author::Admin]),
        prop::option::of("[0-9]{4}"),
        instant(),
        prop::option::of("[A-Za-z0-9._-]{1,64}"),
        text(),
    )
        .prop_map(|(transaksi_id, oleh, unit, waktu, ref_, isi)| ThreadEntry {
            transaksi_id,
            oleh,
            unit,
            waktu,
            ref_,
            isi,
        })
}

fn reporter() -> impl Strategy<Value = Reporter> {
    (text(), text(), text(), text()).prop_map(|(namadepan, namabelakang, email, telpon)| Reporter {
        namadepan,
        namabelakang,
        email,
        telpon,
    })
}

prop_compose! {
    fn complaint()(
        tracking_id in any::<u64>(),
        rahasia in any::<bool>(),
        anonim in any::<bool>(),
        judul in text(),
        isi in text(),
        klasifikasi in prop::option::of(word()),
        topik in prop::option::of(("[0-9]{1,3}", text())),
        tags in prop::collection::vec(text(), 0..3),
        kanal in prop::option::of(word()),
        lokasi in prop::option::of(("34\\.01(\\.[0-9]{2}(\\.[0-9]{4})?)?", text())),
        pelapor in prop::option::of(reporter()),
        status in status(),
        unit in prop::option::of(("[0-9]{4}", text())),
        dibuat in prop::option::of(instant()),
        diperbarui in instant(),
        lampiran in prop::collection::vec((word(), word()), 0..3),
        thread in prop::collection::vec(entry(), 0..4),
    ) -> Complaint {
        Complaint {
            tracking_id,
            rahasia,
            anonim,
            judul,
            isi,
            klasifikasi,
            topik: topik.map(|(id, name)| TopicRef { id, name }),
            tags,
            kanal,
            lokasi: lokasi.map(|(kode, name)| Location { kode, name }),
            pelapor: if anonim { None } else { pelapor },
            status,
            unit: unit.map(|(id, name)| UnitRef { id, name }),
            dibuat,
            diperbarui,
            lampiran: lampiran.into_iter().map(|(url, jenis)| Attachment { url, jenis }).collect(),
            thread,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn written_complaints_read_back_equal(c in complaint()) {
        let labels = StatusLabels::default();
        let text = xml::write_laporan_answer(&c, &labels);
        match xml::parse_laporan_answer(&text, &labels) {
            Ok(Outcome::Ok(Ok(raw))) => prop_assert_eq!(raw.complaint, c),
            Ok(Outcome::Ok(Err(aside))) => prop_assert!(false, "set aside: {}", aside.reason),
            Ok(Outcome::Error(e)) => prop_assert!(false, "envelope {}", e.kode),
            Err(e) => prop_assert!(false, "rejected: {e}\n{text}"),
        }
    }

    #[test]
    fn written_pages_read_back_equal(items in prop::collection::vec(complaint(), 0..5), more in any::<bool>()) {
        let labels = StatusLabels::default();
        let next: Option<StreamKey> = if more { items.last().map(Complaint::key) } else { None };
        let text = xml::write_stream_page(&items, next.as_ref(), &labels);
        let Ok(Outcome::Ok(page)) = xml::parse_stream_page(&text, &labels) else {
            return Err(TestCaseError::fail("page did not parse"));
        };
        prop_assert!(page.set_aside.is_empty());
        prop_assert_eq!(page.next, next);
        let got: Vec<Complaint> = page.items.into_iter().map(|r| r.complaint).collect();
        prop_assert_eq!(got, items);
    }
}
