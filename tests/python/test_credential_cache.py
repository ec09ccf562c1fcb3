"""The server caches each access key's status, principal and secret between requests; a change
to any of them must be seen by the very next request, exactly as if nothing were cached. Each
test signs with the key first (so it is cached), then changes it through IAM."""

import uuid

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response


@pytest.fixture
def iam(rampart):
    return rampart.client("iam")


@pytest.fixture
def user_key(rampart, iam):
    name = unique("cached")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = rampart.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    return name, key, sts


def test_deactivating_a_used_key_refuses_its_next_request(iam, user_key):
    name, key, sts = user_key
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    response = error(sts.get_caller_identity)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "AccessDenied"
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_deleting_a_used_key_and_its_user_refuses_the_next_request(iam, user_key):
    name, key, sts = user_key
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert error(sts.get_caller_identity)["Error"]["Code"] == "InvalidClientTokenId"
    iam.delete_user(UserName=name)
    assert error(sts.get_caller_identity)["Error"]["Code"] == "InvalidClientTokenId"


def test_a_wrong_secret_for_a_cached_key_never_verifies(rampart, user_key):
    _, key, _ = user_key
    forged = rampart.client("sts", key=key["AccessKeyId"], secret="x" * 40)
    assert error(forged.get_caller_identity)["Error"]["Code"] == "SignatureDoesNotMatch"


def test_a_key_recreated_after_its_user_is_recreated_signs_as_the_new_user(rampart, iam, user_key):
    name, key, sts = user_key
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)
    iam.create_user(UserName=name)
    new_key = iam.create_access_key(UserName=name)["AccessKey"]
    new_sts = rampart.client("sts", key=new_key["AccessKeyId"], secret=new_key["SecretAccessKey"])
    new_user_id = iam.get_user(UserName=name)["User"]["UserId"]
    assert new_sts.get_caller_identity()["UserId"] == new_user_id
    assert error(sts.get_caller_identity)["Error"]["Code"] == "InvalidClientTokenId"
