//! The simulator's clock: the real wall clock, or a clock that tests drive by setting and
//! advancing it. Instants are whole seconds (the platform writes second precision).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::sync::Mutex;

/// Where the simulator's time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// The machine's wall clock.
    Real,
    /// Starts at the given instant and moves only when told to.
    Driven(DateTime<Utc>),
}

/// A clock, real or driven.
#[derive(Debug)]
pub struct Clock {
    driven: Option<Mutex<DateTime<Utc>>>,
}

impl Clock {
    pub fn new(mode: ClockMode) -> Clock {
        match mode {
            ClockMode::Real => Clock { driven: None },
            ClockMode::Driven(t) => Clock {
                driven: Some(Mutex::new(t.trunc_subsecs(0))),
            },
        }
    }

    pub fn is_driven(&self) -> bool {
        self.driven.is_some()
    }

    /// The current instant, truncated to whole seconds.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.driven {
            Some(m) => *m.lock().unwrap_or_else(|e| e.into_inner()),
            None => Utc::now().trunc_subsecs(0),
        }
    }

    /// Sets a driven clock; a real clock cannot be set (returns false).
    pub fn set(&self, t: DateTime<Utc>) -> bool {
        match &self.driven {
            Some(m) => {
                *m.lock().unwrap_or_else(|e| e.into_inner()) = t.trunc_subsecs(0);
                true
            }
            None => false,
        }
    }

    /// Moves a driven clock forward (or back) by `d`; returns the new time.
    pub fn advance(&self, d: Duration) -> Option<DateTime<Utc>> {
        let m = self.driven.as_ref()?;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        *g = (*g + d).trunc_subsecs(0);
        Some(*g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driven_clock_moves_only_when_told() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T08:00:00+07:00")
            .unwrap()
            .with_timezone(&Utc);
        let c = Clock::new(ClockMode::Driven(t));
        assert_eq!(c.now(), t);
        assert_eq!(c.advance(Duration::hours(2)), Some(t + Duration::hours(2)));
        assert!(c.set(t));
        assert_eq!(c.now(), t);
        let r = Clock::new(ClockMode::Real);
        assert!(!r.set(t));
        assert!(r.advance(Duration::hours(1)).is_none());
    }
}
