//! The simulated deployment's vocabulary: which topic ids (`gettopics`) and unit ids
//! (`getunits`) it serves, in which order, and which units are inactive. The world is
//! generated with canonical keys (the standard deployment's ids, see [`super::texts`]);
//! a [`Vocabulary`] turns them into the ids of the deployment being simulated and back.
//!
//! Two deployments exist: [`STANDARD`], whose ids the connector's example files in
//! `mappings/` use, and [`OTHER`], with the same names under different ids, served in a
//! different order, plus some inactive units with older names, as a second deployment of
//! the platform would. The simulator owns these tables; it never reads the connector's
//! mapping tables, so the connector cannot pass a test by sharing the simulator's ids.

use super::texts::{FIRST_UNIT_ID, TOPICS, UNITS};

/// One topic as a deployment serves it.
#[derive(Debug, Clone, Copy)]
pub struct SimTopic {
    /// The canonical key (the standard deployment's id).
    pub key: &'static str,
    pub id: &'static str,
    /// `"0"` at the root.
    pub parent: &'static str,
    pub name: &'static str,
}

/// One unit as a deployment serves it.
#[derive(Debug, Clone, Copy)]
pub struct SimUnit {
    /// The canonical unit (standard id, 2401 upward); `None` for an older, inactive unit
    /// that no complaint of the world names.
    pub key: Option<u32>,
    pub id: u32,
    pub name: &'static str,
    pub active: bool,
}

/// The vocabulary of one simulated deployment.
#[derive(Debug)]
pub struct Vocabulary {
    pub name: &'static str,
    topics: fn() -> Vec<SimTopic>,
    units: fn() -> Vec<SimUnit>,
}

/// The deployment of the connector's example files: topic ids 1 to 20 (41-43 and 61
/// below them), unit ids 2401 upward in the order of [`UNITS`].
pub static STANDARD: Vocabulary = Vocabulary {
    name: "standard",
    topics: standard_topics,
    units: standard_units,
};

/// Another deployment: topic ids 3xx, unit ids 7001 upward in another order, four older
/// units kept as inactive.
pub static OTHER: Vocabulary = Vocabulary {
    name: "other",
    topics: other_topics,
    units: other_units,
};

/// The vocabularies by name, for `sp4n-sim --vocabulary`.
pub const NAMES: &[&str] = &["standard", "other"];

impl Vocabulary {
    /// The vocabulary called `name` ([`NAMES`]).
    pub fn by_name(name: &str) -> Option<&'static Vocabulary> {
        match name.trim() {
            "standard" => Some(&STANDARD),
            "other" => Some(&OTHER),
            _ => None,
        }
    }

    /// The topics in the order `gettopics` serves them.
    pub fn topics(&self) -> Vec<SimTopic> {
        (self.topics)()
    }

    /// The units in the order `getunits` serves them.
    pub fn units(&self) -> Vec<SimUnit> {
        (self.units)()
    }

    /// The deployment's id of a canonical topic key.
    pub fn topic_id(&self, key: &str) -> String {
        self.topics()
            .iter()
            .find(|t| t.key == key)
            .map_or_else(|| key.to_string(), |t| t.id.to_string())
    }

    /// The canonical key of a deployment topic id.
    pub fn topic_key(&self, id: &str) -> Option<&'static str> {
        let id = id.trim();
        self.topics().iter().find(|t| t.id == id).map(|t| t.key)
    }

    /// The name of a deployment topic id.
    pub fn topic_name(&self, id: &str) -> Option<&'static str> {
        let id = id.trim();
        self.topics().iter().find(|t| t.id == id).map(|t| t.name)
    }

    /// The deployment's id of a canonical unit.
    pub fn unit_id(&self, key: u32) -> String {
        self.units()
            .iter()
            .find(|u| u.key == Some(key))
            .map_or_else(|| key.to_string(), |u| u.id.to_string())
    }

    /// The deployment unit with this id.
    pub fn unit(&self, id: &str) -> Option<SimUnit> {
        let n: u32 = id.trim().parse().ok()?;
        self.units().into_iter().find(|u| u.id == n)
    }
}

