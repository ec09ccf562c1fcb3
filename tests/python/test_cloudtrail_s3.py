"""Trail files in S3-compatible storage, checked by AWS's own validator (issue 19).

Rampart delivers to moto's S3 server (`--trail-s3-endpoint`, started here on a free port), and
the real AWS CLI's `aws cloudtrail validate-logs` checks the files there, with Rampart as its
CloudTrail endpoint: every file valid, then a modified log file, a deleted log file, a
modified digest, and files out of order (digests swapped, log files swapped, a digest taken
out of its chain) each reported as the CLI reports them on AWS. A multi-region trail gets a digest
chain per region, each checked with that region's keys. A deliverer killed (kill -9) after
storing an object but before recording its progress delivers each file exactly once after a
restart, and the files still validate.

Why the CLI reaches moto for S3: validate-logs sends its CloudTrail calls (DescribeTrails,
ListPublicKeys) to `--endpoint-url`, but builds its S3 clients from the session alone, without
that URL (awscli/customizations/cloudtrail/validation.py, S3ClientProvider). botocore takes a
service's endpoint from `AWS_ENDPOINT_URL_S3` when no endpoint is passed, so that variable sends
GetBucketLocation, ListObjects and GetObject to moto. moto accepts any credentials, so the
profile Rampart wrote serves both.
"""

import datetime
import gzip
import json
import os
import socket
import subprocess
import sys
import urllib.request
import uuid

import boto3
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY, Rampart, wait_for

BUCKET = "trail-archive"
TRAIL = "org-audit"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/{TRAIL}"
REGIONS = ("us-east-1", "eu-west-1")
# moto's S3 takes any key; Rampart writes with these.
S3_KEY, S3_SECRET = "rampart-writer", "rampart-writer-secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return True
        except OSError:
            return process.poll() is not None and pytest.fail("moto's server exited")

    wait_for(up, timeout=60)
    yield url
    process.terminate()
    process.wait(timeout=30)


def s3(url):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET)


def start_rampart(data_dir, s3_url, **extra):
    return Rampart(data_dir, RAMPART_TRAIL_S3_ENDPOINT=s3_url,
                   RAMPART_TRAIL_S3_ACCESS_KEY_ID=S3_KEY,
                   RAMPART_TRAIL_S3_SECRET_ACCESS_KEY=S3_SECRET,
                   RAMPART_TRAIL_DELIVERY_SECONDS="1", RAMPART_TRAIL_DIGEST_SECONDS="2", **extra)


def make_trail(server, bucket):
    trail = server.client("cloudtrail")
    trail.create_trail(Name=TRAIL, S3BucketName=bucket, IsMultiRegionTrail=True,
                       EnableLogFileValidation=True)
    trail.start_logging(Name=TRAIL)


def regional(server, service, region):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region,
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)


def calls_in_every_region(server):
    """One recorded call per region; returns their request IDs."""
    return [regional(server, "kms", region).list_keys()["ResponseMetadata"]["RequestId"]
            for region in REGIONS]


def objects(s3_client, bucket, part):
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="AWSLogs/")
    return sorted(o["Key"] for page in pages for o in page.get("Contents", [])
                  if f"/{part}/" in o["Key"])


def read_json(s3_client, bucket, key):
    return json.loads(gzip.decompress(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()))


def digests_listing_files(s3_client, bucket, region):
    keys = [k for k in objects(s3_client, bucket, "CloudTrail-Digest") if f"/{region}/" in k]
    return [(k, d) for k in keys if (d := read_json(s3_client, bucket, k))["logFiles"]]


def validate_logs(server, s3_url, region, start):
    env = dict(os.environ,
               AWS_SHARED_CREDENTIALS_FILE=str(server.data_dir / "credentials"),
               AWS_CONFIG_FILE=str(server.data_dir / "config"),
               AWS_ENDPOINT_URL_S3=s3_url)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(var, None)
    args = ["aws", "--profile", "rampart", "--region", region, "--endpoint-url", server.endpoint,
            "cloudtrail", "validate-logs", "--trail-arn", TRAIL_ARN,
            "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--verbose"]
    return subprocess.run(args, capture_output=True, text=True, env=env)


def counts(result, kind):
    """(valid, total) of the CLI's summary line for `kind` ('digest' or 'log')."""
    for line in result.stdout.splitlines():
        if line.endswith(f" {kind} files valid") or f" {kind} files valid," in line:
            valid, total = line.split(" ", 1)[0].split("/")
            return int(valid), int(total)
    return 0, 0


