//! AWS managed policies (`arn:aws:iam::aws:policy/…`): built in, read-only, the same in every
//! account.
//!
//! Each document is AWS's, kept as a file in `crates/iam/managed-policies/<Name>.json`. The
//! metadata (policy ID, path, default version, dates) is AWS's as `aws iam get-policy`
//! reported it on 2026-08-22. A few of AWS's documents list actions of every AWS service
//! (ReadOnlyAccess alone is over 160 KB): those are scoped to the services Rampart serves, and
//! say so below. Scoping keeps AWS's statements, Sids and wildcards and only drops the actions
//! of other services, so what they allow here is what they allow at AWS.

/// The services Rampart serves; the scoped documents keep only these services' actions.
pub const SERVED_SERVICES: &[&str] = &[
    "iam",
    "sts",
    "kms",
    "cloudtrail",
    "organizations",
    "ssm",
    "secretsmanager",
    "cognito-idp",
    "acm",
    "wafv2",
];

/// An AWS managed policy.
#[derive(Debug)]
pub struct AwsManagedPolicy {
    /// Its name.
    pub name: &'static str,
    /// Its path.
    pub path: &'static str,
    /// Its ARN.
    pub arn: &'static str,
    /// Its default version's document.
    pub document: &'static str,
    /// Its unique ID (`ANPA…`), AWS's.
    pub policy_id: &'static str,
    /// AWS's description of it.
    pub description: &'static str,
    /// Its default version's ID, AWS's (the only version Rampart has).
    pub default_version_id: &'static str,
    /// When AWS created it.
    pub create_date: &'static str,
    /// When its default version was created at AWS.
    pub update_date: &'static str,
}

