//! What the platform decided stands. A complaint that arrives already disposed upstream
//! to a unit that maps to a local OPD is routed to that OPD (recorded as by the
//! platform); the rules route only complaints without a unit, or whose unit maps to no
//! OPD. `auto_dispose` only disposes complaints that have no unit. A disposition still
//! queued when the platform disposes the complaint to another unit is held for a person,
//! never sent over the platform's decision ([`hold_overridden`] in the pull, and
//! [`disposition_overridden`] for the push loop to check before sending).

use super::{RouteDecision, Router};
use crate::model::{Complaint, Status};
use crate::store::{OutboxEntry, OutboxState, RoutedBy, Store, StoreError, StoredComplaint};
use crate::upstream::WriteAction;

/// The rule id recorded when the platform's unit decided the routing at first sight.
pub const PLATFORM_RULE: &str = "platform-unit";

/// Where a complaint seen for the first time is routed, and who decided.
pub fn initial_route(router: &dyn Router, c: &Complaint) -> (RouteDecision, RoutedBy) {
    if let Some(unit) = c
        .unit
        .as_ref()
        .map(|u| u.id.trim())
        .filter(|u| !u.is_empty())
        && let Some(opd) = router.opd_for_unit(unit)
    {
        return (
            RouteDecision {
                opd,
                rule_id: PLATFORM_RULE.into(),
            },
            RoutedBy::Platform,
        );
    }
    (router.route(c), RoutedBy::Rules)
}

/// True when `auto_dispose` may queue a disposition for `c`: open, and no unit set by
/// the platform.
pub fn may_auto_dispose(c: &Complaint) -> bool {
    matches!(c.status, Status::BelumDitindaklanjuti | Status::Proses)
        && c.unit.as_ref().is_none_or(|u| u.id.trim().is_empty())
}

/// The reason to hold `entry` instead of sending it: it is a disposition not yet done,
/// the platform has since disposed the complaint to another unit, and the local routing
/// followed the platform after the entry was queued. `None`: send as usual.
///
/// For the push loop: call it with the stored complaint before sending a `Disposisi`
/// and hold the entry with the reason when it returns `Some`.
pub fn disposition_overridden(entry: &OutboxEntry, current: &StoredComplaint) -> Option<String> {
    let WriteAction::Disposisi { unit, .. } = &entry.request.action else {
        return None;
    };
    if entry.state.is_finished() {
        return None;
    }
    let now = current.complaint.unit.as_ref()?;
    if now.id.trim() == unit.trim() {
        return None;
    }
    let followed = current.routing.as_ref().is_some_and(|r| {
        matches!(r.by, RoutedBy::Upstream | RoutedBy::Platform) && r.routed_at >= entry.requested_at
    });
    followed.then(|| overridden_reason(current.tracking_id(), unit, &now.id, &now.name))
}

fn overridden_reason(tid: u64, queued: &str, unit: &str, name: &str) -> String {
    format!(
        "the platform disposed complaint {tid} to unit {unit} ({name}) after this disposition to unit {queued} was queued; it was not sent. Keep the platform's decision with `sp4n outbox discard`, or send it anyway with `sp4n outbox retry`"
    )
}

/// Holds every queued, unsent disposition of complaint `tid` to a unit other than
/// `unit`, which the platform just set. Returns how many were held.
pub fn hold_overridden(
    store: &Store,
    tid: u64,
    unit: &str,
    unit_name: &str,
) -> Result<usize, StoreError> {
    let mut held = 0;
    for mut e in store.outbox_unfinished()? {
        let WriteAction::Disposisi {
            tracking_id,
            unit: queued,
            ..
        } = &e.request.action
        else {
            continue;
        };
        if *tracking_id != tid
            || queued.trim() == unit.trim()
            || !matches!(e.state, OutboxState::Pending)
        {
            continue;
        }
        let reason = overridden_reason(tid, queued, unit, unit_name);
        tracing::warn!(
            tracking_id = tid,
            seq = e.seq,
            "The platform disposed the complaint elsewhere; holding the queued disposition."
        );
        e.state = OutboxState::Held {
            reason,
            upstream_status: None,
        };
        store.update_entry(&e)?;
        held += 1;
    }
    Ok(held)
}
