//! A fresh PostgreSQL database per test run, so runs never see each other's data.

#![allow(
    clippy::panic,
    reason = "test support: a failure to set up fails the test"
)]

use std::hash::{BuildHasher, Hasher};

/// The server tests use unless `RAMPART_TEST_POSTGRES_URL` names another (the development
/// machines' and CI's PostgreSQL, trust authentication).
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database `rampart_test_<random>` created on the test server, dropped when this is.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database, for `PostgresStore::open`.
    pub url: String,
}

impl TestDatabase {
    /// Creates the database; panics, naming the server, when it cannot.
    pub fn create() -> Self {
        let admin_url =
            std::env::var("RAMPART_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let name = format!("rampart_test_{:016x}", hasher.finish());
        let url = with_database(&admin_url, &name);
        if let Err(e) = run_on(&admin_url, &format!("CREATE DATABASE {name}")) {
            panic!(
                "cannot create a test database on {admin_url} (is PostgreSQL running? \
                 scripts/test starts it; RAMPART_TEST_POSTGRES_URL names another): {e}"
            );
        }
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = run_on(&self.admin_url, &sql) {
            tracing::warn!(database = %self.name, error = %e, "cannot drop the test database");
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base.get(authority_end..).and_then(|rest| rest.find('/')) {
        Some(slash) => base.get(..authority_end + slash).unwrap_or(base),
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs one statement on a connection of its own, on a thread of its own: callers may be
/// inside a tokio runtime, where another runtime cannot block.
fn run_on(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let driver = tokio::spawn(connection);
            let result = client
                .batch_execute(&sql)
                .await
                .map_err(|e| crate::StoreError::from(e).to_string());
            drop(client);
            let _ = driver.await;
            result
        })
    })
    .join()
    .map_err(|_| "the statement's thread panicked".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?connect_timeout=5", "x"),
            "postgres://u@h/x?connect_timeout=5"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
