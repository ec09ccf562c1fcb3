-- Every service's state: namespaced documents (JSON bytes), keyed within the namespace.
CREATE TABLE documents (
    ns    TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;

-- The audit journal: append-only; seq is never reused (AUTOINCREMENT).
CREATE TABLE journal (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    event BLOB NOT NULL
);
