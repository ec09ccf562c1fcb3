"""Secrets Manager rotation end to end: the built-in rampart-random-password function (no set-up,
labels moving as AWS moves them, AWS's caching client seeing the new value after a refresh), a
test's own HTTP rotation handler registered with --rotation-handler (called with the event AWS
sends a rotation function, calling back into Rampart with its own credentials), a failing
handler leaving AWSPENDING where AWS leaves it, and an unregistered function failing as AWS
fails one it cannot invoke. The scheduler runs handlers' steps (RAMPART_SCHEDULER_SECONDS
makes it look often); the tests wait for what it does, as test_ssm_policies.py does."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.exceptions
import pytest
from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

from conftest import ACCOUNT_ID, Rampart

BUILT_IN = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:rampart-random-password"


def function(name):
    return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{name}"


def wait_until(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


class RotationFunction(BaseHTTPRequestHandler):
    """A rotation function as AWS's templates write one, served over HTTP. `/fail` fails its
    testSecret step. Every event it gets is kept in `events`."""

    events = []
    client = None

    def log_message(self, *args):
        pass

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RotationFunction.events.append((self.path, event))
        try:
            ok = self.step(event)
        except Exception:  # a failing step, as a Lambda function's exception
            ok = False
        self.send_response(200 if ok else 500)
        self.end_headers()

    def step(self, event):
        sm, arn, token = RotationFunction.client, event["SecretId"], event["ClientRequestToken"]
        if event["Step"] == "createSecret":
            sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
            try:
                sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            except sm.exceptions.ResourceNotFoundException:
                sm.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                    SecretString=f"rotated-{token[:8]}", VersionStages=["AWSPENDING"],
                                    RotationToken=event["RotationToken"])
            return True
        if event["Step"] == "setSecret":
            return True
        if event["Step"] == "testSecret":
            value = sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return self.path != "/fail" and value["SecretString"].startswith("rotated-")
        if event["Step"] == "finishSecret":
            stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
            current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
            if current != token:
                sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                               MoveToVersionId=token, RemoveFromVersionId=current)
            return True
        return False


@pytest.fixture(scope="module")
def handler():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RotationFunction)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def rampart(tmp_path_factory, handler):
    server = Rampart(
        tmp_path_factory.mktemp("rotation"), RAMPART_SCHEDULER_SECONDS="0.2",
        RAMPART_ROTATION_HANDLERS=f"db-rotator=http://127.0.0.1:{handler}/rotate,"
                                  f"broken-rotator=http://127.0.0.1:{handler}/fail")
    # The function calls back with credentials of its own, as a Lambda function's role.
    iam = server.client("iam")
    iam.create_user(UserName="rotation-function")
    iam.put_user_policy(UserName="rotation-function", PolicyName="rotate", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
            "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecretVersionStage"]}]}))
    key = iam.create_access_key(UserName="rotation-function")["AccessKey"]
    RotationFunction.client = boto3.client(
        "secretsmanager", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sm(rampart):
    return rampart.client("secretsmanager")


def stages(sm, name):
    return sm.describe_secret(SecretId=name)["VersionIdsToStages"]


def test_the_built_in_function_rotates_with_no_set_up(sm):
    name = f"builtin/{uuid.uuid4().hex[:8]}"
    first = sm.create_secret(Name=name, SecretString="initial")["VersionId"]
    cache = SecretCache(config=SecretCacheConfig(), client=sm)
    assert cache.get_secret_string(name) == "initial"
    rotated = sm.rotate_secret(SecretId=name, RotationLambdaARN=BUILT_IN,
                               RotationRules={"ScheduleExpression": "rate(10 days)"})
    token = rotated["VersionId"]
    assert stages(sm, name) == {first: ["AWSPREVIOUS"], token: ["AWSPENDING", "AWSCURRENT"]}
    fresh = sm.get_secret_value(SecretId=name)["SecretString"]
    assert len(fresh) == 32 and fresh != "initial"
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == BUILT_IN
    assert described["RotationRules"]["ScheduleExpression"] == "rate(10 days)"
    assert "NextRotationDate" in described and "LastRotatedDate" in described
    # AWS's caching client sees the rotation once it refreshes.
    assert cache.get_secret_string(name) == "initial"
    cache.refresh_secret_now(name)
    assert cache.get_secret_string(name) == fresh
    sm.cancel_rotate_secret(SecretId=name)
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False


def test_a_registered_http_handler_gets_aws_events_and_rotates(sm):
    name = f"http/{uuid.uuid4().hex[:8]}"
    arn = sm.create_secret(Name=name, SecretString="initial")["ARN"]
    first = sm.describe_secret(SecretId=name)["VersionIdsToStages"].popitem()[0]
    token = sm.rotate_secret(SecretId=name, RotationLambdaARN=function("db-rotator"),
                             RotationRules={"AutomaticallyAfterDays": 30})["VersionId"]
    assert wait_until(lambda: sm.get_secret_value(SecretId=name)["SecretString"] == f"rotated-{token[:8]}")
    assert stages(sm, name) == {first: ["AWSPREVIOUS"], token: ["AWSPENDING", "AWSCURRENT"]}
    events = [e for path, e in RotationFunction.events if e["SecretId"] == arn]
    assert [e["Step"] for e in events] == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    for event in events:
        assert set(event) == {"Step", "SecretId", "ClientRequestToken", "RotationToken"}
        assert event["ClientRequestToken"] == token
    assert len({e["RotationToken"] for e in events}) == 1
    assert wait_until(lambda: "LastRotatedDate" in sm.describe_secret(SecretId=name))


def test_a_failing_rotation_leaves_awspending_as_aws_leaves_it(sm):
    name = f"fail/{uuid.uuid4().hex[:8]}"
    arn = sm.create_secret(Name=name, SecretString="initial")["ARN"]
    first = sm.describe_secret(SecretId=name)["VersionIdsToStages"].popitem()[0]
    token = sm.rotate_secret(SecretId=name, RotationLambdaARN=function("broken-rotator"),
                             RotationRules={"AutomaticallyAfterDays": 30})["VersionId"]
    assert wait_until(lambda: any(e["SecretId"] == arn and e["Step"] == "testSecret"
                                  for _, e in RotationFunction.events))
    assert wait_until(lambda: stages(sm, name) == {first: ["AWSCURRENT"], token: ["AWSPENDING"]})
    # finishSecret was never called; the value in use is unchanged.
    assert not any(e["SecretId"] == arn and e["Step"] == "finishSecret" for _, e in RotationFunction.events)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "initial"
    refused = error_of(lambda: sm.rotate_secret(SecretId=name))
    assert refused == {"Code": "InvalidRequestException",
                       "Message": "A previous rotation isn't complete. That rotation will be reattempted."}


def test_an_unregistered_function_fails_as_aws_fails_it(sm):
    name = f"none/{uuid.uuid4().hex[:8]}"
    sm.create_secret(Name=name, SecretString="initial")
    refused = error_of(lambda: sm.rotate_secret(SecretId=name, RotationLambdaARN=function("nobody"),
                                                RotationRules={"AutomaticallyAfterDays": 30}))
    assert refused["Code"] == "AccessDeniedException"
    assert refused["Message"].startswith("Secrets Manager cannot invoke the specified Lambda function.")
    assert "RotationEnabled" not in sm.describe_secret(SecretId=name)


def test_rotation_is_authorized_on_the_function_it_names(rampart, sm):
    name = f"authz/{uuid.uuid4().hex[:8]}"
    sm.create_secret(Name=name, SecretString="initial")
    iam = rampart.client("iam")
    user = f"r-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret"],
             "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:RotateSecret", "Resource": "*",
             "Condition": {"StringNotEquals": {"secretsmanager:RotationLambdaARN": BUILT_IN}}}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    mine = boto3.client("secretsmanager", endpoint_url=rampart.endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    denied = error_of(lambda: mine.rotate_secret(SecretId=name, RotationLambdaARN=function("db-rotator"),
                                                 RotationRules={"AutomaticallyAfterDays": 30}))
    assert denied["Code"] == "AccessDeniedException"
    assert "explicit deny" in denied["Message"]
    mine.rotate_secret(SecretId=name, RotationLambdaARN=BUILT_IN, RotateImmediately=False,
                       RotationRules={"AutomaticallyAfterDays": 30})
    mine.cancel_rotate_secret(SecretId=name)


def rotation_events(rampart, name, arn):
    """The service events named `name` that Secrets Manager recorded for the secret `arn`."""
    found = rampart.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}], MaxResults=50)
    events = [json.loads(e["CloudTrailEvent"]) for e in found["Events"]]
    return [e for e in events if e.get("additionalEventData", {}).get("SecretId") == arn]


def test_rotations_are_recorded_as_aws_service_events(rampart, sm):
    name = f"events/{uuid.uuid4().hex[:8]}"
    arn = sm.create_secret(Name=name, SecretString="initial")["ARN"]
    token = sm.rotate_secret(SecretId=name, RotationLambdaARN=function("db-rotator"),
                             RotationRules={"AutomaticallyAfterDays": 30})["VersionId"]
    assert wait_until(lambda: rotation_events(rampart, "RotationSucceeded", arn))
    [succeeded] = rotation_events(rampart, "RotationSucceeded", arn)
    assert succeeded["eventType"] == "AwsServiceEvent"
    assert succeeded["userIdentity"] == {"accountId": ACCOUNT_ID,
                                         "invokedBy": "secretsmanager.amazonaws.com"}
    assert succeeded["requestID"] == f"Rotation-{arn}-{token}"
    assert succeeded["requestParameters"] is None and "errorMessage" not in succeeded
    assert len(rotation_events(rampart, "RotationStarted", arn)) == 1
    # A failing function: RotationFailed, with the reason.
    broken = f"events-broken/{uuid.uuid4().hex[:8]}"
    broken_arn = sm.create_secret(Name=broken, SecretString="initial")["ARN"]
    sm.rotate_secret(SecretId=broken, RotationLambdaARN=function("broken-rotator"),
                     RotationRules={"AutomaticallyAfterDays": 30})
    assert wait_until(lambda: rotation_events(rampart, "RotationFailed", broken_arn))
    [failed] = rotation_events(rampart, "RotationFailed", broken_arn)
    assert failed["errorMessage"].startswith(
        f"Error when executing lambda {function('broken-rotator')}: testSecret")
    assert not rotation_events(rampart, "RotationSucceeded", broken_arn)


def test_a_built_in_rotation_that_kms_refuses_fails_as_a_rotation_not_as_the_call(rampart, sm):
    """AWS starts the function asynchronously: RotateSecret succeeds with the rotation
    configured; the failure is the rotation's, in its RotationFailed event."""
    name = f"builtin-refused/{uuid.uuid4().hex[:8]}"
    arn = sm.create_secret(Name=name, SecretString="initial")["ARN"]
    iam = rampart.client("iam")
    user = f"r-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    mine = boto3.client("secretsmanager", endpoint_url=rampart.endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    token = mine.rotate_secret(SecretId=name, RotationLambdaARN=BUILT_IN,
                               RotationRules={"AutomaticallyAfterDays": 30})["VersionId"]
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] is True
    assert token not in described["VersionIdsToStages"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "initial"
    assert wait_until(lambda: rotation_events(rampart, "RotationFailed", arn))
    [failed] = rotation_events(rampart, "RotationFailed", arn)
    assert failed["requestID"] == f"Rotation-{arn}-{token}"
    assert failed["errorMessage"].startswith(
        f"Error when executing lambda {BUILT_IN} during createSecret step: AccessDenied")
    assert not rotation_events(rampart, "RotationSucceeded", arn)
