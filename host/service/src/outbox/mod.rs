//! Telling guests, the decisions: a rule asks for notifications with its plan
//! ([`latchkey_engine::rules::Notify`]); the host
//! decides when, writes each message to an outbox in the same transaction as the state
//! change that caused it, and a durable job sends it.
//!
//! When:
//! - **issued**: once every code of the reservation is confirmed on its lock (no code
//!   pending), never a PIN that is not there yet; or, with a code still pending
//!   [`sheet::TELL_WHAT_WORKS_SECS`] before its window opens, the doors that work, the
//!   rest following as a change once they are ready (a code job that fails queues a
//!   reconcile for that instant, [`tell_what_works_in_time`], so the decision is made
//!   then even if nothing else happens);
//! - **changed**: whenever, with no code pending, a door's PIN or window differs from what
//!   the guest was last told, or a door was added (room move, date change, regenerated
//!   PINs); not after check-out;
//! - **revoked**: when the plan withdraws every grant from a guest who was told something,
//!   if the rule asks for it (`on_revoke`).
//!
//! Each decision takes the reservation's next sequence number; its messages (one per
//! channel) carry the idempotency key `{workspace}:{reservation}:{seq}:{channel}`, sent as
//! the e-mail's Message-ID and the callback's `webhook-id`. A duplicate webhook or a
//! re-run of the reconciler finds nothing new to tell, so it queues nothing; a message
//! whose channel fails is retried with backoff and jitter for about three days
//! ([`crate::queue::SEND_POLICY`]); a message still queued when a newer one on its channel exists is
//! dropped as superseded, so a guest never gets an older PIN after a newer one. A callback
//! endpoint that keeps failing is disabled ([`crate::notify::DISABLE_CALLBACK_AFTER_SECS`]).

pub mod sheet;

use latchkey_engine::rules::Plan;
use latchkey_engine::{ReservationId, ReservationStatus};
use latchkey_store::notifications::Door;
use latchkey_store::notifications::NoticeKind;
use latchkey_store::notifications::{
    self as outbox, Content, GuestNotice, MessageState, NewMessage,
};
use latchkey_store::reservations::{self, ReservationRow};
use latchkey_store::{Conn, codes};

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::queue::{self, JobSpec};

/// After the reconciler planned `plan` for `row`: records the rule's notification request
/// and decides what to tell (`plan` may have withdrawn every grant).
///
/// # Errors
/// Database errors.
pub async fn after_plan(
    app: &AppState,
    conn: &mut Conn,
    row: &ReservationRow,
    plan: &Plan,
) -> Result<()> {
    let ws = &app.catalog.workspace;
    let id = row.state.id.as_str();
    let mut notice = outbox::notice(conn, ws, id).await?;
    let changed = notice.request != plan.notify;
    notice.request = plan.notify.clone();
    let decided = decide(app, conn, row, &mut notice, plan.grants.is_empty()).await?;
    if changed || decided {
        outbox::save_notice(conn, ws, id, &notice, app.clock.now()).await?;
    }
    Ok(())
}

/// After a code of reservation `id` changed on its lock (confirmed, or failed for good):
/// tells the guest if that completes something new to tell.
///
/// # Errors
/// Database errors.
pub async fn after_code_change(app: &AppState, conn: &mut Conn, id: &ReservationId) -> Result<()> {
    let ws = &app.catalog.workspace;
    reservations::serialize(conn, ws, id.as_str()).await?;
    let Some(row) = reservations::get(conn, ws, id.as_str()).await? else {
        return Ok(()); // a staff code
    };
    let mut notice = outbox::notice(conn, ws, id.as_str()).await?;
    if notice.request.is_none() {
        return Ok(());
    }
    if decide(app, conn, &row, &mut notice, false).await? {
        outbox::save_notice(conn, ws, id.as_str(), &notice, app.clock.now()).await?;
    }
    Ok(())
}

/// A code of reservation `id` is late reaching its lock (its job failed an attempt, or its
/// confirmation is overdue): queues a reconcile for the instant the guest is to be told
/// the doors that work without it ([`sheet::tell_what_works_at`]), so that they are told
/// then however long the lock stays out of reach. Nothing when that instant has passed:
/// the next decision tells them.
///
/// # Errors
/// Database errors.
pub async fn tell_what_works_in_time(
    app: &AppState,
    conn: &mut Conn,
    id: &ReservationId,
) -> Result<()> {
    let ws = &app.catalog.workspace;
    let codes = codes::for_reservation(conn, ws, id.as_str()).await?;
    let now = app.clock.now();
    if let Some(at) = sheet::tell_what_works_at(&codes).filter(|at| *at > now) {
        let reconcile = JobSpec::Reconcile {
            reservation: id.clone(),
        };
        queue::enqueue(conn, ws, &reconcile, at, now).await?;
    }
    Ok(())
}

