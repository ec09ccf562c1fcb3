//! The reference as policy validation's catalog of AWS's services.

use rampart_policy::ActionCatalog;

use crate::{Reference, key_matches_template};

impl ActionCatalog for Reference {
    fn action_names(&self, service: &str) -> Option<Vec<&str>> {
        self.service(service).map(|s| s.action_names().collect())
    }

    fn defines_key(&self, service: &str, key: &str) -> bool {
        self.service(service)
            .is_some_and(|s| s.defines_condition_key(key))
    }

    fn supports_key(&self, service: &str, action: &str, key: &str) -> bool {
        let Some(svc) = self.service(service) else {
            return false;
        };
        svc.action(action).is_some_and(|a| {
            svc.condition_keys_of(a)
                .iter()
                .any(|template| key_matches_template(key, template))
        })
    }

    fn resource_matches(&self, service: &str, arn: &str) -> bool {
        self.service(service)
            .is_some_and(|s| s.resource_formats().any(|format| format.matches(arn)))
    }
}

#[cfg(test)]
mod tests {
    use rampart_policy::{PolicyKind, validate_with};

    use crate::reference;

    fn codes(document: &str) -> Vec<&'static str> {
        let mut codes: Vec<&str> = validate_with(document, PolicyKind::Identity, Some(reference()))
            .iter()
            .map(|f| f.issue_code)
            .collect();
        codes.sort_unstable();
        codes
    }

    fn policy(statement: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)
    }

    #[test]
    fn actions_must_exist_in_the_services_it_describes() {
        let doc = policy(
            r#"{"Effect":"Allow","Action":["kms:Decrypt","kms:Decrypts","iam:Get*","iam:Nope*","s3:AnythingGoes"],"Resource":"*"}"#,
        );
        assert_eq!(codes(&doc), ["INVALID_ACTION", "INVALID_ACTION"]);
    }

    #[test]
    fn service_keys_must_exist_and_apply_to_the_actions() {
        let unknown = policy(
            r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:NoSuchKey":"x"}}}"#,
        );
        assert_eq!(codes(&unknown), ["INVALID_SERVICE_CONDITION_KEY"]);
        let unsupported = policy(
            r#"{"Effect":"Allow","Action":["kms:Decrypt","kms:ListKeys"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:purpose":"x"}}}"#,
        );
        let findings = validate_with(&unsupported, PolicyKind::Identity, Some(reference()));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].issue_code,
            "UNSUPPORTED_ACTION_FOR_CONDITION_KEY"
        );
        assert!(findings[0].message.contains("kms:ListKeys"));
        assert!(!findings[0].message.contains("kms:Decrypt"));
        let fine = policy(
            r#"{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}"#,
        );
        assert!(codes(&fine).is_empty());
    }

    #[test]
    fn resource_arns_must_be_of_a_resource_type() {
        let doc = policy(
            r#"{"Effect":"Allow","Action":"iam:GetRole","Resource":["arn:aws:iam::123456789012:role/admin/Protected","arn:aws:iam::123456789012:rolle/x","arn:aws:iam::123456789012:rol*","arn:aws:s3:::bucket"]}"#,
        );
        assert_eq!(codes(&doc), ["INVALID_ARN_RESOURCE"]);
    }
}
