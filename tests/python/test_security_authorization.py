"""The authorization findings of the security review, replayed against a real rampart with
boto3: each test makes the attacker's request and checks that AWS's error code comes back
(AccessDenied with HTTP 403 for the Query APIs, AccessDeniedException with 400 for the JSON
ones) and that nothing changed, then makes the legitimate request beside it and checks that it
works.

Finding 1: decisions cached under a name the caller chooses (a federated user's).
Finding 2: Deny guardrails on resource tags and on the tag keys of an untag request.
Finding 3: IAM resources authorized on their ARN without its path.
Finding 4: IAM's own condition keys (iam:PolicyARN, iam:PermissionsBoundary).
Finding 9: a session following its principal's name instead of its unique ID.
Finding 15: a federated role session without its identity provider's keys."""

import json

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, Rampart
from identity_providers import AUDIENCE, OidcProvider, SamlIdp, unique, unsigned_sts

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# A trust policy for roles nobody in these tests assumes.
ACCOUNT_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
    "Action": "sts:AssumeRole"}]})
TAGGED_PROTECTED = {"StringEquals": {"aws:ResourceTag/protected": "true"}}
REMOVES_PROTECTED = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["protected"]}}
EXPLICIT_DENY = "with an explicit deny in an identity-based policy"


@pytest.fixture(scope="module")
def jwks_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jwks")


@pytest.fixture(scope="module")
def rampart(tmp_path_factory, jwks_dir):
    """A rampart that reads OpenID Connect providers' keys from a JWKS directory."""
    server = Rampart(tmp_path_factory.mktemp("rampart"), RAMPART_JWKS_DIR=str(jwks_dir))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def iam(rampart):
    """The account's root user, who sets the scene and checks what changed."""
    return rampart.client("iam")


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


# AWS's Query APIs answer a denial with 403, its JSON APIs with 400 (their common errors).
DENIAL_STATUS = {"AccessDenied": 403, "AccessDeniedException": 400, "InvalidClientTokenId": 403}


def refused(call, code="AccessDenied"):
    """Makes `call`, which must be refused with `code` and its status; returns the message."""
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    response = excinfo.value.response
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == DENIAL_STATUS[code]
    return response["Error"]["Message"]


def client(rampart, service, credentials):
    return boto3.client(
        service, endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
    )


class Caller:
    """An IAM user with an access key, its inline policy made of `statements`."""

    def __init__(self, rampart, *statements, managed=(), name=None, path="/", tags=None):
        iam = rampart.client("iam")
        self.rampart = rampart
        self.name = name or unique("u")
        extra = {"Tags": iam_tags(**tags)} if tags else {}
        user = iam.create_user(UserName=self.name, Path=path, **extra)["User"]
        self.arn = user["Arn"]
        if statements:
            iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=doc(*statements))
        for arn in managed:
            iam.attach_user_policy(UserName=self.name, PolicyArn=arn)
        self.credentials = iam.create_access_key(UserName=self.name)["AccessKey"]

    def client(self, service):
        return client(self.rampart, service, self.credentials)


def delete_user(iam, name):
    """Deletes a user the way AWS requires: keys and policies first."""
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_user(UserName=name)


def assumable_role(iam, name, trusted, policy=None, managed=(), path="/"):
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return arn


def delete_role(iam, name):
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=name)


def user_exists(iam, name):
    try:
        iam.get_user(UserName=name)
        return True
    except iam.exceptions.NoSuchEntityException:
        return False


def tag_dict(tags):
    """IAM's, CloudTrail's and Organizations' {Key, Value} or KMS's {TagKey, TagValue} tags."""
    return {t.get("Key", t.get("TagKey")): t.get("Value", t.get("TagValue")) for t in tags}


