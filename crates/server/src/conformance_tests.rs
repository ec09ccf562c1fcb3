//! Every implemented operation's authorization against AWS's Service Authorization Reference.
//!
//! A fixture account holds one entity of each kind, under a non-root path and tagged
//! `team=red`. For every operation in the registry, a request that sets every input member
//! (naming the fixture's entities) is looked up as the authorize step looks it up, and:
//! - its action, and every action it is authorized for, is one AWS lists;
//! - every resource ARN is of one of the action's resource types (paths included: a fixture
//!   entity is named by its stored ARN), and an action with a required resource type never
//!   authorizes on `*`;
//! - every condition key AWS lists for the action is in the request context, unless it is on
//!   the short list below of keys that cannot apply here, each with its reason.
//!
//! An operation added without its keys, or naming its resources without their paths or tags,
//! fails here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_authorization_reference::{ArnFormat, key_matches_template, reference};
use rampart_policy::Context;
use rampart_service::testing::{ACCOUNT, TestEnv};
use rampart_service::{
    Authentication, AuthorizationTarget, AwsError, Caller, Handler, Operation, PrincipalKind,
    Service, Value,
};
use serde_json::json;

use crate::Registry;
use crate::authz::{AuthzRequest, contexts};
use crate::pipeline::authorization_targets;

/// Keys AWS lists that no request to Rampart can carry, and why. A key is matched by its
/// name or template, for every action that lists it.
const NEVER_SUPPLIED: &[(&str, &str)] = &[
    (
        "kms:RecipientAttestation:",
        "Nitro Enclaves attestation documents: Rampart runs no enclaves",
    ),
    (
        "kms:ViaService",
        "set on calls a service makes on a caller's behalf; no served operation is one",
    ),
    (
        "kms:GrantIsForAWSResource",
        "true only for grants an AWS service creates; Rampart's callers are never one",
    ),
    (
        "iam:FIDO-",
        "FIDO security keys: Rampart's MFA devices are virtual (TOTP) only",
    ),
    (
        "iam:RegisterSecurityKey",
        "FIDO security keys: Rampart's MFA devices are virtual (TOTP) only",
    ),
    (
        "saml:",
        "from the verified SAML assertion (crates/sts saml tests), not from the input",
    ),
    (
        "accounts.google.com:",
        "from a verified web identity token (crates/sts web identity tests)",
    ),
    (
        "cognito-identity.amazonaws.com:",
        "from a verified web identity token (crates/sts web identity tests)",
    ),
    (
        "graph.facebook.com:",
        "from a verified web identity token (crates/sts web identity tests)",
    ),
    (
        "www.amazon.com:",
        "from a verified web identity token (crates/sts web identity tests)",
    ),
    (
        "secretsmanager:resource/Type",
        "set on managed external secrets (Type), which Rampart does not create",
    ),
    (
        "organizations:Transfer",
        "responsibility transfers between organizations are not implemented",
    ),
];

/// Keys AWS supplies for an action only with some of its resources, absent from the
/// fixture's request; another test shows each where it applies.
const CONDITIONAL: &[(&str, &str, &str)] = &[
    (
        "organizations:TagResource",
        "organizations:PolicyType",
        "only when the resource is a policy (crates/organizations tests)",
    ),
    (
        "organizations:UntagResource",
        "organizations:PolicyType",
        "only when the resource is a policy (crates/organizations tests)",
    ),
    (
        "organizations:ListTagsForResource",
        "organizations:PolicyType",
        "only when the resource is a policy (crates/organizations tests)",
    ),
    (
        "secretsmanager:*",
        "aws:RequestTag/${TagKey}",
        "a resource-type key AWS lists for every action on a secret, supplied by the requests \
         that carry tags (CreateSecret, TagResource list it as their own)",
    ),
    (
        "secretsmanager:*",
        "aws:TagKeys",
        "a resource-type key AWS lists for every action on a secret, supplied by the requests \
         that carry tag keys (CreateSecret, TagResource, UntagResource list it as their own)",
    ),
    (
        "sts:TagSession",
        "sts:TransitiveTagKeys",
        "only for role sessions: GetFederationToken's tags cannot be transitive (AssumeRole's \
         own action carries the key here)",
    ),
];

