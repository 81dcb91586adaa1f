//! `latchkey keys …` and `latchkey users …`: who may use the admin API and the
//! dashboard, managed directly in the database (the first admin's way in; the API does
//! the same for an admin already signed in).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use latchkey_engine::Role;
use latchkey_engine::Timestamp;
use latchkey_service::auth::{keys, passwords};
use latchkey_store::access;

use super::StoreArgs;
use super::admin::open;

/// `latchkey keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key and print it (this once: only its hash is kept).
    Create {
        /// A name telling the key apart, e.g. `front-desk-pc` or `reenio`.
        #[arg(long)]
        name: String,
        /// platform (reads reservations), partner (plugins), admin (everything) or desk
        /// (locks, codes, activity; sync, regenerate, unlock, resend).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List keys (never their secrets).
    List(StoreArgs),
    /// Revoke a key by id; sessions signed in with it end too.
    Revoke {
        /// The key's id, as listed.
        id: i64,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `latchkey users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a dashboard user, or set an existing one's password and role. The password
    /// is read from standard input (one line, at least 12 characters).
    Add {
        /// The username.
        username: String,
        /// The user's role (see `latchkey keys create --help`).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List dashboard users.
    List(StoreArgs),
    /// Delete a dashboard user; their sessions end.
    Remove {
        /// The username.
        username: String,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "one of platform, partner, admin, desk".into())
}

fn now() -> Timestamp {
    Timestamp(chrono::Utc::now().timestamp())
}

pub(super) async fn keys(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Create { name, role, store } => {
            let (pool, ws) = open(&store).await?;
            let created =
                keys::create(&mut *pool.acquire().await?, &ws, &name, role, "cli", now()).await?;
            eprintln!(
                "created key {} `{}` ({}); it is shown this once:",
                created.row.id, created.row.name, created.row.role
            );
            println!("{}", created.key);
        }
        KeysCommand::List(store) => {
            let (pool, ws) = open(&store).await?;
            for k in access::list_keys(&mut *pool.acquire().await?, &ws).await? {
                println!(
                    "{:>4}  {:<24} {:<9} {}…  created {}{}",
                    k.id,
                    k.name,
                    k.role,
                    k.prefix,
                    Timestamp(k.created_at),
                    k.revoked_at
                        .map(|t| format!("  REVOKED {}", Timestamp(t)))
                        .unwrap_or_default()
                );
            }
        }
        KeysCommand::Revoke { id, store } => {
            let (pool, ws) = open(&store).await?;
            let revoked = access::revoke_key(&mut *pool.acquire().await?, &ws, id, now()).await?;
            anyhow::ensure!(revoked.is_some(), "no live key {id}");
            println!("revoked key {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn users(cmd: UsersCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UsersCommand::Add {
            username,
            role,
            store,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let hash = passwords::hash(password.trim_end_matches(['\r', '\n']))?;
            let (pool, ws) = open(&store).await?;
            let user = access::put_user(
                &mut *pool.acquire().await?,
                &ws,
                &username,
                role,
                &hash,
                now(),
            )
            .await?;
            println!("user `{}` ({}) can sign in", user.username, user.role);
        }
        UsersCommand::List(store) => {
            let (pool, ws) = open(&store).await?;
            for u in access::list_users(&mut *pool.acquire().await?, &ws).await? {
                println!(
                    "{:<24} {:<9} created {}",
                    u.username,
                    u.role,
                    Timestamp(u.created_at)
                );
            }
        }
        UsersCommand::Remove { username, store } => {
            let (pool, ws) = open(&store).await?;
            let removed = access::delete_user(&mut *pool.acquire().await?, &ws, &username).await?;
            anyhow::ensure!(removed, "no user `{username}`");
            println!("removed `{username}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}
