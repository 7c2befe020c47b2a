//! Change detection: what changed between the stored and the new version of a complaint,
//! as history events.

use crate::model::{Author, Complaint, Status};
use crate::store::EventKind;

/// The events that turn `old` into `new`. Empty when only `diperbarui` moved.
pub fn changes(old: &Complaint, new: &Complaint) -> Vec<EventKind> {
    let mut out = Vec::new();
    if old.status != new.status {
        out.push(EventKind::StatusChanged {
            from: old.status,
            to: new.status,
        });
        if new.status == Status::Selesai {
            out.push(EventKind::Closed);
        } else if old.status == Status::Selesai {
            out.push(EventKind::Reopened);
        }
    }
    let old_unit = old.unit.as_ref().map(|u| u.id.clone());
    let new_unit = new.unit.as_ref().map(|u| u.id.clone());
    if old_unit != new_unit {
        out.push(EventKind::Redisposed {
            from_unit: old_unit,
            to_unit: new_unit,
        });
    }
    for by in [Author::Pelapor, Author::Instansi, Author::Admin] {
        let ids: Vec<String> = new
            .thread
            .iter()
            .filter(|t| t.oleh == by)
            .filter(|t| !old.thread.iter().any(|o| o.transaksi_id == t.transaksi_id))
            .map(|t| t.transaksi_id.clone())
            .collect();
        if !ids.is_empty() {
            out.push(EventKind::ThreadAdded {
                transaksi_ids: ids,
                by: by.as_str().to_string(),
            });
        }
    }
    let mut fields = Vec::new();
    let mut field = |name: &str, changed: bool| {
        if changed {
            fields.push(name.to_string());
        }
    };
    field("rahasia", old.rahasia != new.rahasia);
    field("anonim", old.anonim != new.anonim);
    field("judul", old.judul != new.judul);
    field("isi", old.isi != new.isi);
    field("klasifikasi", old.klasifikasi != new.klasifikasi);
    field("topik", old.topik != new.topik);
    field("tags", old.tags != new.tags);
    field("kanal", old.kanal != new.kanal);
    field("lokasi", old.lokasi != new.lokasi);
    field("pelapor", old.pelapor != new.pelapor);
    field("dibuat", old.dibuat != new.dibuat);
    field("lampiran", old.lampiran != new.lampiran);
    let thread_edited = old.thread.iter().any(|o| {
        new.thread
            .iter()
            .find(|t| t.transaksi_id == o.transaksi_id)
            .is_none_or(|t| t != o)
    });
    field("tindaklanjut", thread_edited);
    if !fields.is_empty() {
        out.push(EventKind::FieldsChanged { fields });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ThreadEntry, UnitRef};

    fn base() -> Complaint {
        Complaint {
            tracking_id: 1,
            rahasia: false,
            anonim: false,
            judul: "J".into(),
            isi: "I".into(),
            klasifikasi: None,
            topik: None,
            tags: vec![],
            kanal: None,
            lokasi: None,
            pelapor: None,
            status: Status::Selesai,
            unit: Some(UnitRef {
                id: "2405".into(),
                name: "Dinkes".into(),
            }),
            dibuat: None,
            diperbarui: chrono::Utc::now(),
            lampiran: vec![],
            thread: vec![],
        }
    }

    #[test]
    fn reply_reopen_and_redisposition_are_events() {
        let old = base();
        let mut new = base();
        new.status = Status::Proses;
        new.unit = Some(UnitRef {
            id: "2406".into(),
            name: "DPU".into(),
        });
        new.thread.push(ThreadEntry {
            transaksi_id: "TL-1".into(),
            oleh: Author::Pelapor,
            unit: None,
            waktu: chrono::Utc::now(),
            ref_: None,
            isi: "x".into(),
        });
        new.diperbarui += chrono::Duration::seconds(5);
        let ev = changes(&old, &new);
        assert_eq!(
            ev,
            vec![
                EventKind::StatusChanged {
                    from: Status::Selesai,
                    to: Status::Proses
                },
                EventKind::Reopened,
                EventKind::Redisposed {
                    from_unit: Some("2405".into()),
                    to_unit: Some("2406".into())
                },
                EventKind::ThreadAdded {
                    transaksi_ids: vec!["TL-1".into()],
                    by: "pelapor".into()
                },
            ]
        );
        let mut only_time = base();
        only_time.diperbarui += chrono::Duration::seconds(1);
        assert!(changes(&old, &only_time).is_empty());
    }
}
