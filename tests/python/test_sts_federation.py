"""Federation end to end: AssumeRoleWithWebIdentity with JWTs this test signs (keys published
as a JWKS file and by a loopback issuer), the AWS CLI's web identity profile,
AssumeRoleWithSAML with assertions this test signs, what CloudTrail records of both, role chains
with transitive session tags and a source identity, and cross-account roles."""

import base64
import http.server
import json
import os
import subprocess
import threading
import time

import boto3
import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import hashes

from conftest import ACCOUNT_ID, Rampart
from identity_providers import (
    AUDIENCE, THUMBPRINT, OidcProvider, SamlIdp, SigningKey, iso, saml_role, unique,
    unsigned_sts,
)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


@pytest.fixture(scope="module")
def jwks_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jwks")


@pytest.fixture(scope="module")
def rampart(tmp_path_factory, jwks_dir):
    """A rampart that reads OpenID Connect providers' keys from a JWKS directory."""
    server = Rampart(tmp_path_factory.mktemp("rampart"), RAMPART_JWKS_DIR=str(jwks_dir))
    yield server
    server.stop()


def session_client(rampart, service, credentials):
    return boto3.client(
        service, endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def web_identity_role(rampart, provider, subject="repo:example/app:*", policy=None, also=()):
    iam = rampart.client("iam")
    name = unique("wi")
    trust = {
        "Effect": "Allow", "Principal": {"Federated": provider.arn},
        "Action": ["sts:AssumeRoleWithWebIdentity", *also],
        "Condition": {
            "StringEquals": {f"{provider.host_path}:aud": AUDIENCE},
            "StringLike": {f"{provider.host_path}:sub": subject},
        },
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(trust))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    return name, arn


def test_a_web_identity_token_assumes_a_role_its_trust_policy_names(rampart, jwks_dir):
    provider = OidcProvider(rampart, jwks_dir)
    role, role_arn = web_identity_role(rampart, provider, policy=doc(allow("iam:ListRoles")))
    out = unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="ci-run", WebIdentityToken=provider.token()
    )
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/ci-run"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["SubjectFromWebIdentityToken"] == "repo:example/app:ref:refs/heads/main"
    assert out["Audience"] == AUDIENCE
    assert out["Provider"] == provider.arn
    me = session_client(rampart, "sts", out["Credentials"]).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]
    iam = session_client(rampart, "iam", out["Credentials"])
    iam.list_roles()
    assert error_of(lambda: iam.list_users())["Code"] == "AccessDenied"


def test_the_trust_policy_sees_the_tokens_subject(rampart, jwks_dir):
    provider = OidcProvider(rampart, jwks_dir)
    _, role_arn = web_identity_role(rampart, provider, subject="repo:example/app:*")
    refused = error_of(lambda: unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="other", WebIdentityToken=provider.token(subject="repo:evil/app")
    ))
    assert refused["Code"] == "AccessDenied"
    assert refused["Message"] == "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    # A role that does not exist answers the same, telling nothing more.
    missing = error_of(lambda: unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/no-such-role", RoleSessionName="sess",
        WebIdentityToken=provider.token(),
    ))
    assert missing["Code"] == "AccessDenied"


def test_tokens_signed_by_another_key_for_another_audience_or_expired_are_refused(rampart, jwks_dir):
    provider = OidcProvider(rampart, jwks_dir)
    _, role_arn = web_identity_role(rampart, provider)
    sts = unsigned_sts(rampart)

    def assume(token):
        return error_of(lambda: sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="sess", WebIdentityToken=token))

    # Another key under the same key ID: the signature does not verify.
    impostor = SigningKey(kid=provider.key.kid).token(provider.claims())
    assert assume(impostor)["Code"] == "InvalidIdentityToken"
    wrong_audience = assume(provider.token(aud="someone-else"))
    assert wrong_audience["Code"] == "InvalidIdentityToken"
    assert wrong_audience["Message"] == "Incorrect token audience"
    long_ago = int(time.time()) - 3600
    expired = assume(provider.token(iat=long_ago - 300, exp=long_ago))
    assert expired["Code"] == "ExpiredTokenException"
    assert expired["Message"].startswith("Token expired")
    unknown_issuer = assume(provider.token(iss="https://nobody.example.com"))
    assert unknown_issuer["Code"] == "InvalidIdentityToken"
    assert assume("not-a-jwt")["Code"] == "InvalidIdentityToken"


