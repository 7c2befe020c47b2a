//! The platform's vocabulary: the topic tree (`gettopics`) and the instansi's units
//! (`getunits`) of the deployment the connector talks to. Ids belong to the deployment:
//! they differ between deployments and change over time, so the connector never trusts a
//! built-in list. This module owns reading them from the platform (at the first pull,
//! then daily, and on demand), keeping the last copy in the store with the time it was
//! read, and saying what changed upstream since the copy before (topic added, renamed or
//! removed; unit added, renamed, deactivated or removed). Every path that checks or
//! routes takes its topics and units from here; before the first fetch only the shipped
//! example tree is available, and callers say so.

use crate::model::{Topic, Unit};
use crate::store::{Store, StoreError};
use crate::upstream::{Client, UpstreamError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const META_VOCABULARY: &[u8] = b"platform_vocabulary";
const META_CHANGES: &[u8] = b"platform_vocabulary_changes";

/// How old the stored vocabulary may grow before a pull reads it again.
pub const REFRESH_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// The warning every command shows while no vocabulary was ever fetched.
pub const NOT_FETCHED: &str = "the platform's topics and units were never fetched: topic names and ids are checked against the example tree shipped with sp4n, which may not be the platform's; run `sp4n pull` (or `sp4n mappings topics`) once to fetch them";

/// The topics and units of the platform, as read at `fetched_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    pub topics: Vec<Topic>,
    pub units: Vec<Unit>,
    pub fetched_at: DateTime<Utc>,
}

/// One difference between two readings of the vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    TopicAdded {
        id: String,
        name: String,
    },
    TopicRenamed {
        id: String,
        from: String,
        to: String,
    },
    TopicRemoved {
        id: String,
        name: String,
    },
    UnitAdded {
        id: String,
        name: String,
    },
    UnitRenamed {
        id: String,
        from: String,
        to: String,
    },
    UnitDeactivated {
        id: String,
        name: String,
    },
    UnitReactivated {
        id: String,
        name: String,
    },
    UnitRemoved {
        id: String,
        name: String,
    },
}

impl std::fmt::Display for Change {
    /// In Bahasa Indonesia: administrators read it in run reports and `status`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::TopicAdded { id, name } => write!(f, "topik baru {id} \"{name}\""),
            Change::TopicRenamed { id, from, to } => {
                write!(f, "topik {id} berganti nama: \"{from}\" -> \"{to}\"")
            }
            Change::TopicRemoved { id, name } => write!(f, "topik {id} \"{name}\" dihapus"),
            Change::UnitAdded { id, name } => write!(f, "unit baru {id} \"{name}\""),
            Change::UnitRenamed { id, from, to } => {
                write!(f, "unit {id} berganti nama: \"{from}\" -> \"{to}\"")
            }
            Change::UnitDeactivated { id, name } => {
                write!(f, "unit {id} \"{name}\" dinonaktifkan")
            }
            Change::UnitReactivated { id, name } => {
                write!(f, "unit {id} \"{name}\" aktif kembali")
            }
            Change::UnitRemoved { id, name } => write!(f, "unit {id} \"{name}\" dihapus"),
        }
    }
}

/// The changes found by the last refresh that found any, for `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub at: DateTime<Utc>,
    pub changes: Vec<Change>,
}

/// What a refresh did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refreshed {
    pub vocabulary: Vocabulary,
    /// Empty on the first fetch and when nothing changed.
    pub changes: Vec<Change>,
    pub first: bool,
}

