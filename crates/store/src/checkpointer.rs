//! Background WAL checkpoints, so that copying committed pages into the database file does
//! not stall the group commit.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that takes the WAL past 1,000
//! frames: that commit, and every request waiting for the next group, wait for a few
//! thousand page copies and an fsync of the database file. Here a thread of its own copies
//! frames shortly after they are committed (`PASSIVE`: it never blocks the writer, the writer
//! never blocks it). The writer keeps SQLite's automatic checkpoint as the one that lets the
//! WAL restart from its beginning (only a checkpoint that finds every frame copied allows
//! that, and only the writer can run one between its own commits); by then this thread has
//! copied nearly every frame, so the writer's checkpoint has little left to do, and when this
//! thread holds the checkpoint lock the writer's passive attempt returns at once.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// At most one checkpoint per interval: each costs two fsyncs (the WAL, then the database
/// file), so checkpointing after every commit would double the commit path's syncs.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(5);

/// Runs until every sender of `commits` is gone. Each message says that a group committed.
pub(crate) fn run(conn: &Connection, commits: &Receiver<()>) {
    let mut last = Instant::now();
    while commits.recv().is_ok() {
        // Let more commits arrive first, so that one checkpoint covers several.
        std::thread::sleep((last + CHECKPOINT_INTERVAL).saturating_duration_since(Instant::now()));
        // Commits signalled until now are covered by this checkpoint.
        let _ = commits.try_recv();
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "background checkpoint failed; the writer's own checkpoint covers it");
        }
        last = Instant::now();
    }
}