def iam_tags(**tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def trust_document(role):
    document = role["AssumeRolePolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


# --- Finding 1: a federated user's name is the caller's choice ------------------------------

def all_key_ids(kms):
    pages = kms.get_paginator("list_keys").paginate()
    return {key["KeyId"] for page in pages for key in page["Keys"]}


def test_federated_users_sharing_a_name_keep_their_own_callers_permissions(rampart, iam):
    kms = rampart.client("kms")
    administrator = Caller(rampart, managed=[ADMINISTRATOR_ACCESS])
    attacker = Caller(rampart, allow("sts:GetFederationToken"))
    name = unique("fed")
    everything = doc(allow("*"))
    trusted = administrator.client("sts").get_federation_token(Name=name, Policy=everything)
    chosen = attacker.client("sts").get_federation_token(Name=name, Policy=everything)
    # The attacker picked the administrator's federated user's name: one ARN for both.
    assert trusted["FederatedUser"]["Arn"] == chosen["FederatedUser"]["Arn"]
    trusted_kms = client(rampart, "kms", trusted["Credentials"])
    attacker_kms = client(rampart, "kms", chosen["Credentials"])
    attacker_iam = client(rampart, "iam", chosen["Credentials"])

    # The administrator's federated user decides first, filling any cache keyed by the ARN;
    # a read, because a write would make any cached decision stale.
    keys = all_key_ids(kms)
    assert {k["KeyId"] for k in trusted_kms.list_keys()["Keys"]} == keys
    refused(lambda: attacker_kms.create_key(Description="the attacker's"), "AccessDeniedException")
    victim = unique("victim")
    # IAM takes no federated user's token at all (see below).
    refused(lambda: attacker_iam.create_user(UserName=victim), "InvalidClientTokenId")
    assert all_key_ids(kms) == keys
    assert not user_exists(iam, victim)
    # And the attacker's denial is not remembered for the administrator's federated user.
    made = trusted_kms.create_key(Description="the administrator's, again")["KeyMetadata"]["KeyId"]
    assert all_key_ids(kms) == keys | {made}


def test_sessions_of_one_role_under_one_name_keep_their_own_session_policies(rampart, iam):
    kms = rampart.client("kms")
    caller = Caller(rampart)
    role_arn = assumable_role(iam, unique("r"), caller.arn, managed=[ADMINISTRATOR_ACCESS])

    def session(policy):
        credentials = caller.client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName="shared", Policy=policy)["Credentials"]
        return client(rampart, "kms", credentials)

    broad, narrow = session(doc(allow("*"))), session(doc(allow("kms:ListKeys")))
    keys = all_key_ids(kms)
    assert {k["KeyId"] for k in broad.list_keys()["Keys"]} == keys
    refused(lambda: narrow.create_key(Description="beyond its session policy"), "AccessDeniedException")
    assert all_key_ids(kms) == keys
    made = broad.create_key(Description="within its session policy")["KeyMetadata"]["KeyId"]
    assert all_key_ids(kms) == keys | {made}


def test_a_federated_user_calls_neither_iam_nor_sts_beyond_get_caller_identity(rampart, iam):
    """AWS: GetFederationToken's credentials "cannot call any IAM operations" nor "any AWS STS
    operations except GetCallerIdentity", whatever their policies allow; IAM answers them as
    a token it does not know."""
    administrator = Caller(rampart, managed=[ADMINISTRATOR_ACCESS])
    federated = administrator.client("sts").get_federation_token(
        Name=unique("fed"), Policy=doc(allow("*")))["Credentials"]
    role_arn = assumable_role(iam, unique("r"), f"arn:aws:iam::{ACCOUNT_ID}:root")
    assert client(rampart, "sts", federated).get_caller_identity()["Arn"].startswith(
        f"arn:aws:sts::{ACCOUNT_ID}:federated-user/")
    victim = unique("victim")
    refused(lambda: client(rampart, "iam", federated).create_user(UserName=victim),
            "InvalidClientTokenId")
    assert not user_exists(iam, victim)
    refused(lambda: client(rampart, "sts", federated).assume_role(
        RoleArn=role_arn, RoleSessionName="escape"))
    # Other services take them, within both policies.
    client(rampart, "kms", federated).list_keys()


def test_a_user_session_without_mfa_calls_no_iam_and_no_sts_but_assume_role(rampart, iam):
    """AWS: GetSessionToken's credentials "cannot call any IAM API operations unless MFA
    authentication information is included in the request" nor "any AWS STS API except
    AssumeRole or GetCallerIdentity"."""
    administrator = Caller(rampart, managed=[ADMINISTRATOR_ACCESS])
    session = administrator.client("sts").get_session_token()["Credentials"]
    victim = unique("victim")
    refused(lambda: client(rampart, "iam", session).create_user(UserName=victim),
            "InvalidClientTokenId")
    assert not user_exists(iam, victim)
    refused(lambda: client(rampart, "sts", session).assume_root(
        TargetPrincipal=ACCOUNT_ID, TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}))
    role_arn = assumable_role(iam, unique("r"), administrator.arn)
    assumed = client(rampart, "sts", session).assume_role(RoleArn=role_arn, RoleSessionName="ok")
    assert assumed["AssumedRoleUser"]["Arn"].endswith("/ok")
    client(rampart, "kms", session).list_keys()