/// Actions AWS serves that the vendored reference does not list yet, with the reason each is
/// authorized as it is: their keys are not filtered (see the authorize step).
const NEWER_THAN_REFERENCE: &[(&str, &str)] = &[(
    "kms:GetKeyLastUsage",
    "added to KMS after the vendored reference; authorized on its key like DescribeKey",
)];

/// Actions whose resource, as AWS names it in its AccessDenied text, is not of a resource type
/// the reference lists for them.
const PATH_LISTINGS: &[(&str, &str)] = &[
    (
        "iam:ListUsers",
        "authorized on the path it lists (`user/`), as AWS's AccessDenied text names it",
    ),
    (
        "iam:ListServerCertificates",
        "authorized on the path it lists, as AWS's AccessDenied text names it",
    ),
];

/// Resource types whose ARNs an event names without a CloudTrail resource type (AWS's
/// LookupEvents has none for them that Rampart knows), as `service:type`.
const UNTYPED_IN_EVENTS: &[(&str, &str)] = &[
    (
        "iam:server-certificate",
        "no CloudTrail resource type recorded yet",
    ),
    ("iam:access-report", "a report, not a resource"),
    ("iam:sms-mfa", "not a resource Rampart has"),
    (
        "sts:role",
        "roles are IAM's ARNs: typed by IAM (AWS::IAM::Role)",
    ),
    ("sts:root-user", "the account's root user"),
    (
        "sts:federated-user",
        "a federated user is no stored resource",
    ),
    (
        "organizations:account",
        "no CloudTrail resource type recorded yet",
    ),
    (
        "organizations:organizationalunit",
        "no CloudTrail resource type recorded yet",
    ),
    (
        "organizations:root",
        "no CloudTrail resource type recorded yet",
    ),
    (
        "organizations:policy",
        "no CloudTrail resource type recorded yet",
    ),
    (
        "organizations:handshake",
        "no CloudTrail resource type recorded yet",
    ),
    (
        "organizations:resourcepolicy",
        "no CloudTrail resource type recorded yet",
    ),
    (
        "ssm:servicesetting",
        "a Parameter Store setting: CloudTrail records no resource type for it",
    ),
];

/// The service prefix of `action`.
fn sar_prefix(action: &str) -> &str {
    action.split_once(':').map_or(action, |(prefix, _)| prefix)
}

/// The fixture tag every taggable entity carries, and every request's tags.
const TAG_KEY: &str = "team";
const TAG_VALUE: &str = "red";
const REQUEST_TAG_VALUE: &str = "blue";

struct Fixture {
    env: TestEnv,
    registry: Registry,
    /// Member name → the value naming a fixture entity, per service prefix ("" for all).
    members: BTreeMap<(&'static str, &'static str), Value>,
    /// The ARNs the fixture's entities are stored under.
    arns: Vec<String>,
    /// The unique ID of the user `alice`, who makes the requests looked up.
    alice_id: String,
}

fn tags() -> Value {
    json!([{"Key": TAG_KEY, "Value": TAG_VALUE}])
}

impl Fixture {
    fn call(&self, service: &str, operation: &str, input: Value) -> Value {
        let service: Arc<dyn Service> = Arc::clone(self.registry.get(service).unwrap());
        let name = operation.to_owned();
        let result = match service.operation(operation).map(|o| &o.handler) {
            Some(Handler::Write(_)) => self.env.write(move |env, tx| {
                let Some(Handler::Write(handler)) = service.operation(&name).map(|o| &o.handler)
                else {
                    unreachable!("{name} writes")
                };
                Ok::<_, rampart_store::StoreError>(handler(env, tx, input))
            }),
            Some(Handler::Read(handler)) => self
                .env
                .read(|env, tx| Ok::<_, rampart_store::StoreError>(handler(env, tx, input))),
            None => panic!("{operation} is not implemented"),
        };
        result
            .unwrap()
            .unwrap_or_else(|e| panic!("fixture {operation}: {} {}", e.code, e.message))
    }

