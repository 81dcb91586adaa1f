//! The store suite: the job queue's and the replicas' guarantees, checked on a SQLite file
//! and on a PostgreSQL server in every run. (The whole integration suite runs on
//! PostgreSQL as well when `LATCHKEY_TEST_POSTGRES` is set; `.ci/run` does both.)
//!
//! PostgreSQL is found at `LATCHKEY_TEST_POSTGRES`, else at
//! `postgres://postgres@127.0.0.1:5432/postgres`; it must answer.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_sim::scratch::ScratchDatabase;
use latchkey_store::jobs::{
    ClaimedJob, NewJob, Wakeups, bury, claim_due, complete, enqueue, next_due, release_held,
    requeue,
};
use latchkey_store::{self as store, Backend, Conn, Database, Durability, Pool};

use crate::harness::{DEFAULT_POSTGRES, POSTGRES_ENV};

/// One database of each kind, each opened (and migrated) by `replicas` pools as that many
/// processes would.
struct Stores {
    _dir: tempfile::TempDir,
    sqlite: Vec<Pool>,
    postgres: Vec<Pool>,
    scratch: Option<ScratchDatabase>,
}

impl Stores {
    async fn open(replicas: usize) -> Stores {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = Database::Sqlite(dir.path().join("suite.db"));
        let server = std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned());
        let scratch = ScratchDatabase::create(&server, "suite")
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} (set {POSTGRES_ENV}): {e}"));
        let mut sqlite = Vec::new();
        let mut postgres = Vec::new();
        for _ in 0..replicas {
            sqlite.push(
                store::open(&file, Durability::Full)
                    .await
                    .expect("SQLite opens"),
            );
            postgres.push(
                store::open(&scratch.database, Durability::Full)
                    .await
                    .expect("PostgreSQL opens"),
            );
        }
        Stores {
            _dir: dir,
            sqlite,
            postgres,
            scratch: Some(scratch),
        }
    }

    /// Each backend's pools, named for assertion messages.
    fn each(&self) -> [(&'static str, &[Pool]); 2] {
        [("sqlite", &self.sqlite), ("postgres", &self.postgres)]
    }

    async fn close(mut self) {
        for pool in self.sqlite.iter().chain(&self.postgres) {
            pool.close().await;
        }
        if let Some(scratch) = self.scratch.take() {
            scratch.drop_database().await.expect("scratch dropped");
        }
    }
}

fn job(key: &str, at: i64) -> NewJob {
    NewJob {
        kind: "reconcile",
        dedupe_key: key.into(),
        payload: "{}".into(),
        run_at: Timestamp(at),
    }
}

fn ws() -> WorkspaceId {
    WorkspaceId::parse("w").expect("id")
}

#[tokio::test]
async fn both_stores_report_their_backend_and_apply_the_same_migrations() {
    let stores = Stores::open(1).await;
    for (name, pools) in stores.each() {
        let mut conn = pools[0].acquire().await.expect("conn");
        let backend = Backend::of(&conn);
        assert_eq!(
            backend,
            if name == "sqlite" {
                Backend::Sqlite
            } else {
                Backend::Postgres
            }
        );
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&mut *conn)
            .await
            .expect("migrations recorded");
        assert_eq!(
            usize::try_from(applied).expect("count"),
            backend.migrator().iter().count(),
            "{name}"
        );
    }
    // The two schemas keep the same versions, in the same order.
    let versions = |b: Backend| b.migrator().iter().map(|m| m.version).collect::<Vec<_>>();
    assert_eq!(versions(Backend::Sqlite), versions(Backend::Postgres));
    stores.close().await;
}

#[tokio::test]
async fn a_job_outliving_its_lease_is_finished_only_by_the_worker_that_claimed_it_again() {
    let stores = Stores::open(1).await;
    for (name, pools) in stores.each() {
        let mut conn = pools[0].acquire().await.expect("conn");
        enqueue(&mut conn, &ws(), &job("k", 100), Timestamp(100))
            .await
            .expect("enqueue");
        assert!(claim(&mut conn, 99).await.is_none(), "{name}: not due yet");
        let first = claim(&mut conn, 100).await.expect("due");
        assert_eq!(first.attempts, 1, "{name}");
        // The worker dies without completing; nobody else may take it during the lease.
        assert!(claim(&mut conn, 159).await.is_none(), "{name}: leased");
        let again = claim(&mut conn, 160).await.expect("lease ran out");
        assert_eq!((again.id, again.attempts), (first.id, 2), "{name}");
        // The first worker was only slow: it may no longer complete, requeue or bury it.
        let lost = |r: latchkey_store::error::Result<()>| matches!(r, Err(latchkey_store::error::Error::LeaseLost { job, attempt: 1 }) if job == first.id);
        assert!(
            lost(complete(&mut conn, first.lease()).await),
            "{name}: complete fenced"
        );
        let requeued = requeue(
            &mut conn,
            first.lease(),
            Timestamp(500),
            "late",
            Timestamp(161),
        )
        .await;
        assert!(lost(requeued), "{name}: requeue fenced");
        let buried = bury(&mut conn, first.lease(), "late", Timestamp(161)).await;
        assert!(lost(buried), "{name}: bury fenced");
        complete(&mut conn, again.lease())
            .await
            .expect("the new holder completes");
        assert_eq!(next_due(&mut conn).await.expect("next"), None, "{name}");
    }
    stores.close().await;
}