/// Every AWS managed policy Rampart knows.
pub static ALL: &[AwsManagedPolicy] = &[
    AwsManagedPolicy {
        name: "AdministratorAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/AdministratorAccess",
        document: include_str!("../managed-policies/AdministratorAccess.json"),
        policy_id: "ANPAIWMBCKSKIEE64ZLYK",
        description: "Provides full access to AWS services and resources.",
        default_version_id: "v1",
        create_date: "2015-02-06T18:39:46Z",
        update_date: "2015-02-06T18:39:46Z",
    },
    AwsManagedPolicy {
        name: "PowerUserAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/PowerUserAccess",
        document: include_str!("../managed-policies/PowerUserAccess.json"),
        policy_id: "ANPAJYRXTHIB4FOVS3ZXS",
        description: "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
        default_version_id: "v12",
        create_date: "2015-02-06T18:39:47Z",
        update_date: "2026-02-12T17:59:14Z",
    },
    // Scoped: AWS's two "ReadOnlyActionsGroup" statements, keeping only the actions of
    // SERVED_SERVICES (AWS's lists about 2,900 actions of every service).
    AwsManagedPolicy {
        name: "ReadOnlyAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
        document: include_str!("../managed-policies/ReadOnlyAccess.json"),
        policy_id: "ANPAILL3HVNFSB6DCOWYQ",
        description: "Provides read-only access to AWS services and resources.",
        default_version_id: "v188",
        create_date: "2015-02-06T18:39:48Z",
        update_date: "2026-07-21T18:42:30Z",
    },
    AwsManagedPolicy {
        name: "IAMFullAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/IAMFullAccess",
        document: include_str!("../managed-policies/IAMFullAccess.json"),
        policy_id: "ANPAI7XKCFMBPM3QQRRVQ",
        description: "Provides full access to IAM via the AWS Management Console.",
        default_version_id: "v2",
        create_date: "2015-02-06T18:40:38Z",
        update_date: "2019-06-21T19:40:00Z",
    },
    AwsManagedPolicy {
        name: "IAMReadOnlyAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        document: include_str!("../managed-policies/IAMReadOnlyAccess.json"),
        policy_id: "ANPAJKSO7NDY4T57MWDSQ",
        description: "Provides read only access to IAM via the AWS Management Console.",
        default_version_id: "v4",
        create_date: "2015-02-06T18:40:39Z",
        update_date: "2018-01-25T19:11:27Z",
    },
    AwsManagedPolicy {
        name: "IAMUserChangePassword",
        path: "/",
        arn: "arn:aws:iam::aws:policy/IAMUserChangePassword",
        document: include_str!("../managed-policies/IAMUserChangePassword.json"),
        policy_id: "ANPAJ4L4MM2A7QIEB56MS",
        description: "Provides the ability for an IAM user to change their own password.",
        default_version_id: "v5",
        create_date: "2016-11-15T00:25:16Z",
        update_date: "2026-02-12T17:58:57Z",
    },
    // Scoped: AWS's "BaseSecurityAuditStatement" with only the actions of SERVED_SERVICES;
    // the API Gateway statement is left out.
    AwsManagedPolicy {
        name: "SecurityAudit",
        path: "/",
        arn: "arn:aws:iam::aws:policy/SecurityAudit",
        document: include_str!("../managed-policies/SecurityAudit.json"),
        policy_id: "ANPAIX2T3QCXHR2OGGCTO",
        description: "The security audit template grants access to read security configuration metadata. It is useful for software that audits the configuration of an AWS account.",
        default_version_id: "v92",
        create_date: "2015-02-06T18:41:01Z",
        update_date: "2026-08-17T15:27:26Z",
    },
    AwsManagedPolicy {
        name: "AWSKeyManagementServicePowerUser",
        path: "/",
        arn: "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser",
        document: include_str!("../managed-policies/AWSKeyManagementServicePowerUser.json"),
        policy_id: "ANPAJNPP7PPPPMJRV2SA4",
        description: "Provides access to AWS Key Management Service (KMS).",
        default_version_id: "v2",
        create_date: "2015-02-06T18:40:40Z",
        update_date: "2017-03-07T00:55:11Z",
    },
    // AWS's document, whole: it is small, and its actions on other services (Lambda,
    // CloudFormation, RDS…) allow nothing here but cost nothing either.
    AwsManagedPolicy {
        name: "SecretsManagerReadWrite",
        path: "/",
        arn: "arn:aws:iam::aws:policy/SecretsManagerReadWrite",
        document: include_str!("../managed-policies/SecretsManagerReadWrite.json"),
        policy_id: "ANPAI3VG7CI5BIQZQ6G2E",
        description: "Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM actions, so combine with IAMFullAccess if rotation configuration is required.",
        default_version_id: "v5",
        create_date: "2018-04-04T18:05:29Z",
        update_date: "2024-02-22T18:12:06Z",
    },
    AwsManagedPolicy {
        name: "AmazonSSMReadOnlyAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
        document: include_str!("../managed-policies/AmazonSSMReadOnlyAccess.json"),
        policy_id: "ANPAJODSKQGGJTHRYZ5FC",
        description: "Provides read only access to Amazon SSM.",
        default_version_id: "v1",
        create_date: "2015-05-29T17:44:19Z",
        update_date: "2015-05-29T17:44:19Z",
    },
    AwsManagedPolicy {
        name: "AWSCloudTrail_ReadOnlyAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
        document: include_str!("../managed-policies/AWSCloudTrail_ReadOnlyAccess.json"),
        policy_id: "ANPAZKAPJZG4OGLRVUGKM",
        description: "Provides read only access to AWS CloudTrail.",
        default_version_id: "v1",
        create_date: "2022-06-14T17:19:05Z",
        update_date: "2022-06-14T17:19:05Z",
    },
    AwsManagedPolicy {
        name: "AWSOrganizationsReadOnlyAccess",
        path: "/",
        arn: "arn:aws:iam::aws:policy/AWSOrganizationsReadOnlyAccess",
        document: include_str!("../managed-policies/AWSOrganizationsReadOnlyAccess.json"),
        policy_id: "ANPAJY5RQATUV77PEPVOM",
        description: "Provides read-only access to AWS Organizations.",
        default_version_id: "v6",
        create_date: "2018-11-06T20:32:38Z",
        update_date: "2024-06-07T21:32:16Z",
    },
    // Scoped: AWS's "GeneralViewOnlyAccessStatement" with only the actions of
    // SERVED_SERVICES; the API Gateway statement is left out.
    AwsManagedPolicy {
        name: "ViewOnlyAccess",
        path: "/job-function/",
        arn: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        document: include_str!("../managed-policies/ViewOnlyAccess.json"),
        policy_id: "ANPAID22R6XPJATWOFDK6",
        description: "This policy grants permissions to view resources and basic metadata across all AWS services.",
        default_version_id: "v45",
        create_date: "2016-11-10T17:20:15Z",
        update_date: "2026-04-22T18:12:21Z",
    },
];

