"""CloudTrail end to end: trails through boto3 and the CLI, LookupEvents finding the call just
made with the right userIdentity (root, an IAM user, an assumed role), denied calls recorded,
and no secret in any event."""

import base64
import datetime
import json
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def lookup(rampart, key, value, client=None):
    trail = client or rampart.client("cloudtrail")
    return trail.lookup_events(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}]
    )["Events"]


def event_for(rampart, request_id):
    """The event of one call, found by its request ID among the latest events."""
    for event in rampart.client("cloudtrail").lookup_events(MaxResults=50)["Events"]:
        record = json.loads(event["CloudTrailEvent"])
        if record["requestID"] == request_id:
            return event, record
    raise AssertionError(f"no event for request {request_id}")


def test_trail_lifecycle(rampart):
    trail = rampart.client("cloudtrail")
    name = f"t-{uuid.uuid4().hex[:8]}"
    created = trail.create_trail(Name=name, S3BucketName="audit-logs", S3KeyPrefix="p",
                                 EnableLogFileValidation=True)
    assert created["TrailARN"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/{name}"
    assert created["LogFileValidationEnabled"] is True
    assert trail.get_trail_status(Name=name)["IsLogging"] is False
    trail.start_logging(Name=name)
    status = trail.get_trail_status(Name=name)
    assert status["IsLogging"] is True and "StartLoggingTime" in status
    got = trail.get_trail(Name=created["TrailARN"])["Trail"]
    assert got["HomeRegion"] == "us-east-1" and got["S3KeyPrefix"] == "p"
    assert name in [t["Name"] for t in trail.describe_trails()["trailList"]]
    assert name in [t["Name"] for t in trail.list_trails()["Trails"]]
    selectors = trail.get_event_selectors(TrailName=name)["EventSelectors"]
    assert selectors[0]["ReadWriteType"] == "All"
    trail.put_event_selectors(TrailName=name, EventSelectors=[
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    assert trail.get_event_selectors(TrailName=name)["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    trail.update_trail(Name=name, S3KeyPrefix="q")
    assert trail.get_trail(Name=name)["Trail"]["S3KeyPrefix"] == "q"
    stop = trail.stop_logging(Name=name)
    # StopLogging is itself recorded.
    event, record = event_for(rampart, stop["ResponseMetadata"]["RequestId"])
    assert event["EventName"] == "StopLogging" and record["eventSource"] == "cloudtrail.amazonaws.com"
    trail.delete_trail(Name=name)
    assert error_of(lambda: trail.get_trail(Name=name))["Code"] == "TrailNotFoundException"
    assert error_of(lambda: trail.create_trail(Name="x", S3BucketName="b-b"))["Code"] == \
        "InvalidTrailNameException"
    kms = error_of(lambda: trail.create_trail(Name=name, S3BucketName="audit-logs", KmsKeyId="alias/k"))
    assert kms["Code"] == "KmsKeyNotFoundException"  # test_cloudtrail_kms.py: keys that exist


def test_trail_tags(rampart):
    """Tags given at creation, added, replaced, listed and removed, as Terraform's
    aws_cloudtrail reads and writes them; bad tags and unknown trails get AWS's codes."""
    trail = rampart.client("cloudtrail")
    name = f"t-{uuid.uuid4().hex[:8]}"
    arn = trail.create_trail(Name=name, S3BucketName="audit-logs",
                             TagsList=[{"Key": "team", "Value": "sec"}])["TrailARN"]
    listed = lambda: trail.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert listed() == [{"ResourceId": arn, "TagsList": [{"Key": "team", "Value": "sec"}]}]
    trail.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "audit"},
                                             {"Key": "env", "Value": "prod"}, {"Key": "bare"}])
    tags = {t["Key"]: t.get("Value") for t in listed()[0]["TagsList"]}
    assert tags == {"team": "audit", "env": "prod", "bare": None}
    trail.remove_tags(ResourceId=arn, TagsList=[{"Key": "env"}, {"Key": "absent"}])
    assert [t["Key"] for t in listed()[0]["TagsList"]] == ["team", "bare"]

    assert error_of(lambda: trail.add_tags(ResourceId=arn, TagsList=[{"Key": "aws:x", "Value": "v"}]))[
        "Code"] == "InvalidTagParameterException"
    many = [{"Key": f"k{n}", "Value": "v"} for n in range(49)]
    assert error_of(lambda: trail.add_tags(ResourceId=arn, TagsList=many))["Code"] == \
        "TagsLimitExceededException"
    assert len(listed()[0]["TagsList"]) == 2  # a refused call changes nothing
    gone = arn.replace(name, "no-such-trail")
    assert error_of(lambda: trail.list_tags(ResourceIdList=[gone]))["Code"] == "ResourceNotFoundException"
    assert error_of(lambda: trail.add_tags(ResourceId=name, TagsList=[{"Key": "k"}]))["Code"] == \
        "CloudTrailARNInvalidException"
    cli = rampart.aws("cloudtrail", "list-tags", "--resource-id-list", arn)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["ResourceTagList"][0]["TagsList"][0] == {"Key": "team", "Value": "audit"}
    trail.delete_trail(Name=name)


def test_insight_selectors(rampart):
    """What Terraform's aws_cloudtrail reads and writes: none at first
    (InsightNotEnabledException), then the types asked for, then none again."""
    trail = rampart.client("cloudtrail")
    name = f"t-{uuid.uuid4().hex[:8]}"
    arn = trail.create_trail(Name=name, S3BucketName="audit-logs")["TrailARN"]
    assert error_of(lambda: trail.get_insight_selectors(TrailName=name))["Code"] == \
        "InsightNotEnabledException"
    put = trail.put_insight_selectors(TrailName=name, InsightSelectors=[
        {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}])
    assert put["TrailARN"] == arn
    got = trail.get_insight_selectors(TrailName=arn)["InsightSelectors"]
    assert [s["InsightType"] for s in got] == ["ApiCallRateInsight", "ApiErrorRateInsight"]
    described = trail.describe_trails(trailNameList=[name])["trailList"][0]
    assert described["HasInsightSelectors"] is True
    twice = error_of(lambda: trail.put_insight_selectors(TrailName=name, InsightSelectors=[
        {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiCallRateInsight"}]))
    assert twice["Code"] == "InvalidInsightSelectorsException"
    elsewhere = boto3.client("cloudtrail", endpoint_url=rampart.endpoint, region_name="eu-west-1",
                             aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    away = error_of(lambda: elsewhere.put_insight_selectors(TrailName=arn, InsightSelectors=[]))
    assert away["Code"] == "InvalidHomeRegionException"
    trail.put_insight_selectors(TrailName=name, InsightSelectors=[])
    assert error_of(lambda: trail.get_insight_selectors(TrailName=name))["Code"] == \
        "InsightNotEnabledException"
    assert trail.describe_trails(trailNameList=[name])["trailList"][0]["HasInsightSelectors"] is False
    trail.delete_trail(Name=name)


def test_cli_describes_trails(rampart):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    assert rampart.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", "cli-logs").returncode == 0
    out = rampart.aws("cloudtrail", "describe-trails", "--trail-name-list", name)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["trailList"][0]["S3BucketName"] == "cli-logs"
    rampart.aws("cloudtrail", "delete-trail", "--name", name)


def test_lookup_finds_root_calls(rampart):
    iam = rampart.client("iam")
    name = f"u-{uuid.uuid4().hex[:8]}"
    response = iam.create_user(UserName=name)
    event, record = event_for(rampart, response["ResponseMetadata"]["RequestId"])
    assert event["EventName"] == "CreateUser" and event["ReadOnly"] == "false"
    assert event["Username"] == "root" and event["AccessKeyId"] == ACCESS_KEY_ID
    assert event["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": name}]
    identity = record["userIdentity"]
    assert identity["type"] == "Root"
    assert identity["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"
    assert identity["accountId"] == ACCOUNT_ID and identity["principalId"] == ACCOUNT_ID
    assert record["awsRegion"] == "us-east-1" and record["eventType"] == "AwsApiCall"
    assert record["recipientAccountId"] == ACCOUNT_ID and "tlsDetails" not in record
    assert record["requestParameters"] == {"userName": name}
    # Each lookup attribute finds it.
    for key, value in [("EventId", record["eventID"]), ("EventName", "CreateUser"),
                       ("ResourceName", name), ("ResourceType", "AWS::IAM::User"),
                       ("Username", "root"), ("EventSource", "iam.amazonaws.com"),
                       ("AccessKeyId", ACCESS_KEY_ID), ("ReadOnly", "false")]:
        ids = [e["EventId"] for e in lookup(rampart, key, value)]
        assert record["eventID"] in ids, key


def test_lookup_pages_newest_first(rampart):
    iam = rampart.client("iam")
    for _ in range(5):
        iam.list_users()
    trail = rampart.client("cloudtrail")
    page = trail.lookup_events(MaxResults=2, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ListUsers"}])
    assert len(page["Events"]) == 2 and "NextToken" in page
    following = trail.lookup_events(MaxResults=2, NextToken=page["NextToken"], LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ListUsers"}])
    times = [e["EventTime"] for e in page["Events"] + following["Events"]]
    assert times == sorted(times, reverse=True)
    ids = {e["EventId"] for e in page["Events"]} & {e["EventId"] for e in following["Events"]}
    assert not ids
    paginator = trail.get_paginator("lookup_events")
    total = sum(len(p["Events"]) for p in paginator.paginate(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ListUsers"}]))
    assert total >= 5


def make_user(rampart, policy):
    iam = rampart.client("iam")
    name = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key["AccessKeyId"], key["SecretAccessKey"]


def test_lookup_finds_iam_user_calls_and_denials(rampart):
    name, key_id, secret = make_user(rampart, doc(
        {"Effect": "Allow", "Action": ["iam:ListUsers", "cloudtrail:LookupEvents"], "Resource": "*"}))
    iam = rampart.client("iam", key=key_id, secret=secret)
    listed = iam.list_users()
    event, record = event_for(rampart, listed["ResponseMetadata"]["RequestId"])
    assert event["Username"] == name and event["ReadOnly"] == "true"
    identity = record["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == name
    assert identity["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    assert identity["principalId"].startswith("AIDA") and identity["accessKeyId"] == key_id
    # The user's own lookup sees the account's events.
    mine = lookup(rampart, "Username", name,
                  client=rampart.client("cloudtrail", key=key_id, secret=secret))
    assert record["eventID"] in [e["EventId"] for e in mine]
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        iam.create_user(UserName=f"x-{uuid.uuid4().hex[:6]}")
    request_id = denied.value.response["ResponseMetadata"]["RequestId"]
    event, record = event_for(rampart, request_id)
    assert record["errorCode"] == "AccessDenied" and record["userIdentity"]["userName"] == name
    assert "not authorized" in record["errorMessage"]
    trail = rampart.client("cloudtrail", key=key_id, secret=secret)
    denied_json = error_of(lambda: trail.list_trails())
    assert denied_json["Code"] == "AccessDeniedException"
    events = lookup(rampart, "EventName", "ListTrails")
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert any(r["userIdentity"].get("userName") == name and r.get("errorCode") == "AccessDenied"
               for r in records)


def test_lookup_finds_assumed_role_calls(rampart):
    user, key_id, secret = make_user(rampart, doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    iam = rampart.client("iam")
    role = f"r-{uuid.uuid4().hex[:8]}"
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"},
        "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}))
    sts = rampart.client("sts", key=key_id, secret=secret)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="audit-me")["Credentials"]
    import boto3
    session_iam = boto3.client(
        "iam", endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"])
    response = session_iam.list_roles()
    event, record = event_for(rampart, response["ResponseMetadata"]["RequestId"])
    assert event["Username"] == "audit-me"
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/audit-me"
    assert identity["accessKeyId"] == credentials["AccessKeyId"]
    context = identity["sessionContext"]
    assert context["attributes"]["mfaAuthenticated"] == "false"
    assert context["attributes"]["creationDate"].endswith("Z")
    issuer = context["sessionIssuer"]
    assert issuer["type"] == "Role" and issuer["arn"] == role_arn and issuer["userName"] == role
    assert issuer["principalId"].startswith("AROA")
    text = json.dumps(record)
    assert credentials["SecretAccessKey"] not in text and credentials["SessionToken"] not in text


def all_event_text(rampart):
    """Every event of the account, as one string."""
    trail = rampart.client("cloudtrail")
    texts = []
    for page in trail.get_paginator("lookup_events").paginate():
        texts.extend(e["CloudTrailEvent"] for e in page["Events"])
    return "\n".join(texts)


def test_no_secret_reaches_any_event(rampart):
    iam = rampart.client("iam")
    name, key_id, secret = make_user(rampart, doc(
        {"Effect": "Allow", "Action": "sts:GetSessionToken", "Resource": "*"}))
    password = "Corr3ct-Horse-Battery-" + uuid.uuid4().hex[:8]
    iam.create_login_profile(UserName=name, Password=password)
    session = rampart.client("sts", key=key_id, secret=secret).get_session_token()["Credentials"]
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    plaintext = b"kms-plaintext-" + uuid.uuid4().hex.encode()
    blob = kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]
    text = all_event_text(rampart)
    assert key_id in text, "the events are there"
    for secret_value in [secret, session["SecretAccessKey"], session["SessionToken"], password,
                         plaintext.decode(), base64.b64encode(plaintext).decode(),
                         base64.b64encode(data_key).decode()]:
        assert secret_value not in text
    assert "HIDDEN_DUE_TO_SECURITY_REASONS" in text


# Delivery: another rampart delivering every second, with digests every two seconds.

import gzip
import os
import re
import shutil
import subprocess
import time
import urllib.request

from conftest import Rampart, public_keys_file, wait_for

LOG_KEY = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P=account)_CloudTrail_(?P=region)_"
    r"(?P=y)(?P=m)(?P=d)T\d{4}Z_[0-9a-zA-Z]{16}\.json\.gz$")


@pytest.fixture(scope="module")
def delivering(tmp_path_factory):
    saved = dict(os.environ)
    os.environ.update(RAMPART_TRAIL_DELIVERY_SECONDS="1", RAMPART_TRAIL_DIGEST_SECONDS="2")
    try:
        server = Rampart(tmp_path_factory.mktemp("delivering"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    trail = server.client("cloudtrail")
    trail.create_trail(Name="audit", S3BucketName="audit-bucket", S3KeyPrefix="org",
                       EnableLogFileValidation=True)
    trail.start_logging(Name="audit")
    server.bucket = server.data_dir / "buckets" / "audit-bucket"
    yield server
    server.stop()


def files_under(root, part):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json.gz") if f"/{part}/" in str(p))


def delivered_records(bucket):
    records = []
    for key in files_under(bucket, "CloudTrail"):
        with gzip.open(bucket / key) as f:
            records.extend(json.load(f)["Records"])
    return records


def test_files_appear_in_aws_layout_and_parse(delivering):
    name = f"u-{uuid.uuid4().hex[:8]}"
    response = delivering.client("iam").create_user(UserName=name)
    request_id = response["ResponseMetadata"]["RequestId"]
    found = wait_for(lambda: [r for r in delivered_records(delivering.bucket)
                              if r["requestID"] == request_id])
    assert found[0]["eventName"] == "CreateUser" and found[0]["userIdentity"]["type"] == "Root"
    keys = files_under(delivering.bucket, "CloudTrail")
    for key in keys:
        match = LOG_KEY.match(key)
        assert match, key
        assert match["prefix"] == "org" and match["account"] == ACCOUNT_ID
    # Each event is delivered once.
    ids = [r["eventID"] for r in delivered_records(delivering.bucket)]
    assert len(ids) == len(set(ids))
    status = delivering.client("cloudtrail").get_trail_status(Name="audit")
    assert "LatestDeliveryTime" in status


def validate(server, directory):
    return subprocess.run(
        [os.environ["RAMPART_BIN"], "trail", "validate", "--dir", str(directory),
         "--public-keys", str(public_keys_file(server, directory.parent / f"{directory.name}-keys.json"))],
        capture_output=True, text=True)


def digests_with_files(bucket):
    out = []
    for key in files_under(bucket, "CloudTrail-Digest"):
        with gzip.open(bucket / key) as f:
            digest = json.load(f)
        if digest["logFiles"]:
            out.append((key, digest))
    return out


def test_validate_catches_every_tamper(delivering, tmp_path):
    iam = delivering.client("iam")
    # Calls spread over several digest periods, so at least two digests list files.
    for _ in range(3):
        iam.list_users()
        time.sleep(2.2)
    wait_for(lambda: len(digests_with_files(delivering.bucket)) >= 2)
    # Stop logging, so the copy is stable: nothing more is delivered into it.
    pristine = tmp_path / "pristine"
    shutil.copytree(delivering.bucket, pristine)
    ok = validate(delivering, pristine)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    digests = digests_with_files(pristine)
    (first_digest, first), (second_digest, second) = digests[0], digests[1]
    log_key = second["logFiles"][0]["s3Object"]

    def tampered(case, change):
        directory = tmp_path / case
        shutil.copytree(pristine, directory)
        change(directory)
        return validate(delivering, directory)

    def modify_log(d):
        with gzip.open(d / log_key) as f:
            content = json.load(f)
        content["Records"][0]["eventName"] = "Forged"
        with gzip.open(d / log_key, "wt") as f:
            json.dump(content, f)

    result = tampered("modified", modify_log)
    assert result.returncode == 1 and f"Log file {log_key} INVALID: hash value" in result.stdout

    result = tampered("deleted", lambda d: (d / log_key).unlink())
    assert result.returncode == 1 and f"Log file {log_key} INVALID: not found" in result.stdout

    inserted = re.sub(r"T(\d{2})(\d{2})Z_[0-9a-f]{16}", lambda m: "T0000Z_" + "0" * 16, log_key)
    result = tampered("inserted", lambda d: shutil.copy(d / log_key, d / inserted))
    assert result.returncode == 1 and f"Log file {inserted} INVALID: not listed" in result.stdout

    def modify_digest(d):
        with gzip.open(d / first_digest) as f:
            content = json.load(f)
        content["logFiles"] = []
        with gzip.open(d / first_digest, "wt") as f:
            json.dump(content, f)

    result = tampered("digest-modified", modify_digest)
    assert result.returncode == 1 and f"Digest file {first_digest} INVALID" in result.stdout

    def swap_digests(d):
        for suffix in ("", ".metadata.json"):
            a, b = d / (first_digest + suffix), d / (second_digest + suffix)
            a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
            a.write_bytes(b_bytes)
            b.write_bytes(a_bytes)

    # Out of order: each digest is checked to be where it says it is, as AWS's validator does.
    result = tampered("digests-swapped", swap_digests)
    assert result.returncode == 1
    for key in (first_digest, second_digest):
        assert f"Digest file {key} INVALID: has been moved from its original location" \
            in result.stdout

    def delete_digest(d):
        (d / first_digest).unlink()
        (d / (first_digest + ".metadata.json")).unlink()

    # Every digest after the first names its predecessor: a deleted one is missed by name.
    chained_to = second["previousDigestS3Object"]
    if chained_to == first_digest:
        result = tampered("digest-deleted", delete_digest)
        assert result.returncode == 1
        assert f"Digest file {first_digest} INVALID: not found" in result.stdout


def test_no_secret_reaches_any_file(delivering):
    iam = delivering.client("iam")
    name, key_id, secret = make_user(delivering, doc(
        {"Effect": "Allow", "Action": ["sts:GetSessionToken", "sts:GetFederationToken"],
         "Resource": "*"}))
    password = "Corr3ct-Horse-Battery-" + uuid.uuid4().hex[:8]
    iam.create_login_profile(UserName=name, Password=password)
    sts = delivering.client("sts", key=key_id, secret=secret)
    session = sts.get_session_token()["Credentials"]
    # Its response is recorded, as AWS records it, but for the secret and the token.
    federated = sts.get_federation_token(Name="fed-" + uuid.uuid4().hex[:8])["Credentials"]
    kms = delivering.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    plaintext = b"kms-plaintext-" + uuid.uuid4().hex.encode()
    kms.encrypt(KeyId=key, Plaintext=plaintext)
    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]
    marker = delivering.client("iam").list_users()["ResponseMetadata"]["RequestId"]
    wait_for(lambda: any(r["requestID"] == marker for r in delivered_records(delivering.bucket)))
    text = json.dumps(delivered_records(delivering.bucket))
    assert key_id in text
    assert federated["AccessKeyId"] in text
    for secret_value in [secret, session["SecretAccessKey"], session["SessionToken"], password,
                         federated["SecretAccessKey"], federated["SessionToken"],
                         plaintext.decode(), base64.b64encode(plaintext).decode(),
                         base64.b64encode(data_key).decode()]:
        assert secret_value not in text


def test_events_name_members_as_cloudtrail_does(rampart):
    """Issue 19: a metric filter such as `{ $.requestParameters.userName = "bob" }` reads the
    event LookupEvents returns (`CloudTrailEvent`): members are named as CloudTrail names them,
    nested ones too, map keys and policy documents kept as sent, IAM's dates as CloudTrail
    writes them, and no secret access key."""
    iam = rampart.client("iam")
    name = f"u-{uuid.uuid4().hex[:8]}"
    response = iam.create_user(UserName=name, Tags=[{"Key": "Team", "Value": "web"}])
    _, record = event_for(rampart, response["ResponseMetadata"]["RequestId"])

    def path(record, expression):
        """A metric filter's `$.a.b` selector."""
        value = record
        for part in expression.removeprefix("$.").split("."):
            value = value[part]
        return value

    assert path(record, "$.requestParameters.userName") == name
    assert record["requestParameters"]["tags"] == [{"key": "Team", "value": "web"}]
    user = record["responseElements"]["user"]
    assert user["userName"] == name and user["arn"].endswith(f":user/{name}")
    assert user["userId"].startswith("AIDA")
    # "Aug 1, 2024 1:37:41 PM", as IAM's events write dates.
    month, day, year, clock, period = user["createDate"].split(" ")
    assert month[:3].isalpha() and day.endswith(",") and year.isdigit() and period in ("AM", "PM")

    policy = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    response = iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    _, record = event_for(rampart, response["ResponseMetadata"]["RequestId"])
    assert record["requestParameters"] == {"userName": name, "policyName": "p",
                                           "policyDocument": policy}

    response = iam.create_access_key(UserName=name)
    secret = response["AccessKey"]["SecretAccessKey"]
    _, record = event_for(rampart, response["ResponseMetadata"]["RequestId"])
    key = record["responseElements"]["accessKey"]
    assert key["accessKeyId"] == response["AccessKey"]["AccessKeyId"] and key["status"] == "Active"
    assert "secretAccessKey" not in key and secret not in json.dumps(record)


def test_list_public_keys_is_authorized_and_a_deny_stops_it(delivering):
    wait_for(lambda: digests_with_files(delivering.bucket))
    allowed, key_id, secret = make_user(delivering, doc(
        {"Effect": "Allow", "Action": "cloudtrail:ListPublicKeys", "Resource": "*"}))
    trail = delivering.client("cloudtrail", key=key_id, secret=secret)
    keys = trail.list_public_keys()["PublicKeyList"]
    # With no time range, the key signing now; it is the one the digests name.
    assert len(keys) == 1
    digest = digests_with_files(delivering.bucket)[-1][1]
    assert keys[0]["Fingerprint"] == digest["digestPublicKeyFingerprint"]
    assert keys[0]["Value"].startswith(b"\x30\x82")  # DER RSAPublicKey, 2048-bit
    assert error_of(lambda: trail.list_public_keys(
        StartTime=datetime.datetime(2026, 1, 2), EndTime=datetime.datetime(2026, 1, 1),
    ))["Code"] == "InvalidTimeRangeException"
    # An explicit Deny on the action stops it, as does having no Allow.
    _, key_id, secret = make_user(delivering, doc(
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:ListPublicKeys", "Resource": "*"}))
    denied = delivering.client("cloudtrail", key=key_id, secret=secret)
    assert error_of(lambda: denied.list_public_keys())["Code"] == "AccessDeniedException"
    assert denied.list_trails()["Trails"] is not None
    _, key_id, secret = make_user(delivering, doc(
        {"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}))
    unallowed = delivering.client("cloudtrail", key=key_id, secret=secret)
    assert error_of(lambda: unallowed.list_public_keys())["Code"] == "AccessDeniedException"
