//! `rampart serve`: open the data directory, bootstrap it on first start, serve until a
//! signal, then drain in-flight requests.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use rampart_crypto::{RootKey, SecretBytes};
use rampart_iam::account::{self, BootstrapRequest, Deployment};
use rampart_secretsmanager::{RotationHandlers, SecretsManager};
use rampart_server::{AppState, Registry, ServerConfig};
use rampart_store::{SqliteOptions, Store, StoreError};

use super::store::StoreSpec;

/// Settings of `rampart serve`; each flag can also come from its `RAMPART_*` variable.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "RAMPART_LISTEN", default_value = "127.0.0.1:4599")]
    listen: SocketAddr,
    /// Directory holding the database, the root key and the credentials file.
    #[arg(long, env = "RAMPART_DATA_DIR", default_value = ".rampart")]
    data_dir: PathBuf,
    /// Where state and the audit journal live: `sqlite:PATH` or
    /// `postgres://USER@HOST:PORT/DATABASE` (default: `<data-dir>/rampart.db`). The root key
    /// stays in the data directory (or RAMPART_ROOT_KEY), never in the database.
    #[arg(long, env = "RAMPART_STORE", hide_env_values = true)]
    store: Option<String>,
    /// Read connections to PostgreSQL at most (the writer has one more of its own).
    #[arg(long, env = "RAMPART_STORE_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    store_pool_size: u16,
    /// The region Rampart reports for calls that name none.
    #[arg(long, env = "RAMPART_REGION", default_value = "us-east-1")]
    region: String,
    /// The management account's ID at first start (random when absent).
    #[arg(long, env = "RAMPART_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Keep state in a temporary directory removed at exit.
    #[arg(long, env = "RAMPART_EPHEMERAL")]
    ephemeral: bool,
    /// Serve `POST /_rampart/reset` (loopback callers only), returning all state to the bootstrap.
    #[arg(long, env = "RAMPART_ENABLE_RESET")]
    enable_reset: bool,
    /// The root access key ID to create at first start (with RAMPART_ROOT_SECRET_ACCESS_KEY).
    #[arg(long, env = "RAMPART_ROOT_ACCESS_KEY_ID", hide = true)]
    root_access_key_id: Option<String>,
    /// The root secret access key to create at first start.
    #[arg(
        long,
        env = "RAMPART_ROOT_SECRET_ACCESS_KEY",
        hide = true,
        hide_env_values = true
    )]
    root_secret_access_key: Option<String>,
    /// A Secrets Manager rotation function served by a handler: `NAME=http://HOST:PORT/PATH`
    /// (each step's event POSTed as JSON) or `NAME=exec:COMMAND` (the event on its standard
    /// input). Repeatable; the variable takes a comma-separated list.
    #[arg(
        long = "rotation-handler",
        env = "RAMPART_ROTATION_HANDLERS",
        value_delimiter = ','
    )]
    rotation_handlers: Vec<String>,
    /// The root key sealing secrets at rest, base64 of 32 bytes (default: `<data-dir>/root.key`).
    #[arg(long, env = "RAMPART_ROOT_KEY", hide = true, hide_env_values = true)]
    root_key: Option<String>,
    /// Bytes of each audit log segment file, in MiB: each is preallocated, two at a time,
    /// and retention removes whole segments. `RAMPART_JOURNAL=table` keeps a new data
    /// directory's journal in SQLite instead, only to compare the two.
    #[arg(
        long,
        env = "RAMPART_JOURNAL_SEGMENT_MIB",
        default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..=4096)
    )]
    journal_segment_mib: u64,
    /// The HTTP endpoints SNS subscriptions may deliver to: `loopback` (127.0.0.0/8, ::1,
    /// localhost) or `any` host.
    #[arg(long, env = "RAMPART_SNS_ENDPOINTS", default_value = "loopback")]
    sns_endpoints: rampart_sns::EndpointScope,
    #[command(flatten)]
    trail_s3: TrailS3Args,
}

/// Where trail files go when not to `<data-dir>/buckets`: the trails' buckets in an
/// S3-compatible store.
#[derive(Debug, clap::Args)]
pub struct TrailS3Args {
    /// Deliver trail log and digest files to the trails' buckets at this S3-compatible endpoint
    /// (e.g. http://127.0.0.1:9000) instead of `<data-dir>/buckets`.
    #[arg(long, env = "RAMPART_TRAIL_S3_ENDPOINT")]
    trail_s3_endpoint: Option<String>,
    /// The region the S3-compatible endpoint signs for.
    #[arg(long, env = "RAMPART_TRAIL_S3_REGION", default_value = "us-east-1")]
    trail_s3_region: String,
    /// The access key ID Rampart writes the trail files with.
    #[arg(long, env = "RAMPART_TRAIL_S3_ACCESS_KEY_ID")]
    trail_s3_access_key_id: Option<String>,
    /// Its secret access key (from the environment, so it never shows in a process list).
    #[arg(
        long,
        env = "RAMPART_TRAIL_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    trail_s3_secret_access_key: Option<String>,
}

