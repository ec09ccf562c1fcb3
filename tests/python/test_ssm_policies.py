"""Parameter policies that really run, end to end: the server's scheduler expires a parameter
within seconds of its Expiration, raises ExpirationNotification's event, and does what fell due
while the server was down once it is back — once, as the EventBridge-shaped events it records
(in the data directory's store, beside the CloudTrail journal, not in it) show."""

import datetime
import json
import sqlite3
import time
import uuid

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, Rampart


def at(seconds):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def expiration(seconds, *more):
    return json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": at(seconds)}},
                       *more])


def wait_until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def exists(ssm, name):
    try:
        ssm.get_parameter(Name=name)
        return True
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ParameterNotFound"
        return False


def bus_events(data_dir):
    """The EventBridge-shaped events the store holds (read from the database, read-only)."""
    db = sqlite3.connect(f"file:{data_dir / 'rampart.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT value FROM documents WHERE ns = 'eventbridge/events' ORDER BY key").fetchall()
    finally:
        db.close()
    return [json.loads(row[0]) for row in rows]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ssm-policies")


def test_a_parameter_expires_within_seconds_and_notifications_are_raised(data_dir):
    server = Rampart(data_dir, RAMPART_SCHEDULER_SECONDS="0.2")
    try:
        ssm = server.client("ssm")
        name = f"/expiring/{uuid.uuid4().hex[:8]}"
        notify = {"Type": "ExpirationNotification", "Version": "1.0",
                  "Attributes": {"Before": "1", "Unit": "Hours"}}
        put = ssm.put_parameter(Name=name, Value="short-lived", Type="String",
                                Tier="Intelligent-Tiering", Policies=expiration(3, notify))
        assert put["Tier"] == "Advanced"
        described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
        policies = {p["PolicyType"]: p for p in described["Parameters"][0]["Policies"]}
        assert policies["Expiration"]["PolicyStatus"] == "Pending"
        assert json.loads(policies["Expiration"]["PolicyText"])["Type"] == "Expiration"
        # The notification (an hour before a time three seconds away) is due at once.
        assert wait_until(lambda: ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]["Policies"][1]
            ["PolicyStatus"] == "Finished")
        assert exists(ssm, name)
        assert wait_until(lambda: not exists(ssm, name)), "expired within seconds"
        assert ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"] == []
        # Not a CloudTrail event: LookupEvents shows no such record.
        trail = server.client("cloudtrail").lookup_events(MaxResults=50)["Events"]
        assert all(json.loads(e["CloudTrailEvent"]).get("source") != "aws.ssm" for e in trail)
    finally:
        server.stop()
    events = [e for e in bus_events(data_dir) if e["detail"]["parameter-name"] == name]
    assert [e["detail"]["policy-type"] for e in events] == ["ExpirationNotification", "Expiration"]
    for event in events:
        assert event["source"] == "aws.ssm"
        assert event["detail-type"] == "Parameter Store Policy Action"
        assert event["account"] == ACCOUNT_ID
        assert event["resources"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter{name}"]


def test_what_falls_due_while_the_server_is_down_runs_once_after_it_restarts(data_dir):
    server = Rampart(data_dir, RAMPART_SCHEDULER_SECONDS="0.2")
    name = f"/restart/{uuid.uuid4().hex[:8]}"
    kept = f"/restart/{uuid.uuid4().hex[:8]}"
    try:
        ssm = server.client("ssm")
        ssm.put_parameter(Name=name, Value="v", Type="String", Tier="Advanced", Policies=expiration(2))
        ssm.put_parameter(Name=kept, Value="v", Type="String", Tier="Advanced", Policies=expiration(3600))
    finally:
        server.stop()
    # Down past the expiration.
    time.sleep(3)
    server = Rampart(data_dir, RAMPART_SCHEDULER_SECONDS="0.2")
    try:
        ssm = server.client("ssm")
        assert wait_until(lambda: not exists(ssm, name))
        assert exists(ssm, kept)
        # Let further rounds run: they find nothing more to do.
        time.sleep(1)
    finally:
        server.stop()
    events = [e for e in bus_events(data_dir) if e["detail"]["parameter-name"] == name]
    assert [e["detail"]["policy-type"] for e in events] == ["Expiration"]
    assert not [e for e in bus_events(data_dir) if e["detail"]["parameter-name"] == kept]
