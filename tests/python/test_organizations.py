"""Organizations end to end with boto3 and the AWS CLI: an organization with two OUs and a
created account, OrganizationAccountAccessRole, SCPs that stop a member's root user and IAM
users (never the management account's), an OU allow-list that narrows what an account below
may do until it moves out, and an RCP that keeps callers from outside the organization away
from a member's role.

The module shares one Rampart and one organization; tests build on each other in file
order, each leaving the guardrails as it found them."""

import datetime
import json
import os
import re
import subprocess
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response


def client(rampart, service, key, secret, token=None):
    return boto3.client(
        service, endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
    )


def admin(rampart, *args):
    """Runs `rampart admin …` beside the running server; returns its printed fields."""
    out = subprocess.run(
        [os.environ["RAMPART_BIN"], "admin", *args, "--data-dir", str(rampart.data_dir)],
        capture_output=True, text=True, check=True,
    ).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def field(fields, name):
    return fields[name].strip()


class Org:
    """The module's organization and the principals the tests act as."""

    def __init__(self, rampart):
        self.rampart = rampart
        self.orgs = rampart.client("organizations")
        created = rampart.aws("organizations", "create-organization", "--feature-set", "ALL")
        assert created.returncode == 0, created.stderr
        self.organization = json.loads(created.stdout)["Organization"]
        self.id = self.organization["Id"]
        self.root = self.orgs.list_roots()["Roots"][0]["Id"]
        self.sandbox = self.orgs.create_organizational_unit(ParentId=self.root, Name="Sandbox")[
            "OrganizationalUnit"]["Id"]
        self.workloads = self.orgs.create_organizational_unit(ParentId=self.root, Name="Workloads")[
            "OrganizationalUnit"]["Id"]
        status = self.orgs.create_account(Email="member@example.com", AccountName="member")[
            "CreateAccountStatus"]
        self.create_request = status["Id"]
        self.member = status["AccountId"]
        # The management account's administrator, an IAM user (roles may not be assumed by
        # root users).
        iam = rampart.client("iam")
        iam.create_user(UserName="org-admin")
        iam.attach_user_policy(UserName="org-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        key = iam.create_access_key(UserName="org-admin")["AccessKey"]
        self.admin_key = (key["AccessKeyId"], key["SecretAccessKey"])
        self.admin_sts = client(rampart, "sts", *self.admin_key)
        # Into the member account through the role Organizations made there.
        self.role_credentials = self.assume(self.admin_sts, self.member, "OrganizationAccountAccessRole")
        member_iam = self.member_client("iam")
        member_iam.create_user(UserName="worker")
        member_iam.attach_user_policy(UserName="worker", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        key = member_iam.create_access_key(UserName="worker")["AccessKey"]
        self.worker_iam = client(rampart, "iam", key["AccessKeyId"], key["SecretAccessKey"])
        # The member's root user, with a key its owner made (Organizations makes none).
        fields = admin(rampart, "create-root-access-key", "--account-id", self.member)
        self.member_root_iam = client(
            rampart, "iam", field(fields, "root access key id"), field(fields, "root secret access key"))

    @staticmethod
    def assume(sts, account, role):
        return sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="org-test")["Credentials"]

    def member_client(self, service):
        c = self.role_credentials
        return client(self.rampart, service, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    def enable(self, policy_type):
        types = self.orgs.list_roots()["Roots"][0]["PolicyTypes"]
        if not any(t["Type"] == policy_type for t in types):
            self.orgs.enable_policy_type(RootId=self.root, PolicyType=policy_type)

    def policy(self, name, policy_type, *statements):
        return self.orgs.create_policy(
            Name=name, Description=name, Type=policy_type, Content=doc(*statements),
        )["Policy"]["PolicySummary"]["Id"]


@pytest.fixture(scope="module")
def org(rampart):
    return Org(rampart)


def user_name():
    return f"u-{uuid.uuid4().hex[:8]}"


def test_an_organization_with_two_ous_and_a_created_account(org, rampart):
    o = org.organization
    assert re.fullmatch(r"o-[a-z0-9]{10}", org.id)
    assert o["Arn"] == f"arn:aws:organizations::{ACCOUNT_ID}:organization/{org.id}"
    assert o["MasterAccountId"] == ACCOUNT_ID
    assert o["FeatureSet"] == "ALL"
    assert re.fullmatch(r"r-[a-z0-9]{4}", org.root)
    assert re.fullmatch(rf"ou-{org.root[2:]}-[a-z0-9]{{8}}", org.sandbox)
    status = org.orgs.describe_create_account_status(CreateAccountRequestId=org.create_request)
    assert status["CreateAccountStatus"]["State"] == "SUCCEEDED"
    assert status["CreateAccountStatus"]["AccountId"] == org.member
    assert re.fullmatch(r"\d{12}", org.member)

    listed = rampart.aws("organizations", "list-accounts")
    assert listed.returncode == 0, listed.stderr
    ids = {a["Id"] for a in json.loads(listed.stdout)["Accounts"]}
    assert ids == {ACCOUNT_ID, org.member}
    account = org.orgs.describe_account(AccountId=org.member)["Account"]
    assert account["Arn"] == f"arn:aws:organizations::{ACCOUNT_ID}:account/{org.id}/{org.member}"
    assert account["JoinedMethod"] == "CREATED"
    assert account["Status"] == "ACTIVE"
    units = org.orgs.list_organizational_units_for_parent(ParentId=org.root)["OrganizationalUnits"]
    assert {u["Name"] for u in units} == {"Sandbox", "Workloads"}
    children = org.orgs.list_children(ParentId=org.root, ChildType="ACCOUNT")["Children"]
    assert {c["Id"] for c in children} == {ACCOUNT_ID, org.member}
    assert org.orgs.list_parents(ChildId=org.sandbox)["Parents"] == [{"Id": org.root, "Type": "ROOT"}]
    # Paging follows NextToken to the end.
    pages = org.orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1})
    assert sorted(a["Id"] for page in pages for a in page["Accounts"]) == sorted(ids)


