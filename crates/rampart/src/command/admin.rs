//! `rampart admin`: operator tasks on a data directory, run beside or without a server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use rampart_crypto::RootKey;
use rampart_iam::account::{self, BootstrapError};
use rampart_store::{Store, StoreError};

/// `rampart admin` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create another account with a root access key (cross-account roles before
    /// Organizations). Prints the account ID and the key once.
    CreateAccount {
        /// The data directory of the Rampart to add the account to.
        #[arg(long, env = "RAMPART_DATA_DIR", default_value = ".rampart")]
        data_dir: PathBuf,
        /// The new account's ID (random 12 digits when absent).
        #[arg(long)]
        account_id: Option<String>,
    },
    /// Give an existing account's root user an access key (accounts that Organizations
    /// creates have none, as at AWS). Prints the key once.
    CreateRootAccessKey {
        /// The data directory of the Rampart that holds the account.
        #[arg(long, env = "RAMPART_DATA_DIR", default_value = ".rampart")]
        data_dir: PathBuf,
        /// The account whose root user gets the key.
        #[arg(long)]
        account_id: String,
    },
    /// Replace the key that signs trail digest files, in every region that has one and in
    /// each `--region` given, now: the current keys stop signing (ListPublicKeys still lists
    /// each for its window), new ones sign from now on. Prints the new keys' fingerprints.
    RotateTrailKeys {
        /// The data directory of the Rampart whose keys to replace.
        #[arg(long, env = "RAMPART_DATA_DIR", default_value = ".rampart")]
        data_dir: PathBuf,
        /// A region to give a new key even if it has none yet (repeatable).
        #[arg(long)]
        region: Vec<String>,
    },
    /// Copy a whole deployment from SQLite into an empty PostgreSQL database (state, sealed
    /// secrets as they are, the audit journal with its numbers), then verify the copy:
    /// counts and a SHA-256 per namespace and of the journal on both sides; exits non-zero
    /// on a mismatch. Stop the server first. Needs no root key.
    Migrate(super::migrate::MigrateArgs),
}

/// Carries bootstrap's refusal or a store failure out of the write transaction.
struct Failure(BootstrapError);

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure(BootstrapError::Store(e))
    }
}

pub fn run(command: AdminCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("cannot start the async runtime")?;
    match command {
        AdminCommand::CreateAccount {
            data_dir,
            account_id,
        } => runtime.block_on(create_account(data_dir, account_id)),
        AdminCommand::CreateRootAccessKey {
            data_dir,
            account_id,
        } => runtime.block_on(create_root_access_key(data_dir, account_id)),
        AdminCommand::RotateTrailKeys { data_dir, region } => {
            runtime.block_on(rotate_trail_keys(data_dir, region))
        }
        // Synchronous: the stores' own threads do the work.
        AdminCommand::Migrate(args) => super::migrate::run(&args),
    }
}

async fn rotate_trail_keys(data_dir: PathBuf, regions: Vec<String>) -> anyhow::Result<ExitCode> {
    let (root_key, store) = open(&data_dir)?;
    // The same period as the server's (RAMPART_TRAIL_KEY_ROTATION_SECONDS).
    let period = rampart_server::delivery::DeliveryConfig::from_env(&data_dir, None).key_rotation;
    let keys = rampart_server::delivery::rotate_signing_keys(
        &store,
        &root_key,
        &regions,
        time::OffsetDateTime::now_utc(),
        period,
    )
    .await
    .context("cannot replace the trail signing keys")?;
    for key in &keys {
        println!("{}\t{}", key.region, key.fingerprint);
    }
    Ok(ExitCode::SUCCESS)
}

/// The root key and the store of the Rampart in `data_dir`.
fn open(data_dir: &std::path::Path) -> anyhow::Result<(RootKey, Arc<dyn Store>)> {
    let root_key = match std::env::var("RAMPART_ROOT_KEY") {
        Ok(text) => RootKey::from_base64(&text).context("RAMPART_ROOT_KEY")?,
        Err(_) => {
            let path = data_dir.join(super::serve::ROOT_KEY_FILE);
            anyhow::ensure!(
                path.exists(),
                "{} has no root key: is it a Rampart data directory?",
                data_dir.display()
            );
            RootKey::load_or_create(&path)?.0
        }
    };
    let spec = super::store::StoreSpec::for_admin(data_dir)?;
    if let super::store::StoreSpec::Sqlite(db) = &spec {
        anyhow::ensure!(
            db.exists(),
            "{} has no database: start `rampart serve` there first",
            data_dir.display()
        );
    }
    // One command's few reads need no more connections.
    let store = spec.open(2, &rampart_store::SqliteOptions::from_env()?)?;
    Ok((root_key, store))
}

async fn create_account(data_dir: PathBuf, account_id: Option<String>) -> anyhow::Result<ExitCode> {
    let (root_key, store) = open(&data_dir)?;
    let now = rampart_service::aws_timestamp(time::OffsetDateTime::now_utc());
    let (account_id, access_key_id, secret) = store
        .write_with(move |tx| {
            account::create_account(tx, account_id, &root_key, &rampart_service::OsEntropy, &now)
                .map_err(Failure)
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the account: {}", e.0))?;
    println!("account id:             {account_id}");
    println!("root access key id:     {access_key_id}");
    println!(
        "root secret access key: {}",
        String::from_utf8_lossy(secret.expose())
    );
    Ok(ExitCode::SUCCESS)
}

async fn create_root_access_key(data_dir: PathBuf, account_id: String) -> anyhow::Result<ExitCode> {
    let (root_key, store) = open(&data_dir)?;
    let now = rampart_service::aws_timestamp(time::OffsetDateTime::now_utc());
    let (access_key_id, secret) = store
        .write_with(move |tx| {
            account::create_root_access_key(
                tx,
                &account_id,
                &root_key,
                &rampart_service::OsEntropy,
                &now,
            )
            .map_err(Failure)
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the access key: {}", e.0))?;
    println!("root access key id:     {access_key_id}");
    println!(
        "root secret access key: {}",
        String::from_utf8_lossy(secret.expose())
    );
    Ok(ExitCode::SUCCESS)
}
