"""Three `rampart serve` nodes on loopback ports sharing one PostgreSQL database and one root key
(issue 21): what one node changes, the others enforce on their next request (users, policies,
access keys, revoked sessions), and scheduled work (Parameter Store's expirations) runs exactly
once across the nodes and goes on after its lease holder is killed with kill -9.

Part of the PostgreSQL slice (scripts/test): runs when RAMPART_TEST_STORE=postgres, against a
fresh database of its own on RAMPART_TEST_POSTGRES_URL (the local server by default)."""

import base64
import datetime
import json
import os
import signal
import subprocess
import time
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, POSTGRES_URL, SECRET_ACCESS_KEY

# The lease's advisory lock key, as crates/store/src/postgres.rs computes it: the class
# "ramp" and the name's 32-bit FNV-1a hash.
LEASE_CLASS = 0x72616D70


def lease_key(name):
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout


def wait_until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]["Code"]


class Node:
    """One `rampart serve` on a loopback port, its store the shared database. The URL names the
    node (application_name) so that the test can see which node holds a lease."""

    def __init__(self, name, data_dir, store_url, root_key):
        self.name = name
        env = dict(
            os.environ,
            RAMPART_ROOT_ACCESS_KEY_ID=ACCESS_KEY_ID,
            RAMPART_ROOT_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
            RAMPART_ROOT_KEY=root_key,
            RAMPART_LOG="warn",
            RAMPART_SCHEDULER_SECONDS="0.2",
        )
        self.process = subprocess.Popen(
            [os.environ["RAMPART_BIN"], "serve", "--listen", "127.0.0.1:0",
             "--data-dir", str(data_dir), "--account-id", ACCOUNT_ID, "--store-pool-size", "2",
             "--store", f"{store_url}?application_name={name}"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True,
        )
        for line in self.process.stdout:
            if line.startswith("rampart listening on "):
                self.endpoint = line.split()[-1]
                break
        else:
            raise RuntimeError(f"{name} exited before serving")

    def client(self, service, key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY, token=None):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.alive():
            self.process.terminate()
            self.process.wait(timeout=30)


pytestmark = pytest.mark.skipif(os.environ.get("RAMPART_TEST_STORE") != "postgres",
                                reason="several nodes need PostgreSQL (RAMPART_TEST_STORE=postgres)")


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


@pytest.fixture(scope="module")
def nodes(database, tmp_path_factory):
    # One root key for every node, from the environment: never in the database.
    root_key = base64.b64encode(os.urandom(32)).decode()
    started = []
    try:
        for i in (1, 2, 3):
            started.append(Node(f"node{i}", tmp_path_factory.mktemp(f"node{i}"), database,
                                root_key))
        yield started
    finally:
        for node in started:
            node.stop()


def make_user(iam, name, actions):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="allow", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_user_created_on_node_one_signs_on_node_two_and_a_policy_change_denies_on_node_three(
        nodes):
    one, two, three = nodes
    name = f"scale-{uuid.uuid4().hex[:8]}"
    key, secret = make_user(one.client("iam"), name, ["iam:GetUser", "iam:ListUsers"])
    assert two.client("sts", key, secret).get_caller_identity()["Arn"].endswith(f":user/{name}")
    # Node three caches the user's credential and compiled policies.
    on_three = three.client("iam", key, secret)
    for _ in range(3):
        assert on_three.get_user(UserName=name)["User"]["UserName"] == name
    one.client("iam").put_user_policy(UserName=name, PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:GetUser", "Resource": "*"}]}))
    # The very next request on node three, with no wait.
    assert error_code(lambda: on_three.get_user(UserName=name)) == "AccessDenied"
    assert on_three.list_users()["Users"]
    # A detached (deleted) policy stops working as fast.
    two.client("iam").delete_user_policy(UserName=name, PolicyName="allow")
    assert error_code(lambda: on_three.list_users()) == "AccessDenied"


def test_an_access_key_deleted_on_node_two_stops_working_on_node_one(nodes):
    one, two, _ = nodes
    name = f"scale-{uuid.uuid4().hex[:8]}"
    key, secret = make_user(one.client("iam"), name, ["iam:GetUser"])
    on_one = one.client("sts", key, secret)
    for _ in range(3):
        on_one.get_caller_identity()
    two.client("iam").delete_access_key(UserName=name, AccessKeyId=key)
    assert error_code(on_one.get_caller_identity) == "InvalidClientTokenId"
    # A key made inactive on node two, likewise.
    second = two.client("iam").create_access_key(UserName=name)["AccessKey"]
    on_one = one.client("sts", second["AccessKeyId"], second["SecretAccessKey"])
    on_one.get_caller_identity()
    two.client("iam").update_access_key(UserName=name, AccessKeyId=second["AccessKeyId"],
                                        Status="Inactive")
    # As with one node (test_credential_cache.py): an inactive key is denied.
    assert error_code(on_one.get_caller_identity) == "AccessDenied"


def test_a_session_revoked_on_node_two_stops_working_on_node_three(nodes):
    one, two, three = nodes
    role = f"scale-role-{uuid.uuid4().hex[:8]}"
    iam = one.client("iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}}]}))
    iam.put_role_policy(RoleName=role, PolicyName="allow", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}))
    # A user assumes it (the root user cannot, on AWS).
    key, secret = make_user(iam, f"{role}-user", ["sts:AssumeRole"])
    creds = one.client("sts", key, secret).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", RoleSessionName="session")["Credentials"]
    session = three.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                           creds["SessionToken"])
    for _ in range(3):
        session.list_roles()
    # What the console's "Revoke active sessions" attaches: deny sessions issued before now.
    # The session was issued whole seconds ago at least; the cut-off is now.
    time.sleep(1.1)
    cutoff = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    two.client("iam").put_role_policy(
        RoleName=role, PolicyName="AWSRevokeOlderSessions", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
                           "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}}}]}))
    assert error_code(session.list_roles) == "AccessDenied"


def test_an_scp_attached_on_node_one_denies_on_node_three_and_its_detaching_on_node_two_allows(
        nodes):
    one, two, three = nodes
    orgs = one.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    member = orgs.create_account(Email="member@example.com", AccountName="member")[
        "CreateAccountStatus"]["AccountId"]
    # Into the member account through the role Organizations made there (an IAM user of the
    # management account assumes it: root users may not).
    key, secret = make_user(one.client("iam"), f"org-admin-{uuid.uuid4().hex[:8]}",
                            ["sts:AssumeRole"])
    creds = one.client("sts", key, secret).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="scale-out")["Credentials"]
    member_iam = three.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                              creds["SessionToken"])
    # Node three caches the member's guardrails (none yet) and the session's policies.
    member_iam.create_user(UserName=f"before-{uuid.uuid4().hex[:8]}")
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    deny = orgs.create_policy(
        Name="deny-create-user", Description="deny", Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=deny, TargetId=member)
    assert error_code(lambda: member_iam.create_user(
        UserName=f"denied-{uuid.uuid4().hex[:8]}")) == "AccessDenied"
    member_iam.list_users()
    two.client("organizations").detach_policy(PolicyId=deny, TargetId=member)
    member_iam.create_user(UserName=f"after-{uuid.uuid4().hex[:8]}")


