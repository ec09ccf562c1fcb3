"""Parameter Store authorized as AWS authorizes it, end to end with boto3, each allowance beside
its refusal: ssm:GetParameter on the parameter's ARN (its path included), Denies by path, by
tag and by condition key (ssm:Overwrite, ssm:Recursive, aws:RequestTag), GetParametersByPath
on the path alone, kms:Decrypt on the key for WithDecryption (allowed by an identity policy, by
the key policy alone, through the AWS managed key for the account's principals, refused
otherwise), and an SCP binding a member account."""

import json
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID

REGION = "us-east-1"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def arn(name, account=ACCOUNT_ID):
    return f"arn:aws:ssm:{REGION}:{account}:parameter/{name.lstrip('/')}"


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def client(rampart, service, key, secret, token=None):
    return boto3.client(service, endpoint_url=rampart.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


class User:
    def __init__(self, rampart, *statements):
        self.iam = rampart.client("iam")
        self.name = f"p-{uuid.uuid4().hex[:8]}"
        self.arn = self.iam.create_user(UserName=self.name)["User"]["Arn"]
        if statements:
            self.allow(*statements)
        key = self.iam.create_access_key(UserName=self.name)["AccessKey"]
        self.ssm = client(rampart, "ssm", key["AccessKeyId"], key["SecretAccessKey"])
        self.kms = client(rampart, "kms", key["AccessKeyId"], key["SecretAccessKey"])

    def allow(self, *statements):
        self.iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=doc(*statements))


@pytest.fixture(scope="module")
def admin(rampart):
    return rampart.client("ssm")


def unique(prefix):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def test_get_parameter_is_authorized_on_the_parameters_arn_with_its_path(rampart, admin):
    app, other = unique("/app"), unique("/other")
    for name in (app, other):
        admin.put_parameter(Name=name, Value="v", Type="String")
    user = User(rampart, allow("ssm:GetParameter", arn("/app/*")))
    assert user.ssm.get_parameter(Name=app)["Parameter"]["Value"] == "v"
    refused = error_of(lambda: user.ssm.get_parameter(Name=other))
    assert refused["Code"] == "AccessDeniedException"
    assert refused["Message"] == (
        f"User: {user.arn} is not authorized to perform: ssm:GetParameter on resource: "
        f"{arn(other)} because no identity-based policy allows the ssm:GetParameter action")
    # A selector reads the same resource.
    assert user.ssm.get_parameter(Name=f"{app}:1")["Parameter"]["Version"] == 1
    # GetParameters needs every name allowed.
    user.allow(allow(["ssm:GetParameter", "ssm:GetParameters"], arn("/app/*")))
    assert user.ssm.get_parameters(Names=[app])["Parameters"][0]["Name"] == app
    assert error_of(lambda: user.ssm.get_parameters(Names=[app, other]))["Code"] == "AccessDeniedException"
    # A Deny on a path wins over an Allow on everything.
    user.allow(allow("ssm:*"), deny("ssm:GetParameter", arn("/app/*")))
    assert user.ssm.get_parameter(Name=other)["Parameter"]["Value"] == "v"
    denied = error_of(lambda: user.ssm.get_parameter(Name=app))
    assert denied["Message"].endswith("with an explicit deny in an identity-based policy")
    # DescribeParameters has no resource: it needs "*".
    user.allow(allow("ssm:DescribeParameters", arn("/app/*")))
    assert error_of(lambda: user.ssm.describe_parameters())["Code"] == "AccessDeniedException"
    user.allow(allow("ssm:DescribeParameters"))
    user.ssm.describe_parameters()


def test_a_deny_on_a_tag_protects_a_parameter_and_its_tag(rampart, admin):
    guarded, plain = unique("/tagged"), unique("/tagged")
    admin.put_parameter(Name=guarded, Value="v", Type="String", Tags=[{"Key": "team", "Value": "red"}])
    admin.put_parameter(Name=plain, Value="v", Type="String")
    user = User(rampart, allow("ssm:*"),
                deny("ssm:*", Condition={"StringEquals": {"aws:ResourceTag/team": "red"}}))
    user.ssm.get_parameter(Name=plain)
    assert error_of(lambda: user.ssm.get_parameter(Name=guarded))["Code"] == "AccessDeniedException"
    assert error_of(lambda: user.ssm.remove_tags_from_resource(
        ResourceType="Parameter", ResourceId=guarded, TagKeys=["team"]))["Code"] == "AccessDeniedException"
    # The service's own key for the same tag.
    user.allow(allow("ssm:*"), deny("ssm:DeleteParameter",
                                    Condition={"StringEquals": {"ssm:resourceTag/team": "red"}}))
    assert error_of(lambda: user.ssm.delete_parameter(Name=guarded))["Code"] == "AccessDeniedException"
    user.ssm.delete_parameter(Name=plain)
    # Tagging needs the request's tags allowed.
    user.allow(allow("ssm:PutParameter"), allow("ssm:AddTagsToResource", Condition={
        "ForAllValues:StringEquals": {"aws:TagKeys": ["owner"]}}))
    name = unique("/tagged")
    user.ssm.put_parameter(Name=name, Value="v", Type="String")
    user.ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                  Tags=[{"Key": "owner", "Value": "me"}])
    assert error_of(lambda: user.ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=name,
        Tags=[{"Key": "team", "Value": "red"}]))["Code"] == "AccessDeniedException"