/// Sends the guest of reservation `id` their current PINs again, on the channels the
/// rule asked for (a front-desk "Resend PIN"). Answers how many messages were written
/// (queued, or skipped with the reason where a channel cannot reach the guest).
///
/// # Errors
/// [`Error::NotFound`] for an unknown reservation; [`Error::Conflict`] when there is
/// nothing to resend (the stay is not confirmed or paid, the rule asks for no message,
/// or no PIN is on a lock yet); database errors.
pub async fn resend(app: &AppState, conn: &mut Conn, id: &str) -> Result<usize> {
    let ws = &app.catalog.workspace;
    reservations::serialize(conn, ws, id).await?;
    let row = reservations::get(conn, ws, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "reservation",
            id: id.to_owned(),
        })?;
    if !matches!(
        row.state.status,
        ReservationStatus::Confirmed | ReservationStatus::Paid
    ) {
        return Err(Error::Conflict(format!(
            "reservation `{id}` is {}: only a confirmed or paid stay's PINs are sent",
            row.state.status.as_str()
        )));
    }
    let mut notice = outbox::notice(conn, ws, id).await?;
    if notice.request.is_none() {
        return Err(Error::Conflict(
            "the rule asks for no message for this reservation".into(),
        ));
    }
    let codes = codes::for_reservation(conn, ws, id).await?;
    // Asked by the desk: whatever works now, pending codes or not.
    let doors = Some(sheet::working_doors(&codes, &app.catalog, app.clock.now()))
        .filter(|doors| !doors.is_empty())
        .ok_or_else(|| {
            Error::Conflict("no PIN is on a lock yet: the guest is told once it is".into())
        })?;
    let before = notice.seq;
    notice.told = Some(doors.clone());
    queue(app, conn, &row, &mut notice, NoticeKind::Issued, doors).await?;
    outbox::save_notice(conn, ws, id, &notice, app.clock.now()).await?;
    let channels = notice.request.as_ref().map_or(0, |r| r.channels.len());
    Ok(if notice.seq > before { channels } else { 0 })
}

/// Decides, and queues the messages of a decision. Returns whether `notice` changed.
async fn decide(
    app: &AppState,
    conn: &mut Conn,
    row: &ReservationRow,
    notice: &mut GuestNotice,
    withdrawn: bool,
) -> Result<bool> {
    let Some(request) = notice.request.clone() else {
        return Ok(false);
    };
    let told_something = notice.told.as_ref().is_some_and(|t| !t.is_empty());
    if withdrawn && row.state.status != ReservationStatus::CheckedOut {
        if !told_something {
            return Ok(false);
        }
        let withdrawn_doors = notice.told.replace(Vec::new()).unwrap_or_default();
        if request.on_revoke {
            queue(app, conn, row, notice, NoticeKind::Revoked, withdrawn_doors).await?;
        }
        return Ok(true);
    }
    // After check-out the window only shrinks to the departure: nothing a guest needs.
    if !matches!(
        row.state.status,
        ReservationStatus::Confirmed | ReservationStatus::Paid
    ) {
        return Ok(false);
    }
    let ws = &app.catalog.workspace;
    let codes = codes::for_reservation(conn, ws, row.state.id.as_str()).await?;
    let now = app.clock.now();
    let Some(doors) = sheet::doors_to_tell(&codes, &app.catalog, now) else {
        return Ok(false);
    };
    if doors.is_empty() || !sheet::is_news(notice.told.as_deref(), &doors) {
        return Ok(false);
    }
    let kind = if told_something {
        NoticeKind::Changed
    } else {
        NoticeKind::Issued
    };
    notice.told = Some(doors.clone());
    queue(app, conn, row, notice, kind, doors).await?;
    Ok(true)
}

/// Writes one message per requested channel, queued with its send job, or skipped with
/// the reason when it cannot go (no address, channel not configured).
async fn queue(
    app: &AppState,
    conn: &mut Conn,
    row: &ReservationRow,
    notice: &mut GuestNotice,
    kind: NoticeKind,
    doors: Vec<Door>,
) -> Result<()> {
    let Some(request) = &notice.request else {
        return Ok(());
    };
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    notice.seq += 1;
    let guest = &row.state.guest;
    let locale = app.notifier.templates.locale_for(guest.locale.as_deref());
    let content = Content {
        guest_name: guest.name.clone(),
        doors,
    };
    for &channel in &request.channels {
        let recipient = app.notifier.recipient(channel, guest);
        let (state, detail) = match &recipient {
            Ok(_) => (MessageState::Queued, None),
            Err(why) => (MessageState::Skipped, Some(*why)),
        };
        let message = NewMessage {
            reservation: row.state.id.as_str(),
            seq: notice.seq,
            kind,
            channel,
            recipient: recipient.as_deref().ok(),
            locale: &locale,
            content: &content,
            state,
            detail,
        };
        let Some(id) = outbox::insert(conn, ws, &message, now).await? else {
            continue;
        };
        tracing::debug!(reservation = %row.state.id, kind = kind.as_str(), channel = channel.as_str(), state = state.as_str(), "guest message decided");
        if state == MessageState::Queued {
            queue::enqueue(conn, ws, &JobSpec::SendNotification { id }, now, now).await?;
        }
    }
    Ok(())
}