def post_signed(rampart, params, secret):
    """POSTs a Query request signed with SigV4 by the root key (or a wrong secret)."""
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from conftest import ACCESS_KEY_ID

    body = urllib.parse.urlencode({**params, "Version": "2011-06-15"})
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method="POST", url=rampart.endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY_ID, secret), "sts", "us-east-1").add_auth(request)
    sent = urllib.request.Request(
        rampart.endpoint + "/", data=body.encode(), headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(sent) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_signed_request_works_too_and_a_bad_signature_is_refused(rampart, jwks_dir):
    from conftest import SECRET_ACCESS_KEY

    provider = OidcProvider(rampart, jwks_dir)
    role, role_arn = web_identity_role(rampart, provider)
    params = {"Action": "AssumeRoleWithWebIdentity", "RoleArn": role_arn,
              "RoleSessionName": "signed", "WebIdentityToken": provider.token()}
    status, body = post_signed(rampart, params, SECRET_ACCESS_KEY)
    assert status == 200, body
    # The token, not the signer, is who assumes the role.
    assert f"assumed-role/{role}/signed" in body
    status, body = post_signed(rampart, params, "not-the-secret")
    assert status == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in body


class LoopbackIssuer:
    """An OpenID Connect issuer on 127.0.0.1 that serves its JWKS over plain http."""

    def __init__(self, key):
        body = json.dumps({"keys": [key.jwk()]}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/jwks.json"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_error(404)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/issuer"

    def stop(self):
        self.server.shutdown()


def test_keys_are_fetched_from_a_loopback_issuer(rampart):
    key = SigningKey()
    issuer = LoopbackIssuer(key)
    try:
        iam = rampart.client("iam")
        provider_arn = iam.create_open_id_connect_provider(
            Url=issuer.url, ClientIDList=[AUDIENCE], ThumbprintList=[THUMBPRINT]
        )["OpenIDConnectProviderArn"]
        name = unique("loop")
        role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc({
            "Effect": "Allow", "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity"}))["Role"]["Arn"]
        now = int(time.time())
        token = key.token({"iss": issuer.url, "aud": AUDIENCE, "sub": "svc", "iat": now, "exp": now + 300})
        out = unsigned_sts(rampart).assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="loop", WebIdentityToken=token)
        assert out["SubjectFromWebIdentityToken"] == "svc"
    finally:
        issuer.stop()


def test_the_cli_assumes_a_role_from_a_web_identity_token_file(rampart, jwks_dir, tmp_path):
    provider = OidcProvider(rampart, jwks_dir)
    role, role_arn = web_identity_role(rampart, provider)
    token_file = tmp_path / "token"
    token_file.write_text(provider.token())
    (tmp_path / "config").write_text(
        f"[profile workload]\nregion = us-east-1\nrole_arn = {role_arn}\n"
        f"web_identity_token_file = {token_file}\nrole_session_name = from-cli\n"
    )
    env = dict(
        os.environ,
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        # The CLI's own AssumeRoleWithWebIdentity call must reach Rampart too.
        AWS_ENDPOINT_URL=rampart.endpoint,
    )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(var, None)
    result = subprocess.run(
        ["aws", "--profile", "workload", "--endpoint-url", rampart.endpoint, "sts", "get-caller-identity"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/from-cli"


def test_session_tags_and_source_identity_from_the_token(rampart, jwks_dir):
    provider = OidcProvider(rampart, jwks_dir)
    policy = doc(allow("iam:ListRoles", Condition={"StringEquals": {
        "aws:PrincipalTag/team": "blue", "aws:SourceIdentity": "alice"}}))
    _, role_arn = web_identity_role(
        rampart, provider, policy=policy, also=["sts:TagSession", "sts:SetSourceIdentity"])
    token = provider.token(**{
        "https://aws.amazon.com/tags": {"principal_tags": {"team": ["blue"]}, "transitive_tag_keys": ["team"]},
        "https://aws.amazon.com/source_identity": "alice",
    })
    # A trust policy that does not allow sts:TagSession refuses a token that carries tags.
    _, untagged_role = web_identity_role(rampart, provider, also=["sts:SetSourceIdentity"])
    refused = error_of(lambda: unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=untagged_role, RoleSessionName="tagged", WebIdentityToken=token))
    assert refused["Message"] == "Not authorized to perform sts:TagSession"
    out = unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="tagged", WebIdentityToken=token)
    assert out["SourceIdentity"] == "alice"
    session_client(rampart, "iam", out["Credentials"]).list_roles()
    plain = unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="plain", WebIdentityToken=provider.token())
    assert error_of(lambda: session_client(rampart, "iam", plain["Credentials"]).list_roles())["Code"] == "AccessDenied"


