"""`rampart admin migrate` (issue 21): a deployment filled through the real server on SQLite —
IAM users with policies and access keys, a KMS key and a secret encrypted under it, an SSM
SecureString, a delivering trail and its events — is copied into an empty PostgreSQL database,
verified, and served from there with the same root key: the same access key signs, the secret
and the parameter decrypt to the same values, LookupEvents returns the same events with the same
IDs, the trail goes on delivering without delivering anything twice, and the command refuses a
source a server is running on, a non-empty target, and reports a copy that no longer matches.

Part of the PostgreSQL slice (scripts/test): runs when RAMPART_TEST_STORE=postgres, against a
fresh database of its own on RAMPART_TEST_POSTGRES_URL (the local server by default)."""

import datetime
import gzip
import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, POSTGRES_URL, SECRET_ACCESS_KEY, wait_for

import boto3

pytestmark = pytest.mark.skipif(os.environ.get("RAMPART_TEST_STORE") != "postgres",
                                reason="migrating needs PostgreSQL (RAMPART_TEST_STORE=postgres)")


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout


class Server:
    """`rampart serve` on `data_dir`: SQLite in it, or the PostgreSQL database `store`. The root
    key is the data directory's `root.key` either way."""

    def __init__(self, data_dir, store=None):
        env = dict(
            os.environ,
            RAMPART_ROOT_ACCESS_KEY_ID=ACCESS_KEY_ID,
            RAMPART_ROOT_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
            RAMPART_LOG="warn",
            RAMPART_JOURNAL_SEGMENT_MIB="1",
            RAMPART_TRAIL_DELIVERY_SECONDS="1",
            RAMPART_TRAIL_DIGEST_SECONDS="2",
        )
        env.pop("RAMPART_STORE", None)
        store_args = ["--store", store] if store else []
        self.process = subprocess.Popen(
            [os.environ["RAMPART_BIN"], "serve", "--listen", "127.0.0.1:0",
             "--data-dir", str(data_dir), "--account-id", ACCOUNT_ID, *store_args],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True,
        )
        for line in self.process.stdout:
            if line.startswith("rampart listening on "):
                self.endpoint = line.split()[-1]
                break
        else:
            raise RuntimeError("rampart exited before serving")

    def client(self, service, key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def migrate(*args):
    env = dict(os.environ, RAMPART_LOG="warn")
    env.pop("RAMPART_ROOT_KEY", None)
    return subprocess.run([os.environ["RAMPART_BIN"], "admin", "migrate", *args],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def delivered_ids(bucket):
    ids = []
    for path in sorted(bucket.rglob("*.json.gz")):
        if "/CloudTrail/" in str(path):
            with gzip.open(path) as f:
                ids.extend(r["eventID"] for r in json.load(f)["Records"])
    return ids


def delivered_request(bucket, request_id):
    for path in sorted(bucket.rglob("*.json.gz")):
        if "/CloudTrail/" in str(path):
            with gzip.open(path) as f:
                if any(r.get("requestID") == request_id for r in json.load(f)["Records"]):
                    return True
    return False


def lookup_all(server, end, **attribute):
    trail = server.client("cloudtrail")
    args = dict(EndTime=end, StartTime=end - datetime.timedelta(hours=1), MaxResults=50)
    if attribute:
        args["LookupAttributes"] = [{"AttributeKey": k, "AttributeValue": v}
                                    for k, v in attribute.items()]
    events = []
    while True:
        page = trail.lookup_events(**args)
        events.extend((e["EventId"], e["EventName"], e["CloudTrailEvent"]) for e in page["Events"])
        if "NextToken" not in page:
            return events
        args["NextToken"] = page["NextToken"]


@pytest.fixture(scope="module")
def database():
    try:
        psql(POSTGRES_URL, "SELECT 1")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}")
    name = "rampart_test_" + os.urandom(8).hex()
    psql(POSTGRES_URL, f"CREATE DATABASE {name}")
    base = POSTGRES_URL.split("?")[0].rsplit("/", 1)[0]
    yield f"{base}/{name}"
    psql(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_sqlite_deployment_moves_to_postgres(database, tmp_path):
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    bucket = data_dir / "buckets" / "audit-bucket"
    old = Server(data_dir)
    try:
        iam = old.client("iam")
        user = f"u-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="allow", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
                "secretsmanager:GetSecretValue", "ssm:GetParameter", "kms:Decrypt",
                "sts:GetCallerIdentity"]}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        user_key = (key["AccessKeyId"], key["SecretAccessKey"])
        kms_key = old.client("kms").create_key()["KeyMetadata"]["KeyId"]
        secret_value = "s3cret-" + uuid.uuid4().hex
        old.client("secretsmanager").create_secret(Name="app/db", SecretString=secret_value,
                                                   KmsKeyId=kms_key)
        parameter_value = "p4ram-" + uuid.uuid4().hex
        old.client("ssm").put_parameter(Name="/app/password", Value=parameter_value,
                                        Type="SecureString", KeyId=kms_key)
        trail = old.client("cloudtrail")
        trail.create_trail(Name="audit", S3BucketName="audit-bucket", S3KeyPrefix="org")
        trail.start_logging(Name="audit")
        first = iam.create_user(UserName=f"first-{uuid.uuid4().hex[:6]}")
        assert wait_for(lambda: delivered_request(
            bucket, first["ResponseMetadata"]["RequestId"]))
        assert old.client("sts", *user_key).get_caller_identity()["Arn"].endswith(f"user/{user}")

        # A server holds the store: the copy is refused.
        running = migrate("--from", str(data_dir), "--to", database)
        assert running.returncode != 0
        assert "running rampart" in running.stderr, running.stderr

        # Every event from here on is newer than `end` (event times are whole seconds).
        end = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        assert wait_for(lambda: time.time() >= end.timestamp() + 1.2)
        before = lookup_all(old, end)
        created_before = lookup_all(old, end, EventName="CreateUser")
        assert len(before) > 10 and len(created_before) >= 2
        # An event the trail may not have delivered yet when the server stops.
        late = iam.create_user(UserName=f"late-{uuid.uuid4().hex[:6]}")
    finally:
        old.stop()

    copied = migrate("--from", str(data_dir), "--to", database)
    assert copied.returncode == 0, copied.stderr + copied.stdout
    assert "verified: the copy matches" in copied.stdout
    assert "journal (postgres)" in copied.stdout and "documents copied" in copied.stderr
    # The root key never reaches the database.
    root_key = (data_dir / "root.key").read_bytes()
    dump = subprocess.run(["pg_dump", "--data-only", database], capture_output=True,
                          check=True).stdout
    assert root_key not in dump and secret_value.encode() not in dump
    assert parameter_value.encode() not in dump

    new = Server(data_dir, store=database)
    try:
        # The same access key signs; the secret and the parameter decrypt to the same values.
        assert new.client("sts", *user_key).get_caller_identity()["Arn"].endswith(f"user/{user}")
        got = new.client("secretsmanager", *user_key).get_secret_value(SecretId="app/db")
        assert got["SecretString"] == secret_value
        got = new.client("ssm", *user_key).get_parameter(Name="/app/password",
                                                          WithDecryption=True)
        assert got["Parameter"]["Value"] == parameter_value
        # LookupEvents finds the same events, with the same IDs, by time and by attribute.
        assert lookup_all(new, end) == before
        assert lookup_all(new, end, EventName="CreateUser") == created_before
        # The trail delivers what was left undelivered and what comes now, each once.
        after = new.client("iam").create_user(UserName=f"after-{uuid.uuid4().hex[:6]}")
        for response in (late, after):
            assert wait_for(lambda r=response: delivered_request(
                bucket, r["ResponseMetadata"]["RequestId"]))
        ids = delivered_ids(bucket)
        assert len(ids) == len(set(ids))

        # The database is no longer empty: a second copy is refused, and changes nothing.
        again = migrate("--from", f"sqlite:{data_dir / 'rampart.db'}", "--to", database)
        assert again.returncode != 0 and "not empty" in again.stderr, again.stderr
        # The PostgreSQL deployment has moved on: verification reports the difference.
        verify = migrate("--from", str(data_dir), "--to", database, "--verify-only")
        assert verify.returncode != 0 and "MISMATCH" in verify.stdout, verify.stdout
        assert new.client("sts", *user_key).get_caller_identity()["Account"] == ACCOUNT_ID
    finally:
        new.stop()