/// AssumeRoot's task policies (`arn:aws:iam::aws:policy/root-task/…`), AWS's documents as
/// published with version v1 (2024-11-06). Each only denies: it cuts a root session down to
/// one privileged task. Rampart serves them as AssumeRoot's task policies only, not through
/// GetPolicy (their IAM metadata is not recorded here), so they are not in [`ALL`].
pub static ROOT_TASK_POLICIES: &[(&str, &str)] = &[
    (
        "IAMAuditRootUserCredentials",
        include_str!("../managed-policies/root-task/IAMAuditRootUserCredentials.json"),
    ),
    (
        "IAMCreateRootUserPassword",
        include_str!("../managed-policies/root-task/IAMCreateRootUserPassword.json"),
    ),
    (
        "IAMDeleteRootUserCredentials",
        include_str!("../managed-policies/root-task/IAMDeleteRootUserCredentials.json"),
    ),
    (
        "S3UnlockBucketPolicy",
        include_str!("../managed-policies/root-task/S3UnlockBucketPolicy.json"),
    ),
    (
        "SQSUnlockQueuePolicy",
        include_str!("../managed-policies/root-task/SQSUnlockQueuePolicy.json"),
    ),
];

/// The ARN prefix of AssumeRoot's task policies.
pub const ROOT_TASK_ARN_PREFIX: &str = "arn:aws:iam::aws:policy/root-task/";

/// The document of the task policy `arn` names, if it is one of [`ROOT_TASK_POLICIES`].
pub fn root_task_policy(arn: &str) -> Option<&'static str> {
    let name = arn.strip_prefix(ROOT_TASK_ARN_PREFIX)?;
    ROOT_TASK_POLICIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, document)| *document)
}

/// The AWS managed policy with `arn`, if Rampart knows it.
pub fn get(arn: &str) -> Option<&'static AwsManagedPolicy> {
    ALL.iter().find(|p| p.arn == arn)
}

/// Whether `arn` names a policy AWS manages (known to Rampart or not).
pub fn is_aws_managed_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws:iam::aws:policy/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_policy::{Policy, PolicyKind};

    #[test]
    fn every_document_is_a_valid_identity_policy() {
        for policy in ALL {
            if let Err(e) = Policy::parse_as(policy.document, PolicyKind::Identity) {
                panic!("{}: {e}", policy.name);
            }
        }
        for (name, document) in ROOT_TASK_POLICIES {
            if let Err(e) = Policy::parse_as(document, PolicyKind::Identity) {
                panic!("{name}: {e}");
            }
            let arn = format!("{ROOT_TASK_ARN_PREFIX}{name}");
            assert_eq!(root_task_policy(&arn), Some(*document));
        }
        assert_eq!(
            root_task_policy("arn:aws:iam::aws:policy/AdministratorAccess"),
            None
        );
    }

    #[test]
    fn arns_are_made_of_path_and_name_and_ids_look_like_aws() {
        for policy in ALL {
            assert_eq!(
                policy.arn,
                format!("arn:aws:iam::aws:policy{}{}", policy.path, policy.name)
            );
            assert!(policy.policy_id.starts_with("ANPA"), "{}", policy.name);
            assert_eq!(policy.policy_id.len(), 21, "{}", policy.name);
            assert!(policy.default_version_id.starts_with('v'));
            assert!(policy.create_date <= policy.update_date, "{}", policy.name);
            assert!(get(policy.arn).is_some());
        }
        let mut names: Vec<_> = ALL.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn scoped_documents_name_only_served_services() {
        for name in ["ReadOnlyAccess", "SecurityAudit", "ViewOnlyAccess"] {
            let policy = ALL.iter().find(|p| p.name == name).unwrap();
            let doc: serde_json::Value = serde_json::from_str(policy.document).unwrap();
            let statements = doc["Statement"].as_array().unwrap();
            assert!(!statements.is_empty());
            for statement in statements {
                for action in statement["Action"].as_array().unwrap() {
                    let service = action.as_str().unwrap().split(':').next().unwrap();
                    assert!(SERVED_SERVICES.contains(&service), "{name}: {action}");
                }
            }
        }
    }

    #[test]
    fn administrator_access_is_awss_document() {
        let admin = get("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        let doc: serde_json::Value = serde_json::from_str(admin.document).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        );
    }
}