impl TrailS3Args {
    /// The endpoint, when one is named; its credentials are required then.
    fn endpoint(&self) -> anyhow::Result<Option<rampart_server::trail_storage::S3Endpoint>> {
        let Some(url) = &self.trail_s3_endpoint else {
            return Ok(None);
        };
        let (Some(access_key_id), Some(secret_access_key)) = (
            &self.trail_s3_access_key_id,
            &self.trail_s3_secret_access_key,
        ) else {
            bail!(
                "--trail-s3-endpoint needs RAMPART_TRAIL_S3_ACCESS_KEY_ID and \
                 RAMPART_TRAIL_S3_SECRET_ACCESS_KEY"
            );
        };
        Ok(Some(rampart_server::trail_storage::S3Endpoint {
            url: url.clone(),
            region: self.trail_s3_region.clone(),
            access_key_id: access_key_id.clone(),
            secret_access_key: secret_access_key.clone(),
        }))
    }
}

pub(crate) const DB_FILE: &str = "rampart.db";
pub(crate) const ROOT_KEY_FILE: &str = "root.key";
const CREDENTIALS_FILE: &str = "credentials";
const CONFIG_FILE: &str = "config";
const PROFILE: &str = "rampart";

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Held until exit: dropping it removes the ephemeral directory.
    let ephemeral_dir = if args.ephemeral {
        let mut builder = tempfile::Builder::new();
        builder.prefix("rampart-");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        Some(builder.tempdir()?)
    } else {
        None
    };
    let data_dir = match &ephemeral_dir {
        Some(dir) => dir.path().to_owned(),
        None => args.data_dir.clone(),
    };
    create_private_dir(&data_dir)?;
    let trail_s3 = args.trail_s3.endpoint()?;

    let root_key = match &args.root_key {
        Some(text) => RootKey::from_base64(text).context("RAMPART_ROOT_KEY")?,
        None => {
            let path = data_dir.join(ROOT_KEY_FILE);
            let key = RootKey::load_or_create(&path)?.0;
            // Created 0600; one copied in with wider permissions is narrowed.
            narrow_to_owner(&path, 0o600)?;
            key
        }
    };
    let root_key = Arc::new(root_key);
    let rotation_handlers = RotationHandlers::parse(&args.rotation_handlers)
        .map_err(anyhow::Error::msg)
        .context("--rotation-handler")?;
    let store_spec = StoreSpec::parse(args.store.as_deref(), &data_dir)?;
    let sqlite_options = SqliteOptions {
        segment_bytes: args.journal_segment_mib << 20,
        ..SqliteOptions::from_env()?
    };
    let store = store_spec.open(usize::from(args.store_pool_size), &sqlite_options)?;
    // `rampart admin --data-dir` finds the same deployment's store through this file. The
    // URL may hold a password: owner-only, like the root key beside it.
    let recorded = data_dir.join(super::store::STORE_FILE);
    match &store_spec {
        StoreSpec::Postgres(url) => write_private_file(&recorded, url.as_bytes())?,
        // A record of an earlier server's PostgreSQL store would send admin commands there.
        StoreSpec::Sqlite(_) => match fs::remove_file(&recorded) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", recorded.display()));
            }
            _ => {}
        },
    }
    let deployment = bootstrap_once(&store, &root_key, &args, &data_dir).await?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let mut registry = Registry::with_all_services();
    // SNS delivers to the endpoints the operator allows and writes email to the outbox; its
    // messages link back to this listener.
    registry.add(Arc::new(rampart_sns::Sns::with_settings(
        rampart_sns::SnsSettings {
            endpoints: args.sns_endpoints,
            outbox: Some(data_dir.join("outbox").join("sns")),
            public_url: format!("http://{local}"),
        },
    )));
    // Rotation functions are the server's configuration, given to Secrets Manager.
    registry.add(Arc::new(SecretsManager::with_rotation_handlers(
        rotation_handlers,
    )));
    // What an earlier Rampart stored in a form this one no longer reads is rewritten first.
    for name in registry.names().collect::<Vec<_>>() {
        let Some(service) = registry.get(name).cloned() else {
            continue;
        };
        store
            .write_with(move |tx| service.upgrade_stored(tx))
            .await
            .with_context(|| format!("upgrading what {name} stored"))?;
    }
    let state = Arc::new(AppState::new(
        Arc::clone(&store),
        root_key,
        registry,
        ServerConfig {
            region: args.region.clone(),
            enable_reset: args.enable_reset,
        },
    ));
    // The deliverer writes each logging trail's files in the background.
    let deliverer = rampart_server::delivery::spawn(
        Arc::clone(&state),
        rampart_server::delivery::DeliveryConfig::from_env(&data_dir, trail_s3),
    )
    .context("cannot start the trail deliverer")?;
    // Trails with a CloudWatch Logs group get their events there within seconds.
    let logs_deliverer = rampart_server::logs_delivery::spawn(
        Arc::clone(&state),
        rampart_server::logs_delivery::LogsDeliveryConfig::from_env(),
    )
    .context("cannot start the CloudWatch Logs deliverer")?;
    // The scheduler runs the work services schedule for themselves (parameter policies).
    let scheduler = rampart_server::scheduler::spawn(
        Arc::clone(&state),
        rampart_server::scheduler::SchedulerConfig::from_env(),
    )
    .context("cannot start the scheduler")?;
    tracing::info!(
        listen = %local,
        data_dir = %data_dir.display(),
        store = %store_spec.describe(),
        account = %deployment.management_account_id,
        "rampart is serving"
    );
    let shutdown = shutdown_signal()?;
    // One line on stdout that scripts and tests can wait for.
    println!("rampart listening on http://{local}");
    rampart_server::serve(listener, state, shutdown).await?;
    tracing::info!("stopped serving; in-flight requests drained");
    scheduler.stop();
    logs_deliverer.stop();
    deliverer.stop();
    drop(store);
    drop(ephemeral_dir);
    Ok(())
}

