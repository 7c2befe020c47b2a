//! The regency's history as examples (issue 15, "history helps"): complaints already
//! disposed (upstream, or by an administrator at the triage desk) with the OPD chosen for
//! them. For a new complaint the most similar past complaints (shared words weighted by
//! rarity, same topic, same kapanewon) are shown with where they went; when no rule
//! matches, they decide if they agree (see [`History::decide`]).

use super::text::words;
use crate::model::Complaint;
use std::collections::HashMap;
use std::fmt;

/// Words too common in complaints to say anything about the OPD.
const STOP: &[&str] = &[
    "yang",
    "dan",
    "di",
    "ke",
    "dari",
    "ini",
    "itu",
    "ada",
    "tidak",
    "tdk",
    "gak",
    "nggak",
    "ga",
    "sudah",
    "sdh",
    "udah",
    "belum",
    "blm",
    "mohon",
    "tolong",
    "min",
    "admin",
    "pak",
    "bu",
    "bapak",
    "ibu",
    "kami",
    "saya",
    "kita",
    "warga",
    "dengan",
    "untuk",
    "utk",
    "pada",
    "karena",
    "krn",
    "sangat",
    "sekali",
    "banyak",
    "sering",
    "segera",
    "ditindaklanjuti",
    "terima",
    "kasih",
    "atas",
    "perhatiannya",
    "bisa",
    "akan",
    "juga",
    "atau",
    "tapi",
    "tetapi",
    "namun",
    "dalam",
    "lagi",
    "masih",
    "sejak",
    "sampai",
    "hingga",
    "kalau",
    "kalo",
    "jika",
    "bila",
    "apa",
    "kapan",
    "bagaimana",
    "gimana",
    "kenapa",
    "mengapa",
    "sekitar",
    "dekat",
    "depan",
    "dusun",
    "padukuhan",
    "kalurahan",
    "desa",
    "kapanewon",
    "kecamatan",
    "kabupaten",
    "kulon",
    "progo",
    "kulonprogo",
    "wates",
    "rt",
    "rw",
    "no",
    "nya",
    "the",
    "lah",
    "kok",
    "ya",
    "iya",
    "jam",
    "hari",
    "minggu",
    "bulan",
    "tahun",
    "sekarang",
    "kemarin",
    "para",
    "oleh",
    "seperti",
    "agar",
    "supaya",
    "harus",
    "perlu",
    "dong",
    "nih",
    "sih",
    "deh",
    "buat",
    "sama",
    "jadi",
];

/// One complaint disposed before.
#[derive(Debug, Clone)]
struct Example {
    tracking_id: u64,
    title: String,
    opd: String,
    words: Vec<u32>,
    topic: Option<String>,
    kapanewon: Option<String>,
}

/// A similar past complaint and where it went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Similar {
    pub tracking_id: u64,
    pub title: String,
    pub opd: String,
    /// Similarity in percent (0-100).
    pub similarity: u32,
    /// The shared words that weigh most.
    pub shared: Vec<String>,
}

impl fmt::Display for Similar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} ({}% similar; {}): {}",
            self.tracking_id,
            self.opd,
            self.similarity,
            if self.shared.is_empty() {
                "no shared words".to_string()
            } else {
                self.shared.join(", ")
            },
            self.title
        )
    }
}

/// Past complaints indexed for similarity.
#[derive(Debug, Clone, Default)]
pub struct History {
    examples: Vec<Example>,
    vocab: HashMap<String, u32>,
    /// In how many examples each word occurs.
    df: Vec<u32>,
}

/// Similarity (percent) the best example needs before history may decide.
pub const DECIDE_MIN: u32 = 30;

