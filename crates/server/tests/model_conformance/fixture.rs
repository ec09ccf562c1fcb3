//! An account with one entity of each kind Rampart serves, made through the registry's own
//! handlers, and the requests that name them: for calling every operation and checking what
//! it answers. Every entity is tagged and, where it has one, under a path, so that outputs
//! carry their optional members.

use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_server::Registry;
use rampart_service::testing::{ACCOUNT, TestEnv};
use rampart_service::{AwsError, Caller, Handler, PrincipalKind, Service, Value};
use rampart_store::StoreError;
use serde_json::json;

const TAG_KEY: &str = "team";
const TAG_VALUE: &str = "red";

/// A policy that allows everything, for every policy document a request carries.
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn tags() -> Value {
    json!([{"Key": TAG_KEY, "Value": TAG_VALUE}])
}

/// What calling an operation came to: its answer, or a store failure around it.
pub enum Called {
    Answered(Result<Value, AwsError>),
    Store(StoreError),
}

impl From<StoreError> for Called {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

pub struct Fixture {
    pub env: TestEnv,
    pub registry: Registry,
    /// (service prefix, member name) → the value naming a fixture entity.
    members: BTreeMap<(&'static str, &'static str), Value>,
    /// (operation, member name) → a value only that operation takes (a key of another spec).
    per_operation: BTreeMap<(&'static str, &'static str), Value>,
    alice_id: String,
}

impl Fixture {
    pub fn new() -> Self {
        let mut fixture = Self {
            env: TestEnv::new(),
            registry: Registry::with_all_services(),
            members: BTreeMap::new(),
            per_operation: BTreeMap::new(),
            alice_id: String::new(),
        };
        fixture.iam();
        fixture.kms();
        fixture.cloudtrail();
        fixture.organizations();
        fixture
    }

    /// Calls `operation` with `input`, keeping what it changes.
    fn call(&self, service: &str, operation: &str, input: Value) -> Value {
        match self.run(service, operation, input, true) {
            Called::Answered(Ok(output)) => output,
            Called::Answered(Err(e)) => panic!("fixture {operation}: {} {}", e.code, e.message),
            Called::Store(e) => panic!("fixture {operation}: {e}"),
        }
    }

    /// Calls `operation` with `input` and undoes what it changes, so that every operation
    /// finds the fixture as it was made.
    pub fn try_call(&self, service: &str, operation: &str, input: Value) -> Called {
        self.run(service, operation, input, false)
    }

    fn run(&self, service: &str, operation: &str, input: Value, keep: bool) -> Called {
        let service: Arc<dyn Service> = Arc::clone(self.registry.get(service).unwrap());
        let name = operation.to_owned();
        match service.operation(operation).map(|o| &o.handler) {
            Some(Handler::Write(_)) => {
                let outcome = self.env.write(move |env, tx| {
                    let Some(Handler::Write(handler)) =
                        service.operation(&name).map(|o| &o.handler)
                    else {
                        unreachable!("{name} writes")
                    };
                    let answer = handler(env, tx, input);
                    match answer {
                        Ok(output) if keep => Ok(output),
                        // An error rolls the transaction back.
                        answer => Err(Called::Answered(answer)),
                    }
                });
                match outcome {
                    Ok(output) => Called::Answered(Ok(output)),
                    Err(called) => called,
                }
            }
            Some(Handler::Read(handler)) => {
                match self
                    .env
                    .read(|env, tx| Ok::<_, StoreError>(handler(env, tx, input)))
                {
                    Ok(answer) => Called::Answered(answer),
                    Err(e) => Called::Store(e),
                }
            }
            None => panic!("{operation} is not implemented"),
        }
    }

    fn name(&mut self, service: &'static str, member: &'static str, value: Value) {
        self.members.insert((service, member), value);
    }

    /// The value `member` takes in a request to `operation` of `service`, if the fixture
    /// names one.
    pub fn member(&self, service: &str, operation: &str, member: &str) -> Option<Value> {
        if let Some(value) = self
            .per_operation
            .iter()
            .find(|((op, m), _)| *op == operation && *m == member)
            .map(|(_, v)| v.clone())
        {
            return Some(value);
        }
        self.members
            .iter()
            .find(|((s, m), _)| *s == service && *m == member)
            .map(|(_, v)| v.clone())
            .or_else(|| generic(member))
    }

