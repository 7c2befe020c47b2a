//! The world the mapping files are checked against: the topic tree (the platform's, from
//! `gettopics` via [`super::vocabulary`]; before the first fetch, the example tree shipped
//! with sp4n, [`MODELLED_TOPICS`]), resolving a rule's topic by id or by a path of names,
//! and Kulon Progo's region codes (kapanewon `34.01.xx`, kalurahan `34.01.xx.2nnn`, the
//! kelurahan Wates `34.01.02.1001`).

use crate::model::Topic;
use std::collections::HashMap;

/// The example topic tree shipped with sp4n (the ids of the example files in `mappings/`):
/// (id, parent, name); parent "0" is the root. Used only until the platform's own tree
/// has been fetched.
pub const MODELLED_TOPICS: &[(&str, &str, &str)] = &[
    ("1", "0", "Administrasi Kependudukan"),
    ("2", "0", "Kesehatan"),
    ("3", "0", "Pendidikan"),
    ("4", "0", "Pekerjaan Umum dan Penataan Ruang"),
    ("41", "4", "Jalan dan Jembatan"),
    ("42", "4", "Drainase"),
    ("43", "4", "Penerangan Jalan Umum"),
    ("5", "0", "Perhubungan"),
    ("6", "0", "Lingkungan Hidup dan Kehutanan"),
    ("61", "6", "Sampah"),
    ("7", "0", "Sosial"),
    ("8", "0", "Ketenagakerjaan"),
    ("9", "0", "Pertanian dan Pangan"),
    ("10", "0", "Perizinan dan Penanaman Modal"),
    ("11", "0", "Pariwisata dan Kebudayaan"),
    ("12", "0", "Ketenteraman dan Ketertiban Umum"),
    ("13", "0", "Penanggulangan Bencana"),
    ("14", "0", "Komunikasi dan Informatika"),
    ("15", "0", "Pemerintahan Kalurahan dan Dana Desa"),
    ("16", "0", "Kepegawaian"),
    ("17", "0", "Keuangan dan Pajak Daerah"),
    ("18", "0", "Perdagangan dan UMKM"),
    ("19", "0", "Kelautan dan Perikanan"),
    ("20", "0", "Lainnya"),
];

/// The modelled tree as [`Topic`]s.
pub fn modelled_topics() -> Vec<Topic> {
    MODELLED_TOPICS
        .iter()
        .map(|(id, parent, name)| Topic {
            id: id.to_string(),
            parent: parent.to_string(),
            name: name.to_string(),
        })
        .collect()
}

/// A topic tree indexed for routing: each topic has a dense index; ancestors are
/// precomputed so "a topic matches its descendants" is a lookup.
#[derive(Debug, Clone)]
pub struct TopicTree {
    ids: Vec<String>,
    names: Vec<String>,
    index: HashMap<String, u32>,
    /// For each topic, itself and all its ancestors (indices).
    lineage: Vec<Vec<u32>>,
}

impl TopicTree {
    pub fn new(topics: &[Topic]) -> TopicTree {
        let mut index = HashMap::new();
        let mut ids = Vec::new();
        let mut names = Vec::new();
        for t in topics {
            if index.contains_key(&t.id) {
                continue;
            }
            index.insert(t.id.clone(), ids.len() as u32);
            ids.push(t.id.clone());
            names.push(t.name.clone());
        }
        let parent: HashMap<&str, &str> = topics
            .iter()
            .map(|t| (t.id.as_str(), t.parent.as_str()))
            .collect();
        let lineage = ids
            .iter()
            .map(|id| {
                let mut chain = vec![index[id]];
                let mut cur = id.as_str();
                // Bounded walk: a cyclic tree from upstream must not hang us.
                for _ in 0..ids.len() {
                    match parent
                        .get(cur)
                        .and_then(|p| index.get(*p).map(|i| (*p, *i)))
                    {
                        Some((p, i)) if !chain.contains(&i) => {
                            chain.push(i);
                            cur = p;
                        }
                        _ => break,
                    }
                }
                chain
            })
            .collect();
        TopicTree {
            ids,
            names,
            index,
            lineage,
        }
    }

