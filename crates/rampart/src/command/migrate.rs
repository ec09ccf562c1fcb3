//! `rampart admin migrate`: copies a whole deployment from its SQLite store into an empty
//! PostgreSQL database, then verifies the copy (issue 21, docs/SCALE-OUT.md).
//!
//! What moves: every document of every namespace, as bytes (sealed secrets stay sealed under
//! the same root key, which this command never reads), and the whole audit journal, every
//! event under its own number with the attributes LookupEvents searches by. Timers, trail
//! delivery cursors, leases' state and every other service record are documents, so they
//! move with the rest; the trail deliverer's cursor names journal numbers, which the copy
//! keeps, so delivery goes on where it stopped. The files in the data directory (root key,
//! credentials file, local trail buckets) stay where they are.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use rampart_store::{Document, JournalRecord, ReadTx, SqliteStore, Store, StoreError};
use sha2::{Digest as _, Sha256};

use super::store::StoreSpec;

/// Documents per page read and inserted: bounded memory whatever the deployment's size.
const DOCUMENT_PAGE: usize = 256;
/// Journal events per page.
const JOURNAL_PAGE: usize = 512;

/// `rampart admin migrate`'s arguments.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The deployment to copy: `sqlite:PATH` or a data directory (its `rampart.db`). No
    /// server may be running on it.
    #[arg(long)]
    from: String,
    /// The PostgreSQL database to copy into (`postgres://USER@HOST:PORT/DATABASE`); it must
    /// hold no Rampart state or events yet.
    #[arg(long)]
    to: String,
    /// Only compare the two stores (counts and digests); copy nothing.
    #[arg(long)]
    verify_only: bool,
}

/// The SQLite database `from` names.
fn source_path(from: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = match from.strip_prefix("sqlite:") {
        Some(_) => match StoreSpec::parse(Some(from), Path::new("."))? {
            StoreSpec::Sqlite(path) => path,
            StoreSpec::Postgres(_) => bail!("--from must be sqlite:PATH or a data directory"),
        },
        None if from.starts_with("postgres://") || from.starts_with("postgresql://") => {
            bail!("--from must be sqlite:PATH or a data directory (not a PostgreSQL URL)")
        }
        None => Path::new(from).join(super::serve::DB_FILE),
    };
    anyhow::ensure!(
        path.is_file(),
        "{} does not exist: --from must name a Rampart SQLite database or data directory",
        path.display()
    );
    Ok(path)
}

