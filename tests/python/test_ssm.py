"""Parameter Store end to end with boto3 and the AWS CLI: versions, labels and selectors,
paths and filters, tiers, tags and AWS's errors; SecureString values encrypted by KMS through
the spine (the AWS managed key alias/aws/ssm made on first use, journaled as the caller's
calls invoked by ssm.amazonaws.com) and never in clear in the trail, the data directory
(database, delivered trail files) or the server's log."""

import base64
import gzip
import json
import os
import subprocess
import time
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def unique(prefix="/e2e"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


class LoggedRampart:
    """A rampart whose log (at debug level) goes to a file, and whose trails deliver every
    second, to look for secrets in everything it writes."""

    def __init__(self, data_dir, log_path):
        self.data_dir = data_dir
        self.log = open(log_path, "w")
        env = dict(os.environ, RAMPART_ROOT_ACCESS_KEY_ID=ACCESS_KEY_ID,
                   RAMPART_ROOT_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY, RAMPART_LOG="debug",
                   RAMPART_JOURNAL_SEGMENT_MIB="1", RAMPART_TRAIL_DELIVERY_SECONDS="1")
        self.process = subprocess.Popen(
            [os.environ["RAMPART_BIN"], "serve", "--listen", "127.0.0.1:0",
             "--data-dir", str(data_dir), "--account-id", ACCOUNT_ID],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, env=env, text=True)
        for line in self.process.stdout:
            if line.startswith("rampart listening on "):
                self.endpoint = line.split()[-1]
                break
        else:
            raise RuntimeError("rampart exited before serving")

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)

    def aws(self, *args):
        env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=str(self.data_dir / "credentials"),
                   AWS_CONFIG_FILE=str(self.data_dir / "config"))
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            env.pop(var, None)
        return subprocess.run(["aws", "--profile", "rampart", "--endpoint-url", self.endpoint, *args],
                              capture_output=True, text=True, env=env)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("ssm")
    server = LoggedRampart(base / "data", base / "rampart.log")
    server.log_path = base / "rampart.log"
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture(scope="module")
def ssm(server):
    return server.client("ssm")


def test_versions_labels_and_selectors(ssm):
    name = unique()
    created = ssm.put_parameter(Name=name, Value="one", Type="String")
    assert (created["Version"], created["Tier"]) == (1, "Standard")
    assert ssm.put_parameter(Name=name, Value="two", Overwrite=True)["Version"] == 2
    exists = error_of(lambda: ssm.put_parameter(Name=name, Value="three", Type="String"))
    assert exists["Code"] == "ParameterAlreadyExists"
    assert exists["Message"] == ("The parameter already exists. To overwrite this value, set the "
                                 "overwrite option in the request to true.")
    latest = ssm.get_parameter(Name=name)["Parameter"]
    assert (latest["Value"], latest["Version"], latest["Type"], latest["DataType"]) == ("two", 2, "String", "text")
    assert latest["ARN"] == f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter{name}"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "one"
    labelled = ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable", "3rd"])
    assert labelled["InvalidLabels"] == ["3rd"] and labelled["ParameterVersion"] == 1
    stable = ssm.get_parameter(Name=f"{name}:stable")["Parameter"]
    assert (stable["Value"], stable["Selector"]) == ("one", ":stable")
    found = ssm.get_parameters(Names=[f"{name}:2", f"{name}:9", f"{name}:stable", "/nope"])
    assert sorted(p["Value"] for p in found["Parameters"]) == ["one", "two"]
    assert sorted(found["InvalidParameters"]) == sorted([f"{name}:9", "/nope"])
    missing = error_of(lambda: ssm.get_parameter(Name=f"{name}:9"))
    assert missing["Code"] == "ParameterVersionNotFound"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"], h["Labels"]) for h in history] == [(1, "one", ["stable"]), (2, "two", [])]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["stable", "other"])
    assert removed["RemovedLabels"] == ["stable"] and removed["InvalidLabels"] == ["other"]