def expiration(seconds):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    at = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": at}}])


def expirations(database, prefix):
    """The parameter names of the Expiration events the scheduler raised (Parameter Store's
    EventBridge-shaped events, kept in the shared database), one entry per event."""
    rows = psql(database, "SELECT convert_from(value, 'UTF8') FROM documents "
                          "WHERE ns = 'eventbridge/events'")
    events = [json.loads(line) for line in rows.splitlines() if line]
    return sorted(e["detail"]["parameter-name"] for e in events
                  if e["detail"]["policy-type"] == "Expiration"
                  and e["detail"]["parameter-name"].startswith(prefix))


def lease_holder(database, lease="scheduler"):
    rows = psql(database, "SELECT a.application_name FROM pg_locks l "
                          "JOIN pg_stat_activity a ON a.pid = l.pid "
                          f"WHERE l.locktype = 'advisory' AND l.granted "
                          f"AND l.classid = {LEASE_CLASS} AND l.objid = {lease_key(lease)} "
                          "AND l.objsubid = 2")
    holders = rows.split()
    assert len(holders) <= 1, holders
    return holders[0] if holders else None


def exists(ssm, name):
    try:
        ssm.get_parameter(Name=name)
        return True
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ParameterNotFound"
        return False


def test_scheduled_work_runs_once_across_nodes_and_resumes_after_its_holder_is_killed(
        nodes, database):
    assert wait_until(lambda: lease_holder(database) is not None), "some node holds the lease"
    prefix = f"/scale/{uuid.uuid4().hex[:8]}/"
    names = [f"{prefix}{i}" for i in range(9)]
    # Put on every node, due in two to four seconds.
    for i, name in enumerate(names):
        node = nodes[i % 3]
        node.client("ssm").put_parameter(Name=name, Value="v", Type="String", Tier="Advanced",
                                         Policies=expiration(2 + i % 3))
    ssm = nodes[0].client("ssm")
    assert wait_until(lambda: not any(exists(ssm, n) for n in names)), "every one expired"
    # Further rounds on every node find nothing more to do.
    time.sleep(1)
    assert expirations(database, prefix) == sorted(names), "each exactly once"

    holder = lease_holder(database)
    by_name = {node.name: node for node in nodes}
    assert holder in by_name
    survivors = [node for node in nodes if node.name != holder]
    later = [f"{prefix}after-{i}" for i in range(4)]
    for i, name in enumerate(later):
        survivors[i % 2].client("ssm").put_parameter(
            Name=name, Value="v", Type="String", Tier="Advanced", Policies=expiration(2))
    by_name[holder].kill()
    # Another node takes the lease over once PostgreSQL ends the dead node's session (at
    # once on loopback: its sockets closed with it), within a scheduler round.
    assert wait_until(lambda: lease_holder(database) not in (None, holder), seconds=15)
    ssm = survivors[0].client("ssm")
    assert wait_until(lambda: not any(exists(ssm, n) for n in later)), "resumed"
    time.sleep(1)
    assert expirations(database, prefix) == sorted(names + later), "still each exactly once"