@pytest.fixture(scope="module")
def delivered(tmp_path_factory, s3_endpoint):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)
    client = s3(s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    server = start_rampart(tmp_path_factory.mktemp("trail-s3"), s3_endpoint)
    make_trail(server, BUCKET)
    # Calls in two delivery periods, so each region's chain has digests that list files.
    calls_in_every_region(server)
    wait_for(lambda: all(digests_listing_files(client, BUCKET, r) for r in REGIONS))
    calls_in_every_region(server)
    wait_for(lambda: all(len(digests_listing_files(client, BUCKET, r)) >= 2 for r in REGIONS))
    server.client("cloudtrail").stop_logging(Name=TRAIL)
    yield server, client, start
    server.stop()


def test_files_land_in_the_bucket_with_cloudtrails_keys_and_metadata(delivered, s3_endpoint):
    server, client, _ = delivered
    logs = objects(client, BUCKET, "CloudTrail")
    assert any("/CloudTrail/eu-west-1/" in k for k in logs)
    for key in logs:
        assert key.startswith(f"AWSLogs/{ACCOUNT_ID}/CloudTrail/"), key
        assert "Records" in read_json(client, BUCKET, key)
        # Gzip JSON, and its headers say so, as CloudTrail's objects' do.
        head = client.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["ContentEncoding"]) == ("application/json", "gzip")
    for region in REGIONS:
        key, digest = digests_listing_files(client, BUCKET, region)[-1]
        name = f"{ACCOUNT_ID}_CloudTrail-Digest_{region}_{TRAIL}_us-east-1_"
        assert key.split("/")[-1].startswith(name), key
        # The region's chain: each digest names its predecessor in the same region.
        assert f"/CloudTrail-Digest/{region}/" in digest["previousDigestS3Object"]
        assert all(f"/CloudTrail/{region}/" in f["s3Object"] for f in digest["logFiles"])
        head = client.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["ContentEncoding"]) == ("application/json", "gzip")
        assert head["Metadata"]["signature-algorithm"] == "SHA256withRSA"
        assert len(head["Metadata"]["signature"]) == 512
        assert digest["digestSignatureAlgorithm"] == "SHA256withRSA"
        # ListPublicKeys in the digest's region serves the key its fingerprint names.
        keys = regional(server, "cloudtrail", region).list_public_keys(
            StartTime=datetime.datetime(2020, 1, 1))["PublicKeyList"]
        assert digest["digestPublicKeyFingerprint"] in {k["Fingerprint"] for k in keys}
        for key in keys:
            assert key["ValidityStartTime"] < key["ValidityEndTime"]


def test_validate_logs_reports_every_file_valid_in_each_region(delivered, s3_endpoint):
    server, client, start = delivered
    for region in REGIONS:
        # Listed before the run: digests delivered meanwhile are not the run's to check.
        listed = [f["s3Object"] for _, d in digests_listing_files(client, BUCKET, region)
                  for f in d["logFiles"]]
        assert listed
        result = validate_logs(server, s3_endpoint, region, start)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "INVALID" not in result.stdout + result.stderr
        digests_valid, digests_total = counts(result, "digest")
        logs_valid, logs_total = counts(result, "log")
        assert digests_valid == digests_total >= 2, result.stdout
        assert logs_valid == logs_total >= 2, result.stdout
        # Every log file the region's digests list was checked.
        for key in listed:
            assert f"Log file\ts3://{BUCKET}/{key}\tvalid" in result.stdout