def test_condition_keys_of_put_and_by_path(rampart, admin):
    user = User(rampart, allow("ssm:*"),
                deny("ssm:PutParameter", Condition={"StringEquals": {"ssm:Overwrite": "true"}}),
                deny("ssm:GetParametersByPath", Condition={"StringEquals": {"ssm:Recursive": "true"}}),
                deny("ssm:PutParameter", Condition={"StringEquals": {"aws:RequestTag/env": "prod"}}))
    name = unique("/keys")
    user.ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    assert error_of(lambda: user.ssm.put_parameter(Name=name, Value="w", Overwrite=True))["Code"] == \
        "AccessDeniedException"
    assert error_of(lambda: user.ssm.put_parameter(
        Name=unique("/keys"), Value="v", Type="String",
        Tags=[{"Key": "env", "Value": "prod"}]))["Code"] == "AccessDeniedException"
    root = name.rsplit("/", 1)[0]
    assert [p["Name"] for p in user.ssm.get_parameters_by_path(Path=root)["Parameters"]] == [name]
    assert error_of(lambda: user.ssm.get_parameters_by_path(Path=root, Recursive=True))["Code"] == \
        "AccessDeniedException"


def test_get_parameters_by_path_is_authorized_on_the_path_as_aws_documents(rampart, admin):
    """AWS: 'If a user has access to a path, then the user can access all levels of that path'
    — a Deny on a parameter below does not stop reading it through its path."""
    base = unique("/levels")
    admin.put_parameter(Name=f"{base}/open", Value="o", Type="String")
    admin.put_parameter(Name=f"{base}/closed", Value="c", Type="String")
    user = User(rampart, allow("ssm:GetParametersByPath", arn(base)),
                allow("ssm:GetParameter", arn(f"{base}/*")),
                deny("ssm:GetParameter", arn(f"{base}/closed")))
    assert error_of(lambda: user.ssm.get_parameter(Name=f"{base}/closed"))["Code"] == "AccessDeniedException"
    values = {p["Name"]: p["Value"] for p in user.ssm.get_parameters_by_path(Path=base)["Parameters"]}
    assert values == {f"{base}/open": "o", f"{base}/closed": "c"}
    # Another path is not allowed.
    assert error_of(lambda: user.ssm.get_parameters_by_path(Path="/elsewhere"))["Code"] == \
        "AccessDeniedException"


def key_policy(*statements):
    return doc({"Sid": "account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "kms:*", "Resource": "*"}, *statements)


def test_with_decryption_needs_kms_decrypt_on_the_key(rampart, admin):
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    name = unique("/secret")
    admin.put_parameter(Name=name, Value="s3cret", Type="SecureString", KeyId=key)
    user = User(rampart, allow("ssm:GetParameter", arn(name)))
    # Without decryption: the ciphertext, no KMS call.
    assert user.ssm.get_parameter(Name=name)["Parameter"]["Value"] != "s3cret"
    refused = error_of(lambda: user.ssm.get_parameter(Name=name, WithDecryption=True))
    assert refused["Code"] == "AccessDeniedException"
    assert refused["Message"].startswith(f"User: {user.arn} is not authorized to perform: kms:Decrypt on resource: {key}")
    assert "(Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException;" in refused["Message"]
    # kms:Decrypt through Parameter Store only.
    user.allow(allow("ssm:GetParameter", arn(name)), allow("kms:Decrypt", key, Condition={
        "StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com",
                         "kms:EncryptionContext:PARAMETER_ARN": arn(name)}}))
    assert user.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "s3cret"
    blob = kms.encrypt(KeyId=key, Plaintext=b"direct")["CiphertextBlob"]
    assert error_of(lambda: user.kms.decrypt(CiphertextBlob=blob))["Code"] == "AccessDeniedException"
    # A key policy naming the user allows it with no identity policy for KMS.
    user.allow(allow("ssm:GetParameter", arn(name)))
    assert error_of(lambda: user.ssm.get_parameter(Name=name, WithDecryption=True))["Code"] == \
        "AccessDeniedException"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy(
        {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "kms:Decrypt", "Resource": "*"}))
    assert user.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "s3cret"
    # Encrypting needs kms:Encrypt on the key.
    assert error_of(lambda: User(rampart, allow("ssm:PutParameter")).ssm.put_parameter(
        Name=unique("/secret"), Value="x", Type="SecureString", KeyId=key))["Code"] == "AccessDeniedException"
    # A disabled key is an invalid key for Parameter Store.
    kms.disable_key(KeyId=key)
    disabled = error_of(lambda: user.ssm.get_parameter(Name=name, WithDecryption=True))
    assert disabled["Code"] == "InvalidKeyId"
    assert "Error Code: DisabledException" in disabled["Message"]
    kms.enable_key(KeyId=key)


