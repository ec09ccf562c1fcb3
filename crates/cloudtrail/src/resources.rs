//! Resource types as CloudTrail names them, from ARNs.

/// The CloudTrail resource type of an ARN, the name LookupEvents reports for it (IAM users,
/// roles, groups and instance profiles by name, the rest by ARN) and the owning account; or
/// `None` for an ARN that names no resource type Rampart records.
pub fn resource_of(arn: &str) -> Option<(&'static str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(_region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let (kind, id) = rest.split_once('/').unwrap_or((rest, ""));
    // IAM paths come between the type and the name: the name is the last segment.
    let last = id.rsplit('/').next().unwrap_or(id);
    let (kind, name) = match (service, kind) {
        ("iam", "user") => ("AWS::IAM::User", last),
        ("iam", "role") => ("AWS::IAM::Role", last),
        ("iam", "group") => ("AWS::IAM::Group", last),
        ("iam", "instance-profile") => ("AWS::IAM::InstanceProfile", last),
        ("iam", "policy") => ("AWS::IAM::Policy", arn),
        ("iam", "mfa") => ("AWS::IAM::MFADevice", arn),
        ("iam", "oidc-provider") => ("AWS::IAM::OIDCProvider", arn),
        ("iam", "saml-provider") => ("AWS::IAM::SAMLProvider", arn),
        ("kms", "key") => ("AWS::KMS::Key", arn),
        ("kms", "alias") => ("AWS::KMS::Alias", arn),
        ("cloudtrail", "trail") => ("AWS::CloudTrail::Trail", arn),
        _ => return None,
    };
    if name.is_empty() {
        return None;
    }
    Some((kind, name, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_resources_go_by_name_and_others_by_arn() {
        assert_eq!(
            resource_of("arn:aws:iam::123456789012:user/division/bob"),
            Some(("AWS::IAM::User", "bob", "123456789012"))
        );
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234";
        assert_eq!(
            resource_of(key),
            Some(("AWS::KMS::Key", key, "123456789012"))
        );
        assert_eq!(resource_of("*"), None);
        assert_eq!(resource_of("arn:aws:iam::123456789012:root"), None);
    }
}