def lookup(rampart, event_name, predicate):
    """The newest event of `event_name` that `predicate` accepts, as a dict."""
    trail = rampart.client("cloudtrail")
    pages = trail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}])
    for page in pages:
        for event in page["Events"]:
            record = json.loads(event["CloudTrailEvent"])
            if predicate(record):
                return record
    raise AssertionError(f"no {event_name} event matched")


def test_cloudtrail_records_the_web_identity_user_and_its_sessions_provider(rampart, jwks_dir):
    provider = OidcProvider(rampart, jwks_dir)
    _, role_arn = web_identity_role(rampart, provider)
    token = provider.token(subject="repo:example/app:audit")
    out = unsigned_sts(rampart).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="audited", WebIdentityToken=token)
    request_id = out["ResponseMetadata"]["RequestId"]
    record = lookup(rampart, "AssumeRoleWithWebIdentity", lambda r: r["requestID"] == request_id)
    identity = record["userIdentity"]
    assert identity == {
        "type": "WebIdentityUser",
        "principalId": f"{provider.arn}:{AUDIENCE}:repo:example/app:audit",
        "userName": "repo:example/app:audit",
        "identityProvider": provider.arn,
    }
    assert record["recipientAccountId"] == ACCOUNT_ID
    assert token not in json.dumps(record)
    assert out["Credentials"]["SecretAccessKey"] not in json.dumps(record)

    # A refused token is recorded too, in the account of the role it was sent for.
    bad = provider.token(aud="someone-else")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        unsigned_sts(rampart).assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="refused", WebIdentityToken=bad)
    refused_id = refused.value.response["ResponseMetadata"]["RequestId"]
    failure = lookup(rampart, "AssumeRoleWithWebIdentity", lambda r: r["requestID"] == refused_id)
    assert failure["errorCode"] == "InvalidIdentityToken"
    assert failure["recipientAccountId"] == ACCOUNT_ID
    assert bad not in json.dumps(failure)

    me = session_client(rampart, "sts", out["Credentials"]).get_caller_identity()
    session_call = lookup(rampart, "GetCallerIdentity",
                          lambda r: r["requestID"] == me["ResponseMetadata"]["RequestId"])
    context = session_call["userIdentity"]["sessionContext"]
    assert context["webIdFederationData"] == {"federatedProvider": provider.arn, "attributes": {}}
    assert context["sessionIssuer"]["arn"] == role_arn


# --- SAML ---------------------------------------------------------------------------------

def test_a_signed_saml_assertion_assumes_a_role(rampart):
    idp = SamlIdp(rampart)
    role, role_arn = saml_role(rampart, idp, policy=doc(allow(
        "iam:ListRoles", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})),
        also=["sts:TagSession", "sts:SetSourceIdentity"])
    session_end = iso(1200)
    assertion = idp.response(role_arn, attributes={
        "https://aws.amazon.com/SAML/Attributes/PrincipalTag:team": ["blue"],
        "https://aws.amazon.com/SAML/Attributes/SourceIdentity": ["alice"],
    }, authn=f'<saml:AuthnStatement AuthnInstant="{iso(0)}" SessionNotOnOrAfter="{session_end}"/>')
    out = unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=assertion)
    # The IdP's SessionNotOnOrAfter ends the session before the default hour.
    assert out["Credentials"]["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ") == session_end
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/alice"
    assert out["Subject"] == "alice@example.com"
    assert out["SubjectType"] == "persistent"
    assert out["Issuer"] == idp.entity_id
    assert out["Audience"] == "https://signin.aws.amazon.com/saml"
    assert out["SourceIdentity"] == "alice"
    digest = hashes.Hash(hashes.SHA1())
    digest.update(f"{idp.entity_id}{ACCOUNT_ID}/{idp.name}".encode())
    assert out["NameQualifier"] == base64.b64encode(digest.finalize()).decode()
    session_client(rampart, "iam", out["Credentials"]).list_roles()

    record = lookup(rampart, "AssumeRoleWithSAML",
                    lambda r: r["requestID"] == out["ResponseMetadata"]["RequestId"])
    assert record["userIdentity"] == {
        "type": "SAMLUser",
        "principalId": f"{out['NameQualifier']}:alice@example.com",
        "userName": "alice@example.com",
        "identityProvider": out["NameQualifier"],
    }
    assert assertion not in json.dumps(record)


