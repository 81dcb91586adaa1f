//! Between the engine's rule schema and its WIT form. The two describe the same data; WIT
//! spells enums as variants and ids as strings.

use super::bindings::latchkey::rules::types as wit;
use crate::rules::{Channel, EventType, Notify, Plan, RuleError, RuleInput, RuleLimits};
use crate::{
    Connectivity, CredentialKind, DoorKind, Grant, Lock, LockId, ReservationStatus, Resource,
    ResourceKind, Timestamp, WhenFull, WindowPrecision,
};

/// The WIT form of a rule input.
pub(super) fn input(i: &RuleInput) -> wit::RuleInput {
    let r = &i.reservation;
    let p = &i.property;
    wit::RuleInput {
        event: wit::Event {
            kind: event_type(i.event.kind),
            received_at: i.event.received_at.unix(),
        },
        reservation: wit::Reservation {
            id: r.id.to_string(),
            status: status(r.status),
            resources: r.resources.iter().map(ToString::to_string).collect(),
            check_in: r.check_in.unix(),
            check_out: r.check_out.unix(),
            checked_out_at: r.checked_out_at.map(Timestamp::unix),
            guest: wit::Guest {
                name: r.guest.name.clone(),
                email: r.guest.email.clone(),
                phone: r.guest.phone.clone(),
                locale: r.guest.locale.clone(),
            },
            version: r.version,
        },
        property: wit::Property {
            id: p.id.to_string(),
            name: p.name.clone(),
            timezone: p.timezone.name().to_owned(),
            check_in_time: p.check_in_time.to_string(),
            check_out_time: p.check_out_time.to_string(),
            day_use_start: p.day_use_start.to_string(),
            day_use_end: p.day_use_end.to_string(),
            requires_payment: p.requires_payment,
        },
        resources: i.resources.iter().map(resource).collect(),
        locks: i.locks.iter().map(lock).collect(),
        now: i.now.unix(),
    }
}

fn event_type(t: EventType) -> wit::EventType {
    match t {
        EventType::Confirmed => wit::EventType::Confirmed,
        EventType::Paid => wit::EventType::Paid,
        EventType::StartsSoon => wit::EventType::StartsSoon,
        EventType::Modified => wit::EventType::Modified,
        EventType::Cancelled => wit::EventType::Cancelled,
        EventType::NoShow => wit::EventType::NoShow,
        EventType::CheckedOut => wit::EventType::CheckedOut,
    }
}

fn status(s: ReservationStatus) -> wit::ReservationStatus {
    match s {
        ReservationStatus::Confirmed => wit::ReservationStatus::Confirmed,
        ReservationStatus::Paid => wit::ReservationStatus::Paid,
        ReservationStatus::Cancelled => wit::ReservationStatus::Cancelled,
        ReservationStatus::NoShow => wit::ReservationStatus::NoShow,
        ReservationStatus::CheckedOut => wit::ReservationStatus::CheckedOut,
    }
}

fn resource(r: &Resource) -> wit::Resource {
    wit::Resource {
        id: r.id.to_string(),
        kind: match r.kind {
            ResourceKind::Room => wit::ResourceKind::Room,
            ResourceKind::Court => wit::ResourceKind::Court,
            ResourceKind::Locker => wit::ResourceKind::Locker,
            ResourceKind::MeetingRoom => wit::ResourceKind::MeetingRoom,
        },
        branch: r.branch.to_string(),
        name: r.name.clone(),
    }
}

fn lock(l: &Lock) -> wit::Lock {
    let c = &l.capabilities;
    wit::Lock {
        id: l.id.to_string(),
        name: l.name.clone(),
        provider: l.provider.clone(),
        device: l.device.clone(),
        door: match l.door {
            DoorKind::Private => wit::DoorKind::Private,
            DoorKind::Shared => wit::DoorKind::Shared,
        },
        branch: l.branch.as_ref().map(ToString::to_string),
        resources: l.resources.iter().map(ToString::to_string).collect(),
        capabilities: wit::Capabilities {
            connectivity: match c.connectivity {
                Connectivity::Online => wit::Connectivity::Online,
                Connectivity::Offline => wit::Connectivity::Offline,
            },
            custom_pin: c.custom_pin,
            precision: match c.precision {
                WindowPrecision::Minute => wit::WindowPrecision::Minute,
                WindowPrecision::Hour => wit::WindowPrecision::Hour,
            },
            can_revoke: c.can_revoke,
            can_update: c.can_update,
            remote_unlock: c.remote_unlock,
            max_codes: c.max_codes,
            pin: wit::PinRules {
                min_len: c.pin.min_len,
                max_len: c.pin.max_len,
                alphabet: c.pin.alphabet.clone(),
                forbidden_prefixes: c.pin.forbidden_prefixes.clone(),
            },
        },
    }
}

