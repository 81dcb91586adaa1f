//! `send_notification`: send one message from the outbox on its channel.
//!
//! The outcome and the job's end commit together, so a restart after the commit sends
//! nothing again; a crash between the channel's answer and the commit sends again, with the
//! same idempotency key.

use latchkey_engine::rules::Channel;
use latchkey_engine::{ReservationId, Timestamp};
use latchkey_store::alerts::{self, AlertKind, NewAlert};
use latchkey_store::jobs::{self as queue, ClaimedJob};
use latchkey_store::notifications::{self as outbox, Message, MessageState, NoticeKind};
use latchkey_store::{Conn, callbacks};

use super::{Job, JobError};
use crate::app::App;
use crate::error::Result;
use crate::guest_link;
use crate::notify::DISABLE_CALLBACK_AFTER_SECS;
use crate::notify::channels::{Outgoing, SendError};
use crate::notify::templates::Subject;

/// `send_notification`, as the worker runs it.
pub(super) struct SendNotification {
    pub(super) id: i64,
}

#[async_trait::async_trait]
impl Job for SendNotification {
    async fn run(&self, app: &App, job: &ClaimedJob) -> Result<(), JobError> {
        run(app, job, self.id).await
    }

    async fn on_dead_letter(
        &self,
        app: &App,
        tx: &mut Conn,
        job: &ClaimedJob,
        error: &str,
    ) -> Result<()> {
        let detail = format!("gave up after {} attempts: {error}", job.attempts);
        let now = app.clock.now();
        outbox::finish(tx, self.id, MessageState::Failed, Some(&detail), now).await?;
        Ok(())
    }

    async fn on_retry_by_hand(&self, conn: &mut Conn, _now: Timestamp) -> Result<()> {
        outbox::reopen(conn, self.id).await?;
        Ok(())
    }
}