#[tokio::test]
async fn a_worker_restarted_under_its_name_takes_its_jobs_back_at_once() {
    let stores = Stores::open(1).await;
    for (name, pools) in stores.each() {
        let mut conn = pools[0].acquire().await.expect("conn");
        for key in ["mine", "theirs"] {
            enqueue(&mut conn, &ws(), &job(key, 100), Timestamp(100))
                .await
                .expect("enqueue");
        }
        let mine = claim_due(&mut conn, Timestamp(100), 60, "host-a:8080")
            .await
            .expect("claim")
            .expect("due");
        let theirs = claim_due(&mut conn, Timestamp(100), 60, "host-b:8080")
            .await
            .expect("claim")
            .expect("due");
        // host-a dies and starts again ten seconds later, well within both leases.
        let released = release_held(&mut conn, "host-a:8080", Timestamp(110))
            .await
            .expect("release");
        assert_eq!(released, 1, "{name}: only its own job");
        let back = claim_due(&mut conn, Timestamp(110), 60, "host-a:8080")
            .await
            .expect("claim")
            .expect("its job is claimable now");
        assert_eq!((back.id, back.attempts), (mine.id, 2), "{name}");
        assert!(
            claim(&mut conn, 110).await.is_none(),
            "{name}: the other worker's lease ({}) still holds",
            theirs.id
        );
    }
    stores.close().await;
}

/// Waits up to two seconds for the listener's next notification.
async fn woken(
    wakeups: &mut Wakeups,
) -> Result<latchkey_store::error::Result<()>, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(2), wakeups.next()).await
}

#[tokio::test]
async fn a_job_due_now_wakes_every_listening_replica_once_its_transaction_commits() {
    let stores = Stores::open(1).await;
    let database = &stores.scratch.as_ref().expect("scratch").database;
    let mut listening = Wakeups::listen(database).await.expect("LISTEN");
    let pool = &stores.postgres[0];
    let mut tx = pool.begin().await.expect("tx");
    enqueue(&mut tx, &ws(), &job("later", 500), Timestamp(100))
        .await
        .expect("enqueue");
    enqueue(&mut tx, &ws(), &job("now", 100), Timestamp(100))
        .await
        .expect("enqueue");
    assert!(
        woken(&mut listening).await.is_err(),
        "nothing is told before the commit"
    );
    tx.commit().await.expect("commit");
    woken(&mut listening)
        .await
        .expect("woken after the commit")
        .expect("notification");
    let mut tx = pool.begin().await.expect("tx");
    enqueue(&mut tx, &ws(), &job("tomorrow", 86_500), Timestamp(100))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert!(
        woken(&mut listening).await.is_err(),
        "a job due later wakes nobody"
    );
    stores.close().await;
}

/// SQLite's "database is locked" (`SQLITE_BUSY`, code 5).
fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("5"))
}

async fn claim(conn: &mut Conn, at: i64) -> Option<ClaimedJob> {
    claim_due(conn, Timestamp(at), 60, "worker")
        .await
        .expect("claim")
}

#[tokio::test]
async fn one_queued_job_per_key_moves_earlier_and_a_running_one_may_have_a_successor() {
    let stores = Stores::open(1).await;
    for (name, pools) in stores.each() {
        let mut conn = pools[0].acquire().await.expect("conn");
        for at in [500, 300, 900] {
            enqueue(&mut conn, &ws(), &job("k", at), Timestamp(0))
                .await
                .expect("enqueue");
        }
        assert_eq!(
            next_due(&mut conn).await.expect("next"),
            Some(Timestamp(300)),
            "{name}: merged, earliest wins"
        );
        let running = claim(&mut conn, 300).await.expect("due");
        enqueue(&mut conn, &ws(), &job("k", 400), Timestamp(300))
            .await
            .expect("successor");
        // The running job fails and would retry at 350; the queued successor covers it.
        requeue(
            &mut conn,
            running.lease(),
            Timestamp(350),
            "boom",
            Timestamp(300),
        )
        .await
        .expect("requeue");
        let next = claim(&mut conn, 350).await.expect("due at 350");
        assert_ne!(next.id, running.id, "{name}: folded into its successor");
        assert!(
            claim(&mut conn, 360).await.is_none(),
            "{name}: only one was left"
        );
    }
    stores.close().await;
}

