//! `rampart trail validate`: checks a trail's files in a bucket directory offline, like `aws
//! cloudtrail validate-logs` does in S3: every digest's SHA256withRSA signature (with the keys
//! ListPublicKeys served, saved to a file), each region's chain of digests, every log file's
//! hash, and no unlisted file in a digested period. Reports each modified, deleted or inserted file.
//! Log files encrypted with a KMS key are decrypted through KMS at `--endpoint`.
//!
//! `rampart trail export`: writes a time range of the journal as CloudTrail log files, read
//! from a data directory beside a serving rampart or without one (the audit log read-only).
//!
//! `rampart trail decrypt`: copies a bucket directory with every encrypted log file decrypted
//! (KMS Decrypt of its data key, with the reader's credentials), as S3 returns SSE-KMS objects.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use rampart_cloudtrail::files::{self, DataKeyError, DataKeys, NoDataKeys};
use rampart_cloudtrail::sse_kms;
use rampart_server::trail_storage::write_file;

use super::kms_client::KmsDataKeys;

/// How to reach KMS for the data keys of encrypted log files.
#[derive(Debug, clap::Args)]
pub struct KmsArgs {
    /// The Rampart endpoint whose KMS decrypts the data keys of encrypted log files (e.g.
    /// http://127.0.0.1:4566), called with your AWS credentials (which need kms:Decrypt).
    #[arg(long)]
    endpoint: Option<String>,
    /// The profile of the shared credentials file to call KMS with (default: the
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables, else `default`).
    #[arg(long)]
    profile: Option<String>,
}

impl KmsArgs {
    fn data_keys(&self) -> anyhow::Result<Box<dyn DataKeys>> {
        Ok(match &self.endpoint {
            Some(endpoint) => Box::new(KmsDataKeys::new(endpoint, self.profile.as_deref())?),
            None => Box::new(NoDataKeys),
        })
    }
}