/// About how many bytes `i` takes in the plugin's memory: every string's bytes, plus 16
/// for each string, list element and record (their headers and fixed fields). Cheap
/// enough to check on every evaluation, unlike serializing the input.
pub(super) fn size(i: &wit::RuleInput) -> usize {
    const ITEM: usize = 16;
    let text = |s: &str| s.len() + ITEM;
    let maybe = |s: &Option<String>| s.as_deref().map_or(ITEM, text);
    let texts = |list: &[String]| list.iter().map(|s| text(s)).sum::<usize>() + ITEM;
    let r = &i.reservation;
    let g = &r.guest;
    let p = &i.property;
    let reservation = text(&r.id)
        + texts(&r.resources)
        + text(&g.name)
        + maybe(&g.email)
        + maybe(&g.phone)
        + maybe(&g.locale)
        + 8 * ITEM;
    let property = text(&p.id)
        + text(&p.name)
        + text(&p.timezone)
        + text(&p.check_in_time)
        + text(&p.check_out_time)
        + text(&p.day_use_start)
        + text(&p.day_use_end)
        + ITEM;
    let resources: usize = i
        .resources
        .iter()
        .map(|x| text(&x.id) + text(&x.branch) + text(&x.name) + ITEM)
        .sum();
    let locks: usize = i
        .locks
        .iter()
        .map(|l| {
            let pin = &l.capabilities.pin;
            text(&l.id)
                + text(&l.name)
                + text(&l.provider)
                + maybe(&l.device)
                + maybe(&l.branch)
                + texts(&l.resources)
                + text(&pin.alphabet)
                + texts(&pin.forbidden_prefixes)
                + 8 * ITEM
        })
        .sum();
    reservation + property + resources + locks + 4 * ITEM
}

/// The engine form of a plugin's plan.
///
/// # Errors
/// [`RuleError::Limit`] on `output size` when the plugin returned more grants than
/// [`RuleLimits::max_grants`], before any of them is converted; [`RuleError::InvalidPlan`]
/// for a malformed lock id.
pub(super) fn plan(p: wit::Plan, limits: &RuleLimits) -> Result<Plan, RuleError> {
    if p.grants.len() > limits.max_grants {
        return Err(RuleError::Limit {
            limit: "output size",
            detail: format!(
                "returned {} grants, more than {}",
                p.grants.len(),
                limits.max_grants
            ),
        });
    }
    let grants = p
        .grants
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            Ok(Grant {
                lock: LockId::parse(g.lock)
                    .map_err(|e| RuleError::InvalidPlan(format!("grants[{i}]: {e}")))?,
                starts_at: Timestamp(g.starts_at),
                ends_at: Timestamp(g.ends_at),
                issue_at: g.issue_at.map(Timestamp),
                credential: match g.credential {
                    wit::CredentialKind::Pin => CredentialKind::Pin,
                },
                // World 0.2 has no say: its plugins get the default strategy.
                when_full: WhenFull::default(),
            })
        })
        .collect::<Result<_, RuleError>>()?;
    let notify = p.notify.map(|n| Notify {
        channels: n
            .channels
            .into_iter()
            .map(|c| match c {
                wit::Channel::Email => Channel::Email,
                wit::Channel::Sms => Channel::Sms,
                wit::Channel::Callback => Channel::Callback,
            })
            .collect(),
        on_revoke: n.on_revoke,
    });
    Ok(Plan { grants, notify })
}

/// A plugin's own error, as the rule author will read it.
pub(super) fn plugin_error(e: wit::RuleError) -> RuleError {
    match e {
        wit::RuleError::InvalidInput(m) => {
            RuleError::Runtime(format!("plugin refused the input: {m}"))
        }
        wit::RuleError::Failed(m) => RuleError::Runtime(format!("plugin failed: {m}")),
    }
}