def test_the_aws_managed_key_serves_the_accounts_principals_through_ssm_only(rampart, admin):
    name = unique("/managed")
    user = User(rampart, allow(["ssm:PutParameter", "ssm:GetParameter"], arn(name)))
    # No KMS permission at all: alias/aws/ssm's policy lets the account's principals use it
    # through Parameter Store.
    user.ssm.put_parameter(Name=name, Value="managed", Type="SecureString")
    assert user.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "managed"
    # An explicit Deny on kms:Decrypt in the user's own policy still stops it.
    user.allow(allow(["ssm:PutParameter", "ssm:GetParameter"], arn(name)), deny("kms:Decrypt"))
    assert error_of(lambda: user.ssm.get_parameter(Name=name, WithDecryption=True))["Code"] == \
        "AccessDeniedException"
    # Directly, KMS does not let anyone use an AWS managed key.
    blob_of = rampart.client("kms").encrypt
    assert error_of(lambda: blob_of(KeyId="alias/aws/ssm", Plaintext=b"x"))["Code"] == "AccessDeniedException"


def test_an_scp_binds_a_member_accounts_parameter_reads(rampart):
    orgs = rampart.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    member = orgs.create_account(Email="ssm@example.com", AccountName="ssm")["CreateAccountStatus"]["AccountId"]
    iam = rampart.client("iam")
    iam.create_user(UserName="ssm-org-admin")
    iam.attach_user_policy(UserName="ssm-org-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="ssm-org-admin")["AccessKey"]
    sts = client(rampart, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                  RoleSessionName="ssm")["Credentials"]
    member_ssm = client(rampart, "ssm", credentials["AccessKeyId"], credentials["SecretAccessKey"],
                        credentials["SessionToken"])
    name = unique("/member")
    member_ssm.put_parameter(Name=name, Value="m", Type="String")
    assert member_ssm.get_parameter(Name=name)["Parameter"]["ARN"] == arn(name, member)
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    scp = orgs.create_policy(Name="no-ssm-reads", Description="d", Type="SERVICE_CONTROL_POLICY",
                             Content=doc(deny("ssm:GetParameter")))["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=scp, TargetId=member)
    denied = error_of(lambda: member_ssm.get_parameter(Name=name))
    assert denied["Code"] == "AccessDeniedException"
    assert denied["Message"].endswith("with an explicit deny in a service control policy")
    # What the SCP does not deny still works; the management account is never bound.
    member_ssm.describe_parameters()
    mine = unique("/management")
    rampart.client("ssm").put_parameter(Name=mine, Value="x", Type="String")
    rampart.client("ssm").get_parameter(Name=mine)
    orgs.detach_policy(PolicyId=scp, TargetId=member)
    assert member_ssm.get_parameter(Name=name)["Parameter"]["Value"] == "m"


def test_aws_via_aws_service_tells_a_direct_call_from_one_made_through_parameter_store(rampart, admin):
    """aws:ViaAWSService is always in the request context: false for a direct call, true for
    KMS called by Parameter Store on the caller's behalf. A Deny on its false value (KMS only
    through AWS services) must stop the direct call; absent, it would stop nothing."""
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    name = unique("/via")
    admin.put_parameter(Name=name, Value="through-ssm", Type="SecureString", KeyId=key)
    blob = kms.encrypt(KeyId=key, Plaintext=b"direct")["CiphertextBlob"]
    only_through_services = deny("kms:Decrypt", key, Condition={"Bool": {"aws:ViaAWSService": "false"}})
    user = User(rampart, allow("ssm:GetParameter", arn(name)), allow("kms:Decrypt", key),
                only_through_services)
    refused = error_of(lambda: user.kms.decrypt(CiphertextBlob=blob))
    assert refused["Code"] == "AccessDeniedException"
    assert "with an explicit deny in an identity-based policy" in refused["Message"]
    assert user.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "through-ssm"
    # The opposite Deny: KMS never through an AWS service.
    user.allow(allow("ssm:GetParameter", arn(name)), allow("kms:Decrypt", key),
               deny("kms:Decrypt", key, Condition={"Bool": {"aws:ViaAWSService": "true"}}))
    assert user.kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"direct"
    assert error_of(lambda: user.ssm.get_parameter(Name=name, WithDecryption=True))["Code"] == \
        "AccessDeniedException"
    # aws:CalledVia is absent: Parameter Store is not among the services AWS lists as setting it,
    # so a Deny on its presence stops neither call.
    user.allow(allow("ssm:GetParameter", arn(name)), allow("kms:Decrypt", key),
               deny("kms:Decrypt", key, Condition={"Null": {"aws:CalledVia": "false"}}),
               deny("kms:Decrypt", key, Condition={"Null": {"aws:CalledViaLast": "false"}}))
    assert user.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "through-ssm"
    assert user.kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"direct"