pub fn run(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let source = source_path(&args.from)?;
    let target = StoreSpec::parse(Some(&args.to), Path::new("."))?;
    let StoreSpec::Postgres(url) = &target else {
        bail!("--to must be a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)");
    };
    let options = rampart_store::SqliteOptions::from_env()?;
    let sqlite = SqliteStore::open_with_options(&source, &options)
        .with_context(|| format!("opening {}", source.display()))?;
    // The journal's lock is held while a server runs on the file: a copy taken then could
    // miss writes made after it, or tear a write between state and journal.
    if sqlite.held_by_another_process() {
        bail!(
            "{} is in use by a running rampart (its journal lock is held): stop the server, \
             then migrate",
            source.display()
        );
    }
    eprintln!(
        "migrate: from sqlite:{} to {}",
        source.display(),
        target.describe()
    );
    if !args.verify_only {
        copy(&sqlite, url)?;
    }
    let postgres = target.open(2, &options)?;
    eprintln!("migrate: verifying");
    let from = summarize(&sqlite).context("reading the SQLite store")?;
    let to = summarize(postgres.as_ref()).context("reading the PostgreSQL store")?;
    if report(&from, &to) {
        println!("verified: the copy matches");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("MISMATCH: the PostgreSQL store differs from the SQLite store");
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(feature = "postgres")]
fn copy(sqlite: &SqliteStore, url: &str) -> anyhow::Result<()> {
    use rampart_store::PostgresImport;
    use std::time::{Duration, Instant};
    /// How often progress is reported.
    const PROGRESS_EVERY: Duration = Duration::from_secs(2);
    let store: &dyn Store = sqlite;
    let mut import = PostgresImport::begin(url)?;
    let started = Instant::now();
    let mut reported = Instant::now();
    let mut copied = 0_u64;
    let mut after: Option<(String, String)> = None;
    loop {
        let page = store.read_with(|tx| {
            tx.documents_after(
                after.as_ref().map(|(ns, key)| (ns.as_str(), key.as_str())),
                DOCUMENT_PAGE,
            )
        })?;
        let Some(last) = page.last() else { break };
        after = Some((last.ns.clone(), last.key.clone()));
        import.documents(&page)?;
        copied += page.len() as u64;
        if reported.elapsed() >= PROGRESS_EVERY {
            eprintln!("migrate: {copied} documents copied");
            reported = Instant::now();
        }
    }
    eprintln!("migrate: {copied} documents copied");
    let mut events = 0_u64;
    let mut after_seq = 0_u64;
    loop {
        let page = store.read_with(|tx| tx.journal_records_after(after_seq, JOURNAL_PAGE))?;
        let Some(last) = page.last() else { break };
        after_seq = last.seq;
        import.journal(&page)?;
        events += page.len() as u64;
        if reported.elapsed() >= PROGRESS_EVERY {
            eprintln!("migrate: {events} journal events copied (up to number {after_seq})");
            reported = Instant::now();
        }
    }
    // Numbers the source used but holds no readable event under (voided appends) are not
    // given out again.
    let head = sqlite.health().journal_seq.max(after_seq);
    import.commit(head)?;
    eprintln!(
        "migrate: {events} journal events copied; committed in {:.1?}",
        started.elapsed()
    );
    Ok(())
}

#[cfg(not(feature = "postgres"))]
fn copy(_sqlite: &SqliteStore, _url: &str) -> anyhow::Result<()> {
    bail!("this rampart was built without PostgreSQL support (cargo feature `postgres`)")
}

/// A count and a SHA-256 over the items counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tally {
    count: u64,
    digest: String,
}

/// What verification compares: each namespace's documents, and the journal (with its first
/// and last numbers).
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    namespaces: BTreeMap<String, Tally>,
    journal: Option<(Tally, u64, u64)>,
}

/// Feeds one length-prefixed field, so that no two different sequences of fields hash alike.
fn feed(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_be_bytes());
    hash.update(bytes);
}

fn feed_text(hash: &mut Sha256, text: Option<&str>) {
    match text {
        None => hash.update([0]),
        Some(t) => {
            hash.update([1]);
            feed(hash, t.as_bytes());
        }
    }
}

fn feed_record(hash: &mut Sha256, r: &JournalRecord) {
    hash.update(r.seq.to_be_bytes());
    feed(hash, &r.event);
    hash.update(r.event_time.to_be_bytes());
    for text in [
        &r.account,
        &r.event_id,
        &r.event_name,
        &r.event_source,
        &r.username,
        &r.access_key_id,
    ] {
        feed_text(hash, text.as_deref());
    }
    hash.update([u8::from(r.read_only)]);
    hash.update((r.resources.len() as u64).to_be_bytes());
    for (kind, name) in &r.resources {
        feed(hash, kind.as_bytes());
        feed(hash, name.as_bytes());
    }
}

fn finish(hash: Sha256, count: u64) -> Tally {
    Tally {
        count,
        digest: data_encoding::HEXLOWER.encode(&hash.finalize()),
    }
}

