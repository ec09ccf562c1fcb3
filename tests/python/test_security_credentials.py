"""Replays of credential and data-leak attacks against a real rampart, each beside the
legitimate path it must leave working:

- an MFA code of another user's device for GetSessionToken and AssumeRole;
- a KMS grantee granting itself more than its grant, and retiring grants not its own;
- another account's IAM entities read through the policy simulator, the access advisor and
  session policies (and existence probed through them);
- a JWKS URL that names one host and connects to another."""

import http.server
import json
import os
import subprocess
import threading
import time
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from conftest import ACCOUNT_ID, totp
from test_sts_federation import AUDIENCE, THUMBPRINT, SigningKey

OTHER_ACCOUNT = "777788889999"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def client(rampart, service, key, secret, token=None):
    return boto3.client(
        service, endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
    )


def session_client(rampart, service, credentials):
    return client(rampart, service, credentials["AccessKeyId"], credentials["SecretAccessKey"],
                  credentials["SessionToken"])


class User:
    """An IAM user with a key, in the account `iam` manages."""

    def __init__(self, rampart, iam, policy=None):
        self.rampart = rampart
        self.name = unique("u")
        self.arn = iam.create_user(UserName=self.name)["User"]["Arn"]
        if policy:
            iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=policy)
        key = iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]

    def client(self, service):
        return client(self.rampart, service, self.key, self.secret)


# ---------------------------------------------------------------------------------------------
# Finding 5: an MFA code from any device in the account.

NOT_THE_CALLERS = ("MultiFactorAuthentication failed, unable to validate MFA code.  "
                   "Please verify your MFA serial number is valid and associated with this user.")


class MfaUser(User):
    """A user with a virtual MFA device enabled; codes are read off its seed, as an app does."""

    def __init__(self, rampart, policy=None):
        iam = rampart.client("iam")
        super().__init__(rampart, iam, policy)
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"mfa-{self.name}")
        self.serial = device["VirtualMFADevice"]["SerialNumber"]
        self.seed = device["VirtualMFADevice"]["Base32StringSeed"].decode()
        now = time.time()
        iam.enable_mfa_device(
            UserName=self.name, SerialNumber=self.serial,
            AuthenticationCode1=totp(self.seed, now - 30), AuthenticationCode2=totp(self.seed, now),
        )

    def next_code(self):
        # The current step's code was used to enable the device.
        return totp(self.seed, time.time() + 30)


def test_get_session_token_refuses_another_users_mfa_device(rampart):
    mfa_only = doc(allow("iam:ListRoles", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    alice, bob = MfaUser(rampart, policy=mfa_only), MfaUser(rampart)
    sts = alice.client("sts")
    bobs_code = bob.next_code()
    # The attack: alice presents bob's device with a code bob's app shows.
    refused = error_of(lambda: sts.get_session_token(SerialNumber=bob.serial, TokenCode=bobs_code))
    assert (refused["Code"], refused["Message"]) == ("AccessDenied", NOT_THE_CALLERS)
    # A device that does not exist gets the same answer: bob's is not revealed.
    missing = f"arn:aws:iam::{ACCOUNT_ID}:mfa/{unique('nobody')}"
    assert error_of(lambda: sts.get_session_token(SerialNumber=missing, TokenCode=bobs_code)) == refused
    # Bob's code was not used up by alice's attempt.
    bob.client("sts").get_session_token(SerialNumber=bob.serial, TokenCode=bobs_code)
    # Alice's own device works, and its session counts as MFA-authenticated.
    with_mfa = sts.get_session_token(SerialNumber=alice.serial, TokenCode=alice.next_code())
    session_client(rampart, "iam", with_mfa["Credentials"]).list_roles()


def test_assume_role_refuses_another_users_mfa_device(rampart):
    iam = rampart.client("iam")
    alice, bob = MfaUser(rampart), MfaUser(rampart)
    role = unique("r")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": alice.arn}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}))["Role"]["Arn"]
    iam.put_user_policy(UserName=alice.name, PolicyName="assume",
                        PolicyDocument=doc(allow("sts:AssumeRole", role_arn)))
    sts = alice.client("sts")
    refused = error_of(lambda: sts.assume_role(
        RoleArn=role_arn, RoleSessionName="sess", SerialNumber=bob.serial, TokenCode=bob.next_code()))
    assert (refused["Code"], refused["Message"]) == ("AccessDenied", NOT_THE_CALLERS)
    # Without MFA the trust policy refuses; with alice's own device it accepts.
    assert error_of(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="sess"))["Code"] == "AccessDenied"
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="sess", SerialNumber=alice.serial,
                          TokenCode=alice.next_code())
    assert out["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role}/sess")


# ---------------------------------------------------------------------------------------------
# Finding 6: a KMS grantee granting itself more.