def test_aws_errors_and_texts(ssm):
    absent = error_of(lambda: ssm.get_parameter(Name=unique()))
    assert absent["Code"] == "ParameterNotFound" and absent["Message"] == ""
    deep = "/" + "/".join(["level"] * 16)
    assert error_of(lambda: ssm.put_parameter(Name=deep, Value="v", Type="String"))["Code"] == \
        "HierarchyLevelLimitExceededException"
    reserved = error_of(lambda: ssm.put_parameter(Name="awsThing", Value="v", Type="String"))
    assert reserved["Code"] == "ValidationException"
    assert reserved["Message"] == 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'
    assert error_of(lambda: ssm.put_parameter(Name="a/b", Value="v", Type="String"))["Message"] == \
        "Parameter name must be a fully qualified name."
    too_big = error_of(lambda: ssm.put_parameter(Name=unique(), Value="x" * 4097, Type="String"))
    assert too_big["Message"].startswith(
        "Standard tier parameters support a maximum parameter value of 4096 characters.")
    assert ssm.put_parameter(Name=unique(), Value="x" * 4097, Type="String",
                             Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    name = unique()
    ssm.put_parameter(Name=name, Value="v", Type="String")
    retyped = error_of(lambda: ssm.put_parameter(Name=name, Value="v", Type="SecureString", Overwrite=True))
    assert retyped["Code"] == "HierarchyTypeMismatchException"
    # The model's own checks: more than ten names.
    assert error_of(lambda: ssm.get_parameters(Names=[f"/n{i}" for i in range(11)]))["Code"] == \
        "ValidationException"


def test_paths_filters_paging_and_deletion(ssm):
    root = unique("/tree")
    for leaf in ["a", "b", "c/d", "c/e/f"]:
        ssm.put_parameter(Name=f"{root}/{leaf}", Value=leaf, Type="String",
                          Tags=[{"Key": "leaf", "Value": leaf.replace("/", "-")}])
    ssm.put_parameter(Name=f"{root}/list", Value="x,y", Type="StringList")
    one_level = ssm.get_parameters_by_path(Path=root)["Parameters"]
    assert [p["Name"] for p in one_level] == [f"{root}/a", f"{root}/b", f"{root}/list"]
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=root, Recursive=True, PaginationConfig={"PageSize": 2})
    names = [p["Name"] for page in pages for p in page["Parameters"]]
    assert names == [f"{root}/{leaf}" for leaf in ["a", "b", "c/d", "c/e/f", "list"]]
    lists = ssm.get_parameters_by_path(Path=root, ParameterFilters=[
        {"Key": "Type", "Values": ["StringList"]}])["Parameters"]
    assert [p["Value"] for p in lists] == ["x,y"]
    described = ssm.describe_parameters(ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [f"{root}/c"]},
        {"Key": "tag:leaf", "Values": ["c-e-f"]}])["Parameters"]
    assert [p["Name"] for p in described] == [f"{root}/c/e/f"]
    assert "Value" not in described[0]
    assert error_of(lambda: ssm.describe_parameters(ParameterFilters=[
        {"Key": "Label", "Values": ["x"]}]))["Code"] == "InvalidFilterKey"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{root}/a")["TagList"]
    assert tags == [{"Key": "leaf", "Value": "a"}]
    deleted = ssm.delete_parameters(Names=[f"{root}/a", f"{root}/zz"])
    assert deleted["DeletedParameters"] == [f"{root}/a"] and deleted["InvalidParameters"] == [f"{root}/zz"]
    gone = error_of(lambda: ssm.delete_parameter(Name=f"{root}/a"))
    assert gone["Code"] == "ParameterNotFound"