/// Counts and digests `store`'s documents (per namespace) and journal, reading in pages.
fn summarize(store: &dyn Store) -> Result<Summary, StoreError> {
    let mut summary = Summary::default();
    let mut current: Option<(String, Sha256, u64)> = None;
    let mut after: Option<(String, String)> = None;
    loop {
        let page: Vec<Document> = store.read_with(|tx: &mut dyn ReadTx| {
            tx.documents_after(
                after.as_ref().map(|(ns, key)| (ns.as_str(), key.as_str())),
                DOCUMENT_PAGE,
            )
        })?;
        let Some(last) = page.last() else { break };
        after = Some((last.ns.clone(), last.key.clone()));
        for doc in page {
            if current.as_ref().is_none_or(|(ns, _, _)| *ns != doc.ns) {
                if let Some((ns, hash, count)) = current.take() {
                    summary.namespaces.insert(ns, finish(hash, count));
                }
                current = Some((doc.ns.clone(), Sha256::new(), 0));
            }
            if let Some((_, hash, count)) = current.as_mut() {
                feed(hash, doc.key.as_bytes());
                feed(hash, &doc.value);
                *count += 1;
            }
        }
    }
    if let Some((ns, hash, count)) = current.take() {
        summary.namespaces.insert(ns, finish(hash, count));
    }
    let mut hash = Sha256::new();
    let (mut count, mut first, mut last_seq) = (0_u64, 0_u64, 0_u64);
    loop {
        let page = store
            .read_with(|tx: &mut dyn ReadTx| tx.journal_records_after(last_seq, JOURNAL_PAGE))?;
        let Some(last) = page.last() else { break };
        last_seq = last.seq;
        if first == 0 {
            first = page.first().map_or(0, |r| r.seq);
        }
        for record in &page {
            feed_record(&mut hash, record);
        }
        count += page.len() as u64;
    }
    summary.journal = Some((finish(hash, count), first, last_seq));
    Ok(summary)
}

/// Prints both sides, namespace by namespace, then the journal; says whether all match.
fn report(from: &Summary, to: &Summary) -> bool {
    let mut all_match = true;
    let names: std::collections::BTreeSet<&String> =
        from.namespaces.keys().chain(to.namespaces.keys()).collect();
    println!(
        "{:<40} {:>9} {:>9}  {:<16} {:<16}",
        "namespace", "sqlite", "postgres", "sqlite sha256", "postgres sha256"
    );
    let short = |t: Option<&Tally>| {
        t.map_or_else(|| "-".to_owned(), |t| t.digest.chars().take(16).collect())
    };
    let count = |t: Option<&Tally>| t.map_or(0, |t| t.count);
    for name in names {
        let (a, b) = (from.namespaces.get(name), to.namespaces.get(name));
        let same = a == b;
        all_match &= same;
        println!(
            "{:<40} {:>9} {:>9}  {:<16} {:<16}{}",
            name,
            count(a),
            count(b),
            short(a),
            short(b),
            if same { "" } else { "  MISMATCH" }
        );
    }
    let journal = |j: &Option<(Tally, u64, u64)>| match j {
        Some((t, first, last)) => {
            format!("{} events, numbers {first}..{last}, {}", t.count, t.digest)
        }
        None => "-".to_owned(),
    };
    let same = from.journal == to.journal;
    all_match &= same;
    println!("journal (sqlite):   {}", journal(&from.journal));
    println!(
        "journal (postgres): {}{}",
        journal(&to.journal),
        if same { "" } else { "  MISMATCH" }
    );
    all_match
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn the_source_is_a_sqlite_file_or_a_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(source_path(dir.path().to_str().unwrap()).is_err());
        std::fs::write(dir.path().join("rampart.db"), b"").unwrap();
        assert_eq!(
            source_path(dir.path().to_str().unwrap()).unwrap(),
            dir.path().join("rampart.db")
        );
        let file = format!("sqlite:{}", dir.path().join("rampart.db").display());
        assert_eq!(source_path(&file).unwrap(), dir.path().join("rampart.db"));
        assert!(source_path("postgres://u@h/db").is_err());
        assert!(source_path("sqlite:").is_err());
    }

    #[test]
    fn digests_see_every_field() {
        let record = JournalRecord {
            seq: 7,
            event: b"{}".to_vec(),
            account: Some("111122223333".into()),
            resources: vec![("AWS::IAM::User".into(), "bob".into())],
            ..JournalRecord::default()
        };
        let digest = |r: &JournalRecord| {
            let mut h = Sha256::new();
            feed_record(&mut h, r);
            finish(h, 1)
        };
        let base = digest(&record);
        let mut other = record.clone();
        other.seq = 8;
        assert_ne!(digest(&other), base);
        let mut other = record.clone();
        other.resources[0].1 = "alice".into();
        assert_ne!(digest(&other), base);
        let mut other = record.clone();
        other.username = Some(String::new());
        assert_ne!(digest(&other), base);
        assert_eq!(digest(&record.clone()), base);
    }
}