fn content_words(c: &Complaint) -> Vec<String> {
    let mut w: Vec<String> = words(&c.judul)
        .into_iter()
        .chain(words(&c.isi))
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
        .filter(|w| !w.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    w.sort();
    w.dedup();
    w
}

impl History {
    /// Builds the index from `(complaint, OPD chosen for it)` pairs.
    pub fn new<'a>(examples: impl IntoIterator<Item = (&'a Complaint, String)>) -> History {
        let mut h = History::default();
        for (c, opd) in examples {
            let mut ids = Vec::new();
            for w in content_words(c) {
                let next = h.vocab.len() as u32;
                let id = *h.vocab.entry(w).or_insert(next);
                if id as usize == h.df.len() {
                    h.df.push(0);
                }
                h.df[id as usize] += 1;
                ids.push(id);
            }
            ids.sort_unstable();
            h.examples.push(Example {
                tracking_id: c.tracking_id,
                title: c.judul.clone(),
                opd,
                words: ids,
                topic: c.topik.as_ref().map(|t| t.id.trim().to_string()),
                kapanewon: c.kapanewon_code().map(str::to_string),
            });
        }
        h
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    fn idf(&self, id: u32) -> f64 {
        let n = self.examples.len() as f64;
        ((n + 1.0) / (self.df[id as usize] as f64 + 0.5))
            .ln()
            .max(0.1)
    }

    /// The `k` most similar examples (similarity above zero), most similar first; an
    /// example with the same tracking id as `c` is skipped.
    pub fn similar(&self, c: &Complaint, k: usize) -> Vec<Similar> {
        let words = content_words(c);
        let mine: Vec<u32> = words
            .iter()
            .filter_map(|w| self.vocab.get(w).copied())
            .collect();
        // Words unknown to the history still count in the complaint's weight.
        let unknown = (words.len() - mine.len()) as f64 * (self.examples.len() as f64 + 1.0).ln();
        let my_weight: f64 = mine.iter().map(|w| self.idf(*w)).sum::<f64>() + unknown;
        let topic = c.topik.as_ref().map(|t| t.id.trim());
        let kap = c.kapanewon_code();
        let mut scored: Vec<(f64, usize, Vec<u32>)> = Vec::new();
        for (i, e) in self.examples.iter().enumerate() {
            if e.tracking_id == c.tracking_id {
                continue;
            }
            let shared: Vec<u32> = mine
                .iter()
                .copied()
                .filter(|w| e.words.binary_search(w).is_ok())
                .collect();
            if shared.is_empty() {
                continue;
            }
            let inter: f64 = shared.iter().map(|w| self.idf(*w)).sum();
            let theirs: f64 = e.words.iter().map(|w| self.idf(*w)).sum();
            // Shared weight over the geometric mean of both weights (a cosine over
            // words present or not, each weighted by its rarity).
            let norm = (my_weight * theirs).sqrt();
            let mut sim = if norm > 0.0 { inter / norm } else { 0.0 };
            if topic.is_some() && e.topic.as_deref() == topic {
                sim += 0.10;
            }
            if kap.is_some() && e.kapanewon.as_deref() == kap {
                sim += 0.03;
            }
            scored.push((sim.min(1.0), i, shared));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let names: HashMap<u32, &str> = if scored.is_empty() {
            HashMap::new()
        } else {
            self.vocab.iter().map(|(w, i)| (*i, w.as_str())).collect()
        };
        scored
            .into_iter()
            .take(k)
            .map(|(sim, i, mut shared)| {
                let e = &self.examples[i];
                shared.sort_by(|a, b| self.idf(*b).total_cmp(&self.idf(*a)));
                Similar {
                    tracking_id: e.tracking_id,
                    title: e.title.clone(),
                    opd: e.opd.clone(),
                    similarity: (sim * 100.0).round() as u32,
                    shared: shared
                        .iter()
                        .take(4)
                        .map(|w| names[w].to_string())
                        .collect(),
                }
            })
            .collect()
    }

    /// The OPD similar past complaints agree on, when no rule decides: the most similar
    /// example is at least [`DECIDE_MIN`]% similar and, of the three most similar, those
    /// at least 20% similar all went to the same OPD (two of them at least, unless the
    /// best is 50% similar or more). The triage desk is never a decision.
    pub fn decide(&self, c: &Complaint) -> Option<String> {
        let top = self.similar(c, 3);
        let best = top.first()?;
        if best.similarity < DECIDE_MIN || best.opd == super::TRIAGE {
            return None;
        }
        let close: Vec<&Similar> = top.iter().filter(|s| s.similarity >= 20).collect();
        if close.iter().any(|s| s.opd != best.opd) {
            return None;
        }
        (close.len() >= 2 || best.similarity >= 50).then(|| best.opd.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Complaint, Status};
    use chrono::Utc;

    fn c(id: u64, judul: &str, isi: &str) -> Complaint {
        Complaint {
            tracking_id: id,
            rahasia: false,
            anonim: false,
            judul: judul.into(),
            isi: isi.into(),
            klasifikasi: None,
            topik: None,
            tags: Vec::new(),
            kanal: None,
            lokasi: None,
            pelapor: None,
            status: Status::BelumDitindaklanjuti,
            unit: None,
            dibuat: None,
            diperbarui: Utc::now(),
            lampiran: Vec::new(),
            thread: Vec::new(),
        }
    }

    #[test]
    fn similar_complaints_and_agreement() {
        let past = [
            c(
                1,
                "Anjing liar berkeliaran",
                "anjing liar menggigit anak di dusun",
            ),
            c(2, "anjing liar lagi", "kawanan anjing liar resahkan warga"),
            c(3, "Jalan berlubang", "jalan berlubang besar"),
            c(4, "KTP belum jadi", "rekam ktp sudah lama belum dicetak"),
            c(5, "Sampah menumpuk", "sampah di tps tidak diangkut"),
            c(6, "Lampu jalan mati", "lampu pju mati di perempatan"),
            c(7, "Pasar becek", "los pasar bocor dan becek"),
        ];
        let h = History::new(
            past.iter()
                .zip([
                    "DPP",
                    "DPP",
                    "DPUPKP",
                    "DISDUKCAPIL",
                    "DLH",
                    "DISHUB",
                    "DISDAG",
                ])
                .map(|(c, o)| (c, o.to_string())),
        );
        let new = c(
            9,
            "banyak anjing liar",
            "anjing liar menggonggong tiap malam",
        );
        let s = h.similar(&new, 3);
        assert_eq!(s[0].opd, "DPP", "{s:?}");
        assert!(s[0].shared.contains(&"anjing".to_string()));
        assert_eq!(h.decide(&new).as_deref(), Some("DPP"), "{s:?}");
        assert_eq!(h.decide(&c(10, "pertanyaan", "kapan dibuka")), None);
    }
}