def test_the_management_account_enters_the_member_through_its_role(org):
    me = client(org.rampart, "sts", org.role_credentials["AccessKeyId"],
                org.role_credentials["SecretAccessKey"],
                org.role_credentials["SessionToken"]).get_caller_identity()
    assert me["Account"] == org.member
    assert me["Arn"] == f"arn:aws:sts::{org.member}:assumed-role/OrganizationAccountAccessRole/org-test"
    role = org.member_client("iam").get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    # The member's root user has no access key of Organizations' making: only the one the
    # test made.
    assert len(org.member_root_iam.list_access_keys()["AccessKeyMetadata"]) == 1


def test_a_role_assumed_across_accounts_is_logged_in_both_accounts(org, rampart):
    """The management account's AssumeRole into the member is in both accounts' trails: the
    caller's event, and the role owner's copy naming the caller by account and principal only,
    with their own event IDs and one shared event ID."""
    role_arn = f"arn:aws:iam::{org.member}:role/OrganizationAccountAccessRole"

    def assume_role_events(trail):
        events = trail.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]
        records = [json.loads(e["CloudTrailEvent"]) for e in events]
        return {r["sharedEventID"]: r for r in records
                if any(res["ARN"] == role_arn for res in r.get("resources", []))}

    mine = assume_role_events(rampart.client("cloudtrail"))
    theirs = assume_role_events(org.member_client("cloudtrail"))
    assert mine and set(theirs) <= set(mine)
    admin_id = rampart.client("iam").get_user(UserName="org-admin")["User"]["UserId"]
    for shared, owner_copy in theirs.items():
        caller_copy = mine[shared]
        assert caller_copy["userIdentity"]["type"] == "IAMUser"
        assert caller_copy["userIdentity"]["userName"] == "org-admin"
        assert caller_copy["recipientAccountId"] == ACCOUNT_ID
        assert owner_copy["userIdentity"] == {
            "type": "AWSAccount", "principalId": admin_id, "accountId": ACCOUNT_ID}
        assert owner_copy["recipientAccountId"] == org.member
        assert owner_copy["eventID"] != caller_copy["eventID"]
        assert owner_copy["requestID"] == caller_copy["requestID"]
    assert theirs, "the member account has no copy of the AssumeRole into its role"


def test_only_the_management_account_manages_the_organization(org, rampart):
    member_orgs = org.member_client("organizations")
    assert member_orgs.describe_organization()["Organization"]["Id"] == org.id
    denied = error_of(lambda: member_orgs.list_accounts())
    assert denied["Error"]["Code"] == "AccessDeniedException"
    fields = admin(rampart, "create-account")
    outside = client(rampart, "organizations", field(fields, "root access key id"),
                     field(fields, "root secret access key"))
    not_in_use = error_of(lambda: outside.describe_organization())
    assert not_in_use["Error"]["Code"] == "AWSOrganizationsNotInUseException"
    assert not_in_use["Error"]["Message"] == "Your account is not a member of an organization."
    # Outside any organization, the simulator reports no organizations detail, as AWS.
    outside_iam = client(rampart, "iam", field(fields, "root access key id"),
                         field(fields, "root secret access key"))
    outside_iam.create_user(UserName="alone")
    simulated = outside_iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{field(fields, 'account id')}:user/alone",
        ActionNames=["iam:ListUsers"])
    assert "OrganizationsDecisionDetail" not in simulated["EvaluationResults"][0]