async fn bootstrap_once(
    store: &Arc<dyn Store>,
    root_key: &Arc<RootKey>,
    args: &ServeArgs,
    data_dir: &Path,
) -> anyhow::Result<Deployment> {
    // Nodes starting together on one PostgreSQL database: the one that takes the bootstrap
    // lease bootstraps, the others wait for its deployment (a store one process owns always
    // holds the lease). The lease is looked at only while there is no deployment yet.
    loop {
        if store.read_with(|tx| account::deployment(tx))?.is_some()
            || store.take_lease(BOOTSTRAP_LEASE)?
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if let Some(existing) = store.read_with(|tx| account::deployment(tx))? {
        if let Some(wanted) = &args.account_id
            && *wanted != existing.management_account_id
        {
            bail!(
                "{} already holds account {}; --account-id {wanted} applies to a new data directory only",
                data_dir.display(),
                existing.management_account_id
            );
        }
        return Ok(existing);
    }
    let root_access_key = match (&args.root_access_key_id, &args.root_secret_access_key) {
        (Some(id), Some(secret)) => Some((id.clone(), SecretBytes::from(secret.clone()))),
        (None, None) => None,
        _ => bail!(
            "RAMPART_ROOT_ACCESS_KEY_ID and RAMPART_ROOT_SECRET_ACCESS_KEY must be given together"
        ),
    };
    let request = BootstrapRequest {
        account_id: args.account_id.clone(),
        root_access_key,
    };
    let key = Arc::clone(root_key);
    let now = rampart_service::aws_timestamp(time::OffsetDateTime::now_utc());
    let (deployment, secret) = store
        .write_with(move |tx| {
            account::bootstrap(tx, request, &key, &rampart_service::OsEntropy, &now)
                .map_err(BootstrapFailure)
        })
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap failed: {}", e.0))?;
    let credentials = data_dir.join(CREDENTIALS_FILE);
    write_private_file(
        &credentials,
        format!(
            "[{PROFILE}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            deployment.root_access_key_id,
            String::from_utf8_lossy(secret.expose())
        )
        .as_bytes(),
    )?;
    write_private_file(
        &data_dir.join(CONFIG_FILE),
        format!("[profile {PROFILE}]\nregion = {}\n", args.region).as_bytes(),
    )?;
    // Shown once, on the terminal that started Rampart; never logged.
    println!(
        "Rampart bootstrapped account {}.",
        deployment.management_account_id
    );
    println!(
        "  root access key id:     {}",
        deployment.root_access_key_id
    );
    println!(
        "  root secret access key: {}",
        String::from_utf8_lossy(secret.expose())
    );
    println!(
        "  credentials file:       {} (profile `{PROFILE}`)",
        credentials.display()
    );
    Ok(deployment)
}

/// The lease the node that bootstraps a shared database holds while it does.
const BOOTSTRAP_LEASE: &str = "bootstrap";

/// Carries either bootstrap's refusal or a store failure out of the write transaction.
struct BootstrapFailure(account::BootstrapError);

impl From<StoreError> for BootstrapFailure {
    fn from(e: StoreError) -> Self {
        BootstrapFailure(account::BootstrapError::Store(e))
    }
}

/// Creates the data directory owner-only (0700), or narrows an existing one that its group
/// or others could enter: it holds the database, the root key and the credentials file.
fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    narrow_to_owner(path, 0o700)
}

/// Narrows `path` to `mode` when its group or others have any access, saying so: a file
/// or directory made by an earlier version, or by hand, may be open to every local user.
fn narrow_to_owner(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .permissions()
            .mode();
        if current & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", current & 0o777),
                "narrowing permissions to {mode:o}: the group or others could read it"
            );
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot narrow the permissions of {}", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The mode above applies to a new file only; one left from before keeps its own.
    narrow_to_owner(path, 0o600)?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

/// Registers for SIGTERM and SIGINT now, so a signal sent as soon as the server announces
/// itself is already handled, and resolves when one arrives.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutdown requested; draining in-flight requests");
    })
}
