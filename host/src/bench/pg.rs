//! A scratch PostgreSQL database per run: created on the server `--postgres` names,
//! handed to `serve` by URL, dropped (with any connection left) at the end.

use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A database this bench created.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database, for `serve --database`.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates `name` on the server of `admin_url` (any database the user may connect to,
    /// as a user allowed to create databases).
    ///
    /// # Errors
    /// When the server cannot be reached, `admin_url` is not a PostgreSQL URL, or the
    /// database cannot be created.
    pub async fn create(admin_url: &str, name: &str) -> anyhow::Result<ScratchDatabase> {
        let url = with_database(admin_url, name)?;
        let mut conn = PgConnection::connect(admin_url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", redacted(admin_url)))?;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        conn.close().await.ok();
        Ok(ScratchDatabase {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url,
        })
    }

    /// Drops the database, closing any connection still open to it.
    ///
    /// # Errors
    /// When the server cannot be reached or refuses.
    pub async fn drop_now(self) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect(&self.admin_url)
            .await
            .with_context(|| format!("connecting to {}", redacted(&self.admin_url)))?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .with_context(|| format!("DROP DATABASE {}", self.name))?;
        conn.close().await.ok();
        Ok(())
    }
}

/// `url` with its database (the path) replaced by `name`; the query is kept.
///
/// # Errors
/// When `url` is not a `postgres://` or `postgresql://` URL.
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed =
        reqwest::Url::parse(url).with_context(|| format!("--postgres {}", redacted(url)))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "postgres" | "postgresql"),
        "--postgres must be a postgres:// URL or `off`, not {}",
        redacted(url)
    );
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

/// `url` with its password, if any, replaced by `***`, for messages.
pub fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_path_and_keeps_the_rest() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/test",
                "latchkey_bench_1_2"
            )
            .expect("url"),
            "postgres://postgres@127.0.0.1:5432/latchkey_bench_1_2"
        );
        assert_eq!(
            with_database("postgresql://u:p@db/x?sslmode=disable", "b").expect("url"),
            "postgresql://u:p@db/b?sslmode=disable"
        );
        assert!(with_database("mysql://db/x", "b").is_err());
        assert!(with_database("not a url", "b").is_err());
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redacted("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(redacted("postgres://u@db/x"), "postgres://u@db/x");
    }
}