def test_invalid_input_and_limits_answer_with_aws_reasons(org):
    bad = error_of(lambda: org.orgs.describe_account(AccountId="123"))
    assert bad["Error"]["Code"] == "InvalidInputException"
    assert bad["Reason"] == "INVALID_PATTERN"
    assert bad["Error"]["Message"] == "You provided a value that does not match the required pattern."
    rcp = org.policy("rcp-early", "RESOURCE_CONTROL_POLICY",
                     {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"})
    not_enabled = error_of(lambda: org.orgs.attach_policy(PolicyId=rcp, TargetId=org.member))
    assert not_enabled["Error"]["Code"] == "PolicyTypeNotEnabledException"
    org.orgs.delete_policy(PolicyId=rcp)

    org.enable("SERVICE_CONTROL_POLICY")
    for target in (org.root, org.sandbox, org.member, ACCOUNT_ID):
        attached = org.orgs.list_policies_for_target(TargetId=target, Filter="SERVICE_CONTROL_POLICY")
        assert [p["Id"] for p in attached["Policies"]] == ["p-FullAWSAccess"]
    last = error_of(lambda: org.orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=org.workloads))
    assert last["Error"]["Code"] == "ConstraintViolationException"
    assert last["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    twice = error_of(lambda: org.orgs.attach_policy(PolicyId="p-FullAWSAccess", TargetId=org.workloads))
    assert twice["Error"]["Code"] == "DuplicatePolicyAttachmentException"
    extra = [org.policy(f"extra-{i}", "SERVICE_CONTROL_POLICY",
                        {"Effect": "Deny", "Action": "iam:DeleteAccountAlias", "Resource": "*"})
             for i in range(5)]
    for policy in extra[:4]:
        org.orgs.attach_policy(PolicyId=policy, TargetId=org.workloads)
    over = error_of(lambda: org.orgs.attach_policy(PolicyId=extra[4], TargetId=org.workloads))
    assert over["Reason"] == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    too_big = error_of(lambda: org.policy("big", "SERVICE_CONTROL_POLICY", {
        "Sid": "x" * 5200, "Effect": "Deny", "Action": "iam:*", "Resource": "*"}))
    assert too_big["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"
    for policy in extra[:4]:
        org.orgs.detach_policy(PolicyId=policy, TargetId=org.workloads)
    for policy in extra:
        org.orgs.delete_policy(PolicyId=policy)


def test_an_scp_denying_create_user_stops_member_root_and_users_not_the_management_account(org, rampart):
    org.enable("SERVICE_CONTROL_POLICY")
    deny = org.policy("deny-create-user", "SERVICE_CONTROL_POLICY",
                      {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"})
    org.orgs.attach_policy(PolicyId=deny, TargetId=org.member)
    member_principals = {
        "root": (org.member_root_iam, f"arn:aws:iam::{org.member}:root"),
        "user": (org.worker_iam, f"arn:aws:iam::{org.member}:user/worker"),
        "role": (org.member_client("iam"),
                 f"arn:aws:sts::{org.member}:assumed-role/OrganizationAccountAccessRole/org-test"),
    }
    for iam, arn in member_principals.values():
        name = user_name()
        denied = error_of(lambda: iam.create_user(UserName=name))
        assert denied["Error"]["Code"] == "AccessDenied"
        assert denied["Error"]["Message"] == (
            f"User: {arn} is not authorized to perform: iam:CreateUser on resource: "
            f"arn:aws:iam::{org.member}:user/{name} with an explicit deny in a service control policy")
        # What the SCP does not deny still works.
        iam.list_users()
    # SCPs never bind the management account.
    rampart.client("iam").create_user(UserName=user_name())
    client(rampart, "iam", *org.admin_key).create_user(UserName=user_name())

    # The simulator says the organization denies.
    simulated = org.member_client("iam").simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{org.member}:user/worker", ActionNames=["iam:CreateUser"])
    result = simulated["EvaluationResults"][0]
    assert result["EvalDecision"] == "explicitDeny"
    assert result["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    simulated = rampart.client("iam").simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:user/org-admin", ActionNames=["iam:CreateUser"])
    result = simulated["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}

    # The very next request after detaching sees it gone.
    org.orgs.detach_policy(PolicyId=deny, TargetId=org.member)
    for iam, _ in member_principals.values():
        iam.create_user(UserName=user_name())
    org.orgs.delete_policy(PolicyId=deny)


def test_an_ou_allow_list_narrows_until_the_account_moves_out(org, rampart):
    org.enable("SERVICE_CONTROL_POLICY")
    reads = org.policy("iam-reads-only", "SERVICE_CONTROL_POLICY",
                       {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "sts:*"], "Resource": "*"})
    org.orgs.attach_policy(PolicyId=reads, TargetId=org.sandbox)
    org.orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=org.sandbox)
    moved = rampart.aws("organizations", "move-account", "--account-id", org.member,
                        "--source-parent-id", org.root, "--destination-parent-id", org.sandbox)
    assert moved.returncode == 0, moved.stderr
    assert org.orgs.list_parents(ChildId=org.member)["Parents"][0]["Id"] == org.sandbox

    org.worker_iam.list_users()
    name = user_name()
    narrowed = error_of(lambda: org.worker_iam.create_user(UserName=name))
    assert narrowed["Error"]["Message"] == (
        f"User: arn:aws:iam::{org.member}:user/worker is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{org.member}:user/{name} "
        "because no service control policy allows the iam:CreateUser action")
    assert error_of(lambda: org.member_root_iam.create_user(UserName=user_name()))["Error"]["Code"] == "AccessDenied"

    org.orgs.move_account(AccountId=org.member, SourceParentId=org.sandbox, DestinationParentId=org.root)
    org.worker_iam.create_user(UserName=user_name())
    org.member_root_iam.create_user(UserName=user_name())
    org.orgs.attach_policy(PolicyId="p-FullAWSAccess", TargetId=org.sandbox)
    org.orgs.detach_policy(PolicyId=reads, TargetId=org.sandbox)
    org.orgs.delete_policy(PolicyId=reads)


def test_an_rcp_keeps_callers_outside_the_organization_away(org, rampart):
    # A caller from a standalone account, allowed by the role's trust policy.
    fields = admin(rampart, "create-account")
    outside_account = field(fields, "account id")
    outside_iam = client(rampart, "iam", field(fields, "root access key id"),
                         field(fields, "root secret access key"))
    outside_iam.create_user(UserName="outsider")
    outside_iam.put_user_policy(UserName="outsider", PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    outsider_key = outside_iam.create_access_key(UserName="outsider")["AccessKey"]
    outsider_secret = (outsider_key["AccessKeyId"], outsider_key["SecretAccessKey"])
    outsider = client(rampart, "sts", *outsider_secret)
    org.member_client("iam").create_role(RoleName="shared", AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": [f"arn:aws:iam::{outside_account}:root", f"arn:aws:iam::{ACCOUNT_ID}:root"]},
    }))
    role_arn = f"arn:aws:iam::{org.member}:role/shared"
    outsider.assume_role(RoleArn=role_arn, RoleSessionName="before")

    org.enable("RESOURCE_CONTROL_POLICY")
    attached = org.orgs.list_policies_for_target(TargetId=org.member, Filter="RESOURCE_CONTROL_POLICY")
    assert [p["Id"] for p in attached["Policies"]] == ["p-RCPFullAWSAccess"]
    fence = org.policy("org-only", "RESOURCE_CONTROL_POLICY", {
        "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org.id}},
    })
    org.orgs.attach_policy(PolicyId=fence, TargetId=org.root)
    denied = error_of(lambda: outsider.assume_role(RoleArn=role_arn, RoleSessionName="after"))
    assert denied["Error"]["Code"] == "AccessDenied"
    assert denied["Error"]["Message"].endswith(
        f"is not authorized to perform: sts:AssumeRole on resource: {role_arn} "
        "with an explicit deny in a resource control policy")
    # Callers inside the organization pass the fence.
    org.assume(org.admin_sts, org.member, "shared")
    non_detachable = error_of(lambda: org.orgs.detach_policy(PolicyId="p-RCPFullAWSAccess", TargetId=org.member))
    assert non_detachable["Reason"] == "NON_DETACHABLE_POLICY"

    org.orgs.detach_policy(PolicyId=fence, TargetId=org.root)
    outsider.assume_role(RoleArn=role_arn, RoleSessionName="again")
    org.orgs.delete_policy(PolicyId=fence)

    # A member's KMS key, shared with the outside account by its key policy.
    member_kms = org.member_client("kms")
    key = member_kms.create_key(Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.member}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{outside_account}:root"},
         "Action": "kms:Encrypt", "Resource": "*"},
    ))["KeyMetadata"]["Arn"]
    outside_iam.put_user_policy(UserName="outsider", PolicyName="encrypt", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}))
    outside_kms = client(rampart, "kms", *outsider_secret)
    outside_kms.encrypt(KeyId=key, Plaintext=b"shared")
    kms_fence = org.policy("keys-in-org", "RESOURCE_CONTROL_POLICY", {
        "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org.id}},
    })
    org.orgs.attach_policy(PolicyId=kms_fence, TargetId=org.member)
    denied = error_of(lambda: outside_kms.encrypt(KeyId=key, Plaintext=b"shared"))
    assert denied["Error"]["Code"] == "AccessDeniedException"
    assert denied["Error"]["Message"].endswith("with an explicit deny in a resource control policy")
    # The member's own principals are inside the fence.
    member_kms.encrypt(KeyId=key, Plaintext=b"inside")
    org.orgs.detach_policy(PolicyId=kms_fence, TargetId=org.member)
    org.orgs.delete_policy(PolicyId=kms_fence)


