//! `rampart policy`: validate and evaluate IAM policies offline, with the same engine that
//! authorizes every request.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rampart_policy::PolicyKind;

/// `rampart policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Report findings (ERROR, SECURITY_WARNING, WARNING, SUGGESTION) for policy files,
    /// with AWS's Service Authorization Reference for the services Rampart knows (actions,
    /// condition keys, resource types); exits 1 when any file has an ERROR.
    Validate {
        /// What kind of policy the files hold.
        #[arg(long, value_enum, default_value = "identity")]
        kind: Kind,
        /// Print findings as JSON.
        #[arg(long)]
        json: bool,
        /// Policy documents.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Decide one request offline and print the decision as JSON.
    Evaluate {
        /// A JSON file describing the request and every policy that applies to it.
        #[arg(long)]
        request: PathBuf,
    },
}

/// The policy kinds, as the command line names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// Attached to a user, group or role.
    Identity,
    /// Attached to a resource (names a Principal).
    Resource,
    /// A role's trust policy.
    Trust,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A session policy passed to AssumeRole or GetFederationToken.
    Session,
    /// A KMS key policy.
    KeyPolicy,
    /// A permissions boundary.
    Boundary,
}

impl From<Kind> for PolicyKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Identity => PolicyKind::Identity,
            Kind::Resource => PolicyKind::Resource,
            Kind::Trust => PolicyKind::Trust,
            Kind::Scp => PolicyKind::Scp,
            Kind::Rcp => PolicyKind::Rcp,
            Kind::Session => PolicyKind::Session,
            Kind::KeyPolicy => PolicyKind::KeyPolicy,
            Kind::Boundary => PolicyKind::Boundary,
        }
    }
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Validate { kind, json, files } => {
            let mut contents = Vec::with_capacity(files.len());
            for path in &files {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                contents.push((path.display().to_string(), text));
            }
            let named: Vec<(&str, &str)> = contents
                .iter()
                .map(|(name, text)| (name.as_str(), text.as_str()))
                .collect();
            let (report, has_errors) = rampart_policy::cli::validate_files(
                &named,
                kind.into(),
                json,
                Some(rampart_authorization_reference::reference()),
            );
            print!("{report}");
            Ok(if has_errors {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        PolicyCommand::Evaluate { request } => {
            let text = std::fs::read_to_string(&request)
                .with_context(|| format!("cannot read {}", request.display()))?;
            let answer = rampart_policy::cli::evaluate_request(&text)
                .with_context(|| format!("{} is not a valid request", request.display()))?;
            println!("{answer}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