    fn new() -> Self {
        let mut fixture = Fixture {
            env: TestEnv::new(),
            registry: Registry::with_all_services(),
            members: BTreeMap::new(),
            arns: Vec::new(),
            alice_id: String::new(),
        };
        fixture.iam();
        fixture.kms();
        fixture.cloudtrail();
        fixture.organizations();
        fixture.ssm();
        fixture.secretsmanager();
        fixture.sns();
        // The fixture's root made everything; an IAM user makes the requests looked up.
        fixture.env.caller = Caller {
            account_id: ACCOUNT.to_owned(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/team/alice"),
            principal_id: fixture.alice_id.clone(),
            kind: PrincipalKind::IamUser,
            user_name: Some("alice".to_owned()),
            access_key_id: "AKIAFIXTUREALICE0000".to_owned(),
        };
        fixture
    }

    fn name(&mut self, service: &'static str, member: &'static str, value: Value) {
        self.members.insert((service, member), value);
    }

    fn iam(&mut self) {
        let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let created = self.call(
            "iam",
            "CreatePolicy",
            json!({"PolicyName": "Boundary", "Path": "/boundaries/",
                   "PolicyDocument": allow_all, "Tags": tags()}),
        );
        let policy = created["Policy"]["Arn"].as_str().unwrap().to_owned();
        let alice = self.call(
            "iam",
            "CreateUser",
            json!({"UserName": "alice", "Path": "/team/", "PermissionsBoundary": policy,
                   "Tags": tags()}),
        );
        self.alice_id = alice["User"]["UserId"].as_str().unwrap().to_owned();
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        self.call(
            "iam",
            "CreateRole",
            json!({"RoleName": "Protected", "Path": "/admin/", "AssumeRolePolicyDocument": trust,
                   "PermissionsBoundary": policy, "Tags": tags()}),
        );
        self.call(
            "iam",
            "CreateGroup",
            json!({"GroupName": "devs", "Path": "/groups/"}),
        );
        self.call(
            "iam",
            "CreateInstanceProfile",
            json!({"InstanceProfileName": "web", "Path": "/profiles/", "Tags": tags()}),
        );
        let oidc = self.call(
            "iam",
            "CreateOpenIDConnectProvider",
            json!({"Url": "https://oidc.example.com", "ClientIDList": ["app"],
                   "ThumbprintList": ["0123456789012345678901234567890123456789"],
                   "Tags": tags()}),
        );
        let certificate = include_str!("../../iam/src/testdata/cert_a.pem");
        let body: String = certificate
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let saml = self.call(
            "iam",
            "CreateSAMLProvider",
            json!({"Name": "corp", "SAMLMetadataDocument": saml_metadata(&body),
                   "Tags": tags()}),
        );
        self.call(
            "iam",
            "UploadServerCertificate",
            json!({"ServerCertificateName": "site", "Path": "/certs/",
                   "CertificateBody": include_str!("../../iam/src/testdata/server_rsa.crt"),
                   "PrivateKey": include_str!("../../iam/src/testdata/server_rsa.key"),
                   "Tags": tags()}),
        );
        let device = self.call(
            "iam",
            "CreateVirtualMFADevice",
            json!({"VirtualMFADeviceName": "alice-mfa", "Path": "/team/", "Tags": tags()}),
        );
        let serial = device["VirtualMFADevice"]["SerialNumber"].clone();
        let key = self.call("iam", "CreateAccessKey", json!({"UserName": "alice"}));
        let credential = self.call(
            "iam",
            "CreateServiceSpecificCredential",
            json!({"UserName": "alice", "ServiceName": "codecommit.amazonaws.com"}),
        );
        let oidc_arn = oidc["OpenIDConnectProviderArn"].clone();
        let saml_arn = saml["SAMLProviderArn"].clone();
        let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/team/alice");
        let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/admin/Protected");
        self.arns.extend([
            user_arn.clone(),
            role_arn.clone(),
            policy.clone(),
            format!("arn:aws:iam::{ACCOUNT}:group/groups/devs"),
            format!("arn:aws:iam::{ACCOUNT}:instance-profile/profiles/web"),
            format!("arn:aws:iam::{ACCOUNT}:server-certificate/certs/site"),
            serial.as_str().unwrap().to_owned(),
            oidc_arn.as_str().unwrap().to_owned(),
            saml_arn.as_str().unwrap().to_owned(),
        ]);
        for (member, value) in [
            ("UserName", json!("alice")),
            ("RoleName", json!("Protected")),
            ("GroupName", json!("devs")),
            ("PolicyArn", json!(policy)),
            ("PermissionsBoundary", json!(policy)),
            ("InstanceProfileName", json!("web")),
            ("ServerCertificateName", json!("site")),
            ("SerialNumber", serial),
            ("OpenIDConnectProviderArn", oidc_arn),
            ("SAMLProviderArn", saml_arn),
            ("PolicySourceArn", json!(user_arn)),
            ("Arn", json!(user_arn)),
            ("RoleArn", json!(role_arn)),
            // Where Create* requests put what they make: nothing is there yet.
            ("Path", json!("/new/")),
            ("PathPrefix", json!("/team/")),
            ("NewPath", json!("/moved/")),
            ("NewUserName", json!("alice2")),
            ("NewGroupName", json!("devs2")),
            ("NewServerCertificateName", json!("site2")),
            ("AccessKeyId", key["AccessKey"]["AccessKeyId"].clone()),
            (
                "ServiceSpecificCredentialId",
                credential["ServiceSpecificCredential"]["ServiceSpecificCredentialId"].clone(),
            ),
            ("ServiceName", json!("codecommit.amazonaws.com")),
            (
                "DeletionTaskId",
                json!(
                    "task/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport/0f3c2b1a-0000-4000-8000-000000000000"
                ),
            ),
            ("TargetPrincipal", json!(ACCOUNT)),
        ] {
            self.name("iam", member, value.clone());
            self.name("sts", member, value);
        }
    }

    fn kms(&mut self) {
        // Multi-Region, so that kms:MultiRegionKeyType has a value.
        let created = self.call(
            "kms",
            "CreateKey",
            json!({"MultiRegion": true, "Tags": [{"TagKey": TAG_KEY, "TagValue": TAG_VALUE}]}),
        );
        let key = created["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
        self.call(
            "kms",
            "CreateAlias",
            json!({"AliasName": "alias/fixture", "TargetKeyId": key}),
        );
        self.arns.push(key.clone());
        // Named by its alias, so that kms:RequestAlias has a value.
        self.name("kms", "KeyId", json!("alias/fixture"));
        self.name("kms", "TargetKeyId", json!(key));
        for member in ["SourceKeyId", "DestinationKeyId"] {
            self.name("kms", member, json!("alias/fixture"));
        }
        let grant = self.call(
            "kms",
            "CreateGrant",
            json!({"KeyId": key, "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT}:user/team/alice"),
                   "Operations": ["Decrypt", "RetireGrant"],
                   "Constraints": {"EncryptionContextSubset": {"purpose": "conformance"}}}),
        );
        self.name("kms", "GrantId", grant["GrantId"].clone());
        self.name("kms", "GrantToken", grant["GrantToken"].clone());
        self.name("kms", "AliasName", json!("alias/fixture"));
        self.name("kms", "TagKey", json!(TAG_KEY));
        self.name("kms", "TagValue", json!(REQUEST_TAG_VALUE));
    }

    fn cloudtrail(&mut self) {
        self.call(
            "cloudtrail",
            "CreateTrail",
            json!({"Name": "main", "S3BucketName": "trail-bucket",
                   "TagsList": tags()}),
        );
        let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main");
        self.arns.push(arn.clone());
        for member in ["Name", "TrailName"] {
            self.name("cloudtrail", member, json!("main"));
        }
        self.name("cloudtrail", "ResourceId", json!(arn));
        self.name("cloudtrail", "ResourceIdList", json!([arn]));
    }

    fn organizations(&mut self) {
        self.call(
            "organizations",
            "CreateOrganization",
            json!({"FeatureSet": "ALL"}),
        );
        let roots = self.call("organizations", "ListRoots", json!({}));
        let root = roots["Roots"][0]["Id"].as_str().unwrap().to_owned();
        self.call(
            "organizations",
            "TagResource",
            json!({"ResourceId": root, "Tags": tags()}),
        );
        let unit = self.call(
            "organizations",
            "CreateOrganizationalUnit",
            json!({"ParentId": root, "Name": "unit", "Tags": tags()}),
        );
        let unit = unit["OrganizationalUnit"]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.call(
            "organizations",
            "EnablePolicyType",
            json!({"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"}),
        );
        let policy = self.call(
            "organizations",
            "CreatePolicy",
            json!({"Name": "guardrail", "Description": "d", "Type": "SERVICE_CONTROL_POLICY",
                   "Content": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                   "Tags": tags()}),
        );
        let policy = policy["Policy"]["PolicySummary"]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.call(
            "organizations",
            "TagResource",
            json!({"ResourceId": ACCOUNT, "Tags": tags()}),
        );
        let delegation = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"organizations:DescribeOrganization","Resource":"*"}}]}}"#
        );
        self.call(
            "organizations",
            "PutResourcePolicy",
            json!({"Content": delegation, "Tags": tags()}),
        );
        self.env
            .write(|env, tx| {
                rampart_iam::account::create_account(
                    tx,
                    Some("210987654321".to_owned()),
                    env.root_key,
                    env.entropy,
                    "2026-11-24T12:00:00Z",
                )
                .map(|_| ())
            })
            .unwrap();
        let invited = self.call(
            "organizations",
            "InviteAccountToOrganization",
            json!({"Target": {"Id": "210987654321", "Type": "ACCOUNT"}}),
        );
        self.name(
            "organizations",
            "HandshakeId",
            invited["Handshake"]["Id"].clone(),
        );
        for (member, id) in [
            ("RootId", &root),
            ("ParentId", &root),
            ("SourceParentId", &root),
            ("DestinationParentId", &unit),
            ("OrganizationalUnitId", &unit),
            ("TargetId", &unit),
            ("ChildId", &unit),
            ("ResourceId", &unit),
            ("PolicyId", &policy),
        ] {
            self.name("organizations", member, json!(id));
        }
        self.name("organizations", "AccountId", json!(ACCOUNT));
        self.name("organizations", "Type", json!("SERVICE_CONTROL_POLICY"));
        self.name(
            "organizations",
            "PolicyType",
            json!("SERVICE_CONTROL_POLICY"),
        );
        self.name("organizations", "Filter", json!("SERVICE_CONTROL_POLICY"));
        self.name(
            "organizations",
            "ServicePrincipal",
            json!("cloudtrail.amazonaws.com"),
        );
    }

    fn ssm(&mut self) {
        // A String parameter under a path, tagged; SecureStrings need KMS through the spine,
        // which the fixture has not (tests/python/test_ssm*.py cover their kms:Decrypt).
        self.call(
            "ssm",
            "PutParameter",
            json!({"Name": "/team/db/host", "Value": "db.internal", "Type": "String",
                   "Tags": tags()}),
        );
        let arn = format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/team/db/host");
        self.arns.push(arn);
        for member in ["Name", "ResourceId"] {
            self.name("ssm", member, json!("/team/db/host"));
        }
        self.name("ssm", "Names", json!(["/team/db/host"]));
        self.name("ssm", "Path", json!("/team/db"));
        self.name("ssm", "ResourceType", json!("Parameter"));
        self.name("ssm", "Type", json!("String"));
        self.name(
            "ssm",
            "SettingId",
            json!("/ssm/parameter-store/default-parameter-tier"),
        );
    }

    fn secretsmanager(&mut self) {
        // No value: a value needs KMS through the spine, which the fixture has not
        // (tests/python/test_secretsmanager*.py cover kms:Decrypt).
        let created = self.call(
            "secretsmanager",
            "CreateSecret",
            json!({"Name": "team/db", "Tags": tags()}),
        );
        let arn = created["ARN"].as_str().unwrap().to_owned();
        // Rotation configured (not run), so that secretsmanager:resource/AllowRotationLambdaArn
        // has a value.
        self.call(
            "secretsmanager",
            "RotateSecret",
            json!({"SecretId": arn, "RotateImmediately": false,
                   "RotationLambdaARN": format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:rampart-random-password"),
                   "RotationRules": {"AutomaticallyAfterDays": 30}}),
        );
        self.arns.push(arn.clone());
        self.name("secretsmanager", "SecretId", json!(arn));
        self.name("secretsmanager", "SecretIdList", json!([arn]));
        // CreateSecret's name: nothing is there yet.
        self.name("secretsmanager", "Name", json!("team/new"));
        self.name("secretsmanager", "VersionStage", json!("AWSCURRENT"));
    }

    fn sns(&mut self) {
        let created = self.call(
            "sns",
            "CreateTopic",
            json!({"Name": "alarms", "Tags": tags()}),
        );
        let arn = created["TopicArn"].as_str().unwrap().to_owned();
        self.arns.push(arn.clone());
        self.name("sns", "TopicArn", json!(arn));
        self.name("sns", "ResourceArn", json!(arn));
        // CreateTopic's name: nothing is there yet.
        self.name("sns", "Name", json!("new-topic"));
        self.name("sns", "Protocol", json!("http"));
        self.name("sns", "Endpoint", json!("http://127.0.0.1:9/hook"));
    }

    /// The value a member takes in `service`'s requests.
    fn member(&self, service: &str, member: &str) -> Option<Value> {
        let service = self
            .members
            .keys()
            .map(|(s, _)| *s)
            .find(|s| *s == service)
            .unwrap_or("");
        match member {
            "Key" => Some(json!(TAG_KEY)),
            // Requests tag with another value than the fixture's resources carry, so that a
            // resource's tags cannot be mistaken for the request's.
            "Value" => Some(json!(REQUEST_TAG_VALUE)),
            "TagKeys" => Some(json!([TAG_KEY])),
            _ => self.members.get(&(service, member)).cloned(),
        }
    }
}