/// `rampart trail` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TrailCommand {
    /// Validate the log and digest files under a bucket directory; exits 1 when any file is
    /// invalid.
    Validate {
        /// The bucket directory (`<data-dir>/buckets/<bucket>` by default).
        #[arg(long)]
        dir: PathBuf,
        /// A file holding ListPublicKeys' answer for the period, as `aws cloudtrail
        /// list-public-keys --start-time … > keys.json` prints it (the keys of several regions
        /// may be merged into its `PublicKeyList`).
        #[arg(long, env = "RAMPART_TRAIL_PUBLIC_KEYS")]
        public_keys: PathBuf,
        /// Only digests ending at or after this time (RFC 3339, e.g. 2026-11-24T00:00:00Z).
        #[arg(long)]
        start_time: Option<String>,
        /// Only digests ending at or before this time (RFC 3339).
        #[arg(long)]
        end_time: Option<String>,
        #[command(flatten)]
        kms: KmsArgs,
    },
    /// Copy a bucket directory to another with every KMS-encrypted log file decrypted (to the
    /// gzip file S3 would return); other files are copied as they are.
    Decrypt {
        /// The bucket directory to read.
        #[arg(long)]
        dir: PathBuf,
        /// The directory to write (created; files keep their keys).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        kms: KmsArgs,
    },
    /// Write every account's events of a time range as CloudTrail log files (gzip JSON
    /// `{"Records":[…]}`, under `<out>/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`, as
    /// trail delivery names them). Reads the data directory's audit log read-only, beside a
    /// serving rampart or without one; events of never-authenticated callers are left out.
    Export {
        /// The data directory of the Rampart whose journal to export.
        #[arg(long, env = "RAMPART_DATA_DIR", default_value = ".rampart")]
        data_dir: PathBuf,
        /// The first event time to export (RFC 3339, e.g. 2026-11-24T00:00:00Z).
        #[arg(long)]
        from: String,
        /// The last event time to export (RFC 3339).
        #[arg(long)]
        to: String,
        /// The directory to write the files in (created).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `rampart trail` subcommand.
pub fn run(command: TrailCommand) -> anyhow::Result<ExitCode> {
    match command {
        TrailCommand::Validate {
            dir,
            public_keys,
            start_time,
            end_time,
            kms,
        } => {
            let listed = std::fs::read(&public_keys)
                .with_context(|| format!("cannot read {}", public_keys.display()))?;
            let key = files::public_keys_from_list(&listed)
                .with_context(|| format!("--public-keys {}", public_keys.display()))?;
            let mut keys = kms.data_keys()?;
            let report = files::validate(
                &dir,
                &key,
                start_time.as_deref(),
                end_time.as_deref(),
                keys.as_mut(),
            )?;
            for finding in &report.findings {
                println!("{finding}");
            }
            println!(
                "Results: {} digest file(s) and {} log file(s) valid, {} invalid",
                report.valid_digests,
                report.valid_logs,
                report.findings.len()
            );
            Ok(if report.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        TrailCommand::Export {
            data_dir,
            from,
            to,
            out,
        } => export(&data_dir, &from, &to, &out),
        TrailCommand::Decrypt { dir, out, kms } => {
            let mut keys = kms.data_keys()?;
            let (decrypted, failed) = decrypt_tree(&dir, &dir, &out, keys.as_mut())?;
            println!("{decrypted} log file(s) decrypted, {failed} could not be");
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn export(data_dir: &Path, from: &str, to: &str, out: &Path) -> anyhow::Result<ExitCode> {
    let time = |text: &str, flag: &str| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map(time::OffsetDateTime::unix_timestamp)
            .with_context(|| format!("--{flag} {text}: expected an RFC 3339 time"))
    };
    let (from, to) = (time(from, "from")?, time(to, "to")?);
    // The deployment's store, SQLite or PostgreSQL, found as `rampart admin` finds it.
    let spec = super::store::StoreSpec::for_admin(data_dir)?;
    if let super::store::StoreSpec::Sqlite(db) = &spec {
        anyhow::ensure!(
            db.exists(),
            "{} has no database: is it a Rampart data directory?",
            data_dir.display()
        );
    }
    let options = rampart_store::SqliteOptions {
        // Only the serving rampart, or the next one to start, recovers the log.
        journal_read_only: true,
        ..rampart_store::SqliteOptions::from_env()?
    };
    // One command's reads in sequence need no more connections.
    let store = spec.open(2, &options)?;
    let written = rampart_server::delivery::export(&store, from, to, |key, gz| {
        Ok(write_file(&out.join(key), gz)?)
    })?;
    println!("{written} log file(s) written under {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Copies `dir` (under the bucket directory `root`) into `out`, decrypting encrypted files;
/// returns how many were decrypted and how many could not be.
fn decrypt_tree(
    root: &Path,
    dir: &Path,
    out: &Path,
    keys: &mut dyn DataKeys,
) -> anyhow::Result<(usize, usize)> {
    let (mut decrypted, mut failed) = (0, 0);
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            let (d, f) = decrypt_tree(root, &path, out, keys)?;
            decrypted += d;
            failed += f;
            continue;
        }
        let relative = path.strip_prefix(root)?;
        let target = out.join(relative);
        let bytes = std::fs::read(&path)?;
        if !sse_kms::is_encrypted(&bytes) {
            write_file(&target, &bytes)?;
            continue;
        }
        let opened = sse_kms::header(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|header| {
                keys.data_key(&header).map_err(|e| match e {
                    DataKeyError::Rejected => "KMS rejected its data key or context".to_owned(),
                    DataKeyError::Unavailable(why) => why,
                })
            })
            .and_then(|data_key| sse_kms::open(&bytes, &data_key).map_err(|e| e.to_string()));
        match opened {
            Ok(gz) => {
                write_file(&target, &gz)?;
                decrypted += 1;
            }
            Err(why) => {
                eprintln!("{}: {why}", relative.display());
                failed += 1;
            }
        }
    }
    Ok((decrypted, failed))
}
