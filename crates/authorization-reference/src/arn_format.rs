//! ARN formats such as `arn:${Partition}:iam::${Account}:user/${UserNameWithPath}`, and
//! whether a concrete ARN is one of them.

use regex::Regex;

/// One resource type's ARN format.
#[derive(Debug, Clone, Copy)]
pub struct ArnFormat<'a> {
    template: &'a str,
}

impl<'a> ArnFormat<'a> {
    /// The format `template`, in the reference's `${Variable}` notation.
    pub fn new(template: &'a str) -> Self {
        Self { template }
    }

    /// The template as the reference writes it.
    pub fn template(&self) -> &'a str {
        self.template
    }

    /// Whether `arn` is an ARN of this format. Variables take what AWS puts there: a
    /// partition, a 12-digit account (or `aws` for AWS-owned resources such as AWS managed
    /// policies), a region; a name `…WithPath`, a KMS alias, a Parameter Store parameter's
    /// name (its hierarchy), a Systems Manager resource ID (a service setting's path) and a
    /// secret's name may hold `/`, other names may not.
    pub fn matches(&self, arn: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(arn))
    }

    fn regex(&self) -> Option<Regex> {
        let mut pattern = String::from("^");
        let mut rest = self.template;
        while let Some(start) = rest.find("${") {
            let (literal, after) = rest.split_at(start);
            pattern.push_str(&regex::escape(literal));
            let end = after.find('}')?;
            let variable = after.get(2..end)?;
            pattern.push_str(match variable {
                "Partition" => "aws(?:-[a-z]+)*",
                "Account" => "(?:[0-9]{12}|aws)",
                "Region" => "[a-z]{2}(?:-[a-z]+)+-[0-9]",
                v if v.ends_with("WithPath")
                    || matches!(
                        v,
                        "Alias" | "ParameterNameWithoutLeadingSlash" | "ResourceId" | "SecretId"
                    ) =>
                {
                    "[^:]+"
                }
                _ => "[^:/]+",
            });
            rest = after.get(end + 1..)?;
        }
        pattern.push_str(&regex::escape(rest));
        pattern.push('$');
        Regex::new(&pattern).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_part_of_names_with_path_only() {
        let user = ArnFormat::new("arn:${Partition}:iam::${Account}:user/${UserNameWithPath}");
        assert!(user.matches("arn:aws:iam::123456789012:user/alice"));
        assert!(user.matches("arn:aws:iam::123456789012:user/admins/boss"));
        assert!(!user.matches("arn:aws:iam::123456789012:role/alice"));
        assert!(!user.matches("arn:aws:iam::12345:user/alice"));
        let trail =
            ArnFormat::new("arn:${Partition}:cloudtrail:${Region}:${Account}:trail/${TrailName}");
        assert!(trail.matches("arn:aws:cloudtrail:eu-west-1:123456789012:trail/main"));
        assert!(!trail.matches("arn:aws:cloudtrail:eu-west-1:123456789012:trail/a/b"));
        assert!(!trail.matches("arn:aws:cloudtrail::123456789012:trail/main"));
    }

    #[test]
    fn aws_owned_resources_name_the_aws_account() {
        let policy =
            ArnFormat::new("arn:${Partition}:iam::${Account}:policy/${PolicyNameWithPath}");
        assert!(policy.matches("arn:aws:iam::aws:policy/AdministratorAccess"));
        assert!(policy.matches("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"));
        let alias = ArnFormat::new("arn:${Partition}:kms:${Region}:${Account}:alias/${Alias}");
        assert!(alias.matches("arn:aws:kms:us-east-1:123456789012:alias/aws/ssm"));
    }

    #[test]
    fn parameters_and_settings_hold_their_paths() {
        let parameter = ArnFormat::new(
            "arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}",
        );
        assert!(parameter.matches("arn:aws:ssm:us-east-1:123456789012:parameter/top"));
        assert!(parameter.matches("arn:aws:ssm:us-east-1:123456789012:parameter/a/b/c"));
        assert!(!parameter.matches("arn:aws:ssm:us-east-1:123456789012:document/a"));
        let setting = ArnFormat::new(
            "arn:${Partition}:ssm:${Region}:${Account}:servicesetting/${ResourceId}",
        );
        assert!(setting.matches(
            "arn:aws:ssm:us-east-1:123456789012:servicesetting/ssm/parameter-store/high-throughput-enabled"
        ));
    }
}