fn saml_metadata(certificate_b64: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{certificate_b64}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
  <!-- {} -->
</md:EntityDescriptor>"#,
        "padding ".repeat(120)
    )
}

/// What one operation's authorization names, as the authorize step would evaluate it.
struct Looked {
    action: String,
    resources: Vec<String>,
    contexts: Vec<Context>,
}

fn look_up(
    fixture: &Fixture,
    service: &str,
    operation: &Operation,
) -> Result<Vec<Looked>, AwsError> {
    let model = rampart_wire::ServiceModel::by_endpoint_prefix(service).unwrap();
    let op_model = model.operation(operation.name).unwrap();
    let input = rampart_wire::sample_input(op_model, &|member| fixture.member(service, member));
    fixture
        .env
        .read(|env, tx| {
            let targets: Result<Vec<AuthorizationTarget>, AwsError> =
                authorization_targets(operation, env, tx, &input);
            let op_keys = operation
                .condition_keys
                .map(|keys| keys(env, &input))
                .unwrap_or_default();
            Ok::<_, rampart_store::StoreError>(targets.map(|targets| {
                targets
                    .iter()
                    .map(|target| {
                        let keys = [target.condition_keys.as_slice(), &op_keys].concat();
                        let action = target.action.unwrap_or(operation.action);
                        let request = AuthzRequest {
                            caller: env.caller,
                            session: None,
                            operation,
                            action,
                            resources: &target.resources,
                            resource_policy: target.resource_policy.as_ref(),
                            condition_keys: &keys,
                            input: &input,
                            source_ip: "127.0.0.1",
                            user_agent: "conformance",
                            region: env.region,
                            now: env.now,
                            guarded_by_rcps: false,
                        };
                        let (resources, contexts) = contexts(&request).into_iter().unzip();
                        Looked {
                            action: action.to_owned(),
                            resources,
                            contexts,
                        }
                    })
                    .collect()
            }))
        })
        .unwrap()
}

