"""A trail encrypted with a KMS key, end to end: CreateTrail accepts a key only when its key
policy lets CloudTrail use it; delivered log files are encrypted (a data key per file,
from KMS, under the trail's encryption context); boto3 and `rampart trail decrypt|validate`
read them back through KMS Decrypt; a disabled key makes delivery fail visibly in
GetTrailStatus without losing an event."""

import base64
import gzip
import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import (ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY, Rampart, public_keys_file,
                      wait_for)

MAGIC = b"RAMPART-SSE-KMS/1\n"
TRAIL = "sealed"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/{TRAIL}"
BUCKET = "sealed-logs"


def cloudtrail_statement(**conditions):
    """AWS's documented key policy statement that lets CloudTrail encrypt this account's logs."""
    condition = {
        "StringEquals": {"aws:SourceArn": TRAIL_ARN},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                       f"arn:aws:cloudtrail:*:{ACCOUNT_ID}:trail/*"},
    }
    condition.update(conditions)
    return {"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*", "Resource": "*", "Condition": condition}


def key_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
         "Action": "kms:*", "Resource": "*"}, *statements]})


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    saved = dict(os.environ)
    os.environ.update(RAMPART_TRAIL_DELIVERY_SECONDS="0.5", RAMPART_TRAIL_DIGEST_SECONDS="1")
    try:
        rampart = Rampart(tmp_path_factory.mktemp("sealed"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    rampart.bucket = rampart.data_dir / "buckets" / BUCKET
    yield rampart
    rampart.stop()


@pytest.fixture(scope="module")
def key(server):
    kms = server.client("kms")
    key = kms.create_key(Policy=key_policy(cloudtrail_statement()))["KeyMetadata"]
    kms.create_alias(AliasName="alias/trail-logs", TargetKeyId=key["KeyId"])
    return key["Arn"]


@pytest.fixture(scope="module")
def trail(server, key):
    trail = server.client("cloudtrail")
    created = trail.create_trail(Name=TRAIL, S3BucketName=BUCKET, KmsKeyId="alias/trail-logs",
                                 EnableLogFileValidation=True)
    assert created["KmsKeyId"] == key
    trail.start_logging(Name=TRAIL)
    return trail


def log_files(bucket):
    return sorted(p for p in bucket.rglob("*.json.gz") if "/CloudTrail/" in str(p))


def open_with_boto3(kms, raw):
    """Reads an encrypted log file as the format says: KMS Decrypt of the data key under the
    file's encryption context, then AES-256-GCM with the header as additional data."""
    assert raw.startswith(MAGIC)
    end = raw.index(b"\n", len(MAGIC))
    header = json.loads(raw[len(MAGIC):end])
    data_key = kms.decrypt(CiphertextBlob=base64.b64decode(header["encryptedDataKey"]),
                           EncryptionContext=header["encryptionContext"],
                           KeyId=header["kmsKeyArn"])["Plaintext"]
    gz = AESGCM(data_key).decrypt(base64.b64decode(header["iv"]), raw[end + 1:], raw[:end + 1])
    return header, json.loads(gzip.decompress(gz))["Records"]


def delivered_records(server):
    kms = server.client("kms")
    records = []
    for path in log_files(server.bucket):
        records.extend(open_with_boto3(kms, path.read_bytes())[1])
    return records


def test_a_key_must_exist_and_allow_cloudtrail(server, key):
    trail = server.client("cloudtrail")
    kms = server.client("kms")
    plain = kms.create_key()["KeyMetadata"]["Arn"]
    create = lambda key_id: trail.create_trail(Name="other", S3BucketName=BUCKET, KmsKeyId=key_id)
    assert error_code(lambda: create(plain)) == "InsufficientEncryptionPolicyException"
    assert error_code(lambda: create("alias/no-such-key")) == "KmsKeyNotFoundException"
    assert error_code(lambda: create("arn:aws:s3:::not-a-key")) == "InvalidKmsKeyIdException"
    # The policy names the trail "sealed" by aws:SourceArn: a trail named otherwise is refused.
    assert error_code(lambda: create(key)) == "InsufficientEncryptionPolicyException"
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT",
                                Policy=key_policy(cloudtrail_statement()))["KeyMetadata"]["Arn"]
    assert error_code(lambda: trail.create_trail(Name=TRAIL, S3BucketName=BUCKET,
                                                 KmsKeyId=asymmetric)) == "KmsException"


def data_key_calls(trail):
    """The GenerateDataKey events CloudTrail's deliveries made, newest first."""
    events = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}])["Events"]
    records = (json.loads(e["CloudTrailEvent"]) for e in events)
    return [r for r in records if r["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com"]


def test_log_files_are_encrypted_and_decrypt_to_their_records(server, trail, key):
    marker = f"m-{uuid.uuid4().hex[:8]}"
    request_id = server.client("iam").create_user(UserName=marker)["ResponseMetadata"]["RequestId"]
    found = wait_for(lambda: [r for r in delivered_records(server) if r["requestID"] == request_id])
    assert found[0]["eventName"] == "CreateUser"
    # CloudTrail's own data key calls are in the key's account, named as an AWS service's.
    call = wait_for(lambda: data_key_calls(trail))[0]
    assert call["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    assert call["sourceIPAddress"] == "cloudtrail.amazonaws.com"
    assert call["readOnly"] is True and "errorCode" not in call
    # Members named as CloudTrail names KMS's; the context's keys kept as sent.
    assert call["requestParameters"]["keyId"] == key
    assert call["requestParameters"]["encryptionContext"]["aws:cloudtrail:arn"] == TRAIL_ARN
    assert call.get("responseElements") is None  # the data key never reaches the trail
    assert call["resources"] == [{"ARN": key, "accountId": key.split(":")[4], "type": "AWS::KMS::Key"}]
    assert call["recipientAccountId"] == key.split(":")[4]
    described = trail.describe_trails(trailNameList=[TRAIL])["trailList"][0]
    assert described["KmsKeyId"] == key
    for path in log_files(server.bucket):
        raw = path.read_bytes()
        # Encrypted at rest: not gzip, no event text in the clear.
        assert raw.startswith(MAGIC) and not raw.startswith(b"\x1f\x8b")
        assert marker.encode() not in raw and b"CreateUser" not in raw
        header = json.loads(raw[len(MAGIC):raw.index(b"\n", len(MAGIC))])
        key_name = str(path.relative_to(server.bucket))
        assert header["kmsKeyArn"] == key and header["algorithm"] == "AES_256_GCM"
        assert header["encryptionContext"] == {"aws:cloudtrail:arn": TRAIL_ARN,
                                               "aws:s3:arn": f"arn:aws:s3:::{BUCKET}/{key_name}"}
    # The data key decrypts only under the file's own context.
    raw = log_files(server.bucket)[0].read_bytes()
    header = json.loads(raw[len(MAGIC):raw.index(b"\n", len(MAGIC))])
    kms = server.client("kms")
    assert error_code(lambda: kms.decrypt(
        CiphertextBlob=base64.b64decode(header["encryptedDataKey"]),
        EncryptionContext={"aws:cloudtrail:arn": TRAIL_ARN})) == "InvalidCiphertextException"


def rampart_trail(server, *args, key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    env.pop("AWS_PROFILE", None)
    return subprocess.run([os.environ["RAMPART_BIN"], "trail", *args],
                          capture_output=True, text=True, env=env)


def test_validate_and_decrypt_read_encrypted_files_through_kms(server, trail, tmp_path):
    server.client("iam").list_users()
    wait_for(lambda: any(
        json.loads(gzip.open(p).read())["logFiles"]
        for p in server.bucket.rglob("*.json.gz") if "/CloudTrail-Digest/" in str(p)))
    copy = tmp_path / "copy"
    shutil.copytree(server.bucket, copy)
    validated = rampart_trail(server, "validate", "--dir", str(copy), "--public-keys",
                              str(public_keys_file(server, tmp_path / "keys.json")), "--endpoint", server.endpoint)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "0 invalid" in validated.stdout
    # Without KMS, encrypted files cannot be checked, and validate says so.
    blind = rampart_trail(server, "validate", "--dir", str(copy), "--public-keys", str(public_keys_file(server, tmp_path / "keys.json")))
    assert blind.returncode == 1 and "cannot be decrypted" in blind.stdout
    # `rampart trail decrypt` writes the gzip files S3 would return; they validate offline.
    out = tmp_path / "plain"
    decrypted = rampart_trail(server, "decrypt", "--dir", str(copy), "--out", str(out),
                              "--endpoint", server.endpoint)
    assert decrypted.returncode == 0, decrypted.stderr
    for path in log_files(out):
        assert json.loads(gzip.open(path).read())["Records"]
    offline = rampart_trail(server, "validate", "--dir", str(out), "--public-keys", str(public_keys_file(server, tmp_path / "keys.json")))
    assert offline.returncode == 0, offline.stdout
    # A changed byte of an encrypted file is caught.
    target = log_files(copy)[0]
    raw = bytearray(target.read_bytes())
    raw[-20] ^= 1
    target.write_bytes(bytes(raw))
    tampered = rampart_trail(server, "validate", "--dir", str(copy), "--public-keys",
                             str(public_keys_file(server, tmp_path / "keys.json")), "--endpoint", server.endpoint)
    name = str(target.relative_to(copy))
    assert tampered.returncode == 1 and f"Log file {name} INVALID: hash value" in tampered.stdout
    # A reader the key policy does not allow to decrypt cannot read the files.
    iam = server.client("iam")
    reader = f"r-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=reader)
    access = iam.create_access_key(UserName=reader)["AccessKey"]
    unchanged = tmp_path / "unchanged"
    shutil.copytree(server.bucket, unchanged)
    denied = rampart_trail(server, "validate", "--dir", str(unchanged),
                           "--public-keys", str(public_keys_file(server, tmp_path / "keys.json")), "--endpoint", server.endpoint,
                           key=access["AccessKeyId"], secret=access["SecretAccessKey"])
    assert denied.returncode == 1 and "AccessDeniedException" in denied.stdout


def test_a_disabled_key_fails_delivery_visibly_and_loses_nothing(server, trail, key):
    kms = server.client("kms")
    kms.disable_key(KeyId=key)
    failing = lambda: (lambda s: s if s.get("LatestDeliveryError") else None)(
        trail.get_trail_status(Name=TRAIL))
    assert wait_for(failing)["LatestDeliveryError"] == "KMS.DisabledException"
    delivered = set(log_files(server.bucket))
    # A call made meanwhile is kept: later attempts fail too, and write nothing.
    marker = f"d-{uuid.uuid4().hex[:8]}"
    request_id = server.client("iam").create_user(UserName=marker)["ResponseMetadata"]["RequestId"]
    made_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    later = wait_for(lambda: (lambda s: s if s["LatestDeliveryAttemptTime"] > made_at else None)(
        trail.get_trail_status(Name=TRAIL)))
    assert later["LatestDeliveryError"] == "KMS.DisabledException"
    assert set(log_files(server.bucket)) == delivered
    # Each refused data key call is in the key's account, with KMS's own error code.
    refused = wait_for(lambda: [r for r in data_key_calls(trail) if "errorCode" in r])
    assert refused[0]["errorCode"] == "DisabledException"
    # Once the key is enabled again, everything kept is delivered, each event once.
    kms.enable_key(KeyId=key)
    found = wait_for(lambda: [r for r in delivered_records(server) if r["requestID"] == request_id])
    assert marker in json.dumps(found[0]["requestParameters"])
    status = wait_for(lambda: (lambda s: s if "LatestDeliveryError" not in s else None)(
        trail.get_trail_status(Name=TRAIL)))
    assert status["LatestDeliveryAttemptSucceeded"] == status["LatestDeliveryAttemptTime"]
    records = delivered_records(server)
    ids = [r["eventID"] for r in records]
    assert len(ids) == len(set(ids))
    assert any(r["eventName"] == "DisableKey" for r in records)