def test_validate_logs_reports_tampering_as_on_aws(delivered, s3_endpoint):
    server, client, start = delivered
    digest_key, digest = digests_listing_files(client, BUCKET, "us-east-1")[-1]
    log_key = digest["logFiles"][0]["s3Object"]
    original = client.get_object(Bucket=BUCKET, Key=log_key)["Body"].read()

    def check(expected):
        result = validate_logs(server, s3_endpoint, "us-east-1", start)
        assert result.returncode == 1, result.stdout + result.stderr
        assert expected in result.stderr, result.stderr
        return result

    # A modified log file.
    content = json.loads(gzip.decompress(original))
    content["Records"][0]["eventName"] = "Forged"
    client.put_object(Bucket=BUCKET, Key=log_key, Body=gzip.compress(json.dumps(content).encode()))
    check(f"Log file\ts3://{BUCKET}/{log_key}\tINVALID: hash value doesn't match")
    # A deleted log file.
    client.delete_object(Bucket=BUCKET, Key=log_key)
    check(f"Log file\ts3://{BUCKET}/{log_key}\tINVALID: not found")
    client.put_object(Bucket=BUCKET, Key=log_key, Body=original)
    # A modified digest, its metadata kept.
    head = client.head_object(Bucket=BUCKET, Key=digest_key)
    raw_digest = client.get_object(Bucket=BUCKET, Key=digest_key)["Body"].read()
    forged = dict(digest, logFiles=[])
    client.put_object(Bucket=BUCKET, Key=digest_key, Body=gzip.compress(json.dumps(forged).encode()),
                      Metadata=head["Metadata"])
    check(f"Digest file\ts3://{BUCKET}/{digest_key}\tINVALID: signature verification failed")
    # Restored, everything is valid again: the checks above found the changes, nothing else.
    client.put_object(Bucket=BUCKET, Key=digest_key, Body=raw_digest, Metadata=head["Metadata"])
    result = validate_logs(server, s3_endpoint, "us-east-1", start)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_logs_reports_files_out_of_order_as_on_aws(delivered, s3_endpoint):
    """Files out of their place or order: AWS's validator follows each digest's link to the
    previous one and checks that a digest names the key it sits at, and each log file its hash.
    Two digests swapped are each reported moved, two log files swapped each fail their hash,
    and a digest taken out of the chain is reported missing where its successor points."""
    server, client, start = delivered
    digests = [k for k in objects(client, BUCKET, "CloudTrail-Digest") if "/us-east-1/" in k]
    listing = digests_listing_files(client, BUCKET, "us-east-1")
    # Two neighbours in the chain, the later one pointing at the earlier.
    earlier, later = digests[-3], digests[-2]
    assert read_json(client, BUCKET, later)["previousDigestS3Object"] == earlier

    def fetch(key):
        head = client.head_object(Bucket=BUCKET, Key=key)
        return client.get_object(Bucket=BUCKET, Key=key)["Body"].read(), head["Metadata"]

    def put(key, body_and_metadata):
        body, metadata = body_and_metadata
        client.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata)

    def check(*expected):
        result = validate_logs(server, s3_endpoint, "us-east-1", start)
        assert result.returncode == 1, result.stdout + result.stderr
        for line in expected:
            assert line in result.stderr, result.stderr
        return result

    moved = "INVALID: has been moved from its original location"
    # Two digests trade places, each with its own signature metadata.
    originals = {key: fetch(key) for key in (earlier, later)}
    put(earlier, originals[later])
    put(later, originals[earlier])
    check(f"Digest file\ts3://{BUCKET}/{later}\t{moved}",
          f"Digest file\ts3://{BUCKET}/{earlier}\t{moved}")
    for key, original in originals.items():
        put(key, original)
    # Two log files trade places.
    first, second = (listing[0][1]["logFiles"][0]["s3Object"],
                     listing[-1][1]["logFiles"][0]["s3Object"])
    assert first != second
    logs = {key: client.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in (first, second)}
    client.put_object(Bucket=BUCKET, Key=first, Body=logs[second])
    client.put_object(Bucket=BUCKET, Key=second, Body=logs[first])
    check(f"Log file\ts3://{BUCKET}/{first}\tINVALID: hash value doesn't match",
          f"Log file\ts3://{BUCKET}/{second}\tINVALID: hash value doesn't match")
    for key, body in logs.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    # A digest taken out of the chain: the link of the one after it leads nowhere.
    client.delete_object(Bucket=BUCKET, Key=earlier)
    check(f"Digest file\ts3://{BUCKET}/{earlier}\tINVALID: not found")
    put(earlier, originals[earlier])
    # Everything back in place and order: valid again.
    result = validate_logs(server, s3_endpoint, "us-east-1", start)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_crash_mid_delivery_delivers_each_file_once(tmp_path, s3_endpoint):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)
    bucket = f"crash-{uuid.uuid4().hex[:8]}"
    client = s3(s3_endpoint)
    client.create_bucket(Bucket=bucket)
    data_dir = tmp_path / "rampart"
    # The deliverer stops dead after its first stored object, before recording progress.
    server = start_rampart(data_dir, s3_endpoint, RAMPART_TRAIL_TEST_HALT_AFTER_OBJECTS="1")
    make_trail(server, bucket)
    before_crash = calls_in_every_region(server)
    first = wait_for(lambda: objects(client, bucket, "CloudTrail"))
    assert len(first) == 1
    first_bytes = client.get_object(Bucket=bucket, Key=first[0])["Body"].read()
    # Mid-delivery: the object is stored, the trail's progress is not.
    assert "LatestDeliveryTime" not in server.client("cloudtrail").get_trail_status(Name=TRAIL)
    server.process.kill()  # SIGKILL
    server.process.wait(timeout=30)

    server = start_rampart(data_dir, s3_endpoint)
    try:
        after_restart = calls_in_every_region(server)
        wait_for(lambda: all(len(digests_listing_files(client, bucket, r)) >= 1
                             and any(f"/{r}/" in k for k in objects(client, bucket, "CloudTrail"))
                             for r in REGIONS))
        wanted = set(before_crash + after_restart)

        def delivered_ids():
            records = [r for k in objects(client, bucket, "CloudTrail")
                       for r in read_json(client, bucket, k)["Records"]]
            found = {r["requestID"] for r in records} & wanted
            return records if found == wanted else None

        records = wait_for(delivered_ids)
        server.client("cloudtrail").stop_logging(Name=TRAIL)
        # Each event once, in one file: the redone file replaced the first with the same bytes.
        ids = [r["eventID"] for r in records]
        assert len(ids) == len(set(ids))
        assert client.get_object(Bucket=bucket, Key=first[0])["Body"].read() == first_bytes
        # Each file listed by exactly one digest, once the digests caught up.
        def listed():
            return sorted(f["s3Object"] for r in REGIONS
                          for _, d in digests_listing_files(client, bucket, r)
                          for f in d["logFiles"])

        wait_for(lambda: listed() == objects(client, bucket, "CloudTrail"))
        for region in REGIONS:
            result = validate_logs(server, s3_endpoint, region, start)
            assert result.returncode == 0, result.stdout + result.stderr
            assert "INVALID" not in result.stderr
    finally:
        server.stop()