def test_a_saml_assertion_with_one_byte_changed_is_refused(rampart):
    idp = SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    xml = base64.b64decode(idp.response(role_arn))
    at = xml.index(b"alice@example.com")
    tampered = xml[:at] + b"b" + xml[at + 1:]
    refused = error_of(lambda: unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=base64.b64encode(tampered).decode()))
    assert refused["Code"] == "InvalidIdentityToken"


def test_a_saml_assertion_for_another_role_or_provider_is_refused(rampart):
    idp, other = SamlIdp(rampart), SamlIdp(rampart)
    _, role_arn = saml_role(rampart, idp)
    _, elsewhere = saml_role(rampart, idp)
    sts = unsigned_sts(rampart)
    # The assertion's Role attribute names another role.
    refused = error_of(lambda: sts.assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=idp.response(elsewhere)))
    assert refused["Code"] == "AccessDenied"
    # Signed by another IdP's key than the provider's metadata names.
    refused = error_of(lambda: sts.assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=other.response(role_arn)))
    assert refused["Code"] == "InvalidIdentityToken"


# --- Role chains and cross-account roles ---------------------------------------------------

def user_with_key(rampart, policy=None, iam=None, account=ACCOUNT_ID, client=None):
    iam = iam or rampart.client("iam")
    name = unique("u")
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return f"arn:aws:iam::{account}:user/{name}", rampart.client(
        "sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def role_trusting(iam, principal, policy=None, also=()):
    name = unique("r")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": principal},
        "Action": ["sts:AssumeRole", *also]}))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    return name, arn


def test_a_role_chain_carries_transitive_tags_and_the_source_identity(rampart):
    iam = rampart.client("iam")
    user_arn, sts = user_with_key(rampart)
    tag_and_source = ["sts:TagSession", "sts:SetSourceIdentity"]
    _, first = role_trusting(iam, user_arn, also=tag_and_source)
    _, second = role_trusting(iam, first, also=tag_and_source, policy=doc(
        allow("iam:ListRoles", Condition={"StringEquals": {
            "aws:PrincipalTag/project": "apollo", "aws:SourceIdentity": "alice"}}),
        allow("iam:ListUsers", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}),
    ))
    # Session tags and a source identity need sts:TagSession and sts:SetSourceIdentity.
    _, plain = role_trusting(iam, user_arn)
    refused = error_of(lambda: sts.assume_role(
        RoleArn=plain, RoleSessionName="hop1", Tags=[{"Key": "project", "Value": "apollo"}]))
    assert refused["Code"] == "AccessDenied"
    assert "is not authorized to perform: sts:TagSession on resource" in refused["Message"]
    refused = error_of(lambda: sts.assume_role(
        RoleArn=plain, RoleSessionName="hop1", SourceIdentity="alice"))
    assert "is not authorized to perform: sts:SetSourceIdentity on resource" in refused["Message"]
    one = sts.assume_role(
        RoleArn=first, RoleSessionName="hop1", SourceIdentity="alice",
        Tags=[{"Key": "project", "Value": "apollo"}, {"Key": "team", "Value": "red"}],
        TransitiveTagKeys=["project"],
    )["Credentials"]
    chained = session_client(rampart, "sts", one)
    two = chained.assume_role(RoleArn=second, RoleSessionName="hop2")
    assert two["SourceIdentity"] == "alice"
    hop2 = session_client(rampart, "iam", two["Credentials"])
    hop2.list_roles()  # the transitive tag and the source identity came along
    assert error_of(lambda: hop2.list_users())["Code"] == "AccessDenied"  # team was not transitive

    overridden = error_of(lambda: chained.assume_role(
        RoleArn=second, RoleSessionName="hop2", Tags=[{"Key": "Project", "Value": "gemini"}]))
    assert overridden["Code"] == "ValidationError"
    changed = error_of(lambda: chained.assume_role(
        RoleArn=second, RoleSessionName="hop2", SourceIdentity="mallory"))
    assert changed["Code"] == "ValidationError"
    # The source identity goes on along the chain: the next role must allow it too.
    _, no_source = role_trusting(iam, second)
    refused = error_of(lambda: session_client(rampart, "sts", two["Credentials"]).assume_role(
        RoleArn=no_source, RoleSessionName="hop3"))
    assert "sts:SetSourceIdentity" in refused["Message"]
    # The third hop still carries the tag, though the second hop passed none of its own.
    _, third = role_trusting(iam, second, also=["sts:SetSourceIdentity"], policy=doc(allow(
        "iam:ListRoles", Condition={"StringEquals": {"aws:PrincipalTag/project": "apollo"}})))
    three = session_client(rampart, "sts", two["Credentials"]).assume_role(
        RoleArn=third, RoleSessionName="hop3")
    session_client(rampart, "iam", three["Credentials"]).list_roles()


