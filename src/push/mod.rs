//! The push stage: delivers what Kulon Progo decided locally (dispositions, follow-ups,
//! status changes, locally received complaints) to the platform, exactly once and in order.
//!
//! It owns the delivery loop over the store's outbox: only the oldest unfinished entry of
//! a complaint is sent; an entry is marked in flight on disk before its request leaves; a
//! lost answer is resolved by reading the complaint back ([`policy::read_back`]) instead of
//! sending again; temporary failures back off, conflicts are held for a person.

pub mod policy;
