"""KMS authorization end to end with boto3: ReEncrypt authorized on both keys, alias
operations on the alias and its keys, KMS condition keys about the key in identity policies,
and a caller in another account denied, then allowed by the key policy and its own identity
policy together, and by a grant."""

import json
import os
import subprocess
import uuid

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID

OTHER_ACCOUNT = "111122223333"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def is_denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]["Code"] == "AccessDeniedException"


def key_policy(*statements, account=ACCOUNT_ID):
    """A key policy whose first statement delegates to the owning account's IAM policies."""
    return doc({"Sid": "account", "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*", "Resource": "*"}, *statements)


def make_user(client_of, iam, policy=None):
    name = f"k-{uuid.uuid4().hex[:8]}"
    user = iam.create_user(UserName=name)["User"]
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, user["Arn"], client_of(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def kms(rampart):
    return rampart.client("kms")


@pytest.fixture
def new_user(rampart):
    iam = rampart.client("iam")

    def make(policy=None):
        return make_user(lambda k, s: rampart.client("kms", key=k, secret=s), iam, policy)

    return make


def test_re_encrypt_needs_from_on_the_source_and_to_on_the_destination(rampart, kms, new_user):
    source = kms.create_key()["KeyMetadata"]["Arn"]
    destination = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=source, Plaintext=b"moving")["CiphertextBlob"]
    name, _, user = new_user(doc(allow("kms:ReEncryptFrom", source)))
    re_encrypt = lambda: user.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    # ReEncryptFrom on the source is not enough.
    assert is_denied(re_encrypt)
    iam = rampart.client("iam")
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:ReEncryptFrom", source), allow("kms:ReEncryptTo", destination)))
    moved = re_encrypt()
    assert moved["SourceKeyId"] == source and moved["KeyId"] == destination
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"moving"
    # ReEncryptTo on the destination alone, without ReEncryptFrom on the source, is not either.
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:ReEncryptTo", destination)))
    assert is_denied(re_encrypt)
    # Each key's own policy must allow: the destination's no longer delegates to IAM.
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:ReEncrypt*", "*")))
    re_encrypt()
    kms.put_key_policy(KeyId=destination, PolicyName="default", BypassPolicyLockoutSafetyCheck=True,
                       Policy=doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:user/nobody"},
                                   "Action": "kms:*", "Resource": "*"}))
    assert is_denied(re_encrypt)
    # The request is audited once, naming both keys, source first.
    event = next(json.loads(e["CloudTrailEvent"]) for e in rampart.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ReEncrypt"}])["Events"])
    assert [r["ARN"] for r in event["resources"]] == [source, destination]


def test_alias_operations_are_authorized_on_the_alias_and_its_keys(kms, new_user, rampart):
    first = kms.create_key()["KeyMetadata"]["Arn"]
    second = kms.create_key()["KeyMetadata"]["Arn"]
    alias = f"alias/team-{uuid.uuid4().hex[:8]}"
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:{alias}"
    name, _, user = new_user(doc(allow("kms:CreateAlias", first)))
    # The key, but not the alias.
    assert is_denied(lambda: user.create_alias(AliasName=alias, TargetKeyId=first))
    iam = rampart.client("iam")
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:CreateAlias", [first, alias_arn])))
    user.create_alias(AliasName=alias, TargetKeyId=first)
    # UpdateAlias: the alias, its current key and its new key.
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:UpdateAlias", [alias_arn, second])))
    assert is_denied(lambda: user.update_alias(AliasName=alias, TargetKeyId=second))
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:UpdateAlias", [alias_arn, first, second])))
    user.update_alias(AliasName=alias, TargetKeyId=second)
    # DeleteAlias: the alias and the key it points at now.
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:DeleteAlias", [alias_arn, first])))
    assert is_denied(lambda: user.delete_alias(AliasName=alias))
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow("kms:DeleteAlias", [alias_arn, second])))
    user.delete_alias(AliasName=alias)