def kms_denied(call):
    return error_of(call)["Code"] == "AccessDeniedException"


def test_a_grantee_grants_only_what_its_grant_allows(rampart):
    iam, kms = rampart.client("iam"), rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    alice, bob = User(rampart, iam), User(rampart, iam)
    kms.create_grant(KeyId=key, GranteePrincipal=alice.arn, Operations=["Encrypt", "CreateGrant"])
    alices = alice.client("kms")
    # The attack: Decrypt, which the grant does not allow, granted to herself.
    assert kms_denied(lambda: alices.create_grant(
        KeyId=key, GranteePrincipal=alice.arn, Operations=["Decrypt"]))
    assert kms_denied(lambda: alices.create_grant(
        KeyId=key, GranteePrincipal=bob.arn, Operations=["Encrypt", "Decrypt"]))
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert kms_denied(lambda: alices.decrypt(CiphertextBlob=blob))
    # Within the grant: bob may now encrypt, and only that.
    alices.create_grant(KeyId=key, GranteePrincipal=bob.arn, Operations=["Encrypt"])
    bobs = bob.client("kms")
    bobs.encrypt(KeyId=key, Plaintext=b"x")
    assert kms_denied(lambda: bobs.decrypt(CiphertextBlob=blob))


def test_a_child_grant_keeps_the_parents_constraints(rampart):
    iam, kms = rampart.client("iam"), rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    alice, bob = User(rampart, iam), User(rampart, iam)
    kms.create_grant(KeyId=key, GranteePrincipal=alice.arn, Operations=["Encrypt", "CreateGrant"],
                     Constraints={"EncryptionContextSubset": {"dept": "IT"}})
    alices = alice.client("kms")
    # Looser than the parent: refused.
    assert kms_denied(lambda: alices.create_grant(
        KeyId=key, GranteePrincipal=bob.arn, Operations=["Encrypt"]))
    assert kms_denied(lambda: alices.create_grant(
        KeyId=key, GranteePrincipal=bob.arn, Operations=["Encrypt"],
        Constraints={"EncryptionContextSubset": {"team": "red"}}))
    # Stricter: Equals with the parent's pairs.
    alices.create_grant(KeyId=key, GranteePrincipal=bob.arn, Operations=["Encrypt"],
                        Constraints={"EncryptionContextEquals": {"dept": "IT"}})
    bobs = bob.client("kms")
    bobs.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"dept": "IT"})
    assert kms_denied(lambda: bobs.encrypt(KeyId=key, Plaintext=b"x",
                                           EncryptionContext={"dept": "IT", "more": "x"}))
    # The parent's constraint does not bind DescribeKey-like operations without a context.
    kms.create_grant(KeyId=key, GranteePrincipal=bob.arn, Operations=["DescribeKey"],
                     Constraints={"EncryptionContextSubset": {"dept": "IT"}})
    assert bobs.describe_key(KeyId=key)["KeyMetadata"]["Arn"] == key


def test_a_principal_retires_only_the_grants_it_may(rampart):
    iam, kms = rampart.client("iam"), rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    carol, dave = User(rampart, iam), User(rampart, iam)
    carols = kms.create_grant(KeyId=key, GranteePrincipal=dave.arn, RetiringPrincipal=carol.arn,
                              Operations=["Encrypt"])["GrantId"]
    others = kms.create_grant(KeyId=key, GranteePrincipal=dave.arn, Operations=["Decrypt"])["GrantId"]
    # The attack: carol, retiring principal of one grant, retires another on the same key.
    assert kms_denied(lambda: carol.client("kms").retire_grant(KeyId=key, GrantId=others))
    # Dave's grant does not allow RetireGrant: he retires neither.
    assert kms_denied(lambda: dave.client("kms").retire_grant(KeyId=key, GrantId=others))
    # Carol retires the grant that names her.
    carol.client("kms").retire_grant(KeyId=key, GrantId=carols)
    grants = [g["GrantId"] for g in kms.list_grants(KeyId=key)["Grants"]]
    assert grants == [others]


# ---------------------------------------------------------------------------------------------
# Finding 7: another account's IAM entities (and KMS grants naming them).

@pytest.fixture(scope="module")
def outsider(rampart):
    """The root user of another account, made by the operator beside the running server."""
    out = subprocess.run(
        [os.environ["RAMPART_BIN"], "admin", "create-account", "--account-id", OTHER_ACCOUNT,
         "--data-dir", str(rampart.data_dir)],
        capture_output=True, text=True, check=True).stdout
    field = lambda name: next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith(name))
    key, secret = field("root access key id"), field("root secret access key")
    return lambda service: client(rampart, service, key, secret)