#[tokio::test]
async fn replicas_claiming_side_by_side_take_every_job_exactly_once() {
    const JOBS: usize = 200;
    let stores = Stores::open(3).await;
    for (name, pools) in stores.each() {
        {
            let mut conn = pools[0].acquire().await.expect("conn");
            for n in 0..JOBS {
                enqueue(&mut conn, &ws(), &job(&format!("k{n}"), 10), Timestamp(0))
                    .await
                    .expect("enqueue");
            }
        }
        // Each replica claims until nothing is due, as its worker would, two workers per
        // replica so that claims also race inside one pool.
        let mut workers = tokio::task::JoinSet::new();
        for pool in pools.iter().chain(pools.iter()) {
            let pool = pool.clone();
            workers.spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let mut conn = pool.acquire().await.expect("conn");
                    let worker = "replica";
                    match claim_due(&mut conn, Timestamp(10), 60, worker).await {
                        Ok(Some(job)) => mine.push(job.id),
                        Ok(None) => break,
                        // SQLite answers a writer that waited out its busy timeout with
                        // "database is locked"; the worker logs it and tries again, as
                        // here (a starved machine makes it likely with six writers).
                        Err(latchkey_store::error::Error::Database(e)) if is_busy(&e) => {}
                        Err(e) => panic!("claim: {e:?}"),
                    }
                    tokio::task::yield_now().await;
                }
                mine
            });
        }
        let mut claimed = Vec::new();
        let mut workers_with_jobs = 0;
        while let Some(done) = workers.join_next().await {
            let mine = done.expect("worker");
            workers_with_jobs += usize::from(!mine.is_empty());
            claimed.extend(mine);
        }
        let distinct: HashSet<i64> = claimed.iter().copied().collect();
        assert_eq!(claimed.len(), JOBS, "{name}: every job claimed once");
        assert_eq!(distinct.len(), JOBS, "{name}: no job claimed twice");
        if name == "postgres" {
            // SKIP LOCKED lets a replica pass a row another one is claiming, rather than
            // waiting for it: the work is shared.
            assert!(workers_with_jobs > 1, "{name}: one worker took everything");
        }
    }
    stores.close().await;
}

#[tokio::test]
async fn transactions_on_one_reservation_wait_for_each_other_across_replicas() {
    let stores = Stores::open(2).await;
    let pools = &stores.postgres;
    let mut first = pools[0].begin().await.expect("tx");
    store::reservations::serialize(&mut first, &ws(), "R1")
        .await
        .expect("lock");

    // Another reservation is not held up.
    let mut other = pools[1].begin().await.expect("tx");
    store::reservations::serialize(&mut other, &ws(), "R2")
        .await
        .expect("another reservation's lock");
    other.commit().await.expect("commit");

    let entered = Arc::new(AtomicBool::new(false));
    let second = {
        let (pool, entered) = (pools[1].clone(), entered.clone());
        tokio::spawn(async move {
            let mut tx = pool.begin().await.expect("tx");
            store::reservations::serialize(&mut tx, &ws(), "R1")
                .await
                .expect("lock");
            entered.store(true, Ordering::SeqCst);
            tx.commit().await.expect("commit");
        })
    };
    // However long this waits, the second transaction cannot enter while the first holds
    // the reservation.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!entered.load(Ordering::SeqCst), "entered while held");
    first.commit().await.expect("commit");
    second.await.expect("second transaction");
    assert!(entered.load(Ordering::SeqCst));
    stores.close().await;
}

#[tokio::test]
async fn text_sorts_byte_wise_on_both_stores_so_cursors_page_alike() {
    let stores = Stores::open(1).await;
    let mut orders = Vec::new();
    for (name, pools) in stores.each() {
        let mut conn = pools[0].acquire().await.expect("conn");
        for (n, key) in ["b", "B", "a", "_x", "Z1", "z"].iter().enumerate() {
            enqueue(
                &mut conn,
                &ws(),
                &job(key, i64::try_from(n).expect("n")),
                Timestamp(0),
            )
            .await
            .expect("enqueue");
        }
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT dedupe_key FROM jobs ORDER BY dedupe_key")
                .fetch_all(&mut *conn)
                .await
                .expect("keys");
        orders.push((name, keys));
    }
    assert_eq!(orders[0].1, ["B", "Z1", "_x", "a", "b", "z"], "sqlite");
    assert_eq!(orders[0].1, orders[1].1, "postgres sorts as sqlite does");
    stores.close().await;
}
