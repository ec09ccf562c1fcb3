//! Service-linked roles: `CreateServiceLinkedRole`, `DeleteServiceLinkedRole`,
//! `GetServiceLinkedRoleDeletionStatus`.
//!
//! A service-linked role is an ordinary role record under `/aws-service-role/<service>/`,
//! trusted by the service principal, named `AWSServiceRoleFor<Service>` (plus `_<suffix>`).
//! AWS deletes one asynchronously after checking the service no longer uses it; Rampart runs
//! no such services, so it deletes at once and records the task as `SUCCEEDED` for the
//! status call. AWS also attaches the service's managed permissions policy; Rampart's
//! catalogue of AWS managed policies does not carry those, so the role has none.

use rampart_service::{AwsError, Env, Operation, Resource, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::IamError;
use crate::ids::{IdPrefix, unique_id};
use crate::records::{self, ROLES, RoleRecord};
use crate::roles::{DEFAULT_MAX_SESSION_DURATION, Role};

/// Namespace of deletion tasks: `<account>/<task id>` → the task.
pub const TASKS: &str = "iam.slr-deletion-task";

/// The path prefix of every service-linked role.
const PATH_PREFIX: &str = "/aws-service-role/";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "CreateServiceLinkedRole",
            "iam:CreateServiceLinkedRole",
            create_service_linked_role,
        )
        .resources(new_role_resource),
        Operation::write(
            "DeleteServiceLinkedRole",
            "iam:DeleteServiceLinkedRole",
            delete_service_linked_role,
        )
        .resources(crate::resources::named_role),
        Operation::read(
            "GetServiceLinkedRoleDeletionStatus",
            "iam:GetServiceLinkedRoleDeletionStatus",
            get_service_linked_role_deletion_status,
        )
        .resources(task_resource),
    ]
}

/// The role CreateServiceLinkedRole is about to make, with its path.
fn new_role_resource(
    env: &Env<'_>,
    _: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    let service = input
        .get("AWSServiceName")
        .and_then(|v| v.as_str())
        .unwrap_or("*");
    let suffix = input.get("CustomSuffix").and_then(|v| v.as_str());
    let name = role_name(service, suffix);
    Ok(vec![Resource::named(records::arn(
        &env.caller.account_id,
        "role",
        &format!("{PATH_PREFIX}{service}/"),
        &name,
    ))])
}

/// A task ID names its role: `task/aws-service-role/<service>/<role>/<uuid>`.
fn task_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<Resource>, AwsError> {
    let role = input
        .get("DeletionTaskId")
        .and_then(|v| v.as_str())
        .and_then(|id| id.strip_prefix("task/"))
        .and_then(|rest| rest.rsplit_once('/'))
        .map(|(role, _uuid)| role.to_owned());
    match role {
        Some(role) => {
            // `aws-service-role/<service>/<name>`: the role's path and name.
            let name = role.rsplit('/').next().unwrap_or(&role);
            let found = crate::resources::role(env, tx, name)?;
            let arn = format!("arn:aws:iam::{}:role/{role}", env.caller.account_id);
            Ok(vec![if found.arn == arn {
                found
            } else {
                Resource::named(arn)
            }])
        }
        None => Ok(vec![Resource::any()]),
    }
}

/// The names AWS gives the service-linked roles of well-known services; others get the
/// service's first label, capitalized (`foo.amazonaws.com` → `AWSServiceRoleForFoo`).
fn service_part(service: &str) -> String {
    let label = service.split('.').next().unwrap_or(service);
    let known = match label {
        "autoscaling" => Some("AutoScaling"),
        "elasticloadbalancing" => Some("ElasticLoadBalancing"),
        "elasticbeanstalk" => Some("ElasticBeanstalk"),
        "ecs" => Some("ECS"),
        "eks" => Some("AmazonEKS"),
        "rds" => Some("RDS"),
        "guardduty" => Some("AmazonGuardDuty"),
        "organizations" => Some("Organizations"),
        "support" => Some("Support"),
        "trustedadvisor" => Some("TrustedAdvisor"),
        "config" => Some("Config"),
        "cloudtrail" => Some("CloudTrail"),
        "ssm" => Some("AmazonSSM"),
        "spot" => Some("EC2Spot"),
        "securityhub" => Some("SecurityHub"),
        "access-analyzer" => Some("AccessAnalyzer"),
        _ => None,
    };
    match known {
        Some(name) => name.to_owned(),
        None => {
            let mut chars = label.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        }
    }
}