    pub fn modelled() -> TopicTree {
        TopicTree::new(&modelled_topics())
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub fn id(&self, i: u32) -> &str {
        &self.ids[i as usize]
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The topic and its ancestors, nearest first.
    pub fn lineage(&self, i: u32) -> &[u32] {
        &self.lineage[i as usize]
    }

    /// True when `t` is `ancestor` or lies below it.
    pub fn within(&self, t: u32, ancestor: u32) -> bool {
        self.lineage[t as usize].contains(&ancestor)
    }

    /// The names from the root down to `i`, joined by `/` (how rules name a topic).
    pub fn path(&self, i: u32) -> String {
        let mut names: Vec<&str> = self.lineage(i).iter().map(|a| self.name(*a)).collect();
        names.reverse();
        names.join("/")
    }

    /// Every topic index, in the platform's order.
    pub fn indices(&self) -> impl Iterator<Item = u32> + '_ {
        0..self.ids.len() as u32
    }

    /// Finds a topic named by id (digits) or by a path of names (`"Pekerjaan Umum dan
    /// Penataan Ruang/Jalan dan Jembatan"`), case- and accent-insensitive; a path may
    /// leave out leading ancestors when what remains names one topic.
    pub fn resolve(&self, name: &str) -> Result<u32, TopicMiss> {
        let name = name.trim();
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            return self.get(name).ok_or(TopicMiss::UnknownId);
        }
        let want: Vec<String> = name
            .split('/')
            .map(super::text::normalize)
            .filter(|s| !s.is_empty())
            .collect();
        if want.is_empty() {
            return Err(TopicMiss::UnknownName { suggestion: None });
        }
        let found: Vec<u32> = self
            .indices()
            .filter(|i| {
                let chain = self.lineage(*i);
                chain.len() >= want.len()
                    && want
                        .iter()
                        .rev()
                        .zip(chain)
                        .all(|(w, a)| super::text::normalize(self.name(*a)) == *w)
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(TopicMiss::UnknownName {
                suggestion: self.suggest(&want),
            }),
            many => Err(TopicMiss::Ambiguous {
                paths: many.iter().map(|i| self.path(*i)).collect(),
            }),
        }
    }

    /// The path of names closest to `want` (normalised), when one is close enough.
    fn suggest(&self, want: &[String]) -> Option<String> {
        // The last name alone names a topic: the ancestors were wrong.
        let last = want.last()?;
        if let Some(i) = self
            .indices()
            .find(|i| super::text::normalize(self.name(*i)) == *last)
        {
            return Some(self.path(i));
        }
        let want = want.join("/");
        let want = want.as_str();
        self.indices()
            .flat_map(|i| {
                let full = self.path(i);
                let leaf = self.name(i).to_string();
                [(full.clone(), full), (leaf, self.path(i))]
            })
            .map(|(cand, path)| {
                let norm: Vec<String> = cand.split('/').map(super::text::normalize).collect();
                (distance(want, &norm.join("/")), path)
            })
            .filter(|(d, _)| *d <= 3.max(want.chars().count() / 3))
            .min_by_key(|(d, _)| *d)
            .map(|(_, p)| p)
    }
}

/// Why a topic named in a rule was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicMiss {
    UnknownId,
    UnknownName { suggestion: Option<String> },
    Ambiguous { paths: Vec<String> },
}

/// Edit distance in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Kapanewon of Kulon Progo: (code, name, number of kalurahan numbered 2001 upward).
pub const KAPANEWON: &[(&str, &str, u32)] = &[
    ("34.01.01", "Temon", 15),
    ("34.01.02", "Wates", 7),
    ("34.01.03", "Panjatan", 11),
    ("34.01.04", "Galur", 7),
    ("34.01.05", "Lendah", 6),
    ("34.01.06", "Sentolo", 8),
    ("34.01.07", "Pengasih", 7),
    ("34.01.08", "Kokap", 5),
    ("34.01.09", "Girimulyo", 4),
    ("34.01.10", "Nanggulan", 6),
    ("34.01.11", "Samigaluh", 7),
    ("34.01.12", "Kalibawang", 4),
];

