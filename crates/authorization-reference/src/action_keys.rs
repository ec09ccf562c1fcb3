//! The condition keys of each action, ready for the authorize step: which keys of the request
//! context AWS supplies for it, looked up without allocating on every request.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::reference;

/// The condition keys AWS lists for one action, lower-cased.
#[derive(Debug, Clone, Default)]
pub struct ActionKeys {
    /// The action's service prefix (`kms`).
    service: String,
    exact: HashSet<String>,
    /// Templates such as `kms:encryptioncontext:${…}`, cut before the variable.
    prefixes: Vec<String>,
}

impl ActionKeys {
    /// Whether the context of a request for this action may hold `key` (lower-cased).
    ///
    /// The keys of the action's own service and the tag keys (`aws:RequestTag/*`,
    /// `aws:TagKeys`, `aws:ResourceTag/*`) exist only where AWS lists them for the action;
    /// global keys and other services' keys (an identity provider's `saml:sub`, a role's
    /// `iam:ResourceTag/*` for `sts:AssumeRole`) are not this list's to refuse.
    pub fn supplies(&self, key: &str) -> bool {
        if !self.governs(key) {
            return true;
        }
        self.exact.contains(key)
            || self
                .prefixes
                .iter()
                .any(|p| key.len() > p.len() && key.starts_with(p.as_str()))
    }

    fn governs(&self, key: &str) -> bool {
        key.starts_with("aws:requesttag/")
            || key.starts_with("aws:resourcetag/")
            || key == "aws:tagkeys"
            || key
                .split_once(':')
                .is_some_and(|(prefix, _)| prefix == self.service)
    }
}

/// Keys AWS still evaluates under an older name that its reference no longer lists (KMS's
/// `CustomerMasterKey*` names, deprecated for `KeySpec` and `KeyUsage`): each is supplied
/// wherever its current name is.
const DEPRECATED_NAMES: &[(&str, &str)] = &[
    ("kms:keyspec", "kms:customermasterkeyspec"),
    ("kms:keyusage", "kms:customermasterkeyusage"),
];

/// The keys of `action` (`kms:Decrypt`), or `None` for an action the reference does not list,
/// whose service's own keys are then never supplied.
pub fn action_keys(action: &str) -> Option<&'static ActionKeys> {
    static ALL: OnceLock<HashMap<String, ActionKeys>> = OnceLock::new();
    let all = ALL.get_or_init(build);
    all.get(action)
        .or_else(|| all.get(&action.to_ascii_lowercase()))
}

fn build() -> HashMap<String, ActionKeys> {
    let mut all = HashMap::new();
    let reference = reference();
    for prefix in reference.prefixes() {
        let Some(service) = reference.service(prefix) else {
            continue;
        };
        for name in service.action_names() {
            let Some(action) = service.action(name) else {
                continue;
            };
            let mut keys = ActionKeys {
                service: prefix.to_ascii_lowercase(),
                ..ActionKeys::default()
            };
            for template in service.condition_keys_of(action) {
                let template = template.to_ascii_lowercase();
                match crate::template_prefix(&template) {
                    Some(prefix) => keys.prefixes.push(prefix.to_owned()),
                    None => {
                        keys.exact.insert(template);
                    }
                }
            }
            for (current, deprecated) in DEPRECATED_NAMES {
                if keys.exact.contains(*current) {
                    keys.exact.insert((*deprecated).to_owned());
                }
            }
            // Both spellings: the canonical one the code uses (no allocation per request),
            // and lower case for any other.
            let canonical = format!("{prefix}:{name}");
            all.insert(canonical.to_ascii_lowercase(), keys.clone());
            all.insert(canonical, keys);
        }
    }
    all
}

/// Whether AWS defines `key` as multivalued (an `ArrayOf…` type), which decides whether a
/// policy variable can be substituted from it.
pub fn is_multivalued(key: &str) -> bool {
    // Asked for each key of each request: the answer per key as written is kept, so that a
    // request's keys are looked up without lowercasing copies.
    thread_local! {
        static KNOWN: std::cell::RefCell<HashMap<String, bool>> = std::cell::RefCell::new(HashMap::new());
    }
    if let Some(known) = KNOWN.with(|k| k.borrow().get(key).copied()) {
        return known;
    }
    let answer = multivalued_by_reference(key);
    KNOWN.with(|k| {
        let mut known = k.borrow_mut();
        // Keys with caller-chosen parts (tag keys) could grow it without end.
        if known.len() >= 4096 {
            known.clear();
        }
        known.insert(key.to_owned(), answer);
    });
    answer
}

fn multivalued_by_reference(key: &str) -> bool {
    static MULTIVALUED: OnceLock<ActionKeys> = OnceLock::new();
    let multivalued = MULTIVALUED.get_or_init(|| {
        let reference = reference();
        let mut keys = ActionKeys::default();
        for service in reference.prefixes().filter_map(|p| reference.service(p)) {
            for template in service.multivalued_templates() {
                let template = template.to_ascii_lowercase();
                match template.find("${") {
                    Some(at) => keys
                        .prefixes
                        .push(template.get(..at).unwrap_or_default().to_owned()),
                    None => {
                        keys.exact.insert(template);
                    }
                }
            }
        }
        keys
    });
    let key = key.to_ascii_lowercase();
    multivalued.exact.contains(&key)
        || multivalued
            .prefixes
            .iter()
            .any(|p| key.len() > p.len() && key.starts_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_key_placeholder_supplies_every_tag() {
        let get = action_keys("ssm:GetParameter").unwrap();
        assert!(get.supplies("ssm:resourcetag/team"));
        assert!(get.supplies("aws:resourcetag/team"));
        assert!(!get.supplies("ssm:overwrite"));
    }

    #[test]
    fn service_and_tag_keys_are_supplied_where_listed_only() {
        let attach = action_keys("iam:AttachUserPolicy").unwrap();
        assert!(attach.supplies("iam:policyarn"));
        assert!(attach.supplies("iam:resourcetag/team"));
        assert!(attach.supplies("aws:resourcetag/team"));
        assert!(!attach.supplies("aws:requesttag/team"));
        assert!(!attach.supplies("iam:awsservicename"));
        // Global keys and other services' keys are not the action's to refuse.
        assert!(attach.supplies("aws:sourceip"));
        assert!(attach.supplies("saml:sub"));
        let get = action_keys("iam:GetUser").unwrap();
        assert!(!get.supplies("iam:permissionsboundary"));
        assert!(action_keys("IAM:getuser").is_some());
        assert!(action_keys("iam:NoSuchAction").is_none());
        let decrypt = action_keys("kms:Decrypt").unwrap();
        assert!(decrypt.supplies("kms:customermasterkeyspec"));
        assert!(
            !action_keys("kms:ListKeys")
                .unwrap()
                .supplies("kms:customermasterkeyspec")
        );
    }

    #[test]
    fn array_types_are_multivalued() {
        assert!(is_multivalued("aws:TagKeys"));
        assert!(is_multivalued("kms:EncryptionContextKeys"));
        assert!(!is_multivalued("kms:CallerAccount"));
        assert!(!is_multivalued("aws:SourceIp"));
    }
}