    fn iam(&mut self) {
        let created = self.call(
            "iam",
            "CreatePolicy",
            json!({"PolicyName": "Boundary", "Path": "/boundaries/",
                   "PolicyDocument": ALLOW_ALL, "Tags": tags()}),
        );
        let policy = created["Policy"]["Arn"].as_str().unwrap().to_owned();
        self.call(
            "iam",
            "CreatePolicyVersion",
            json!({"PolicyArn": policy, "PolicyDocument": ALLOW_ALL, "SetAsDefault": false}),
        );
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
                   "PermissionsBoundary": policy, "Description": "fixture", "Tags": tags()}),
        );
        self.call(
            "iam",
            "CreateGroup",
            json!({"GroupName": "devs", "Path": "/groups/"}),
        );
        self.call(
            "iam",
            "AddUserToGroup",
            json!({"GroupName": "devs", "UserName": "alice"}),
        );
        for (operation, entity, name) in [
            ("PutUserPolicy", "UserName", "alice"),
            ("PutRolePolicy", "RoleName", "Protected"),
            ("PutGroupPolicy", "GroupName", "devs"),
        ] {
            self.call(
                "iam",
                operation,
                json!({entity: name, "PolicyName": "inline", "PolicyDocument": ALLOW_ALL}),
            );
        }
        for (operation, entity, name) in [
            ("AttachUserPolicy", "UserName", "alice"),
            ("AttachRolePolicy", "RoleName", "Protected"),
            ("AttachGroupPolicy", "GroupName", "devs"),
        ] {
            self.call("iam", operation, json!({entity: name, "PolicyArn": policy}));
        }
        self.call(
            "iam",
            "CreateInstanceProfile",
            json!({"InstanceProfileName": "web", "Path": "/profiles/", "Tags": tags()}),
        );
        self.call(
            "iam",
            "AddRoleToInstanceProfile",
            json!({"InstanceProfileName": "web", "RoleName": "Protected"}),
        );
        self.call(
            "iam",
            "CreateLoginProfile",
            json!({"UserName": "alice", "Password": "Fixture-Passw0rd!"}),
        );
        let oidc = self.call(
            "iam",
            "CreateOpenIDConnectProvider",
            json!({"Url": "https://oidc.example.com", "ClientIDList": ["app"],
                   "ThumbprintList": ["0123456789012345678901234567890123456789"],
                   "Tags": tags()}),
        );
        let certificate = include_str!("../../../iam/src/testdata/cert_a.pem");
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
                   "CertificateBody": include_str!("../../../iam/src/testdata/server_rsa.crt"),
                   "PrivateKey": include_str!("../../../iam/src/testdata/server_rsa.key"),
                   "Tags": tags()}),
        );
        let signing = self.call(
            "iam",
            "UploadSigningCertificate",
            json!({"UserName": "alice", "CertificateBody": certificate}),
        );
        let ssh = self.call(
            "iam",
            "UploadSSHPublicKey",
            json!({"UserName": "alice",
                   "SSHPublicKeyBody": include_str!("../../../iam/src/testdata/ssh_rsa_2048.pub")}),
        );
        let device = self.call(
            "iam",
            "CreateVirtualMFADevice",
            json!({"VirtualMFADeviceName": "alice-mfa", "Path": "/team/", "Tags": tags()}),
        );
        let key = self.call("iam", "CreateAccessKey", json!({"UserName": "alice"}));
        let credential = self.call(
            "iam",
            "CreateServiceSpecificCredential",
            json!({"UserName": "alice", "ServiceName": "codecommit.amazonaws.com"}),
        );
        self.call(
            "iam",
            "CreateAccountAlias",
            json!({"AccountAlias": "fixture-account"}),
        );
        self.call(
            "iam",
            "UpdateAccountPasswordPolicy",
            json!({"MinimumPasswordLength": 12, "RequireSymbols": true, "MaxPasswordAge": 90}),
        );
        let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/team/alice");
        let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/admin/Protected");
        for (member, value) in [
            ("UserName", json!("alice")),
            ("RoleName", json!("Protected")),
            ("GroupName", json!("devs")),
            ("PolicyName", json!("inline")),
            ("PolicyArn", json!(policy)),
            ("PermissionsBoundary", json!(policy)),
            ("VersionId", json!("v2")),
            ("InstanceProfileName", json!("web")),
            ("ServerCertificateName", json!("site")),
            (
                "SerialNumber",
                device["VirtualMFADevice"]["SerialNumber"].clone(),
            ),
            (
                "OpenIDConnectProviderArn",
                oidc["OpenIDConnectProviderArn"].clone(),
            ),
            ("SAMLProviderArn", saml["SAMLProviderArn"].clone()),
            ("PolicySourceArn", json!(user_arn)),
            ("Arn", json!(user_arn)),
            ("RoleArn", json!(role_arn)),
            ("AccessKeyId", key["AccessKey"]["AccessKeyId"].clone()),
            (
                "CertificateId",
                signing["Certificate"]["CertificateId"].clone(),
            ),
            (
                "SSHPublicKeyId",
                ssh["SSHPublicKey"]["SSHPublicKeyId"].clone(),
            ),
            (
                "ServiceSpecificCredentialId",
                credential["ServiceSpecificCredential"]["ServiceSpecificCredentialId"].clone(),
            ),
            ("ServiceName", json!("codecommit.amazonaws.com")),
            ("Url", json!("https://oidc.example.com")),
            ("AccountAlias", json!("fixture-account")),
            ("Path", json!("/team/")),
            ("PathPrefix", json!("/")),
            ("Encoding", json!("SSH")),
            ("TargetPrincipal", json!(ACCOUNT)),
        ] {
            // An MFA device in an STS request would ask for its code.
            if member != "SerialNumber" {
                self.name("sts", member, value.clone());
            }
            self.name("iam", member, value);
        }
        self.per_operation.insert(
            ("AssumeRoot", "TaskPolicyArn"),
            json!({"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}),
        );
        self.name("sts", "RoleSessionName", json!("fixture"));
        self.name("sts", "DurationSeconds", json!(3600));
    }

    fn kms(&mut self) {
        let created = self.call(
            "kms",
            "CreateKey",
            json!({"MultiRegion": true, "Description": "fixture",
                   "Tags": [{"TagKey": TAG_KEY, "TagValue": TAG_VALUE}]}),
        );
        let key = created["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
        self.call(
            "kms",
            "CreateAlias",
            json!({"AliasName": "alias/fixture", "TargetKeyId": key}),
        );
        self.call("kms", "EnableKeyRotation", json!({"KeyId": key}));
        let grant = self.call(
            "kms",
            "CreateGrant",
            json!({"KeyId": key, "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT}:user/team/alice"),
                   "Name": "fixture", "Operations": ["Decrypt", "RetireGrant"],
                   "Constraints": {"EncryptionContextSubset": {"purpose": "fixture"}}}),
        );
        let encrypted = self.call(
            "kms",
            "Encrypt",
            json!({"KeyId": key, "Plaintext": "aGVsbG8=",
                   "EncryptionContext": {"purpose": "fixture"}}),
        );
        for (member, value) in [
            ("KeyId", json!(key)),
            ("TargetKeyId", json!(key)),
            ("SourceKeyId", json!(key)),
            ("DestinationKeyId", json!(key)),
            ("AliasName", json!("alias/fixture")),
            ("GrantId", grant["GrantId"].clone()),
            ("GrantToken", grant["GrantToken"].clone()),
            ("CiphertextBlob", encrypted["CiphertextBlob"].clone()),
            ("EncryptionContext", json!({"purpose": "fixture"})),
            ("SourceEncryptionContext", json!({"purpose": "fixture"})),
            ("Policy", json!(key_policy())),
            ("PolicyName", json!("default")),
            ("GranteePrincipal", json!(alice_arn())),
            ("RetiringPrincipal", json!(alice_arn())),
            ("TagKeys", json!([TAG_KEY])),
        ] {
            self.name("kms", member, value);
        }
        // Operations on keys of another spec take their own key.
        for (spec, usage, operations) in [
            (
                "RSA_2048",
                "SIGN_VERIFY",
                &["Sign", "Verify", "GetPublicKey"][..],
            ),
            (
                "HMAC_256",
                "GENERATE_VERIFY_MAC",
                &["GenerateMac", "VerifyMac"],
            ),
            ("ECC_NIST_P256", "KEY_AGREEMENT", &["DeriveSharedSecret"]),
        ] {
            let created = self.call(
                "kms",
                "CreateKey",
                json!({"KeySpec": spec, "KeyUsage": usage}),
            );
            let arn = created["KeyMetadata"]["Arn"].clone();
            for operation in operations {
                self.per_operation.insert((operation, "KeyId"), arn.clone());
            }
        }
        for operation in ["Sign", "Verify"] {
            self.per_operation
                .insert((operation, "SigningAlgorithm"), json!("RSASSA_PSS_SHA_256"));
            self.per_operation
                .insert((operation, "MessageType"), json!("RAW"));
        }
        for operation in ["GenerateMac", "VerifyMac"] {
            self.per_operation
                .insert((operation, "MacAlgorithm"), json!("HMAC_SHA_256"));
        }
        self.per_operation.insert(
            ("DeriveSharedSecret", "KeyAgreementAlgorithm"),
            json!("ECDH"),
        );
        for operation in ["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"] {
            self.per_operation
                .insert((operation, "KeySpec"), json!("AES_256"));
        }
        self.per_operation
            .insert(("GenerateRandom", "NumberOfBytes"), json!(32));
    }

    fn cloudtrail(&mut self) {
        self.call(
            "cloudtrail",
            "CreateTrail",
            json!({"Name": "main", "S3BucketName": "trail-bucket", "S3KeyPrefix": "logs",
                   "IsMultiRegionTrail": true, "EnableLogFileValidation": true,
                   "TagsList": tags()}),
        );
        self.call(
            "cloudtrail",
            "PutEventSelectors",
            json!({"TrailName": "main", "EventSelectors": [{"ReadWriteType": "All",
                   "IncludeManagementEvents": true}]}),
        );
        self.call(
            "cloudtrail",
            "PutInsightSelectors",
            json!({"TrailName": "main", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}),
        );
        self.call("cloudtrail", "StartLogging", json!({"Name": "main"}));
        let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main");
        for member in ["Name", "TrailName"] {
            self.name("cloudtrail", member, json!("main"));
        }
        self.name("cloudtrail", "S3BucketName", json!("trail-bucket"));
        self.per_operation
            .insert(("CreateTrail", "Name"), json!("second"));
        self.per_operation.insert(
            ("PutEventSelectors", "EventSelectors"),
            json!([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]),
        );
        self.name("cloudtrail", "ResourceId", json!(arn));
        self.name("cloudtrail", "ResourceIdList", json!([arn]));
        self.name("cloudtrail", "trailNameList", json!([arn]));
    }

    fn organizations(&mut self) {
        self.call(
            "organizations",
            "CreateOrganization",
            json!({"FeatureSet": "ALL"}),
        );
        let roots = self.call("organizations", "ListRoots", json!({}));
        let root = roots["Roots"][0]["Id"].as_str().unwrap().to_owned();
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
                   "Content": ALLOW_ALL, "Tags": tags()}),
        );
        let policy = policy["Policy"]["PolicySummary"]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.call(
            "organizations",
            "AttachPolicy",
            json!({"PolicyId": policy, "TargetId": unit}),
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
            json!({"Target": {"Id": "210987654321", "Type": "ACCOUNT"}, "Notes": "join us"}),
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
        self.name("organizations", "ChildType", json!("ORGANIZATIONAL_UNIT"));
        self.name("organizations", "Content", json!(ALLOW_ALL));
        self.per_operation
            .insert(("PutResourcePolicy", "Content"), json!(delegation));
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

    /// Calls come from the IAM user `alice` from now on (STS refuses some calls from a root
    /// user, as AWS does).
    pub fn act_as_alice(&mut self) {
        self.env.caller = Caller {
            account_id: ACCOUNT.to_owned(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/team/alice"),
            principal_id: self.alice_id.clone(),
            kind: PrincipalKind::IamUser,
            user_name: Some("alice".to_owned()),
            access_key_id: "AKIAFIXTUREALICE0000".to_owned(),
        };
    }
}

/// Values any request may carry whatever it names: documents that parse, tags.
pub fn generic(member: &str) -> Option<Value> {
    match member {
        "PolicyDocument" | "AssumeRolePolicyDocument" | "Policy" | "Content" => {
            Some(json!(ALLOW_ALL))
        }
        "PolicyInputList" => Some(json!([ALLOW_ALL])),
        "Key" => Some(json!(TAG_KEY)),
        "Value" => Some(json!("blue")),
        "TagKey" => Some(json!(TAG_KEY)),
        "TagValue" => Some(json!("blue")),
        _ => None,
    }
}

fn alice_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/team/alice")
}

/// A key policy that lets the account manage the key (KMS refuses one that would lock it out).
fn key_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    )
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