# --- Finding 2: Deny guardrails on tags ------------------------------------------------------

def tagged_iam_entity(iam, kind, tags):
    """A role, user or customer managed policy tagged `tags`: how a client untags it, and
    how to read its tags now."""
    if kind == "role":
        name = unique("r")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=ACCOUNT_TRUST, Tags=tags)
        return (lambda c, keys: c.untag_role(RoleName=name, TagKeys=keys),
                lambda: iam.list_role_tags(RoleName=name)["Tags"])
    if kind == "user":
        name = unique("u")
        iam.create_user(UserName=name, Tags=tags)
        return (lambda c, keys: c.untag_user(UserName=name, TagKeys=keys),
                lambda: iam.list_user_tags(UserName=name)["Tags"])
    arn = iam.create_policy(
        PolicyName=unique("p"), PolicyDocument=doc(allow("iam:GetUser")), Tags=tags)["Policy"]["Arn"]
    return (lambda c, keys: c.untag_policy(PolicyArn=arn, TagKeys=keys),
            lambda: iam.list_policy_tags(PolicyArn=arn)["Tags"])


@pytest.mark.parametrize("kind,action", [
    ("role", "iam:UntagRole"), ("user", "iam:UntagUser"), ("policy", "iam:UntagPolicy")])
def test_a_deny_on_tag_keys_keeps_a_protected_tag_on_an_iam_entity(rampart, iam, kind, action):
    untag, tags_now = tagged_iam_entity(iam, kind, iam_tags(protected="true", team="blue"))
    caller = Caller(rampart, allow(action), deny(action, Condition=REMOVES_PROTECTED)).client("iam")
    message = refused(lambda: untag(caller, ["protected"]))
    assert message.endswith(EXPLICIT_DENY)
    # One protected key among others is enough.
    refused(lambda: untag(caller, ["team", "protected"]))
    assert tag_dict(tags_now()) == {"protected": "true", "team": "blue"}
    untag(caller, ["team"])
    assert tag_dict(tags_now()) == {"protected": "true"}


def kms_tags(kms, key_id):
    return tag_dict(kms.list_resource_tags(KeyId=key_id)["Tags"])