fn standard_topics() -> Vec<SimTopic> {
    TOPICS
        .iter()
        .map(|(id, parent, name)| SimTopic {
            key: id,
            id,
            parent,
            name,
        })
        .collect()
}

fn standard_units() -> Vec<SimUnit> {
    UNITS
        .iter()
        .enumerate()
        .map(|(i, name)| SimUnit {
            key: Some(FIRST_UNIT_ID + i as u32),
            id: FIRST_UNIT_ID + i as u32,
            name,
            active: true,
        })
        .collect()
}

/// (canonical key, other id) in the order the other deployment serves them: sub-topics
/// before their parents, ids unrelated to the standard ones.
const OTHER_TOPIC_IDS: &[(&str, &str)] = &[
    ("2", "301"),
    ("41", "331"),
    ("4", "302"),
    ("11", "303"),
    ("61", "341"),
    ("6", "304"),
    ("13", "305"),
    ("9", "306"),
    ("14", "307"),
    ("1", "308"),
    ("7", "309"),
    ("15", "310"),
    ("5", "311"),
    ("10", "312"),
    ("17", "313"),
    ("12", "314"),
    ("3", "315"),
    ("16", "316"),
    ("8", "317"),
    ("18", "318"),
    ("42", "332"),
    ("43", "333"),
    ("19", "319"),
    ("20", "399"),
];

fn other_topics() -> Vec<SimTopic> {
    let other = |key: &str| {
        OTHER_TOPIC_IDS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("0", |(_, id)| *id)
    };
    OTHER_TOPIC_IDS
        .iter()
        .filter_map(|(key, id)| {
            let (_, parent, name) = TOPICS.iter().find(|t| t.0 == *key)?;
            Some(SimTopic {
                key,
                id,
                parent: if *parent == "0" { "0" } else { other(parent) },
                name,
            })
        })
        .collect()
}

/// Older units the other deployment still lists, inactive since a reorganisation.
const OTHER_OLD_UNITS: &[(u32, &str)] = &[
    (6904, "Dinas Pekerjaan Umum"),
    (6911, "Dinas Kebudayaan"),
    (6918, "Badan Lingkungan Hidup"),
    (6932, "Kecamatan Wates"),
];

fn other_units() -> Vec<SimUnit> {
    let n = UNITS.len() as u32;
    let mut out: Vec<SimUnit> = UNITS
        .iter()
        .enumerate()
        .map(|(i, name)| SimUnit {
            key: Some(FIRST_UNIT_ID + i as u32),
            // 17 is prime to 42: a permutation of 7001..=7042.
            id: 7001 + (i as u32 * 17) % n,
            name,
            active: true,
        })
        .collect();
    out.extend(OTHER_OLD_UNITS.iter().map(|(id, name)| SimUnit {
        key: None,
        id: *id,
        name,
        active: false,
    }));
    // Served by id, which is not the standard order.
    out.sort_by_key(|u| u.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn other_has_the_same_names_under_other_ids() {
        for v in [&STANDARD, &OTHER] {
            let ids: HashSet<u32> = v.units().iter().map(|u| u.id).collect();
            assert_eq!(ids.len(), v.units().len(), "unit ids are unique");
            let tids: HashSet<&str> = v.topics().iter().map(|t| t.id).collect();
            assert_eq!(tids.len(), v.topics().len(), "topic ids are unique");
        }
        for t in STANDARD.topics() {
            let id = OTHER.topic_id(t.key);
            assert_ne!(id, t.id);
            assert_eq!(OTHER.topic_name(&id), Some(t.name));
            assert_eq!(OTHER.topic_key(&id), Some(t.key));
        }
        for u in STANDARD.units() {
            let id = OTHER.unit_id(u.id);
            assert_ne!(id, u.id.to_string());
            let o = OTHER.unit(&id).unwrap();
            assert_eq!((o.name, o.active, o.key), (u.name, true, Some(u.id)));
        }
        assert_eq!(OTHER.units().iter().filter(|u| !u.active).count(), 4);
        // The order differs too.
        let first: Vec<&str> = OTHER.topics().iter().take(3).map(|t| t.name).collect();
        let std_first: Vec<&str> = STANDARD.topics().iter().take(3).map(|t| t.name).collect();
        assert_ne!(first, std_first);
    }
}
