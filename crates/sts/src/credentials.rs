//! Issuing temporary credentials, shared by every operation that makes a session.

use rampart_iam::ids::{self, IdPrefix};
use rampart_policy::{Policy, PolicyKind};
use rampart_service::{Env, aws_timestamp};
use rampart_store::ReadTx;
use serde::{Deserialize, Serialize};

use crate::StsError;
use crate::session::Session;

/// AWS's limit on the plain text of inline and managed session policies together.
const MAX_SESSION_POLICY_CHARS: usize = 2048;

/// Credentials as STS returns them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

/// A managed policy ARN passed as a session policy (`PolicyArns.member.N.arn`).
#[derive(Debug, Deserialize)]
pub struct PolicyArn {
    arn: Option<String>,
}

/// A new `ASIA…` key and its secret, for `account_id`.
pub(crate) fn new_key(env: &Env<'_>, account_id: &str) -> (String, String) {
    let account: u64 = account_id.parse().unwrap_or_default();
    (
        ids::access_key_id(IdPrefix::TemporaryAccessKey, account, env.entropy),
        ids::secret_access_key(env.entropy),
    )
}

/// The response's credentials for `session`.
pub(crate) fn credentials(env: &Env<'_>, session: &Session) -> Credentials {
    let expiration =
        time::OffsetDateTime::from_unix_timestamp(session.expires_at).unwrap_or(env.now);
    Credentials {
        access_key_id: session.access_key_id.clone(),
        secret_access_key: session.secret_access_key.clone(),
        session_token: session.token(env.root_key),
        expiration: aws_timestamp(expiration),
    }
}

/// Session policies a request passes, and how much of AWS's size limit they take.
#[derive(Debug, Default)]
pub(crate) struct SessionPolicies {
    /// The documents: the inline `Policy` first, then those of `PolicyArns`.
    pub(crate) documents: Vec<String>,
    /// Characters counted against the limit (the inline policy without white space, and
    /// each managed policy's ARN), `None` when the request passed no policy.
    pub(crate) chars: Option<usize>,
}

impl SessionPolicies {
    /// `PackedPolicySize`: the percentage of the limit the session policies and tags take;
    /// `None` when the request passed neither, as AWS then leaves it out. AWS measures a
    /// packed binary form it does not document; Rampart measures plain text against the
    /// 2,048-character limit.
    pub(crate) fn packed_size(&self, tags: &[(String, String)]) -> Option<i64> {
        if self.chars.is_none() && tags.is_empty() {
            return None;
        }
        let tag_chars: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
        let chars = self.chars.unwrap_or_default() + tag_chars;
        i64::try_from(chars.saturating_mul(100).div_ceil(MAX_SESSION_POLICY_CHARS)).ok()
    }
}

/// The session policies a request passes: the inline `Policy` and the documents of
/// `PolicyArns`, validated and within AWS's size limit. `PolicyArns` may name AWS managed
/// policies and customer managed policies of `account_id` (the role's account, or the
/// calling user's for a federated user), as AWS documents.
pub(crate) fn session_policies(
    tx: &mut dyn ReadTx,
    account_id: &str,
    inline: Option<String>,
    arns: Vec<PolicyArn>,
) -> Result<SessionPolicies, StsError> {
    let mut documents = Vec::new();
    let mut chars = 0;
    if let Some(document) = inline {
        Policy::parse_as(&document, PolicyKind::Session)
            .map_err(|e| StsError::MalformedPolicyDocument(e.aws_message().to_owned()))?;
        chars += document.chars().filter(|c| !c.is_whitespace()).count();
        documents.push(document);
    }
    for arn in arns.into_iter().filter_map(|a| a.arn) {
        let document = managed_document(tx, account_id, &arn)?.ok_or_else(|| {
            StsError::Validation(format!("Policy {arn} does not exist or is not attachable."))
        })?;
        chars += arn.len();
        documents.push(document);
    }
    if chars > MAX_SESSION_POLICY_CHARS {
        let percent = chars * 100 / MAX_SESSION_POLICY_CHARS;
        return Err(StsError::PackedPolicyTooLarge(format!(
            "Packed policy consumes {percent}% of allotted space, please use smaller policy."
        )));
    }
    Ok(SessionPolicies {
        chars: (!documents.is_empty()).then_some(chars),
        documents,
    })
}