/// Why the vocabulary could not be refreshed.
#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    #[error("reading {what} from the platform failed: {source}")]
    Upstream {
        what: &'static str,
        #[source]
        source: UpstreamError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VocabularyError {
    /// What to do next, for people.
    pub fn guidance(&self) -> String {
        match self {
            VocabularyError::Upstream { source, .. } => source.guidance().to_string(),
            VocabularyError::Store(_) => {
                "check the store folder (sp4n store check) and run again".into()
            }
        }
    }
}

/// The vocabulary last fetched, if any.
pub fn stored(store: &Store) -> Result<Option<Vocabulary>, StoreError> {
    store.get_meta(META_VOCABULARY)
}

/// The changes the last refresh that found any reported.
pub fn last_changes(store: &Store) -> Result<Option<ChangeRecord>, StoreError> {
    store.get_meta(META_CHANGES)
}

/// True when `v` is missing or older than [`REFRESH_AFTER`] at `now`.
pub fn due(v: Option<&Vocabulary>, now: DateTime<Utc>) -> bool {
    v.is_none_or(|v| now - v.fetched_at >= REFRESH_AFTER)
}

/// Reads both lists from the platform.
pub async fn fetch(client: &Client, now: DateTime<Utc>) -> Result<Vocabulary, VocabularyError> {
    let topics = client
        .get_topics()
        .await
        .map_err(|source| VocabularyError::Upstream {
            what: "gettopics",
            source,
        })?;
    let units = client
        .get_units()
        .await
        .map_err(|source| VocabularyError::Upstream {
            what: "getunits",
            source,
        })?;
    Ok(Vocabulary {
        topics,
        units,
        fetched_at: now,
    })
}

/// Keeps `fresh` as the vocabulary in force and returns what changed since the stored one.
pub fn record(store: &Store, fresh: Vocabulary) -> Result<Refreshed, StoreError> {
    let old = stored(store)?;
    let changes = old.as_ref().map(|o| diff(o, &fresh)).unwrap_or_default();
    store.put_meta(META_VOCABULARY, &fresh)?;
    if !changes.is_empty() {
        store.put_meta(
            META_CHANGES,
            &ChangeRecord {
                at: fresh.fetched_at,
                changes: changes.clone(),
            },
        )?;
    }
    store.flush()?;
    Ok(Refreshed {
        first: old.is_none(),
        vocabulary: fresh,
        changes,
    })
}

/// Fetches and records the vocabulary when `force` or when it is [`due`]; `None` when the
/// stored one is fresh enough.
pub async fn refresh(
    store: &Store,
    client: &Client,
    now: DateTime<Utc>,
    force: bool,
) -> Result<Option<Refreshed>, VocabularyError> {
    let current = store.run(stored).await?;
    if !force && !due(current.as_ref(), now) {
        return Ok(None);
    }
    let fresh = fetch(client, now).await?;
    let out = store.run(move |s| record(s, fresh)).await?;
    Ok(Some(out))
}

/// What differs from `old` to `new`, topics first, each list in the platform's order.
pub fn diff(old: &Vocabulary, new: &Vocabulary) -> Vec<Change> {
    let mut out = Vec::new();
    let ot: HashMap<&str, &Topic> = old.topics.iter().map(|t| (t.id.trim(), t)).collect();
    let nt: HashMap<&str, &Topic> = new.topics.iter().map(|t| (t.id.trim(), t)).collect();
    for t in &new.topics {
        match ot.get(t.id.trim()) {
            None => out.push(Change::TopicAdded {
                id: t.id.clone(),
                name: t.name.clone(),
            }),
            Some(o) if o.name.trim() != t.name.trim() => out.push(Change::TopicRenamed {
                id: t.id.clone(),
                from: o.name.clone(),
                to: t.name.clone(),
            }),
            Some(_) => {}
        }
    }
    for t in &old.topics {
        if !nt.contains_key(t.id.trim()) {
            out.push(Change::TopicRemoved {
                id: t.id.clone(),
                name: t.name.clone(),
            });
        }
    }
    let ou: HashMap<&str, &Unit> = old.units.iter().map(|u| (u.id.trim(), u)).collect();
    let nu: HashMap<&str, &Unit> = new.units.iter().map(|u| (u.id.trim(), u)).collect();
    for u in &new.units {
        let (id, name) = (u.id.clone(), u.name.clone());
        match ou.get(u.id.trim()) {
            None => out.push(Change::UnitAdded { id, name }),
            Some(o) => {
                if o.name.trim() != u.name.trim() {
                    out.push(Change::UnitRenamed {
                        id: id.clone(),
                        from: o.name.clone(),
                        to: name.clone(),
                    });
                }
                match (o.active, u.active) {
                    (true, false) => out.push(Change::UnitDeactivated { id, name }),
                    (false, true) => out.push(Change::UnitReactivated { id, name }),
                    _ => {}
                }
            }
        }
    }
    for u in &old.units {
        if !nu.contains_key(u.id.trim()) {
            out.push(Change::UnitRemoved {
                id: u.id.clone(),
                name: u.name.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, name: &str) -> Topic {
        Topic {
            id: id.into(),
            parent: "0".into(),
            name: name.into(),
        }
    }
    fn u(id: &str, name: &str, active: bool) -> Unit {
        Unit {
            id: id.into(),
            name: name.into(),
            active,
        }
    }

    #[test]
    fn diff_names_every_kind_of_change() {
        let at = Utc::now();
        let old = Vocabulary {
            topics: vec![t("1", "Kesehatan"), t("2", "Sosial")],
            units: vec![u("10", "Dinas A", true), u("11", "Dinas B", true)],
            fetched_at: at,
        };
        let new = Vocabulary {
            topics: vec![t("1", "Kesehatan Masyarakat"), t("3", "Pajak")],
            units: vec![u("10", "Dinas A Baru", false), u("12", "Dinas C", true)],
            fetched_at: at,
        };
        let d: Vec<String> = diff(&old, &new).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            d,
            [
                "topik 1 berganti nama: \"Kesehatan\" -> \"Kesehatan Masyarakat\"",
                "topik baru 3 \"Pajak\"",
                "topik 2 \"Sosial\" dihapus",
                "unit 10 berganti nama: \"Dinas A\" -> \"Dinas A Baru\"",
                "unit 10 \"Dinas A Baru\" dinonaktifkan",
                "unit baru 12 \"Dinas C\"",
                "unit 11 \"Dinas B\" dihapus",
            ]
        );
        assert!(diff(&old, &old).is_empty());
        assert!(due(None, at));
        assert!(!due(Some(&old), at + chrono::Duration::hours(23)));
        assert!(due(Some(&old), at + chrono::Duration::hours(24)));
    }
}