def test_the_cli_puts_and_reads_a_secure_string_under_alias_aws_ssm(server):
    name = unique("/cli")
    secret = f"cli-secret-{uuid.uuid4().hex}"
    put = server.aws("ssm", "put-parameter", "--name", name, "--value", secret, "--type", "SecureString")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["Version"] == 1
    hidden = json.loads(server.aws("ssm", "get-parameter", "--name", name).stdout)["Parameter"]
    assert hidden["Type"] == "SecureString" and secret not in hidden["Value"]
    shown = server.aws("ssm", "get-parameter", "--name", name, "--with-decryption")
    assert json.loads(shown.stdout)["Parameter"]["Value"] == secret
    described = json.loads(server.aws("ssm", "describe-parameters", "--parameter-filters",
                                      f"Key=Name,Values={name}").stdout)["Parameters"]
    assert described[0]["KeyId"] == "alias/aws/ssm"
    key = json.loads(server.aws("kms", "describe-key", "--key-id", "alias/aws/ssm").stdout)["KeyMetadata"]
    assert key["KeyManager"] == "AWS"


def test_kms_calls_are_the_callers_invoked_by_ssm_and_values_are_hidden(server, ssm):
    name = unique("/audited")
    secret = f"audited-{uuid.uuid4().hex}"
    ssm.put_parameter(Name=name, Value=secret, Type="SecureString")
    ssm.get_parameter(Name=name, WithDecryption=True)
    trail = server.client("cloudtrail")

    def events(event_name):
        found = trail.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": event_name}])["Events"]
        return [json.loads(e["CloudTrailEvent"]) for e in found]

    put = next(e for e in events("PutParameter") if e["requestParameters"]["name"] == name)
    assert put["eventSource"] == "ssm.amazonaws.com"
    assert put["requestParameters"]["value"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert put["requestParameters"]["type"] == "SecureString"
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter{name}"
    assert put["resources"] == [{"ARN": arn, "accountId": ACCOUNT_ID, "type": "AWS::SSM::Parameter"}]
    for kms_event, by in [("Encrypt", put)]:
        event = next(e for e in events(kms_event)
                     if e["requestParameters"].get("encryptionContext", {}).get("PARAMETER_ARN") == arn)
        assert event["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
        assert event["userIdentity"]["type"] == "Root"
        assert event["sourceIPAddress"] == "ssm.amazonaws.com"
        assert event["requestID"] == by["requestID"]
        assert "plaintext" not in event["requestParameters"]
        assert "Plaintext" not in event["requestParameters"]
    decrypt = next(e for e in events("Decrypt")
                   if e["requestParameters"].get("encryptionContext", {}).get("PARAMETER_ARN") == arn)
    assert decrypt["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
    assert decrypt["readOnly"] is True
    assert secret not in json.dumps(events("PutParameter") + events("GetParameter") + events("Decrypt"))


def test_no_secure_string_in_clear_in_the_data_directory_trail_files_or_log(server, ssm):
    server.client("cloudtrail").create_trail(Name="all", S3BucketName="trail-bucket")
    server.client("cloudtrail").start_logging(Name="all")
    secret = f"never-in-clear-{uuid.uuid4().hex}"
    name = unique("/clear")
    ssm.put_parameter(Name=name, Value=secret, Type="SecureString")
    ssm.put_parameter(Name=name, Value=secret + "-v2", Overwrite=True, Tier="Advanced")
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == secret + "-v2"
    assert ssm.get_parameter_history(Name=name, WithDecryption=True)["Parameters"][0]["Value"] == secret
    bucket = server.data_dir / "buckets" / "trail-bucket"
    deadline = time.monotonic() + 30
    delivered = []
    while time.monotonic() < deadline:
        delivered = [gzip.decompress(p.read_bytes()) for p in bucket.rglob("*.json.gz")]
        if any(name.encode() in d for d in delivered):
            break
        time.sleep(0.2)
    assert any(name.encode() in d for d in delivered), "the trail delivered the calls"
    server.stop()
    forms = [secret.encode(), base64.b64encode(secret.encode()),
             (secret + "-v2").encode(), base64.b64encode((secret + "-v2").encode())]
    assert "rampart is serving" in server.log_path.read_text()
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("rampart.db") for p in files)
    for path in files + [server.log_path]:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        for form in forms:
            assert form not in data, f"a SecureString value (in some form) is in {path}"
    for data in delivered:
        for form in forms:
            assert form not in data
