"""`rampart trail export` (issue 20): a time range of the audit log written as CloudTrail log
files, read beside a serving rampart (the log read-only, never repaired) and without one, and
read back: the same events LookupEvents finds."""

import datetime
import gzip
import json
import os
import subprocess

import pytest

from conftest import ACCOUNT_ID, Rampart


@pytest.fixture()
def server(tmp_path):
    rampart = Rampart(tmp_path / "data")
    yield rampart
    rampart.stop()


def export(data_dir, out, start, end):
    """Runs the export; returns {eventID: event} of the files it wrote, checking their layout."""
    done = subprocess.run(
        [os.environ["RAMPART_BIN"], "trail", "export", "--data-dir", str(data_dir),
         "--from", start.isoformat().replace("+00:00", "Z"),
         "--to", end.isoformat().replace("+00:00", "Z"), "--out", str(out)],
        capture_output=True, text=True, env=dict(os.environ, RAMPART_LOG="warn"), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    events = {}
    for path in out.rglob("*.json.gz"):
        parts = path.relative_to(out).parts
        assert parts[:3] == ("AWSLogs", parts[1], "CloudTrail"), parts
        account, region = parts[1], parts[3]
        assert path.name.startswith(f"{account}_CloudTrail_{region}_")
        # Audit events: readable by the owner only, as in the data directory.
        assert path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)
        assert not list(path.parent.glob("*.tmp")), "a temporary file left behind"
        for event in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            assert event["recipientAccountId"] == account
            assert event["awsRegion"] == region
            assert event["eventID"] not in events, "an event exported twice"
            events[event["eventID"]] = event
    return events


def looked_up(rampart, start, end):
    pages = rampart.client("cloudtrail").get_paginator("lookup_events").paginate(
        StartTime=start, EndTime=end)
    return {e["EventId"]: e for page in pages for e in page["Events"]}


def test_an_export_beside_the_server_holds_what_lookup_events_finds(server, tmp_path):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    iam = server.client("iam")
    for n in range(5):
        iam.create_user(UserName=f"exported-{n}")
    server.client("sts").get_caller_identity()
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    exported = export(server.data_dir, tmp_path / "out", start, end)
    mine = {i: e for i, e in exported.items() if e["recipientAccountId"] == ACCOUNT_ID
            and e["awsRegion"] == "us-east-1"}
    names = [e["eventName"] for e in mine.values()]
    assert names.count("CreateUser") == 5
    assert "GetCallerIdentity" in names
    found = looked_up(server, start, end)
    assert set(mine) <= set(found)
    # Whatever LookupEvents finds beyond the export came after it: its own calls.
    assert {found[i]["EventName"] for i in set(found) - set(mine)} <= {"LookupEvents"}
    for event_id, event in mine.items():
        assert json.loads(found[event_id]["CloudTrailEvent"]) == event


def test_an_export_keeps_to_its_range_and_needs_no_server(server, tmp_path):
    server.client("iam").create_user(UserName="before-the-range")
    server.stop()
    now = datetime.datetime.now(datetime.timezone.utc)
    # The audit log's files, where the store is SQLite (in PostgreSQL the journal is a table).
    journal = server.data_dir / "rampart.journal"
    segments = sorted(journal.iterdir()) if os.environ.get("RAMPART_TEST_STORE") != "postgres" else []
    sizes = [p.stat().st_size for p in segments]
    everything = export(server.data_dir, tmp_path / "all", now - datetime.timedelta(hours=1),
                        now + datetime.timedelta(hours=1))
    assert "CreateUser" in [e["eventName"] for e in everything.values()]
    assert export(server.data_dir, tmp_path / "later", now + datetime.timedelta(minutes=10),
                  now + datetime.timedelta(hours=1)) == {}
    # Read-only: not a file of the log was added, removed or resized.
    if segments:
        assert sorted(journal.iterdir()) == segments
    assert [p.stat().st_size for p in segments] == sizes
