//! Which store a command opens: `--store sqlite:PATH` or `--store postgres://…` (also
//! `RAMPART_STORE`), or the SQLite database in the data directory when none is named.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use rampart_store::{SqliteOptions, SqliteStore, Store};

/// The file in the data directory naming the PostgreSQL store `rampart serve` used there, so
/// that `rampart admin --data-dir` opens the same one.
pub const STORE_FILE: &str = "store";

/// A parsed `--store` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (which may hold a password: never log it, see
    /// [`StoreSpec::describe`]).
    Postgres(String),
}

impl StoreSpec {
    /// The store `spec` names, or `<data_dir>/rampart.db` when it names none.
    pub fn parse(spec: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let Some(spec) = spec.filter(|s| !s.is_empty()) else {
            return Ok(Self::Sqlite(data_dir.join(super::serve::DB_FILE)));
        };
        if let Some(path) = spec.strip_prefix("sqlite:") {
            if path.is_empty() {
                bail!("--store sqlite: needs a path, e.g. sqlite:/var/lib/rampart/rampart.db");
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(Self::Postgres(spec.to_owned()));
        }
        bail!("--store must be sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
    }

    /// The store `rampart admin` opens for `data_dir`: `RAMPART_STORE` if set, else the one
    /// the data directory's server recorded (`STORE_FILE`), else its SQLite database.
    pub fn for_admin(data_dir: &Path) -> anyhow::Result<Self> {
        Self::for_admin_with(std::env::var("RAMPART_STORE").ok(), data_dir)
    }

    fn for_admin_with(variable: Option<String>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(spec) = variable {
            return Self::parse(Some(&spec), data_dir);
        }
        let recorded = data_dir.join(STORE_FILE);
        match std::fs::read_to_string(&recorded) {
            Ok(spec) => Self::parse(Some(spec.trim()), data_dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::parse(None, data_dir),
            Err(e) => Err(e).with_context(|| format!("reading {}", recorded.display())),
        }
    }

    /// Opens the store; PostgreSQL with at most `pool_size` read connections.
    pub fn open(&self, pool_size: usize, sqlite: &SqliteOptions) -> anyhow::Result<Arc<dyn Store>> {
        let described = self.describe();
        match self {
            Self::Sqlite(path) => Ok(Arc::new(
                SqliteStore::open_with_options(path, sqlite)
                    .with_context(|| format!("opening the store {described}"))?,
            )),
            Self::Postgres(url) => open_postgres(url, pool_size)
                .with_context(|| format!("opening the store {described}")),
        }
    }

    /// The store for logs and messages, without the URL's password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, pool_size: usize) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(rampart_store::PostgresStore::open(
        url, pool_size,
    )?))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_url: &str, _pool_size: usize) -> anyhow::Result<Arc<dyn Store>> {
    bail!("this rampart was built without PostgreSQL support (cargo feature `postgres`)")
}

/// `scheme://user:secret@host/…` as `scheme://user:***@host/…`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The user information ends at the last `@` before the path.
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn specs_parse() {
        let dir = Path::new("/data");
        assert_eq!(
            StoreSpec::parse(None, dir).unwrap(),
            StoreSpec::Sqlite(PathBuf::from("/data/rampart.db"))
        );
        assert_eq!(
            StoreSpec::parse(Some("sqlite:/x/y.db"), dir).unwrap(),
            StoreSpec::Sqlite(PathBuf::from("/x/y.db"))
        );
        assert_eq!(
            StoreSpec::parse(Some("postgresql://u@h/db"), dir).unwrap(),
            StoreSpec::Postgres("postgresql://u@h/db".into())
        );
        assert!(StoreSpec::parse(Some("sqlite:"), dir).is_err());
        assert!(StoreSpec::parse(Some("mysql://u@h/db"), dir).is_err());
        assert!(StoreSpec::parse(Some("/x/y.db"), dir).is_err());
    }

    #[test]
    fn admin_finds_the_store_the_server_recorded() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            StoreSpec::for_admin_with(None, dir.path()).unwrap(),
            StoreSpec::Sqlite(dir.path().join("rampart.db"))
        );
        std::fs::write(dir.path().join(STORE_FILE), "postgres://u@h/db\n").unwrap();
        assert_eq!(
            StoreSpec::for_admin_with(None, dir.path()).unwrap(),
            StoreSpec::Postgres("postgres://u@h/db".into())
        );
        // The variable wins over the file.
        assert_eq!(
            StoreSpec::for_admin_with(Some("sqlite:/x.db".into()), dir.path()).unwrap(),
            StoreSpec::Sqlite(PathBuf::from("/x.db"))
        );
    }

    #[test]
    fn passwords_never_show() {
        let spec = StoreSpec::Postgres("postgres://u:s3cr:et@h:5432/db?x=1".into());
        assert_eq!(spec.describe(), "postgres://u:***@h:5432/db?x=1");
        let spec = StoreSpec::Postgres("postgres://u@h/db".into());
        assert_eq!(spec.describe(), "postgres://u@h/db");
    }
}
