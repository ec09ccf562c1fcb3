//! `rampart trail validate`: checks a trail's files offline, like `aws cloudtrail
//! validate-logs`: every digest's signature, the chain between digests, every log file's hash,
//! and no unlisted file in a digested period. Reports each modified, deleted or inserted file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// `rampart trail` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TrailCommand {
    /// Validate the log and digest files under a bucket directory; exits 1 when any file is
    /// invalid.
    Validate {
        /// The bucket directory (`<data-dir>/buckets/<bucket>` by default).
        #[arg(long)]
        dir: PathBuf,
        /// The digest signing public key, base64 (`publicKey` of
        /// `GET /_rampart/trail-public-key`).
        #[arg(long, env = "RAMPART_TRAIL_PUBLIC_KEY")]
        public_key: String,
        /// Only digests ending at or after this time (RFC 3339, e.g. 2026-11-24T00:00:00Z).
        #[arg(long)]
        start_time: Option<String>,
        /// Only digests ending at or before this time (RFC 3339).
        #[arg(long)]
        end_time: Option<String>,
    },
}

/// Runs a `rampart trail` subcommand.
pub fn run(command: TrailCommand) -> anyhow::Result<ExitCode> {
    match command {
        TrailCommand::Validate {
            dir,
            public_key,
            start_time,
            end_time,
        } => {
            let key = data_encoding::BASE64
                .decode(public_key.trim().as_bytes())
                .context("--public-key is not base64")?;
            let report = rampart_cloudtrail::files::validate(
                &dir,
                &key,
                start_time.as_deref(),
                end_time.as_deref(),
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
    }
}
