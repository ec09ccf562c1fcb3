"""Paging and tagging, shared by every service, through boto3: markers a listing did not hand
out are refused with each service's error, and a resource's tag quota holds however tags come."""

import base64
import uuid

import botocore.exceptions
import pytest


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def token(text):
    """A marker in the shape Rampart hands out: a store key, base64url without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_an_iam_marker_naming_another_accounts_records_is_refused(rampart):
    iam = rampart.client("iam")
    prefix = f"/paging-{uuid.uuid4().hex[:8]}/"
    names = sorted(f"u{i}-{uuid.uuid4().hex[:6]}" for i in range(3))
    for name in names:
        iam.create_user(UserName=name, Path=prefix)
    # The account's own markers page through every user once.
    pages = iam.get_paginator("list_users").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 1})
    assert [u["UserName"] for page in pages for u in page["Users"]] == names
    # A marker naming another account's users is not a place to start from.
    answer = error(lambda: iam.list_users(Marker=token("999999999999/"), MaxItems=1))
    assert (answer["Code"], answer["Message"]) == ("InvalidInput", "Invalid Marker.")


def test_a_new_kms_key_keeps_the_quota_of_tags(rampart):
    kms = rampart.client("kms")
    tags = [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)]
    answer = error(lambda: kms.create_key(Tags=tags))
    assert (answer["Code"], answer["Message"]) == (
        "LimitExceededException",
        "The request would exceed the quota of 50 tags per KMS key.",
    )
    key_id = kms.create_key(Tags=tags[:50])["KeyMetadata"]["KeyId"]
    listed = kms.get_paginator("list_resource_tags").paginate(KeyId=key_id, PaginationConfig={"PageSize": 20})
    assert sorted(t["TagKey"] for page in listed for t in page["Tags"]) == sorted(t["TagKey"] for t in tags[:50])
    answer = error(lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "one-more", "TagValue": ""}]))
    assert answer["Code"] == "LimitExceededException"
    answer = error(lambda: kms.list_resource_tags(KeyId=key_id, Marker="not-an-index"))
    assert (answer["Code"], answer["Message"]) == ("InvalidMarkerException", "Invalid marker")
