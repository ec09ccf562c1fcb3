//! `rampart`: the AWS security services, self-hosted, in one binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod command;

/// See Cargo.toml: mimalloc's thread-local free lists cost a fraction of glibc's malloc/free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rampart serves IAM, STS and the other AWS security services on a local endpoint.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the AWS endpoint.
    Serve(command::serve::ServeArgs),
    /// Validate and evaluate IAM policies offline.
    #[command(subcommand)]
    Policy(command::policy::PolicyCommand),
    /// Operator tasks on a data directory.
    #[command(subcommand)]
    Admin(command::admin::AdminCommand),
    /// Work with CloudTrail trail files.
    #[command(subcommand)]
    Trail(command::trail::TrailCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAMPART_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Serve(args) => command::serve::run(args),
        Command::Policy(command) => command::policy::run(command),
        Command::Admin(command) => command::admin::run(command),
        Command::Trail(command) => command::trail::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart: {e:#}");
            ExitCode::FAILURE
        }
    }
}
