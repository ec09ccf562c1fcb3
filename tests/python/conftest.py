"""A real rampart process for each test module, driven by boto3 and the AWS CLI.

RAMPART_BIN names the binary (scripts/test builds it and sets it). With
RAMPART_TEST_STORE=postgres each data directory's server keeps its state in a fresh PostgreSQL
database (created on the server RAMPART_TEST_POSTGRES_URL names, the local one by default, and
dropped when the session ends) instead of SQLite.
"""

import base64
import hashlib
import hmac
import os
import struct
import subprocess

import boto3
import pytest

ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCOUNT_ID = "444455556666"


POSTGRES_URL = os.environ.get(
    "RAMPART_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
# The databases this session created, dropped when it ends.
_databases = {}


def _psql(sql):
    subprocess.run(["psql", POSTGRES_URL, "-v", "ON_ERROR_STOP=1", "-qc", sql],
                   check=True, stdin=subprocess.DEVNULL)


def _store_for(data_dir):
    """The --store arguments for `data_dir`'s server: none (SQLite in the data directory), or
    one PostgreSQL database per data directory, so a restarted server finds its state."""
    if os.environ.get("RAMPART_TEST_STORE", "sqlite") != "postgres":
        return []
    key = str(data_dir)
    if key not in _databases:
        name = "rampart_test_" + os.urandom(8).hex()
        _psql(f"CREATE DATABASE {name}")
        _databases[key] = name
    base = POSTGRES_URL.split("?")[0].rsplit("/", 1)[0]
    return ["--store", f"{base}/{_databases[key]}"]


def pytest_sessionfinish(session, exitstatus):
    for name in _databases.values():
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _databases.clear()


class Rampart:
    def __init__(self, data_dir, **extra_env):
        self.data_dir = data_dir
        env = dict(
            os.environ,
            RAMPART_ROOT_ACCESS_KEY_ID=ACCESS_KEY_ID,
            RAMPART_ROOT_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
            RAMPART_LOG="warn",
            # Small audit log segments: each server preallocates two.
            RAMPART_JOURNAL_SEGMENT_MIB="1",
            **extra_env,
        )
        self.process = subprocess.Popen(
            [os.environ["RAMPART_BIN"], "serve", "--listen", "127.0.0.1:0",
             "--data-dir", str(data_dir), "--account-id", ACCOUNT_ID,
             *_store_for(data_dir)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True,
        )
        for line in self.process.stdout:
            if line.startswith("rampart listening on "):
                self.endpoint = line.split()[-1]
                break
        else:
            raise RuntimeError("rampart exited before serving")

    def client(self, service, secret=SECRET_ACCESS_KEY, key=ACCESS_KEY_ID):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret,
        )

    def aws(self, *args):
        """Runs the AWS CLI with the credentials file rampart wrote, as a user would."""
        env = dict(
            os.environ,
            AWS_SHARED_CREDENTIALS_FILE=str(self.data_dir / "credentials"),
            AWS_CONFIG_FILE=str(self.data_dir / "config"),
        )
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            env.pop(var, None)
        return subprocess.run(
            ["aws", "--profile", "rampart", "--endpoint-url", self.endpoint, *args],
            capture_output=True, text=True, env=env,
        )

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def rampart(tmp_path_factory):
    server = Rampart(tmp_path_factory.mktemp("rampart"))
    yield server
    server.stop()


def totp(seed_base32, at, step=30, digits=6):
    """RFC 6238 TOTP with HMAC-SHA1, the way an authenticator app computes it."""
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{value:0{digits}d}"


def wait_for(predicate, timeout=60):
    """Polls `predicate` until it returns something true, and returns that (a wait for work
    the server does in the background; no timing is asserted)."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def public_keys_file(server, path):
    """Writes ListPublicKeys' answer (every digest signing key since 2020, in the client's
    region) to `path` as `aws cloudtrail list-public-keys` prints it (the DER key base64-encoded,
    as the wire carries it): what `rampart trail validate --public-keys` reads. Returns `path`."""
    import datetime
    import json

    keys = server.client("cloudtrail").list_public_keys(
        StartTime=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))["PublicKeyList"]
    assert keys, "ListPublicKeys lists no key"
    path.write_text(json.dumps({"PublicKeyList": [
        {"Fingerprint": k["Fingerprint"], "Value": base64.b64encode(k["Value"]).decode()}
        for k in keys]}))
    return path