fn never_supplied(key: &str) -> bool {
    NEVER_SUPPLIED.iter().any(|(prefix, _)| {
        key.to_ascii_lowercase()
            .starts_with(&prefix.to_ascii_lowercase())
    })
}

/// Whether `key` is conditional for `action`: listed for it, or for every action of its
/// service (`service:*`) unless the action lists the key as its own.
fn conditional(action: &str, key: &str, own_keys: &[String]) -> bool {
    CONDITIONAL.iter().any(|(a, k, _)| {
        *k == key
            && (*a == action
                || a.strip_suffix('*').is_some_and(|prefix| {
                    action.starts_with(prefix) && !own_keys.iter().any(|own| own == key)
                }))
    })
}

/// Whether `context` holds `template` (a name, or a `${Variable}` template of which any
/// instance counts).
fn holds(context: &Context, template: &str) -> bool {
    context
        .keys()
        .any(|key| key_matches_template(key, template))
}

/// `arn` with its path taken out: what a namer that ignores paths would produce.
fn without_path(arn: &str) -> Option<String> {
    let (head, path_and_name) = arn.split_once(':').and_then(|_| {
        let at = arn.rfind(':')?;
        Some((arn.get(..=at)?, arn.get(at + 1..)?))
    })?;
    let (kind, rest) = path_and_name.split_once('/')?;
    let name = rest.rsplit('/').next()?;
    (rest != name).then(|| format!("{head}{kind}/{name}"))
}