def test_a_kms_key_guarded_by_its_tag_can_be_neither_untagged_nor_used(rampart):
    kms = rampart.client("kms")
    caller = Caller(
        rampart, allow("kms:*"),
        deny("kms:Decrypt", Condition=TAGGED_PROTECTED),
        deny(["kms:UntagResource", "kms:TagResource"], Condition=REMOVES_PROTECTED),
    ).client("kms")
    protected = kms.create_key(Tags=[{"TagKey": "protected", "TagValue": "true"},
                                     {"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=protected, Plaintext=b"guarded")["CiphertextBlob"]
    refused(lambda: caller.decrypt(CiphertextBlob=blob), "AccessDeniedException")
    # The guard cannot be taken off, nor overwritten, to get at the key.
    refused(lambda: caller.untag_resource(KeyId=protected, TagKeys=["protected"]), "AccessDeniedException")
    refused(lambda: caller.untag_resource(KeyId=protected, TagKeys=["team", "protected"]),
            "AccessDeniedException")
    refused(lambda: caller.tag_resource(
        KeyId=protected, Tags=[{"TagKey": "protected", "TagValue": "false"}]), "AccessDeniedException")
    assert kms_tags(kms, protected) == {"protected": "true", "team": "blue"}
    refused(lambda: caller.decrypt(CiphertextBlob=blob), "AccessDeniedException")

    # Other tags come off, and a key without the tag decrypts.
    caller.untag_resource(KeyId=protected, TagKeys=["team"])
    assert kms_tags(kms, protected) == {"protected": "true"}
    plain = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]["KeyId"]
    plain_blob = kms.encrypt(KeyId=plain, Plaintext=b"open")["CiphertextBlob"]
    assert caller.decrypt(CiphertextBlob=plain_blob)["Plaintext"] == b"open"


def test_a_deny_on_a_policys_tag_stops_new_versions_of_it(rampart, iam):
    caller = Caller(rampart, allow("iam:CreatePolicyVersion"),
                    deny("iam:CreatePolicyVersion", Condition=TAGGED_PROTECTED)).client("iam")
    original = doc(allow("iam:GetUser"))
    protected = iam.create_policy(PolicyName=unique("p"), PolicyDocument=original,
                                  Tags=iam_tags(protected="true"))["Policy"]["Arn"]
    plain = iam.create_policy(PolicyName=unique("p"), PolicyDocument=original)["Policy"]["Arn"]
    escalation = doc(allow("*"))
    message = refused(lambda: caller.create_policy_version(
        PolicyArn=protected, PolicyDocument=escalation, SetAsDefault=True))
    assert message.endswith(EXPLICIT_DENY)
    versions = iam.list_policy_versions(PolicyArn=protected)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v1", True)]

    caller.create_policy_version(PolicyArn=plain, PolicyDocument=escalation, SetAsDefault=True)
    assert iam.get_policy(PolicyArn=plain)["Policy"]["DefaultVersionId"] == "v2"


def test_a_deny_on_a_trails_tag_keeps_it_logging_and_in_place(rampart):
    trails = rampart.client("cloudtrail")
    caller = Caller(rampart, allow("cloudtrail:*"),
                    deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
                         Condition=TAGGED_PROTECTED)).client("cloudtrail")
    protected, plain = unique("t"), unique("t")
    protected_arn = trails.create_trail(Name=protected, S3BucketName="audit-logs",
                                        TagsList=iam_tags(protected="true"))["TrailARN"]
    trails.create_trail(Name=plain, S3BucketName="audit-logs", TagsList=iam_tags(team="blue"))
    trails.start_logging(Name=protected)
    trails.start_logging(Name=plain)
    try:
        refused(lambda: caller.stop_logging(Name=protected), "AccessDeniedException")
        refused(lambda: caller.stop_logging(Name=protected_arn), "AccessDeniedException")
        refused(lambda: caller.delete_trail(Name=protected), "AccessDeniedException")
        assert trails.get_trail_status(Name=protected)["IsLogging"] is True

        caller.stop_logging(Name=plain)
        assert trails.get_trail_status(Name=plain)["IsLogging"] is False
        caller.delete_trail(Name=plain)
        assert plain not in [t["Name"] for t in trails.list_trails()["Trails"]]
    finally:
        # An account has at most five trails in a region.
        trails.delete_trail(Name=protected)


def tagged_provider_or_profile(rampart, iam, kind, tags):
    """An OIDC provider, SAML provider or instance profile tagged `tags`: how a client
    deletes it, and whether it still exists."""
    if kind == "oidc":
        arn = iam.create_open_id_connect_provider(
            Url=f"https://{unique('oidc')}.example.com", ClientIDList=[AUDIENCE],
            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"], Tags=tags,
        )["OpenIDConnectProviderArn"]
        return (lambda c: c.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn),
                lambda: arn in [p["Arn"] for p in iam.list_open_id_connect_providers()[
                    "OpenIDConnectProviderList"]])
    if kind == "saml":
        arn = SamlIdp(rampart).arn
        if tags:
            iam.tag_saml_provider(SAMLProviderArn=arn, Tags=tags)
        return (lambda c: c.delete_saml_provider(SAMLProviderArn=arn),
                lambda: arn in [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]])
    name = unique("ip")
    iam.create_instance_profile(InstanceProfileName=name, Tags=tags)
    return (lambda c: c.delete_instance_profile(InstanceProfileName=name),
            lambda: name in [p["InstanceProfileName"]
                             for p in iam.list_instance_profiles()["InstanceProfiles"]])


@pytest.mark.parametrize("kind,action", [
    ("oidc", "iam:DeleteOpenIDConnectProvider"),
    ("saml", "iam:DeleteSAMLProvider"),
    ("instance-profile", "iam:DeleteInstanceProfile"),
])
def test_a_deny_on_the_tag_of_a_provider_or_instance_profile_keeps_it(rampart, iam, kind, action):
    caller = Caller(rampart, allow(action), deny(action, Condition=TAGGED_PROTECTED)).client("iam")
    delete_protected, protected_exists = tagged_provider_or_profile(
        rampart, iam, kind, iam_tags(protected="true"))
    delete_plain, plain_exists = tagged_provider_or_profile(rampart, iam, kind, iam_tags(team="blue"))
    assert refused(lambda: delete_protected(caller)).endswith(EXPLICIT_DENY)
    assert protected_exists()
    delete_plain(caller)
    assert not plain_exists()