def test_a_user_assumes_a_role_in_another_account_when_both_sides_allow(rampart):
    other = f"{int(time.time() * 1000) % 10**12:012d}"
    created = subprocess.run(
        [os.environ["RAMPART_BIN"], "admin", "create-account", "--data-dir", str(rampart.data_dir),
         "--account-id", other],
        capture_output=True, text=True,
    )
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(":", 1) for line in created.stdout.splitlines() if ":" in line)
    key_id = lines["root access key id"].strip()
    secret = lines["root secret access key"].strip()
    other_iam = rampart.client("iam", key=key_id, secret=secret)

    user_arn, without_policy = user_with_key(rampart)
    role, role_arn = role_trusting(other_iam, user_arn)
    assert role_arn.startswith(f"arn:aws:iam::{other}:role/")
    # The trust policy in B allows, but A's side grants nothing: denied.
    denied = error_of(lambda: without_policy.assume_role(RoleArn=role_arn, RoleSessionName="sess"))
    assert denied["Code"] == "AccessDenied"

    iam = rampart.client("iam")
    iam.put_user_policy(UserName=user_arn.rsplit("/", 1)[1], PolicyName="p",
                        PolicyDocument=doc(allow("sts:AssumeRole", role_arn)))
    out = without_policy.assume_role(RoleArn=role_arn, RoleSessionName="visitor")
    me = session_client(rampart, "sts", out["Credentials"]).get_caller_identity()
    assert me["Account"] == other
    assert me["Arn"] == f"arn:aws:sts::{other}:assumed-role/{role}/visitor"

    # A's side allows, B's trust policy names someone else: denied.
    _, stranger_role = role_trusting(other_iam, "arn:aws:iam::111122223333:user/somebody-else")
    iam.put_user_policy(UserName=user_arn.rsplit("/", 1)[1], PolicyName="p",
                        PolicyDocument=doc(allow("sts:AssumeRole")))
    assert error_of(lambda: without_policy.assume_role(
        RoleArn=stranger_role, RoleSessionName="sess"))["Code"] == "AccessDenied"


def test_the_cli_calls_both_federation_operations(rampart, jwks_dir):
    idp = SamlIdp(rampart)
    role, role_arn = saml_role(rampart, idp)
    out = rampart.aws("sts", "assume-role-with-saml", "--role-arn", role_arn,
                      "--principal-arn", idp.arn, "--saml-assertion", idp.response(role_arn))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role}/alice")

    provider = OidcProvider(rampart, jwks_dir)
    role, role_arn = web_identity_role(rampart, provider)
    out = rampart.aws("sts", "assume-role-with-web-identity", "--role-arn", role_arn,
                      "--role-session-name", "cli", "--web-identity-token", provider.token())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{role}/cli")