/// What one action on one resource must carry: the action's own keys, those its row for the
/// resource's type lists, and, for a resource that exists, those every resource of its type
/// carries (a resource a request creates has no tags yet).
fn required_keys<'a>(
    service: &'a rampart_authorization_reference::ServiceReference,
    listed: &'a rampart_authorization_reference::ActionReference,
    resource_type: Option<&str>,
    exists: bool,
) -> Vec<&'a str> {
    let mut keys: Vec<&str> = listed.condition_keys.iter().map(String::as_str).collect();
    for row in &listed.resources {
        if Some(row.resource_type.as_str()) != resource_type {
            continue;
        }
        keys.extend(row.condition_keys.iter().map(String::as_str));
        if exists && let Some(kind) = service.resource_type(&row.resource_type) {
            keys.extend(kind.condition_keys.iter().map(String::as_str));
        }
    }
    keys
}

#[test]
fn every_operation_is_authorized_as_aws_documents() {
    let fixture = Fixture::new();
    let mut problems = Vec::new();
    let mut checked = 0;
    // Every registered service: a new one is checked from its first operation, and fails here
    // until the fixture holds its entities.
    let mut services: Vec<&str> = fixture.registry.names().collect();
    services.sort_unstable();
    assert!(services.len() >= 5, "{services:?}");
    for service in services {
        let registered = fixture.registry.get(service).unwrap();
        for name in registered.operation_names() {
            let operation = registered.operation(name).unwrap();
            // Authorized after the token or assertion in the input is verified, with the keys
            // it carries: crates/sts's federation tests cover them.
            if matches!(operation.authentication, Authentication::Input(..)) {
                continue;
            }
            checked += 1;
            let looked = match look_up(&fixture, service, operation) {
                Ok(looked) => looked,
                Err(e) => {
                    problems.push(format!("{name}: lookup failed: {} {}", e.code, e.message));
                    continue;
                }
            };
            for Looked {
                action,
                resources,
                contexts,
            } in looked
            {
                if NEWER_THAN_REFERENCE.iter().any(|(a, _)| *a == action) {
                    continue;
                }
                let Some((sar, listed)) = reference().action(&action) else {
                    problems.push(format!("{name}: {action} is not an action AWS lists"));
                    continue;
                };
                let formats: Vec<(&str, ArnFormat<'_>)> = sar.arn_formats_of(listed).collect();
                let required = listed.resources.iter().any(|r| r.required);
                for (arn, context) in resources.iter().zip(&contexts) {
                    let resource_type = formats
                        .iter()
                        .find(|(_, f)| f.matches(arn))
                        .map(|(t, _)| *t);
                    if arn == "*" {
                        if required {
                            problems.push(format!(
                                "{name}: {action} names `*` for a required resource"
                            ));
                        }
                    } else if resource_type.is_none()
                        && !PATH_LISTINGS.iter().any(|(a, _)| *a == action)
                    {
                        problems.push(format!(
                            "{name}: {action} on {arn}: not of its resource types {:?}",
                            formats.iter().map(|(t, _)| *t).collect::<Vec<_>>()
                        ));
                    }
                    // The event names the resource with a CloudTrail type, unless CloudTrail
                    // records none Rampart knows for it.
                    if let Some(kind) = resource_type
                        && fixture.registry.event_resource(arn).is_none()
                        && !UNTYPED_IN_EVENTS
                            .iter()
                            .any(|(t, _)| *t == format!("{}:{kind}", sar_prefix(&action)))
                    {
                        problems.push(format!("{name}: {action} on {arn}: no event resource type"));
                    }
                    // A fixture entity must be named with its path.
                    if let Some(stored) = fixture
                        .arns
                        .iter()
                        .find(|stored| without_path(stored).as_deref() == Some(arn.as_str()))
                    {
                        problems.push(format!("{name}: {action} on {arn}, stored as {stored}"));
                    }
                    let exists = fixture.arns.contains(arn);
                    for key in required_keys(sar, listed, resource_type, exists) {
                        if never_supplied(key) || conditional(&action, key, &listed.condition_keys)
                        {
                            continue;
                        }
                        // Only a resource that exists has tags.
                        if !exists && key.to_ascii_lowercase().contains(":resourcetag/") {
                            continue;
                        }
                        if !holds(context, key) {
                            problems.push(format!("{name}: {action} on {arn} lacks {key}"));
                        }
                        // The tags are the resource's own, not the request's.
                        if let Some(prefix) = key.strip_suffix("${TagKey}")
                            && prefix.to_ascii_lowercase().ends_with("resourcetag/")
                        {
                            let tag = format!("{prefix}{TAG_KEY}");
                            let value = context.get(&tag).map(|v| v.join(","));
                            if value.as_deref() != Some(TAG_VALUE) {
                                problems
                                    .push(format!("{name}: {action} on {arn}: {tag} is {value:?}"));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 200, "only {checked} operations checked");
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} authorization gaps:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_path_is_what_a_name_only_namer_would_drop() {
    assert_eq!(
        without_path("arn:aws:iam::123456789012:role/admin/Protected").as_deref(),
        Some("arn:aws:iam::123456789012:role/Protected")
    );
    assert_eq!(
        without_path("arn:aws:iam::123456789012:role/Protected"),
        None
    );
}