/// The default document of the managed policy `arn` if `account_id` may use it: an AWS
/// managed policy, or one of the account's own. Another account's policy is never read, so
/// it answers as one that does not exist, whether it exists or not.
fn managed_document(
    tx: &mut dyn ReadTx,
    account_id: &str,
    arn: &str,
) -> Result<Option<String>, StsError> {
    let usable = rampart_iam::policies::parse_policy_arn(arn)
        .is_some_and(|(owner, _)| owner == account_id || owner == AWS_MANAGED_OWNER);
    if !usable {
        return Ok(None);
    }
    Ok(rampart_iam::policies::default_document(tx, arn)?)
}

/// The account part of AWS managed policies' ARNs (`arn:aws:iam::aws:policy/…`).
const AWS_MANAGED_OWNER: &str = "aws";

/// `DurationSeconds` checked against `[900, max]`, defaulting to `default`.
pub(crate) fn duration(
    requested: Option<i64>,
    default: i64,
    max: i64,
    too_long: &str,
) -> Result<i64, StsError> {
    let seconds = requested.unwrap_or(default);
    if seconds > max {
        return Err(StsError::Validation(too_long.to_owned()));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_size_is_a_rounded_up_share_of_the_limit_or_absent() {
        let none = SessionPolicies::default();
        assert_eq!(none.packed_size(&[]), None);
        assert_eq!(none.packed_size(&[("k".into(), "v".into())]), Some(1));
        let policies = SessionPolicies {
            documents: vec!["{}".into()],
            chars: Some(1024),
        };
        assert_eq!(policies.packed_size(&[]), Some(50));
        assert_eq!(policies.packed_size(&[("ab".into(), "c".into())]), Some(51));
    }

    fn arns(list: &[&str]) -> Vec<PolicyArn> {
        list.iter()
            .map(|a| PolicyArn {
                arn: Some((*a).to_owned()),
            })
            .collect()
    }

    #[test]
    fn policy_arns_are_the_accounts_own_or_aws_managed() {
        use crate::provider_testing::{ACCOUNT, ProviderStore};
        let store = ProviderStore::new();
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let created = store
            .iam(
                "CreatePolicy",
                serde_json::json!({"PolicyName": "secret-sauce", "PolicyDocument": allow}),
            )
            .unwrap();
        let own = created["Policy"]["Arn"].as_str().unwrap().to_owned();
        let missing = format!("arn:aws:iam::{ACCOUNT}:policy/nothing-here");
        let aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        let resolve = |account: &'static str, list: Vec<String>| {
            store.read(move |tx| {
                let list: Vec<&str> = list.iter().map(String::as_str).collect();
                session_policies(tx, account, None, arns(&list))
            })
        };
        // The policy's own account, and AWS managed policies.
        let found = resolve(ACCOUNT, vec![own.clone(), aws.into()]).unwrap();
        assert_eq!(found.documents.len(), 2);
        assert!(found.documents[0].contains("s3:GetObject"));
        // Another account may not use it, and cannot tell it from one that does not exist.
        let other = "999988887777";
        let refused = |arn: &str| match resolve(other, vec![arn.to_owned()]) {
            Err(StsError::Validation(m)) => m.replace(arn, "<arn>"),
            unexpected => panic!("{unexpected:?}"),
        };
        assert_eq!(refused(&own), refused(&missing));
        assert_eq!(
            refused(&own),
            "Policy <arn> does not exist or is not attachable."
        );
        assert_eq!(resolve(other, vec![aws.into()]).unwrap().documents.len(), 1);
    }
}
