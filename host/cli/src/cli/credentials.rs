//! `latchkey credentials …`: store a lock-cloud account's credentials, sealed with
//! `LATCHKEY_CREDENTIALS_KEY`, and list what is stored (never the secrets).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use latchkey_engine::Timestamp;
use latchkey_providers::credentials::Credentials;
use latchkey_service::catalog::CatalogFile;
use latchkey_service::credentials::cipher::Key;
use latchkey_store::{self as store, Durability};
use zeroize::Zeroizing;

use super::StoreArgs;

/// Largest credentials file, in bytes.
const MAX_FILE: u64 = 16 * 1024;

/// `latchkey credentials …`
#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Store the credentials of an `[[accounts]]` entry of property.toml, sealed with
    /// LATCHKEY_CREDENTIALS_KEY (32 bytes, base64). The JSON is one of
    /// {"kind":"nuki","api_token"}, {"kind":"ttlock","client_id","client_secret","username","password"},
    /// {"kind":"igloohome","client_id","client_secret"}, {"kind":"seam","api_key"}.
    /// A running service uses them from its next start.
    Set {
        /// The account key (a lock's `provider`).
        key: String,
        /// JSON file with the credentials; `-` reads standard input.
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// Where the state lives.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the accounts of property.toml and whether credentials are stored for each
    /// (kinds and dates only).
    List(StoreArgs),
}

pub(super) async fn run(cmd: CredentialsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CredentialsCommand::Set { key, file, store } => set(&key, &file, &store).await,
        CredentialsCommand::List(store) => list(&store).await,
    }
}

async fn set(key: &str, file: &std::path::Path, args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let catalog = CatalogFile::load(&args.property)?;
    latchkey_providers::accounts::validate(&catalog.accounts)?;
    let Some(account) = catalog.accounts.iter().find(|a| a.key == key) else {
        let known: Vec<&str> = catalog.accounts.iter().map(|a| a.key.as_str()).collect();
        anyhow::bail!(
            "{}/property.toml declares no account `{key}` (accounts: {}); add an [[accounts]] entry first",
            args.property.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let bytes = read_input(file)?;
    let credentials = Credentials::from_json(&bytes)
        .with_context(|| format!("credentials in {}", file.display()))?;
    anyhow::ensure!(
        credentials.kind() == account.kind,
        "account `{key}` is a {} account in property.toml; these credentials are for {}",
        account.kind,
        credentials.kind()
    );
    let cipher = Key::current()?;
    let sealed = cipher.seal(&catalog.workspace, key, &credentials.to_plaintext())?;
    let pool = store::open(&args.database, Durability::Full)
        .await
        .with_context(|| format!("opening {}", args.database))?;
    let now = Timestamp(chrono::Utc::now().timestamp());
    store::credentials::put(
        &mut *pool.acquire().await?,
        &catalog.workspace,
        key,
        credentials.kind().as_str(),
        &sealed,
        now,
    )
    .await?;
    pool.close().await;
    println!(
        "stored {} credentials for account `{key}` of workspace `{}`; a running service uses them from its next start",
        credentials.kind(),
        catalog.workspace
    );
    Ok(ExitCode::SUCCESS)
}

/// The file's bytes (or standard input's for `-`), at most [`MAX_FILE`], in memory wiped
/// on drop.
fn read_input(file: &std::path::Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::new());
    if file.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    anyhow::ensure!(
        bytes.len() as u64 <= MAX_FILE,
        "{} is larger than {MAX_FILE} bytes",
        file.display()
    );
    Ok(bytes)
}

async fn list(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let catalog = CatalogFile::load(&args.property)?;
    let stored = if args.database.exists() {
        let pool = store::open(&args.database, Durability::Full)
            .await
            .with_context(|| format!("opening {}", args.database))?;
        let list =
            store::credentials::list(&mut *pool.acquire().await?, &catalog.workspace).await?;
        pool.close().await;
        list
    } else {
        Vec::new()
    };
    if catalog.accounts.is_empty() && stored.is_empty() {
        println!("no accounts: property.toml declares no [[accounts]] (simulated locks only)");
    }
    for account in &catalog.accounts {
        let status = match stored.iter().find(|s| s.account_key == account.key) {
            Some(s) if s.kind == account.kind.as_str() => {
                format!("stored {}", Timestamp(s.updated_at))
            }
            Some(s) => format!(
                "WRONG KIND: stored credentials are for {} (set {})",
                s.kind,
                Timestamp(s.updated_at)
            ),
            None => "MISSING: `latchkey credentials set KEY --file creds.json`".to_owned(),
        };
        println!(
            "{:<24} {:<10} {:<40} {}",
            account.key,
            account.kind,
            account.base_url(),
            status
        );
    }
    for s in stored
        .iter()
        .filter(|s| !catalog.accounts.iter().any(|a| a.key == s.account_key))
    {
        println!(
            "{:<24} {:<10} {:<40} stored {} (not in property.toml)",
            s.account_key,
            s.kind,
            "-",
            Timestamp(s.updated_at)
        );
    }
    Ok(ExitCode::SUCCESS)
}