def test_identity_policies_see_the_key_behind_an_alias_and_its_facts(kms, new_user):
    symmetric = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "red"}])["KeyMetadata"]["Arn"]
    other = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]["Arn"]
    hmac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    alias = f"alias/red-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=symmetric)
    _, _, user = new_user(doc(
        # Named by key ARN: a request naming the key by its alias is authorized on the key.
        allow("kms:Encrypt", symmetric),
        allow("kms:GenerateMac", "*", Condition={"StringEquals": {"kms:KeySpec": "HMAC_512"}}),
        allow("kms:DescribeKey", "*", Condition={"StringEquals": {"aws:ResourceTag/team": "red"}}),
        allow("kms:Decrypt", "*", Condition={
            "ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/red-*"},
            "StringEquals": {"kms:KeyUsage": "ENCRYPT_DECRYPT", "kms:KeyOrigin": "AWS_KMS"}}),
        allow("kms:GenerateDataKey", "*", Condition={"Null": {"kms:ViaService": "true"}}),
    ))
    blob = user.encrypt(KeyId=alias, Plaintext=b"x")["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    other_blob = kms.encrypt(KeyId=other, Plaintext=b"y")["CiphertextBlob"]
    assert is_denied(lambda: user.decrypt(CiphertextBlob=other_blob))
    assert is_denied(lambda: user.encrypt(KeyId=other, Plaintext=b"x"))
    assert is_denied(lambda: user.generate_mac(KeyId=hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256"))
    assert user.describe_key(KeyId=alias)["KeyMetadata"]["Arn"] == symmetric
    assert is_denied(lambda: user.describe_key(KeyId=other))
    # A direct call carries no kms:ViaService.
    assert len(user.generate_data_key(KeyId=symmetric, KeySpec="AES_256")["Plaintext"]) == 32


def create_account(rampart, account_id):
    """Another account, made by the operator beside the running server."""
    out = subprocess.run(
        [os.environ["RAMPART_BIN"], "admin", "create-account", "--account-id", account_id,
         "--data-dir", str(rampart.data_dir)],
        capture_output=True, text=True, check=True).stdout
    field = lambda name: next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith(name))
    return field("root access key id"), field("root secret access key")


def test_a_caller_in_another_account_needs_both_accounts_to_allow(rampart, kms):
    other_key, other_secret = create_account(rampart, OTHER_ACCOUNT)
    other_iam = rampart.client("iam", key=other_key, secret=other_secret)
    other_kms = lambda k, s: rampart.client("kms", key=k, secret=s)
    name, alice_arn, alice = make_user(other_kms, other_iam)
    assert alice_arn == f"arn:aws:iam::{OTHER_ACCOUNT}:user/{name}"
    key = kms.create_key()["KeyMetadata"]["Arn"]
    encrypt = lambda: alice.encrypt(KeyId=key, Plaintext=b"across")

    # Nobody allows: denied.
    assert is_denied(encrypt)
    # Alice's own account allows, the key's does not: denied.
    other_iam.put_user_policy(UserName=name, PolicyName="use", PolicyDocument=doc(
        allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], key)))
    assert is_denied(encrypt)
    # The key policy allows her account too: allowed, both sides agreeing.
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy(
        {"Sid": "other", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}))
    blob = encrypt()["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"across"
    assert alice.describe_key(KeyId=key)["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    # Her account's root needs no identity policy in its own account.
    other_root = other_kms(other_key, other_secret)
    assert other_root.decrypt(CiphertextBlob=blob)["Plaintext"] == b"across"
    # The key's last use names the event as the key's own account's trail has it (its copy).
    last = kms.get_key_last_usage(KeyId=key)["KeyLastUsage"]
    assert last["Operation"] == "Decrypt"
    owned = rampart.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventId", "AttributeValue": last["CloudTrailEventId"]}])["Events"]
    assert [json.loads(e["CloudTrailEvent"])["userIdentity"]["accountId"] for e in owned] == [OTHER_ACCOUNT]
    # Without her identity policy, the key policy alone is not enough across accounts.
    other_iam.delete_user_policy(UserName=name, PolicyName="use")
    assert is_denied(encrypt)
    # Key management stays with the key's account, whatever the policies say.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        other_root.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "b"}])
    assert excinfo.value.response["Error"]["Code"] in ("NotFoundException", "AccessDeniedException")

    # A grant to Alice: the key policy no longer names her account.
    other_iam.put_user_policy(UserName=name, PolicyName="use", PolicyDocument=doc(
        allow(["kms:Encrypt", "kms:Decrypt"], key)))
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy())
    assert is_denied(encrypt)
    grant = kms.create_grant(KeyId=key, GranteePrincipal=alice_arn, Operations=["Encrypt", "Decrypt"])
    blob = alice.encrypt(KeyId=key, Plaintext=b"granted", GrantTokens=[grant["GrantToken"]])["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"granted"
    # The grant covers its operations only.
    assert is_denied(lambda: alice.generate_data_key(KeyId=key, KeySpec="AES_256"))
    kms.revoke_grant(KeyId=key, GrantId=grant["GrantId"])
    assert is_denied(encrypt)


def test_a_key_policy_that_would_lock_the_caller_out_is_refused_unless_bypassed(kms, new_user, rampart):
    def error(call):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            call()
        return excinfo.value.response["Error"]

    locked = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:user/nobody"},
                  "Action": "kms:*", "Resource": "*"})
    key = kms.create_key()["KeyMetadata"]["Arn"]
    refused = error(lambda: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=locked))
    assert refused["Code"] == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy" in refused["Message"]
    assert error(lambda: kms.create_key(Policy=locked))["Code"] == "MalformedPolicyDocumentException"
    # A policy that still lets the caller (here through the account) change it is accepted,
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy())
    # and the check can be bypassed, as AWS allows.
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=locked, BypassPolicyLockoutSafetyCheck=True)
    # An IAM user may set a policy delegating to the account only if her own policies would
    # then let her change it again.
    name, _, user = new_user(doc(allow(["kms:CreateKey"], "*")))
    assert error(lambda: user.create_key(Policy=key_policy()))["Code"] == "MalformedPolicyDocumentException"
    rampart.client("iam").put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(
        allow(["kms:CreateKey"], "*"), allow("kms:PutKeyPolicy", f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/*")))
    user.create_key(Policy=key_policy())
