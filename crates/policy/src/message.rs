//! AWS's AccessDenied message text.
//!
//! The IAM User Guide page "Troubleshoot access denied error messages" gives
//! the shape: `User: ARN is not authorized to perform: ACTION on resource:
//! RESOURCE because no identity-based policy allows the ACTION action`, or
//! `… with an explicit deny in a service control policy`.

use crate::decision::{Decision, DecisionKind, PolicyType};
use crate::request::Request;

/// The AccessDenied message for a denied request; `None` when allowed.
pub fn access_denied_message(request: &Request, decision: &Decision) -> Option<String> {
    let action = request.action.as_str();
    let mut message = format!(
        "User: {} is not authorized to perform: {action}",
        request.principal.arn()
    );
    if !request.resource.is_empty() && request.resource != "*" {
        message.push_str(" on resource: ");
        message.push_str(&request.resource);
    }
    let policy_type = decision.decided_by.unwrap_or(PolicyType::IdentityBased);
    match decision.kind {
        DecisionKind::Allow => return None,
        DecisionKind::ExplicitDeny => {
            let article = if policy_type == PolicyType::IdentityBased {
                "an"
            } else {
                "a"
            };
            message.push_str(&format!(
                " with an explicit deny in {article} {}",
                policy_type.phrase()
            ));
        }
        DecisionKind::ImplicitDeny => {
            message.push_str(&format!(
                " because no {} allows the {action} action",
                policy_type.phrase()
            ));
        }
    }
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Principal;

    fn request() -> Request {
        Request::new(
            Principal::parse("arn:aws:iam::123456789012:user/bob").unwrap(),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        )
    }

    fn decision(kind: DecisionKind, by: PolicyType) -> Decision {
        Decision {
            kind,
            decided_by: Some(by),
            matched_statements: Vec::new(),
        }
    }

    #[test]
    fn implicit_and_explicit() {
        assert_eq!(
            access_denied_message(
                &request(),
                &decision(DecisionKind::ImplicitDeny, PolicyType::IdentityBased)
            )
            .unwrap(),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:GetObject action"
        );
        assert_eq!(
            access_denied_message(
                &request(),
                &decision(DecisionKind::ExplicitDeny, PolicyType::ServiceControlPolicy)
            )
            .unwrap(),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in a service control policy"
        );
        assert_eq!(
            access_denied_message(
                &request(),
                &decision(DecisionKind::ExplicitDeny, PolicyType::IdentityBased)
            )
            .unwrap(),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in an identity-based policy"
        );
        assert!(
            access_denied_message(
                &request(),
                &decision(DecisionKind::Allow, PolicyType::IdentityBased)
            )
            .is_none()
        );
    }

    #[test]
    fn no_resource_part_for_star() {
        let mut r = request();
        r.resource = "*".into();
        let text = access_denied_message(
            &r,
            &decision(DecisionKind::ImplicitDeny, PolicyType::PermissionsBoundary),
        )
        .unwrap();
        assert!(text.ends_with(
            "perform: s3:GetObject because no permissions boundary allows the s3:GetObject action"
        ));
    }
}