@pytest.fixture(scope="module")
def organization_root(rampart):
    """The account's organization (this module's account manages it), by its root's ID."""
    organizations = rampart.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    return organizations.list_roots()["Roots"][0]["Id"]


def test_a_deny_on_an_organizational_units_tag_keeps_it(rampart, organization_root):
    organizations = rampart.client("organizations")
    caller = Caller(rampart, allow("organizations:*"),
                    deny("organizations:DeleteOrganizationalUnit",
                         Condition=TAGGED_PROTECTED)).client("organizations")

    def unit(**tags):
        return organizations.create_organizational_unit(
            ParentId=organization_root, Name=unique("ou"), Tags=iam_tags(**tags),
        )["OrganizationalUnit"]["Id"]

    protected, plain = unit(protected="true"), unit(team="blue")
    refused(lambda: caller.delete_organizational_unit(OrganizationalUnitId=protected),
            "AccessDeniedException")
    assert organizations.describe_organizational_unit(
        OrganizationalUnitId=protected)["OrganizationalUnit"]["Id"] == protected

    caller.delete_organizational_unit(OrganizationalUnitId=plain)
    units = organizations.list_organizational_units_for_parent(ParentId=organization_root)
    assert {u["Id"] for u in units["OrganizationalUnits"]} >= {protected}
    assert plain not in {u["Id"] for u in units["OrganizationalUnits"]}


@pytest.mark.parametrize("tag_key", ["aws:ResourceTag/locked", "iam:ResourceTag/locked"])
def test_a_locked_user_cannot_make_itself_a_key_by_leaving_out_its_name(rampart, iam, tag_key):
    self_service = [
        allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT_ID}:user/${{aws:username}}"),
        deny("iam:CreateAccessKey", Condition={"StringEquals": {tag_key: "true"}}),
    ]
    locked = Caller(rampart, *self_service, tags={"locked": "true"})
    message = refused(lambda: locked.client("iam").create_access_key())
    assert f"on resource: {locked.arn} {EXPLICIT_DENY}" in message
    refused(lambda: locked.client("iam").create_access_key(UserName=locked.name))
    assert len(iam.list_access_keys(UserName=locked.name)["AccessKeyMetadata"]) == 1

    unlocked = Caller(rampart, *self_service, tags={"locked": "false"})
    made = unlocked.client("iam").create_access_key()["AccessKey"]
    assert made["UserName"] == unlocked.name
    assert len(iam.list_access_keys(UserName=unlocked.name)["AccessKeyMetadata"]) == 2


# --- Finding 3: IAM resources are named with their path -------------------------------------

