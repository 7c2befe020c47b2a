//! The OPD list the API validates against. Validating and queueing a follow-up, a status
//! change, a disposition, a retry or a discard is the push stage's job
//! ([`crate::push::input`]): the API calls the same functions as the command line, so
//! both accept and refuse exactly the same things.

use crate::mapping::Mappings;
use crate::push::input::OpdDirectory as Directory;
use chrono::NaiveDate;
use std::sync::Arc;

/// The OPDs of the mapping files in force when the server started.
#[derive(Clone, Debug)]
pub struct OpdDirectory(Arc<Mappings>);

impl OpdDirectory {
    /// The OPDs of `mappings` (validity is checked per request, on the day of the request).
    pub fn from_mappings(m: &Mappings, _day: NaiveDate) -> OpdDirectory {
        OpdDirectory(Arc::new(m.clone()))
    }

    /// What the mappings advise for a complaint at the triage desk.
    pub fn advise(&self, c: &crate::model::Complaint, day: NaiveDate) -> crate::mapping::Advice {
        self.0.advise(c, day)
    }
}

impl Directory for OpdDirectory {
    fn lookup(&self, code: &str) -> Option<crate::mapping::Opd> {
        self.0.lookup(code)
    }
}
