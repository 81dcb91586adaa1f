//! The service under replay: one replica, or several sharing one PostgreSQL database as
//! `serve` processes would. Each replica is a separate [`App`] with its own connection
//! pool, job worker and router; they share only the database, the simulated lock clouds
//! and the clock, which is what separate processes would share.

use anyhow::Context;
use axum::Router;
use latchkey_service::app::{App, AppConfig};
use latchkey_service::http::router;
use tokio::task::JoinSet;

/// The running replicas.
pub struct Replicas {
    apps: Vec<App>,
    routes: Vec<Router>,
    next: usize,
}

impl Replicas {
    /// Starts `count` replicas (at least one), replica `n` from `config(n)`.
    ///
    /// # Errors
    /// The database cannot be opened or migrated.
    pub async fn start(
        count: usize,
        config: impl Fn(usize) -> AppConfig,
    ) -> anyhow::Result<Replicas> {
        let mut apps = Vec::new();
        for n in 0..count.max(1) {
            let app = App::build(config(n))
                .await
                .with_context(|| format!("starting replica {}", n + 1))?;
            apps.push(app);
        }
        let routes = apps.iter().map(|app| router(app.clone())).collect();
        Ok(Replicas {
            apps,
            routes,
            next: 0,
        })
    }

    /// The first replica: the oracle reads through it.
    pub fn primary(&self) -> &App {
        &self.apps[0]
    }

    /// The first replica's router.
    pub fn primary_routes(&self) -> &Router {
        &self.routes[0]
    }

    /// The router of the next replica in turn: deliveries go round-robin, as a load
    /// balancer would send them.
    pub fn next_routes(&mut self) -> &Router {
        let routes = &self.routes[self.next % self.routes.len()];
        self.next += 1;
        routes
    }

    /// Runs every due job, every replica's worker at once (they claim different jobs),
    /// until none is due.
    ///
    /// # Errors
    /// A replica's database error.
    pub async fn run_due_jobs(&self) -> anyhow::Result<()> {
        if let [only] = self.apps.as_slice() {
            latchkey_service::jobs::run_due(only).await?;
            return Ok(());
        }
        let mut workers = JoinSet::new();
        for app in &self.apps {
            let app = app.clone();
            workers.spawn(async move { latchkey_service::jobs::run_due(&app).await });
        }
        while let Some(done) = workers.join_next().await {
            done.context("a replica's worker panicked")??;
        }
        Ok(())
    }

    /// Closes every replica's pool (a graceful stop; a crash simply drops them).
    pub async fn close(&self) {
        for app in &self.apps {
            app.close().await;
        }
    }
}
