"""STS through the spine with boto3 and the AWS CLI."""

import json
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID

ROOT_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_boto3_gets_the_root_identity(rampart):
    me = rampart.client("sts").get_caller_identity()
    assert me["Arn"] == ROOT_ARN
    assert me["Account"] == ACCOUNT_ID
    assert me["UserId"] == ACCOUNT_ID


def test_the_cli_uses_the_credentials_file_rampart_wrote(rampart):
    result = rampart.aws("sts", "get-caller-identity")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == ROOT_ARN


def test_the_cli_reads_the_account_of_a_key(rampart):
    result = rampart.aws("sts", "get-access-key-info", "--access-key-id", ACCESS_KEY_ID)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Account"] == "581039954779"


def test_a_wrong_secret_does_not_match(rampart):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        rampart.client("sts", secret="x" * 40).get_caller_identity()
    assert error_code(excinfo) == "SignatureDoesNotMatch"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unknown_key_is_an_invalid_client_token(rampart):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        rampart.client("sts", key="AKIAUNKNOWNKEY000000").get_caller_identity()
    assert error_code(excinfo) == "InvalidClientTokenId"


def test_a_boto3_presigned_url_works(rampart):
    # botocore signs STS presigned URLs for POST, the operation's method.
    url = rampart.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60)
    with urllib.request.urlopen(urllib.request.Request(url, method="POST")) as response:
        body = response.read().decode()
    assert f"<Arn>{ROOT_ARN}</Arn>" in body


def test_a_tampered_presigned_url_is_refused(rampart):
    url = rampart.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60)
    url = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(urllib.request.Request(url, method="POST"))
    assert excinfo.value.code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in excinfo.value.read().decode()


def test_invalid_input_gets_the_validation_message(rampart):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        rampart.client("sts").get_access_key_info(AccessKeyId="AKIAIOSFODNN7 EXAMPLE")
    assert error_code(excinfo) == "ValidationError"
    assert excinfo.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'AKIAIOSFODNN7 EXAMPLE' at 'accessKeyId' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*"
    )


def test_an_unimplemented_operation_names_itself(rampart):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        rampart.client("kms").describe_custom_key_stores()
    assert error_code(excinfo) == "NotImplemented"
    assert "kms:DescribeCustomKeyStores" in excinfo.value.response["Error"]["Message"]
