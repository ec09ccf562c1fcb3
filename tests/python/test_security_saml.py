"""AssumeRoleWithSAML is unsigned: the assertion is the only credential, and anyone who knows
a SAML provider's ARN can post one. These tests replay security finding 13 against a real
rampart: a signature whose Reference points at `file:///dev/zero` used to grow the process
until it died (xmlsec dereferenced it before checking anything), and one pointing at
`http://127.0.0.1:<port>` was fetched (blind SSRF). Each attack must be refused with AWS's
error, fetch nothing, and leave the server answering, beside an assertion that signs in.
Finding 16 (subject confirmation and the provider's account) is checked here end to end too."""

import base64
import json
import re
import resource
import socket

import boto3
import botocore.exceptions
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from conftest import ACCOUNT_ID, Rampart
from identity_providers import SamlIdp, saml_role


@pytest.fixture(scope="module")
def rampart(tmp_path_factory):
    server = Rampart(tmp_path_factory.mktemp("rampart"))
    # If the fix ever regresses, xmlsec would read /dev/zero until this machine (shared with
    # other builds) runs out of memory: cap the server's address space well below that, so a
    # regression fails these tests instead.
    with open(f"/proc/{server.process.pid}/stat") as stat:
        virtual = int(stat.read().rsplit(")", 1)[1].split()[20])
    cap = virtual + 2 * 1024**3
    resource.prlimit(server.process.pid, resource.RLIMIT_AS, (cap, cap))
    yield server
    server.stop()


def unsigned_sts(rampart):
    """An STS client with no credentials, that tries once: a server stuck fetching what an
    attacker pointed it at fails the test quickly."""
    return boto3.client(
        "sts", endpoint_url=rampart.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, read_timeout=20,
                      retries={"total_max_attempts": 1}),
    )


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def with_reference(assertion_b64, uri):
    """The IdP's signed response with its signature's Reference pointed at `uri`, as an
    attacker who once saw any signed response (or none: the signature is never checked
    first) would post it."""
    xml = base64.b64decode(assertion_b64).decode()
    swapped, count = re.subn(r'URI="#_[0-9a-f]+"', f'URI="{uri}"', xml, count=1)
    assert count == 1
    return base64.b64encode(swapped.encode()).decode()


def assert_still_serving(rampart, sts, idp, role_arn):
    assert rampart.process.poll() is None, "rampart died"
    out = sts.assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=idp.response(role_arn))
    assert out["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/")
    assert rampart.client("sts").get_caller_identity()["Account"] == ACCOUNT_ID


def test_a_legitimate_assertion_signs_in(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    out = unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=idp.response(role_arn))
    assert out["Audience"] == "https://signin.aws.amazon.com/saml"
    assert out["Subject"] == "alice@example.com"


def test_a_reference_to_dev_zero_is_refused_and_the_server_lives(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    sts = unsigned_sts(rampart)
    attack = with_reference(idp.response(role_arn), "file:///dev/zero")
    # Only the provider's ARN is needed: the role need not exist.
    for target in (role_arn, f"arn:aws:iam::{ACCOUNT_ID}:role/no-such-role"):
        refused = error_of(lambda: sts.assume_role_with_saml(
            RoleArn=target, PrincipalArn=idp.arn, SAMLAssertion=attack))
        assert refused["Code"] == "InvalidIdentityToken"
        # Refused before xmlsec, for the reference itself (xmlsec's own failure would say
        # the signature does not verify, after reading the file).
        assert "Reference URI" in refused["Message"]
    assert_still_serving(rampart, sts, idp, role_arn)


def test_file_and_relative_references_are_refused(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    sts = unsigned_sts(rampart)
    for uri in ("file:///etc/passwd", "../../etc/passwd", "#xpointer(/)", "#_not_in_it"):
        refused = error_of(lambda: sts.assume_role_with_saml(
            RoleArn=role_arn, PrincipalArn=idp.arn,
            SAMLAssertion=with_reference(idp.response(role_arn), uri)))
        assert refused["Code"] == "InvalidIdentityToken", uri
        assert "Reference" in refused["Message"], uri
    assert_still_serving(rampart, sts, idp, role_arn)


def test_an_http_reference_is_never_fetched(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    sts = unsigned_sts(rampart)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        attack = with_reference(idp.response(role_arn), f"http://127.0.0.1:{port}/assertion.xml")
        refused = error_of(lambda: sts.assume_role_with_saml(
            RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=attack))
        assert refused["Code"] == "InvalidIdentityToken"
        assert "Reference URI" in refused["Message"]
        # The call is over: any connection xmlsec made during it waits in the backlog,
        # handshake done, whether or not anyone accepted it.
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
        # The probe itself works: a connection made now is seen.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            listener.settimeout(5)
            accepted, _ = listener.accept()
            accepted.close()
    finally:
        listener.close()
    assert_still_serving(rampart, sts, idp, role_arn)


def test_a_doctype_is_refused(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    xml = base64.b64decode(idp.response(role_arn)).decode()
    laughs = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    refused = error_of(lambda: unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn,
        SAMLAssertion=base64.b64encode((laughs + xml).encode()).decode()))
    assert refused["Code"] == "InvalidIdentityToken"
    assert "DOCTYPE" in refused["Message"]


def test_an_oversized_assertion_gets_awss_validation_error(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    refused = error_of(lambda: unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion="A" * 100_004))
    assert refused["Code"] == "ValidationError"
    assert "Member must have length less than or equal to 100000" in refused["Message"]


def test_the_recipient_must_be_the_aws_sign_in_endpoint(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    sts = unsigned_sts(rampart)
    refused = error_of(lambda: sts.assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn,
        SAMLAssertion=idp.response(role_arn, recipient="https://sp.example.com/saml/acs")))
    assert refused["Code"] == "InvalidIdentityToken"
    assert "Recipient" in refused["Message"]
    # A regional sign-in endpoint is AWS's too; it becomes saml:aud and the Audience.
    regional = "https://eu-west-1.signin.aws.amazon.com/saml"
    iam = rampart.client("iam")
    name = role_arn.rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Condition"]["StringEquals"]["SAML:aud"] = regional
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    out = sts.assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn,
        SAMLAssertion=idp.response(role_arn, recipient=regional))
    assert out["Audience"] == regional


def test_a_provider_outside_the_roles_account_is_refused(rampart):
    idp = SamlIdp(rampart)
    other_account_role = "arn:aws:iam::111122223333:role/federated"
    refused = error_of(lambda: unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=other_account_role, PrincipalArn=idp.arn,
        SAMLAssertion=idp.response(other_account_role)))
    assert refused["Code"] == "ValidationError"
    assert refused["Message"] == "Principal exists outside the account of the Role being assumed."