def test_organization_keys_are_in_every_request_context(org, rampart):
    iam = rampart.client("iam")
    name = user_name()
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="org-keys", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id, "aws:ResourceOrgID": org.id,
                                        "aws:ResourceAccount": ACCOUNT_ID},
                       "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{org.id}/{org.root}/*"]}}},
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-0000000000"}}},
    ))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = client(rampart, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    user.list_users()
    assert error_of(lambda: user.list_roles())["Error"]["Code"] == "AccessDenied"


def test_organizations_calls_are_audited_in_us_east_1(org, rampart):
    pages = rampart.client("cloudtrail").get_paginator("lookup_events").paginate(LookupAttributes=[
        {"AttributeKey": "EventSource", "AttributeValue": "organizations.amazonaws.com"}])
    events = [e for page in pages for e in page["Events"]]
    names = {e["EventName"] for e in events}
    assert {"CreateOrganization", "CreateAccount", "AttachPolicy", "MoveAccount"} <= names
    record = json.loads(next(e for e in events if e["EventName"] == "CreateAccount")["CloudTrailEvent"])
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSource"] == "organizations.amazonaws.com"


def test_a_delegated_administrator_reads_the_organization(org, rampart):
    """Trusted access, then a member registered as GuardDuty's delegated administrator: its
    role may list the organization's accounts until it is deregistered; it may not leave
    while registered."""
    service = "guardduty.amazonaws.com"
    member_orgs = org.member_client("organizations")
    assert error_of(lambda: member_orgs.list_accounts())["Error"]["Code"] == "AccessDeniedException"
    refused = error_of(lambda: org.orgs.register_delegated_administrator(
        AccountId=org.member, ServicePrincipal=service))
    assert refused["Error"]["Code"] == "ConstraintViolationException"
    assert refused["Reason"] == "SERVICE_ACCESS_NOT_ENABLED"
    org.orgs.enable_aws_service_access(ServicePrincipal=service)
    enabled = org.orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [e["ServicePrincipal"] for e in enabled] == [service]
    org.orgs.register_delegated_administrator(AccountId=org.member, ServicePrincipal=service)
    again = error_of(lambda: org.orgs.register_delegated_administrator(
        AccountId=org.member, ServicePrincipal=service))
    assert again["Error"]["Code"] == "AccountAlreadyRegisteredException"
    admins = org.orgs.list_delegated_administrators(ServicePrincipal=service)["DelegatedAdministrators"]
    assert [(a["Id"], a["Status"]) for a in admins] == [(org.member, "ACTIVE")]
    assert {a["Id"] for a in member_orgs.list_accounts()["Accounts"]} == {ACCOUNT_ID, org.member}
    services = member_orgs.list_delegated_services_for_account(AccountId=org.member)["DelegatedServices"]
    assert [s["ServicePrincipal"] for s in services] == [service]
    stays = error_of(lambda: org.orgs.remove_account_from_organization(AccountId=org.member))
    assert stays["Reason"] == "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"
    assert error_of(lambda: member_orgs.leave_organization())["Reason"] == \
        "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"
    assert error_of(lambda: org.orgs.leave_organization())["Error"]["Code"] == \
        "MasterCannotLeaveOrganizationException"
    org.orgs.deregister_delegated_administrator(AccountId=org.member, ServicePrincipal=service)
    gone = error_of(lambda: org.orgs.list_delegated_services_for_account(AccountId=org.member))
    assert gone["Error"]["Code"] == "AccountNotRegisteredException"
    assert error_of(lambda: member_orgs.list_accounts())["Error"]["Code"] == "AccessDeniedException"
    org.orgs.disable_aws_service_access(ServicePrincipal=service)
    assert org.orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []


def test_the_cli_manages_policies_and_tags(org, rampart, tmp_path):
    content = tmp_path / "scp.json"
    content.write_text(doc({"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}))
    created = rampart.aws("organizations", "create-policy", "--name", "no-key-deletion",
                          "--description", "keys stay", "--type", "SERVICE_CONTROL_POLICY",
                          "--content", f"file://{content}")
    assert created.returncode == 0, created.stderr
    summary = json.loads(created.stdout)["Policy"]["PolicySummary"]
    assert re.fullmatch(r"p-[a-z0-9]{8}", summary["Id"])
    assert summary["Arn"] == (f"arn:aws:organizations::{ACCOUNT_ID}:policy/{org.id}/"
                              f"service_control_policy/{summary['Id']}")
    listed = json.loads(rampart.aws("organizations", "list-policies", "--filter",
                                    "SERVICE_CONTROL_POLICY").stdout)["Policies"]
    assert {"p-FullAWSAccess", summary["Id"]} <= {p["Id"] for p in listed}
    tagged = rampart.aws("organizations", "tag-resource", "--resource-id", org.member,
                         "--tags", "Key=env,Value=dev")
    assert tagged.returncode == 0, tagged.stderr
    tags = json.loads(rampart.aws("organizations", "list-tags-for-resource", "--resource-id",
                                  org.member).stdout)["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}]
    deleted = rampart.aws("organizations", "delete-policy", "--policy-id", summary["Id"])
    assert deleted.returncode == 0, deleted.stderr


def test_centralized_root_access_gives_member_root_sessions_cut_to_one_task(org, rampart):
    """IAM's organization features, then STS AssumeRoot: the management account's
    administrator gets a short root session in the member, which its task policy keeps to
    auditing the root user's credentials; a task of another feature waits for that feature."""
    iam = rampart.client("iam")
    assert error_of(lambda: iam.enable_organizations_root_credentials_management())["Error"]["Code"] == \
        "ServiceAccessNotEnabledException"
    org.orgs.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    enabled = iam.enable_organizations_root_credentials_management()
    assert (enabled["OrganizationId"], enabled["EnabledFeatures"]) == (org.id, ["RootCredentialsManagement"])
    assert error_of(lambda: org.member_client("iam").list_organizations_features())["Error"]["Code"] == \
        "AccountNotManagementOrDelegatedAdministratorException"

    audit = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
    out = org.admin_sts.assume_root(TargetPrincipal=org.member, TaskPolicyArn={"arn": audit}, DurationSeconds=300)
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    assert (c["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 300
    root_sts = client(rampart, "sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    identity = root_sts.get_caller_identity()
    assert (identity["Arn"], identity["Account"], identity["UserId"]) == \
        (f"arn:aws:iam::{org.member}:root", org.member, org.member)
    root_iam = client(rampart, "iam", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    keys = root_iam.list_access_keys()["AccessKeyMetadata"]
    assert len(keys) == 1, keys  # the member root's own key, made by the fixture
    root_iam.get_account_summary()
    for call in (root_iam.list_users, lambda: root_iam.create_user(UserName=user_name()),
                 lambda: root_iam.list_access_keys(UserName="worker")):
        assert error_of(call)["Error"]["Code"] == "AccessDenied"

    unlock = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
    assert error_of(lambda: org.admin_sts.assume_root(
        TargetPrincipal=org.member, TaskPolicyArn={"arn": unlock}))["Error"]["Code"] == "AccessDenied"
    iam.enable_organizations_root_sessions()
    assert iam.list_organizations_features()["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    org.admin_sts.assume_root(TargetPrincipal=f"arn:aws:iam::{org.member}:root", TaskPolicyArn={"arn": unlock})

    refusals = [
        (org.admin_sts, ACCOUNT_ID, audit, "AccessDenied"),  # the management account is no member
        (rampart.client("sts"), org.member, audit, "AccessDenied"),  # root credentials may not
        (org.admin_sts, org.member, "arn:aws:iam::aws:policy/AdministratorAccess", "ValidationError"),
    ]
    for sts, target, task, code in refusals:
        assert error_of(lambda: sts.assume_root(TargetPrincipal=target, TaskPolicyArn={"arn": task}))[
            "Error"]["Code"] == code, (target, task)

    iam.disable_organizations_root_sessions()
    assert iam.disable_organizations_root_credentials_management()["EnabledFeatures"] == []
    assert error_of(lambda: org.admin_sts.assume_root(
        TargetPrincipal=org.member, TaskPolicyArn={"arn": audit}))["Error"]["Code"] == "AccessDenied"
    org.orgs.disable_aws_service_access(ServicePrincipal="iam.amazonaws.com")


def test_an_invited_account_joins_by_accepting_and_invitations_end_as_aws_ends_them(org, rampart):
    """A standalone account is invited by ID: it sees the invitation, accepts it and joins at
    the root as INVITED, with the invitation's tags; a second invitation is cancelled by the
    organization, a third declined by the account."""
    fields = admin(rampart, "create-account")
    guest = field(fields, "account id")
    guest_orgs = client(rampart, "organizations", field(fields, "root access key id"),
                        field(fields, "root secret access key"))
    assert guest_orgs.list_handshakes_for_account()["Handshakes"] == []

    def invite(**kwargs):
        return org.orgs.invite_account_to_organization(Target={"Id": guest, "Type": "ACCOUNT"}, **kwargs)["Handshake"]

    invited = invite(Notes="welcome", Tags=[{"Key": "team", "Value": "guests"}])
    assert (invited["State"], invited["Action"]) == ("OPEN", "INVITE")
    assert re.fullmatch(r"h-[0-9a-z]{8,32}", invited["Id"])
    assert invited["Arn"] == f"arn:aws:organizations::{ACCOUNT_ID}:handshake/{org.id}/invite/{invited['Id']}"
    assert {(p["Id"], p["Type"]) for p in invited["Parties"]} == {(org.id, "ORGANIZATION"), (guest, "ACCOUNT")}
    assert (invited["ExpirationTimestamp"] - invited["RequestedTimestamp"]).days == 15
    assert {"Type": "NOTES", "Value": "welcome"} in invited["Resources"]
    assert error_of(lambda: invite())["Error"]["Code"] == "DuplicateHandshakeException"
    refusals = [({"Id": org.member, "Type": "ACCOUNT"}, "ALREADY_IN_AN_ORGANIZATION"),
                ({"Id": "guest@example.com", "Type": "EMAIL"}, "INVALID_PARTY_TYPE_TARGET")]
    for target, reason in refusals:
        assert error_of(lambda: org.orgs.invite_account_to_organization(Target=target))["Reason"] == reason

    assert [h["Id"] for h in guest_orgs.list_handshakes_for_account()["Handshakes"]] == [invited["Id"]]
    assert invited["Id"] in [h["Id"] for h in org.orgs.list_handshakes_for_organization()["Handshakes"]]
    assert error_of(lambda: org.member_client("organizations").describe_handshake(
        HandshakeId=invited["Id"]))["Error"]["Code"] == "HandshakeNotFoundException"
    assert error_of(lambda: org.orgs.accept_handshake(HandshakeId=invited["Id"]))["Error"]["Code"] == \
        "AccessDeniedException"
    assert error_of(lambda: guest_orgs.cancel_handshake(HandshakeId=invited["Id"]))["Error"]["Code"] == \
        "AccessDeniedException"

    assert guest_orgs.accept_handshake(HandshakeId=invited["Id"])["Handshake"]["State"] == "ACCEPTED"
    assert error_of(lambda: guest_orgs.accept_handshake(HandshakeId=invited["Id"]))["Error"]["Code"] == \
        "HandshakeAlreadyInStateException"
    assert error_of(lambda: guest_orgs.decline_handshake(HandshakeId=invited["Id"]))["Error"]["Code"] == \
        "InvalidHandshakeTransitionException"
    account = org.orgs.describe_account(AccountId=guest)["Account"]
    assert (account["JoinedMethod"], account["State"]) == ("INVITED", "ACTIVE")
    assert org.orgs.list_parents(ChildId=guest)["Parents"][0]["Id"] == org.root
    assert org.orgs.list_tags_for_resource(ResourceId=guest)["Tags"] == [{"Key": "team", "Value": "guests"}]
    assert guest_orgs.describe_organization()["Organization"]["Id"] == org.id

    guest_orgs.leave_organization()
    again = invite()
    assert org.orgs.cancel_handshake(HandshakeId=again["Id"])["Handshake"]["State"] == "CANCELED"
    assert error_of(lambda: guest_orgs.accept_handshake(HandshakeId=again["Id"]))["Error"]["Code"] == \
        "InvalidHandshakeTransitionException"
    third = invite()
    assert guest_orgs.decline_handshake(HandshakeId=third["Id"])["Handshake"]["State"] == "DECLINED"
    assert guest_orgs.describe_handshake(HandshakeId=third["Id"])["Handshake"]["State"] == "DECLINED"
    assert error_of(lambda: org.orgs.describe_account(AccountId=guest))["Error"]["Code"] == "AccountNotFoundException"


def test_a_consolidated_billing_organization_gets_all_features_by_handshakes(rampart):
    """Two standalone accounts: one founds an organization with consolidated billing only and
    invites the other; all features come once the member approved and the management account
    accepted the request."""
    def standalone():
        fields = admin(rampart, "create-account")
        return field(fields, "account id"), client(
            rampart, "organizations", field(fields, "root access key id"), field(fields, "root secret access key"))

    _, boss = standalone()
    member_id, member = standalone()
    boss.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    invitation = boss.invite_account_to_organization(Target={"Id": member_id, "Type": "ACCOUNT"})["Handshake"]
    member.accept_handshake(HandshakeId=invitation["Id"])

    request = boss.enable_all_features()["Handshake"]
    assert (request["Action"], request["State"]) == ("ENABLE_ALL_FEATURES", "REQUESTED")
    assert error_of(lambda: boss.enable_all_features())["Reason"] == \
        "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION"
    approvals = member.list_handshakes_for_account(Filter={"ActionType": "APPROVE_ALL_FEATURES"})["Handshakes"]
    assert len(approvals) == 1
    assert {"Type": "PARENT_HANDSHAKE", "Value": request["Id"]} in approvals[0]["Resources"]
    assert error_of(lambda: boss.accept_handshake(HandshakeId=request["Id"]))["Error"]["Code"] == \
        "InvalidHandshakeTransitionException"
    member.accept_handshake(HandshakeId=approvals[0]["Id"])
    assert boss.describe_handshake(HandshakeId=request["Id"])["Handshake"]["State"] == "OPEN"
    assert boss.accept_handshake(HandshakeId=request["Id"])["Handshake"]["State"] == "ACCEPTED"
    assert boss.describe_organization()["Organization"]["FeatureSet"] == "ALL"
    assert error_of(lambda: boss.enable_all_features())["Reason"] == "ORGANIZATION_ALREADY_HAS_ALL_FEATURES"


def test_a_delegation_policy_opens_reads_and_scp_management_to_a_member(org, rampart):
    """The organization's resource-based delegation policy: the member it names lists the
    accounts and manages SCPs (not RCPs, by its condition), and nothing else; deleting the
    policy closes it all again."""
    member_orgs = org.member_client("organizations")
    assert error_of(lambda: org.orgs.describe_resource_policy())["Error"]["Code"] == \
        "ResourcePolicyNotFoundException"
    assert error_of(lambda: member_orgs.list_accounts())["Error"]["Code"] == "AccessDeniedException"
    member = {"AWS": f"arn:aws:iam::{org.member}:root"}
    content = doc(
        {"Sid": "Read", "Effect": "Allow", "Principal": member,
         "Action": ["organizations:List*", "organizations:Describe*"], "Resource": "*"},
        {"Sid": "ManageScps", "Effect": "Allow", "Principal": member,
         "Action": ["organizations:CreatePolicy", "organizations:UpdatePolicy", "organizations:DeletePolicy",
                    "organizations:AttachPolicy", "organizations:DetachPolicy"],
         "Resource": "*", "Condition": {"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}}},
    )
    summary = org.orgs.put_resource_policy(Content=content)["ResourcePolicy"]["ResourcePolicySummary"]
    assert re.fullmatch(r"rp-[0-9a-z]{8}", summary["Id"])
    assert summary["Arn"] == f"arn:aws:organizations::{ACCOUNT_ID}:resourcepolicy/{org.id}/{summary['Id']}"
    assert org.orgs.describe_resource_policy()["ResourcePolicy"]["Content"] == content
    assert error_of(lambda: member_orgs.put_resource_policy(Content=content))["Error"]["Code"] == \
        "AccessDeniedException"

    assert {a["Id"] for a in member_orgs.list_accounts()["Accounts"]} >= {ACCOUNT_ID, org.member}
    org.enable("SERVICE_CONTROL_POLICY")
    scp = member_orgs.create_policy(
        Name=f"delegated-{uuid.uuid4().hex[:6]}", Description="by a delegate", Type="SERVICE_CONTROL_POLICY",
        Content=doc({"Effect": "Deny", "Action": "iam:CreateGroup", "Resource": "*"}),
    )["Policy"]["PolicySummary"]["Id"]
    member_orgs.attach_policy(PolicyId=scp, TargetId=org.sandbox)
    member_orgs.detach_policy(PolicyId=scp, TargetId=org.sandbox)
    member_orgs.delete_policy(PolicyId=scp)
    refusals = [
        lambda: member_orgs.create_policy(Name="rcp", Description="d", Type="RESOURCE_CONTROL_POLICY",
                                          Content=doc({"Effect": "Deny", "Principal": "*", "Action": "kms:*",
                                                       "Resource": "*"})),
        lambda: member_orgs.create_organizational_unit(ParentId=org.root, Name="not-delegated"),
    ]
    for call in refusals:
        assert error_of(call)["Error"]["Code"] == "AccessDeniedException"

    org.orgs.delete_resource_policy()
    assert error_of(lambda: member_orgs.list_accounts())["Error"]["Code"] == "AccessDeniedException"
    assert error_of(lambda: org.orgs.delete_resource_policy())["Error"]["Code"] == \
        "ResourcePolicyNotFoundException"