fn role_name(service: &str, suffix: Option<&str>) -> String {
    let base = format!("AWSServiceRoleFor{}", service_part(service));
    match suffix {
        Some(suffix) => format!("{base}_{suffix}"),
        None => base,
    }
}

/// The trust policy AWS writes for a service-linked role.
fn trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": [service]},
            "Action": ["sts:AssumeRole"],
        }],
    })
    .to_string()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    #[serde(rename = "AWSServiceName")]
    aws_service_name: String,
    description: Option<String>,
    custom_suffix: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateOutput {
    role: Role,
}

fn create_service_linked_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateInput,
) -> Result<CreateOutput, IamError> {
    let account = env.caller.account_id.clone();
    let service = input.aws_service_name;
    // Service principals are DNS names under amazonaws.com.
    if !service.ends_with(".amazonaws.com") || service.len() <= ".amazonaws.com".len() {
        return Err(IamError::InvalidInput(format!(
            "Invalid ServiceName: {service}"
        )));
    }
    let name = role_name(&service, input.custom_suffix.as_deref());
    if get_json::<RoleRecord>(tx, ROLES, &records::key(&account, &name))?.is_some() {
        return Err(IamError::InvalidInput(format!(
            "Service role name {name} has been taken in this account, please try a different \
             suffix."
        )));
    }
    let path = format!("{PATH_PREFIX}{service}/");
    let role = RoleRecord {
        arn: records::arn(&account, "role", &path, &name),
        account_id: account,
        role_id: unique_id(IdPrefix::Role, env.entropy),
        role_name: name,
        path,
        create_date: aws_timestamp(env.now),
        assume_role_policy_document: trust_policy(&service),
        trust_principal_ids: Default::default(),
        description: input.description,
        max_session_duration: DEFAULT_MAX_SESSION_DURATION,
        permissions_boundary: None,
        tags: Vec::new(),
        attached_policies: Vec::new(),
        inline_policies: Default::default(),
        role_last_used: None,
    };
    records::put_role(tx, &role)?;
    Ok(CreateOutput {
        role: Role::full(&role),
    })
}

/// A deletion task; Rampart's finish when they are made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeletionTask {
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    role_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteOutput {
    deletion_task_id: String,
}