@pytest.fixture(scope="module")
def victim(rampart):
    """A user of this account with an inline policy, and a customer managed policy."""
    iam = rampart.client("iam")
    name = unique("victim")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="secret-plans", PolicyDocument=doc(
        allow("s3:GetObject", Condition={"StringEquals": {"aws:PrincipalTag/clearance": "top"}})))
    policy = iam.create_policy(PolicyName=unique("secret-sauce"),
                               PolicyDocument=doc(allow("s3:GetObject")))["Policy"]["Arn"]
    return f"arn:aws:iam::{ACCOUNT_ID}:user/{name}", policy


def same_refusal(call, real, ghost):
    """Calls `call` with a real ARN and a made-up one; both answers, told apart by nothing
    but the ARN they name."""
    first, second = error_of(lambda: call(real)), error_of(lambda: call(ghost))
    assert first["Message"].replace(real, "<arn>") == second["Message"].replace(ghost, "<arn>")
    assert first["Code"] == second["Code"]
    return first


def test_the_simulator_does_not_read_another_accounts_principal(rampart, outsider, victim):
    user_arn, _ = victim
    ghost = f"arn:aws:iam::{ACCOUNT_ID}:user/{unique('ghost')}"
    iams = [outsider("iam")]
    admin = User(rampart, outsider("iam"), policy=doc(allow("iam:*")))
    iams.append(admin.client("iam"))
    for iam in iams:
        refused = same_refusal(
            lambda arn: iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"]),
            user_arn, ghost)
        assert refused["Code"] == "AccessDenied"
        assert "is not authorized to perform: iam:SimulatePrincipalPolicy" in refused["Message"]
        refused = same_refusal(
            lambda arn: iam.get_context_keys_for_principal_policy(PolicySourceArn=arn),
            user_arn, ghost)
        assert refused["Code"] == "AccessDenied"
        assert "secret-plans" not in refused["Message"]
    # The account itself simulates its user: decision, policy name and condition keys.
    iam = rampart.client("iam")
    result = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["s3:GetObject"])
    assert result["EvaluationResults"][0]["MissingContextValues"] == ["aws:PrincipalTag/clearance"]
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=user_arn)["ContextKeyNames"]
    assert keys == ["aws:PrincipalTag/clearance"]


def test_the_access_advisor_does_not_report_on_another_accounts_entities(rampart, outsider, victim):
    user_arn, policy_arn = victim
    iam = outsider("iam")
    for real, kind in ((user_arn, "user"), (policy_arn, "policy")):
        ghost = f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{unique('ghost')}"
        refused = same_refusal(
            lambda arn: iam.generate_service_last_accessed_details(Arn=arn), real, ghost)
        assert refused["Code"] == "AccessDenied"
        refused = same_refusal(
            lambda arn: iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["s3"]),
            real, ghost)
        assert refused["Code"] == "AccessDenied"
    # Its own account gets the report; any account may name an AWS managed policy.
    mine = rampart.client("iam")
    job = mine.generate_service_last_accessed_details(Arn=user_arn)["JobId"]
    assert mine.get_service_last_accessed_details(JobId=job)["JobStatus"] == "COMPLETED"
    job = iam.generate_service_last_accessed_details(Arn="arn:aws:iam::aws:policy/ReadOnlyAccess")["JobId"]
    assert iam.get_service_last_accessed_details(JobId=job)["JobStatus"] == "COMPLETED"


def test_session_policies_come_from_the_account_or_aws(rampart, outsider, victim):
    _, policy_arn = victim
    ghost = f"arn:aws:iam::{ACCOUNT_ID}:policy/{unique('ghost')}"
    outside_iam = outsider("iam")
    user = User(rampart, outside_iam, policy=doc(allow(["sts:GetFederationToken", "s3:*"])))
    sts = user.client("sts")
    refused = same_refusal(
        lambda arn: sts.get_federation_token(Name="fed", PolicyArns=[{"arn": arn}]), policy_arn, ghost)
    assert refused["Code"] == "ValidationError"
    own = outside_iam.create_policy(PolicyName=unique("own"),
                                    PolicyDocument=doc(allow("s3:GetObject")))["Policy"]["Arn"]
    for arn in (own, "arn:aws:iam::aws:policy/ReadOnlyAccess"):
        assert sts.get_federation_token(Name="fed", PolicyArns=[{"arn": arn}])["Credentials"]
    # AssumeRole: the role's account's policies, not another's.
    role_arn = outside_iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    outside_iam.put_user_policy(UserName=user.name, PolicyName="assume",
                                PolicyDocument=doc(allow("sts:AssumeRole", role_arn)))
    refused = same_refusal(
        lambda arn: sts.assume_role(RoleArn=role_arn, RoleSessionName="sess", PolicyArns=[{"arn": arn}]),
        policy_arn, ghost)
    assert refused["Code"] == "ValidationError"
    sts.assume_role(RoleArn=role_arn, RoleSessionName="sess", PolicyArns=[{"arn": own}])