def test_a_deny_on_a_role_path_covers_the_roles_under_it(rampart, iam):
    actions = ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"]
    caller = Caller(rampart, allow(actions), deny(actions, f"arn:aws:iam::{ACCOUNT_ID}:role/admin/*"))
    c = caller.client("iam")
    protected, plain = unique("Protected"), unique("Plain")
    protected_arn = iam.create_role(
        Path="/admin/", RoleName=protected, AssumeRolePolicyDocument=ACCOUNT_TRUST)["Role"]["Arn"]
    assert protected_arn == f"arn:aws:iam::{ACCOUNT_ID}:role/admin/{protected}"
    iam.create_role(Path="/other/", RoleName=plain, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    everything = doc(allow("*"))
    trusts_caller = doc({"Effect": "Allow", "Principal": {"AWS": caller.arn}, "Action": "sts:AssumeRole"})

    message = refused(lambda: c.put_role_policy(
        RoleName=protected, PolicyName="mine", PolicyDocument=everything))
    assert message.endswith(f"on resource: {protected_arn} {EXPLICIT_DENY}")
    refused(lambda: c.update_assume_role_policy(RoleName=protected, PolicyDocument=trusts_caller))
    assert iam.list_role_policies(RoleName=protected)["PolicyNames"] == []
    assert trust_document(iam.get_role(RoleName=protected)["Role"]) == json.loads(ACCOUNT_TRUST)

    c.put_role_policy(RoleName=plain, PolicyName="mine", PolicyDocument=everything)
    c.update_assume_role_policy(RoleName=plain, PolicyDocument=trusts_caller)
    assert iam.list_role_policies(RoleName=plain)["PolicyNames"] == ["mine"]
    assert trust_document(iam.get_role(RoleName=plain)["Role"]) == json.loads(trusts_caller)


def test_a_deny_on_a_role_path_stops_assuming_it_by_any_arn(rampart, iam):
    protected = unique("Protected")
    protected_arn = assumable_role(iam, protected, f"arn:aws:iam::{ACCOUNT_ID}:root",
                                   managed=[ADMINISTRATOR_ACCESS], path="/admin/")
    plain_arn = assumable_role(iam, unique("Plain"), f"arn:aws:iam::{ACCOUNT_ID}:root", path="/other/")
    caller = Caller(rampart, allow("sts:AssumeRole"),
                    deny("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT_ID}:role/admin/*")).client("sts")
    # Named by its ARN, or by its name without its path or under another path: the Deny on
    # the role's real ARN holds whichever the caller writes.
    for arn in (protected_arn, f"arn:aws:iam::{ACCOUNT_ID}:role/{protected}",
                f"arn:aws:iam::{ACCOUNT_ID}:role/other/{protected}"):
        refused(lambda: caller.assume_role(RoleArn=arn, RoleSessionName="escalate"))
    assert caller.assume_role(RoleArn=plain_arn, RoleSessionName="plain")[
        "AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/")


def test_a_deny_on_a_user_path_stops_keys_for_the_users_under_it(rampart, iam):
    caller = Caller(rampart, allow("iam:CreateAccessKey"),
                    deny("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT_ID}:user/admins/*"))
    c = caller.client("iam")
    boss, staff = unique("boss"), unique("staff")
    boss_arn = iam.create_user(Path="/admins/", UserName=boss)["User"]["Arn"]
    iam.create_user(Path="/staff/", UserName=staff)
    message = refused(lambda: c.create_access_key(UserName=boss))
    assert message.endswith(f"on resource: {boss_arn} {EXPLICIT_DENY}")
    assert iam.list_access_keys(UserName=boss)["AccessKeyMetadata"] == []

    assert c.create_access_key(UserName=staff)["AccessKey"]["UserName"] == staff
    assert len(iam.list_access_keys(UserName=staff)["AccessKeyMetadata"]) == 1


def test_an_allow_on_a_role_path_reaches_only_the_roles_under_it(rampart, iam):
    app, other = unique("svc"), unique("svc")
    iam.create_role(Path="/app/", RoleName=app, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.create_role(Path="/other/", RoleName=other, AssumeRolePolicyDocument=ACCOUNT_TRUST)
    reader = Caller(rampart, allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT_ID}:role/app/*")).client("iam")
    assert reader.get_role(RoleName=app)["Role"]["Path"] == "/app/"
    refused(lambda: reader.get_role(RoleName=other))
    # An ARN without the path names a role at /, not the role of that name under /app/.
    pathless = Caller(rampart, allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT_ID}:role/{app}")).client("iam")
    message = refused(lambda: pathless.get_role(RoleName=app))
    assert f"on resource: arn:aws:iam::{ACCOUNT_ID}:role/app/{app} " in message


# --- Finding 4: IAM's own condition keys -----------------------------------------------------

def test_a_deny_on_iam_policy_arn_stops_attaching_administrator_access(rampart, iam):
    actions = ["iam:AttachUserPolicy", "iam:AttachRolePolicy"]
    caller = Caller(rampart, allow(actions), deny(
        actions, Condition={"ArnEquals": {"iam:PolicyARN": ADMINISTRATOR_ACCESS}})).client("iam")
    user, role = unique("u"), unique("r")
    iam.create_user(UserName=user)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=ACCOUNT_TRUST)

    refused(lambda: caller.attach_user_policy(UserName=user, PolicyArn=ADMINISTRATOR_ACCESS))
    refused(lambda: caller.attach_role_policy(RoleName=role, PolicyArn=ADMINISTRATOR_ACCESS))
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []

    caller.attach_user_policy(UserName=user, PolicyArn=READ_ONLY_ACCESS)
    caller.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY_ACCESS)
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)[
        "AttachedPolicies"]] == [READ_ONLY_ACCESS]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)[
        "AttachedPolicies"]] == [READ_ONLY_ACCESS]


@pytest.fixture(scope="module")
def boundaries(iam):
    """The boundary an administrator delegates under, and another one."""
    def boundary():
        return iam.create_policy(
            PolicyName=unique("boundary"), PolicyDocument=doc(allow("iam:Get*")))["Policy"]["Arn"]

    return boundary(), boundary()


def test_users_may_be_created_only_with_the_delegated_boundary(rampart, iam, boundaries):
    delegated, other = boundaries
    caller = Caller(rampart, allow("iam:CreateUser", Condition={
        "StringEquals": {"iam:PermissionsBoundary": delegated}})).client("iam")
    unbounded, elsewhere, bounded = unique("u"), unique("u"), unique("u")
    refused(lambda: caller.create_user(UserName=unbounded))
    refused(lambda: caller.create_user(UserName=elsewhere, PermissionsBoundary=other))
    assert not user_exists(iam, unbounded)
    assert not user_exists(iam, elsewhere)

    caller.create_user(UserName=bounded, PermissionsBoundary=delegated)
    made = iam.get_user(UserName=bounded)["User"]
    assert made["PermissionsBoundary"]["PermissionsBoundaryArn"] == delegated


def test_a_boundary_may_be_replaced_only_by_the_delegated_boundary(rampart, iam, boundaries):
    delegated, other = boundaries
    caller = Caller(rampart, allow("iam:PutUserPermissionsBoundary", Condition={
        "StringEquals": {"iam:PermissionsBoundary": delegated}})).client("iam")
    bounded, unbounded = unique("u"), unique("u")
    iam.create_user(UserName=bounded, PermissionsBoundary=delegated)
    iam.create_user(UserName=unbounded)

    # The user's boundary now is the delegated one; the request's is what counts.
    refused(lambda: caller.put_user_permissions_boundary(UserName=bounded, PermissionsBoundary=other))
    user = iam.get_user(UserName=bounded)["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == delegated
    caller.put_user_permissions_boundary(UserName=unbounded, PermissionsBoundary=delegated)
    user = iam.get_user(UserName=unbounded)["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == delegated


def test_policies_may_be_attached_only_to_users_under_the_delegated_boundary(rampart, iam, boundaries):
    delegated, other = boundaries
    caller = Caller(rampart, allow("iam:AttachUserPolicy", Condition={
        "StringEquals": {"iam:PermissionsBoundary": delegated}})).client("iam")
    bounded, unbounded, elsewhere = unique("u"), unique("u"), unique("u")
    iam.create_user(UserName=bounded, PermissionsBoundary=delegated)
    iam.create_user(UserName=unbounded)
    iam.create_user(UserName=elsewhere, PermissionsBoundary=other)

    for name in (unbounded, elsewhere):
        refused(lambda: caller.attach_user_policy(UserName=name, PolicyArn=READ_ONLY_ACCESS))
        assert iam.list_attached_user_policies(UserName=name)["AttachedPolicies"] == []
    caller.attach_user_policy(UserName=bounded, PolicyArn=READ_ONLY_ACCESS)
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=bounded)[
        "AttachedPolicies"]] == [READ_ONLY_ACCESS]


# --- Finding 9: a session follows its principal's unique ID, not its name ------------------

def test_a_session_of_a_deleted_role_gains_nothing_from_a_new_role_with_its_name(rampart, iam):
    caller = Caller(rampart)
    name = unique("r")
    role_arn = assumable_role(iam, name, caller.arn, policy=doc(allow("iam:ListRoles")))
    old = caller.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="old")["Credentials"]
    old_iam = client(rampart, "iam", old)
    old_iam.list_roles()  # the session works while its role lives

    delete_role(iam, name)
    assert assumable_role(iam, name, caller.arn, managed=[ADMINISTRATOR_ACCESS]) == role_arn
    victim = unique("victim")
    refused(lambda: old_iam.create_user(UserName=victim))
    refused(lambda: old_iam.list_roles())
    assert not user_exists(iam, victim)

    # A session of the new role has the new role's permissions.
    new = caller.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="new")["Credentials"]
    client(rampart, "iam", new).create_user(UserName=victim)
    assert user_exists(iam, victim)


def test_a_session_of_a_deleted_role_is_denied_not_an_error(rampart, iam):
    caller = Caller(rampart)
    name = unique("r")
    role_arn = assumable_role(iam, name, caller.arn, policy=doc(allow(["iam:ListRoles", "kms:ListKeys"])))
    old = caller.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="old")["Credentials"]
    old_iam, old_kms = client(rampart, "iam", old), client(rampart, "kms", old)
    old_iam.list_roles()
    old_kms.list_keys()

    delete_role(iam, name)
    refused(lambda: old_iam.list_roles())
    refused(lambda: old_kms.list_keys(), "AccessDeniedException")


def test_sessions_of_a_deleted_user_gain_nothing_from_a_new_user_with_its_name(rampart, iam):
    kms = rampart.client("kms")
    old_user = Caller(rampart, allow(["kms:ListKeys", "sts:GetFederationToken"]))
    sts = old_user.client("sts")
    # (IAM takes neither kind of token without MFA: KMS shows what each session may do.)
    old_session_kms = client(rampart, "kms", sts.get_session_token()["Credentials"])
    old_federated_kms = client(rampart, "kms", sts.get_federation_token(
        Name=unique("fed"), Policy=doc(allow("*")))["Credentials"])
    old_session_kms.list_keys()  # the sessions work while their user lives
    old_federated_kms.list_keys()

    delete_user(iam, old_user.name)
    new_user = Caller(rampart, managed=[ADMINISTRATOR_ACCESS], name=old_user.name)
    assert new_user.arn == old_user.arn
    victim = unique("victim")
    keys = all_key_ids(kms)
    refused(lambda: old_session_kms.create_key(Description="the old user's"), "AccessDeniedException")
    refused(lambda: old_session_kms.list_keys(), "AccessDeniedException")
    refused(lambda: old_federated_kms.create_key(Description="the old user's"), "AccessDeniedException")
    refused(lambda: old_federated_kms.list_keys(), "AccessDeniedException")
    assert not user_exists(iam, victim)
    assert all_key_ids(kms) == keys

    # The new user's own key has the new user's permissions.
    new_user.client("iam").create_user(UserName=victim)
    assert user_exists(iam, victim)


# --- Finding 15: a federated session carries its identity provider's keys -------------------

def federated_role(iam, provider_arn, action, condition, policy):
    name = unique("fr")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": action,
        "Condition": condition}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    return arn


def test_a_saml_session_reads_only_the_user_named_like_its_subject(rampart, iam):
    idp = SamlIdp(rampart)
    role_arn = federated_role(
        iam, idp.arn, "sts:AssumeRoleWithSAML",
        {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        doc(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT_ID}:user/${{saml:sub}}")))
    alice, bob = unique("alice"), unique("bob")
    iam.create_user(UserName=alice)
    iam.create_user(UserName=bob)
    out = unsigned_sts(rampart).assume_role_with_saml(
        RoleArn=role_arn, PrincipalArn=idp.arn, SAMLAssertion=idp.response(role_arn, subject=alice))
    assert out["Subject"] == alice
    session = client(rampart, "iam", out["Credentials"])
    assert session.get_user(UserName=alice)["User"]["UserName"] == alice
    message = refused(lambda: session.get_user(UserName=bob))
    assert f"on resource: arn:aws:iam::{ACCOUNT_ID}:user/{bob} " in message


def test_a_deny_on_the_web_identity_subject_stops_that_subject_only(rampart, iam, jwks_dir):
    provider = OidcProvider(rampart, jwks_dir)
    subject_key = f"{provider.host_path}:sub"
    role_arn = federated_role(
        iam, provider.arn, "sts:AssumeRoleWithWebIdentity",
        {"StringEquals": {f"{provider.host_path}:aud": AUDIENCE}},
        doc(allow("iam:CreateUser"),
            deny("iam:CreateUser", Condition={"StringEquals": {subject_key: "repo:evil/app"}})))

    def session_of(subject):
        out = unsigned_sts(rampart).assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="ci", WebIdentityToken=provider.token(subject=subject))
        assert out["SubjectFromWebIdentityToken"] == subject
        return client(rampart, "iam", out["Credentials"])

    victim = unique("victim")
    assert refused(lambda: session_of("repo:evil/app").create_user(UserName=victim)).endswith(
        EXPLICIT_DENY)
    assert not user_exists(iam, victim)
    session_of("repo:good/app").create_user(UserName=victim)
    assert user_exists(iam, victim)