/// A random RFC 4122 version-4 UUID, as AWS's task IDs end with.
fn uuid(env: &Env<'_>) -> String {
    let mut bytes = [0u8; 16];
    env.entropy.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = data_encoding::HEXLOWER.encode(&bytes);
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

fn delete_service_linked_role(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteInput,
) -> Result<DeleteOutput, IamError> {
    let account = env.caller.account_id.clone();
    let role = records::role(tx, &account, &input.role_name)?;
    let Some(service_path) = role.path.strip_prefix(PATH_PREFIX) else {
        return Err(IamError::InvalidInput(format!(
            "Role {} is not a service-linked role.",
            role.role_name
        )));
    };
    let task_id = format!(
        "task{PATH_PREFIX}{service_path}{}/{}",
        role.role_name,
        uuid(env)
    );
    // The role's own policies go with it, as AWS's deletion cleans them up.
    tx.delete(ROLES, &records::key(&account, &role.role_name))?;
    crate::access_advisor::forget_entity(tx, &account, &role.arn)?;
    put_json(
        tx,
        TASKS,
        &format!("{account}/{task_id}"),
        &DeletionTask {
            status: "SUCCEEDED".into(),
        },
    )?;
    Ok(DeleteOutput {
        deletion_task_id: task_id,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusInput {
    deletion_task_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusOutput {
    status: String,
}

fn get_service_linked_role_deletion_status(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: StatusInput,
) -> Result<StatusOutput, IamError> {
    let id = input.deletion_task_id;
    if !id.starts_with("task/aws-service-role/") {
        return Err(IamError::InvalidInput(format!(
            "Invalid deletion task id: {id}"
        )));
    }
    let task: DeletionTask = get_json(tx, TASKS, &format!("{}/{id}", env.caller.account_id))?
        .ok_or_else(|| IamError::NoSuchEntity(format!("Deletion task {id} cannot be found.")))?;
    Ok(StatusOutput {
        status: task.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn create(t: &TestEnv, service: &str, suffix: Option<&str>) -> Result<CreateOutput, IamError> {
        let input = CreateInput {
            aws_service_name: service.into(),
            description: Some("for tests".into()),
            custom_suffix: suffix.map(str::to_owned),
        };
        t.write(move |env, tx| create_service_linked_role(env, tx, input))
    }

    #[test]
    fn created_under_the_service_path_trusting_the_service() {
        let t = TestEnv::new();
        let role = serde_json::to_value(
            create(&t, "elasticbeanstalk.amazonaws.com", None)
                .unwrap()
                .role,
        )
        .unwrap();
        assert_eq!(role["RoleName"], "AWSServiceRoleForElasticBeanstalk");
        assert_eq!(
            role["Arn"],
            format!(
                "arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk"
            )
        );
        let stored = t
            .read(|_, tx| records::role(tx, ACCOUNT, "AWSServiceRoleForElasticBeanstalk"))
            .unwrap();
        assert!(
            stored
                .assume_role_policy_document
                .contains("elasticbeanstalk.amazonaws.com")
        );
        let err = create(&t, "elasticbeanstalk.amazonaws.com", None).unwrap_err();
        assert!(matches!(err, IamError::InvalidInput(m) if m.contains("has been taken")));
        let suffixed = serde_json::to_value(
            create(&t, "autoscaling.amazonaws.com", Some("web"))
                .unwrap()
                .role,
        )
        .unwrap();
        assert_eq!(suffixed["RoleName"], "AWSServiceRoleForAutoScaling_web");
        assert!(matches!(
            create(&t, "not-a-service", None),
            Err(IamError::InvalidInput(_))
        ));
    }

    #[test]
    fn deletion_is_immediate_and_reports_succeeded() {
        let t = TestEnv::new();
        create(&t, "ecs.amazonaws.com", None).unwrap();
        let input = DeleteInput {
            role_name: "AWSServiceRoleForECS".into(),
        };
        let task = t
            .write(move |env, tx| delete_service_linked_role(env, tx, input))
            .unwrap()
            .deletion_task_id;
        assert!(task.starts_with("task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/"));
        assert_eq!(task.rsplit('/').next().unwrap().len(), 36);
        assert!(
            t.read(|_, tx| records::role(tx, ACCOUNT, "AWSServiceRoleForECS"))
                .is_err()
        );
        let input = StatusInput {
            deletion_task_id: task,
        };
        let status = t
            .read(move |env, tx| get_service_linked_role_deletion_status(env, tx, input))
            .unwrap();
        assert_eq!(status.status, "SUCCEEDED");
        let input = StatusInput {
            deletion_task_id: "task/aws-service-role/x/y/z".into(),
        };
        assert!(matches!(
            t.read(move |env, tx| get_service_linked_role_deletion_status(env, tx, input)),
            Err(IamError::NoSuchEntity(_))
        ));
    }

    #[test]
    fn ordinary_roles_are_not_deleted_as_service_linked() {
        let t = TestEnv::new();
        crate::roles::tests::create(&t, "plain");
        let input = DeleteInput {
            role_name: "plain".into(),
        };
        assert!(matches!(
            t.write(move |env, tx| delete_service_linked_role(env, tx, input)),
            Err(IamError::InvalidInput(_))
        ));
    }
}