def test_retirable_grants_are_listed_only_for_the_callers_own_principals(rampart, outsider):
    iam, kms = rampart.client("iam"), rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    carol = User(rampart, iam)
    grant = kms.create_grant(KeyId=key, GranteePrincipal=carol.arn, RetiringPrincipal=carol.arn,
                             Operations=["Encrypt"])["GrantId"]
    # The attack: another account lists the grants carol may retire (keys, grantees, IDs).
    ghost = f"arn:aws:iam::{ACCOUNT_ID}:user/{unique('ghost')}"
    outside = outsider("kms")
    for principal in (carol.arn, ghost):
        assert kms_denied(lambda: outside.list_retirable_grants(RetiringPrincipal=principal))
    # Carol's account lists them.
    listed = kms.list_retirable_grants(RetiringPrincipal=carol.arn)["Grants"]
    assert [g["GrantId"] for g in listed] == [grant]


def test_another_accounts_managed_policy_is_neither_readable_nor_attachable(rampart, outsider, victim):
    _, policy_arn = victim
    ghost = f"arn:aws:iam::{ACCOUNT_ID}:policy/{unique('ghost')}"
    iam = outsider("iam")
    iam.create_user(UserName="attacher")
    for call in (
        lambda arn: iam.get_policy(PolicyArn=arn),
        lambda arn: iam.get_policy_version(PolicyArn=arn, VersionId="v1"),
        lambda arn: iam.list_entities_for_policy(PolicyArn=arn),
        lambda arn: iam.attach_user_policy(UserName="attacher", PolicyArn=arn),
        lambda arn: iam.put_user_permissions_boundary(UserName="attacher", PermissionsBoundary=arn),
    ):
        refused = same_refusal(call, policy_arn, ghost)
        assert refused["Code"] == "NoSuchEntity"
    assert iam.list_attached_user_policies(UserName="attacher")["AttachedPolicies"] == []
    # AWS managed policies are every account's.
    iam.attach_user_policy(UserName="attacher", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")


# ---------------------------------------------------------------------------------------------
# Finding 14: the loopback-only JWKS fetch steered elsewhere.

class Server:
    """A plain-http server on `host` answering `routes` (path → JSON body), counting requests."""

    def __init__(self, host, routes):
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                body = routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                data = json.dumps(body(outer) if callable(body) else body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def assume_with_web_identity(rampart, issuer_url, key):
    iam = rampart.client("iam")
    provider_arn = iam.create_open_id_connect_provider(
        Url=issuer_url, ClientIDList=[AUDIENCE], ThumbprintList=[THUMBPRINT])["OpenIDConnectProviderArn"]
    role_arn = iam.create_role(RoleName=unique("wi"), AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity"}))["Role"]["Arn"]
    now = int(time.time())
    token = key.token({"iss": issuer_url, "aud": AUDIENCE, "sub": "svc", "iat": now, "exp": now + 300})
    unsigned = boto3.client("sts", endpoint_url=rampart.endpoint, region_name="us-east-1",
                            config=Config(signature_version=UNSIGNED))
    return lambda: unsigned.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="wi", WebIdentityToken=token)


def test_a_jwks_uri_with_user_info_is_not_followed_elsewhere(rampart):
    key = SigningKey()
    keys = {"keys": [key.jwk()]}
    # Keys served on 0.0.0.0, which reaches this machine but is not the loopback interface.
    elsewhere = Server("0.0.0.0", {"/keys": keys})
    issuer = Server("127.0.0.1", {"/issuer/.well-known/openid-configuration": {
        "jwks_uri": f"http://127.0.0.1:1@0.0.0.0:{elsewhere.port}/keys"}})
    try:
        assume = assume_with_web_identity(rampart, f"http://127.0.0.1:{issuer.port}/issuer", key)
        refused = error_of(assume)
        assert refused["Code"] == "IDPCommunicationError"
        assert elsewhere.requests == 0
    finally:
        elsewhere.stop()
        issuer.stop()


def test_a_jwks_uri_on_the_loopback_is_followed(rampart):
    key = SigningKey()
    routes = {"/keys": {"keys": [key.jwk()]}}
    issuer = Server("127.0.0.1", routes)
    routes["/issuer/.well-known/openid-configuration"] = {
        "jwks_uri": f"http://127.0.0.1:{issuer.port}/keys"}
    try:
        assume = assume_with_web_identity(rampart, f"http://127.0.0.1:{issuer.port}/issuer", key)
        assert assume()["SubjectFromWebIdentityToken"] == "svc"
    finally:
        issuer.stop()