/// The one urban kelurahan: Wates.
pub const KELURAHAN_WATES: &str = "34.01.02.1001";

/// Checks a location code used in a rule or an OPD entry. `Ok` carries nothing; `Err`
/// says what is wrong in a sentence.
pub fn check_location(code: &str) -> Result<(), String> {
    let parts: Vec<&str> = code.split('.').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let shape_ok = match parts.as_slice() {
        [a] => digits(a, 2),
        [a, b] => digits(a, 2) && digits(b, 2),
        [a, b, c] => digits(a, 2) && digits(b, 2) && digits(c, 2),
        [a, b, c, d] => digits(a, 2) && digits(b, 2) && digits(c, 2) && digits(d, 4),
        _ => false,
    };
    if !shape_ok {
        return Err(format!(
            "'{code}' is not a region code (expected 34.01.xx for a kapanewon or 34.01.xx.xxxx for a kalurahan)"
        ));
    }
    if parts[0] != "34" || parts.get(1).is_some_and(|p| *p != "01") {
        return Err(format!("'{code}' is outside Kabupaten Kulon Progo (34.01)"));
    }
    if parts.len() < 3 {
        return Ok(());
    }
    let kap = format!("34.01.{}", parts[2]);
    let Some((_, _, count)) = KAPANEWON.iter().find(|(k, _, _)| *k == kap) else {
        return Err(format!(
            "'{code}': {kap} is not a kapanewon of Kulon Progo (34.01.01 to 34.01.12)"
        ));
    };
    if let Some(kal) = parts.get(3) {
        let n: u32 = kal.parse().unwrap_or(0);
        let known = (2001..2001 + count).contains(&n) || code == KELURAHAN_WATES;
        if !known {
            return Err(format!(
                "'{code}': kapanewon {kap} has kalurahan {kap}.2001 to {kap}.{}{}",
                2000 + count,
                if kap == "34.01.02" {
                    " and the kelurahan 34.01.02.1001"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}

/// True when `code` lies within `prefix`, segment by segment (`34.01.01` covers
/// `34.01.01.2003` but not `34.01.010`).
pub fn location_within(code: &str, prefix: &str) -> bool {
    code.starts_with(prefix)
        && (code.len() == prefix.len() || code.as_bytes()[prefix.len()] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_and_locations() {
        let t = TopicTree::modelled();
        let (pu, jalan, sosial) = (
            t.get("4").unwrap(),
            t.get("41").unwrap(),
            t.get("7").unwrap(),
        );
        assert!(t.within(jalan, pu));
        assert!(t.within(pu, pu));
        assert!(!t.within(pu, jalan));
        assert!(!t.within(jalan, sosial));
        assert!(check_location("34.01.02.1001").is_ok());
        assert!(check_location("34.01.12.2004").is_ok());
        assert!(check_location("34.01.12.2005").is_err());
        assert!(check_location("34.01.13").is_err());
        assert!(check_location("34.1.02").is_err());
        assert!(check_location("34.02.01").is_err());
        assert!(location_within("34.01.01.2003", "34.01.01"));
        let path = "Pekerjaan Umum dan Penataan Ruang/Jalan dan Jembatan";
        assert_eq!(t.resolve(path), Ok(jalan));
        assert_eq!(
            t.resolve("pekerjaan umum dan penataan ruang / JALAN DAN JEMBATAN"),
            Ok(jalan)
        );
        assert_eq!(t.resolve("Jalan dan Jembátan"), Ok(jalan));
        assert_eq!(t.resolve("41"), Ok(jalan));
        assert_eq!(t.path(jalan), path);
        assert_eq!(t.resolve("99"), Err(TopicMiss::UnknownId));
        assert_eq!(
            t.resolve("Pekerjaan Umum/Jalan dan Jembatan"),
            Err(TopicMiss::UnknownName {
                suggestion: Some(path.to_string())
            })
        );
        assert_eq!(
            t.resolve("Jalan dan Jembatn"),
            Err(TopicMiss::UnknownName {
                suggestion: Some(path.to_string())
            })
        );
        assert!(!location_within("34.01.010", "34.01.01"));
    }
}