async fn run(app: &App, job: &ClaimedJob, id: i64) -> Result<(), JobError> {
    let ws = &app.catalog.workspace;
    let message = {
        let mut conn = app.pool.acquire().await?;
        outbox::get(&mut conn, ws, id).await?
    };
    let Some(m) = message.filter(|m| m.state == MessageState::Queued) else {
        return super::complete(app, job).await;
    };
    let Some(sender) = app.notifier.senders.get(m.channel).cloned() else {
        return finish(
            app,
            job,
            &m,
            MessageState::Skipped,
            Some("the channel is no longer configured"),
        )
        .await;
    };
    {
        let mut conn = app.pool.acquire().await?;
        if outbox::is_superseded(&mut conn, ws, &m).await? {
            drop(conn);
            return finish(
                app,
                job,
                &m,
                MessageState::Superseded,
                Some("a newer message replaced it before it went out"),
            )
            .await;
        }
        if m.channel == Channel::Callback
            && let Some(url) = &m.recipient
            && let Some((_, reason)) = callbacks::health(&mut conn, ws, url).await?.disabled
        {
            drop(conn);
            let detail = format!("the callback endpoint is disabled: {reason}");
            return finish(app, job, &m, MessageState::Skipped, Some(&detail)).await;
        }
    }
    let page_url = page_url(app, &m).await?;
    let outgoing = outgoing(app, &m, page_url.as_deref())?;
    match sender.send(&outgoing).await {
        Ok(delivered) => {
            let mut tx = app.pool.begin().await?;
            if m.channel == Channel::Callback {
                callbacks::record_success(&mut tx, ws, &outgoing.recipient).await?;
            }
            outbox::finish(
                &mut tx,
                m.id,
                MessageState::Sent,
                delivered.reference.as_deref(),
                app.clock.now(),
            )
            .await?;
            queue::complete(&mut tx, job.lease()).await?;
            tx.commit().await?;
            Ok(())
        }
        Err(SendError::Retry { error, retry_after }) => {
            if m.channel == Channel::Callback
                && callback_failed(app, job, &m, &outgoing.recipient, &error).await?
            {
                return Ok(());
            }
            Err(JobError::Retry { error, retry_after })
        }
        Err(SendError::Gone) => {
            let mut tx = app.pool.begin().await?;
            disable(app, &mut tx, &outgoing.recipient, "it answered 410 Gone").await?;
            end(
                app,
                &mut tx,
                job,
                &m,
                MessageState::Failed,
                "the callback endpoint answered 410 Gone",
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        Err(SendError::Refused(why)) => {
            let mut tx = app.pool.begin().await?;
            let alert = NewAlert {
                kind: AlertKind::NotificationFailed,
                dedupe_key: format!("notification_failed:{}", m.id),
                lock: None,
                reservation: Some(&m.reservation_id),
                code: None,
                message: format!(
                    "the {} {} message to reservation `{}`'s guest was refused: {why}",
                    m.kind.as_str(),
                    m.channel.as_str(),
                    m.reservation_id
                ),
            };
            alerts::raise(&mut tx, ws, &alert, app.clock.now()).await?;
            end(app, &mut tx, job, &m, MessageState::Failed, &why).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// The link to the guest's own page that message `m` carries: where `[guest_page]
/// base_url` is set and the message tells doors, valid until a day after the last of
/// them closes. The same link on every attempt, so a retried message is the same text.
async fn page_url(app: &App, m: &Message) -> Result<Option<String>, JobError> {
    let Some(base) = &app.catalog.guest_page.base_url else {
        return Ok(None);
    };
    let last_close = m.content.doors.iter().map(|d| d.window.ends_at).max();
    let Some(last_close) = last_close.filter(|_| m.kind != NoticeKind::Revoked) else {
        return Ok(None);
    };
    let reservation =
        ReservationId::parse(m.reservation_id.clone()).map_err(JobError::Permanent)?;
    let mut conn = app.pool.acquire().await?;
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let link = guest_link::link(&mut conn, ws, base, &reservation, last_close, now).await?;
    Ok(Some(link))
}

/// The message rendered in its locale, in the property's time zone.
fn outgoing(app: &App, m: &Message, page_url: Option<&str>) -> Result<Outgoing, JobError> {
    let texts = app
        .notifier
        .templates
        .render(
            &m.locale,
            &Subject {
                kind: m.kind,
                guest_name: &m.content.guest_name,
                property: &app.catalog.property.name,
                timezone: app.catalog.property.timezone,
                doors: &m.content.doors,
                page_url,
            },
        )
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    Ok(Outgoing {
        id: m.id,
        idempotency_key: m.idempotency_key.clone(),
        kind: m.kind,
        channel: m.channel,
        reservation: ReservationId::parse(m.reservation_id.clone()).map_err(JobError::Permanent)?,
        recipient: m.recipient.clone().unwrap_or_default(),
        locale: m.locale.clone(),
        texts,
        content: m.content.clone(),
        at: app.clock.now(),
    })
}

/// Records a failed callback; disables the endpoint, failing the message, once it has
/// failed for [`DISABLE_CALLBACK_AFTER_SECS`]. Returns whether the job is over.
async fn callback_failed(
    app: &App,
    job: &ClaimedJob,
    m: &Message,
    url: &str,
    error: &str,
) -> Result<bool, JobError> {
    let now = app.clock.now();
    let mut tx = app.pool.begin().await?;
    let since = callbacks::record_failure(&mut tx, &app.catalog.workspace, url, now).await?;
    let over = now.unix() - since.unix() >= DISABLE_CALLBACK_AFTER_SECS;
    if over {
        let reason = format!("it has failed since {since}: {error}");
        disable(app, &mut tx, url, &reason).await?;
        end(app, &mut tx, job, m, MessageState::Failed, &reason).await?;
    }
    tx.commit().await?;
    Ok(over)
}

async fn disable(app: &App, conn: &mut Conn, url: &str, reason: &str) -> Result<(), JobError> {
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    if callbacks::disable(conn, ws, url, reason, now).await? {
        let alert = NewAlert {
            kind: AlertKind::CallbackDisabled,
            dedupe_key: format!("callback_disabled:{url}:{}", now.unix()),
            lock: None,
            reservation: None,
            code: None,
            message: format!("the platform's callback endpoint {url} was disabled: {reason}"),
        };
        alerts::raise(conn, ws, &alert, now).await?;
    }
    Ok(())
}

/// Records the message's outcome and ends the job, in the caller's transaction.
async fn end(
    app: &App,
    conn: &mut Conn,
    job: &ClaimedJob,
    m: &Message,
    state: MessageState,
    detail: &str,
) -> Result<(), JobError> {
    outbox::finish(conn, m.id, state, Some(detail), app.clock.now()).await?;
    queue::complete(conn, job.lease()).await?;
    Ok(())
}

async fn finish(
    app: &App,
    job: &ClaimedJob,
    m: &Message,
    state: MessageState,
    detail: Option<&str>,
) -> Result<(), JobError> {
    let mut tx = app.pool.begin().await?;
    end(app, &mut tx, job, m, state, detail.unwrap_or_default()).await?;
    tx.commit().await?;
    Ok(())
}
