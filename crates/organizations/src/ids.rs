//! AWS's identifiers and ARNs for organizations, roots, OUs, accounts and policies.
//!
//! Formats (API reference patterns, lengths as AWS issues them): `o-` and 10 characters,
//! `r-` and 4, `ou-<root's 4>-` and 8, `p-` and 8, `car-` and 32; all lower-case letters and
//! digits. ARNs name the management account: `arn:aws:organizations::<management>:…`.

use rampart_service::Env;

const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random lower-case letters and digits. IDs must be unique, not secret; the slight
/// bias of a byte modulo 36 does not matter.
fn random_text(env: &Env<'_>, len: usize) -> String {
    env.random(len)
        .into_iter()
        .map(|b| {
            char::from(
                ALPHABET
                    .get(usize::from(b) % ALPHABET.len())
                    .copied()
                    .unwrap_or(b'a'),
            )
        })
        .collect()
}

/// A new organization ID, `o-` and 10 characters.
pub(crate) fn organization_id(env: &Env<'_>) -> String {
    format!("o-{}", random_text(env, 10))
}

/// A new root ID, `r-` and 4 characters.
pub(crate) fn root_id(env: &Env<'_>) -> String {
    format!("r-{}", random_text(env, 4))
}

/// A new OU ID under the root `root_id`: `ou-`, the root's characters, `-` and 8 more.
pub(crate) fn unit_id(env: &Env<'_>, root_id: &str) -> String {
    let root = root_id.strip_prefix("r-").unwrap_or(root_id);
    format!("ou-{root}-{}", random_text(env, 8))
}

/// A new policy ID, `p-` and 8 characters.
pub(crate) fn policy_id(env: &Env<'_>) -> String {
    format!("p-{}", random_text(env, 8))
}

/// A new create-account request ID, `car-` and 32 characters.
pub(crate) fn create_account_request_id(env: &Env<'_>) -> String {
    format!("car-{}", random_text(env, 32))
}

/// A new resource policy ID, `rp-` and 8 characters.
pub(crate) fn resource_policy_id(env: &Env<'_>) -> String {
    format!("rp-{}", random_text(env, 8))
}

/// `arn:aws:organizations::<management>:resourcepolicy/<org>/<policy>`.
pub(crate) fn resource_policy_arn(management: &str, org: &str, policy: &str) -> String {
    format!("arn:aws:organizations::{management}:resourcepolicy/{org}/{policy}")
}

/// A new handshake ID, `h-` and 32 characters.
pub(crate) fn handshake_id(env: &Env<'_>) -> String {
    format!("h-{}", random_text(env, 32))
}

/// `arn:aws:organizations::<management>:handshake/<org>/<action>/<handshake>`.
pub(crate) fn handshake_arn(management: &str, org: &str, action: &str, handshake: &str) -> String {
    format!("arn:aws:organizations::{management}:handshake/{org}/{action}/{handshake}")
}

/// `arn:aws:organizations::<management>:organization/<org>`.
pub(crate) fn organization_arn(management: &str, org: &str) -> String {
    format!("arn:aws:organizations::{management}:organization/{org}")
}

/// `arn:aws:organizations::<management>:root/<org>/<root>`.
pub(crate) fn root_arn(management: &str, org: &str, root: &str) -> String {
    format!("arn:aws:organizations::{management}:root/{org}/{root}")
}

/// `arn:aws:organizations::<management>:ou/<org>/<ou>`.
pub(crate) fn unit_arn(management: &str, org: &str, ou: &str) -> String {
    format!("arn:aws:organizations::{management}:ou/{org}/{ou}")
}

/// `arn:aws:organizations::<management>:account/<org>/<account>`.
pub(crate) fn account_arn(management: &str, org: &str, account: &str) -> String {
    format!("arn:aws:organizations::{management}:account/{org}/{account}")
}

/// `arn:aws:organizations::<management>:policy/<org>/<type, lower-case>/<policy>`.
pub(crate) fn policy_arn(management: &str, org: &str, policy_type: &str, policy: &str) -> String {
    format!(
        "arn:aws:organizations::{management}:policy/{org}/{}/{policy}",
        policy_type.to_ascii_lowercase()
    )
}

/// What kind of entity an ID names, by its AWS format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    Root,
    Unit,
    Account,
    Policy,
}

/// The kind of entity `id` names, if it has one of the formats.
pub(crate) fn kind_of(id: &str) -> Option<IdKind> {
    if id.starts_with("r-") {
        Some(IdKind::Root)
    } else if id.starts_with("ou-") {
        Some(IdKind::Unit)
    } else if id.starts_with("p-") {
        Some(IdKind::Policy)
    } else if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Some(IdKind::Account)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::TestEnv;

    #[test]
    fn ids_have_aws_formats() {
        let t = TestEnv::new();
        t.with_env(|env| {
            let org = organization_id(env);
            assert_eq!(org.len(), 12);
            assert!(org.starts_with("o-"));
            assert!(
                org[2..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
            let root = root_id(env);
            assert_eq!(root.len(), 6);
            let ou = unit_id(env, &root);
            assert!(ou.starts_with(&format!("ou-{}-", &root[2..])));
            assert_eq!(ou.len(), 3 + 4 + 1 + 8);
            assert_eq!(policy_id(env).len(), 10);
            assert_eq!(create_account_request_id(env).len(), 36);
        });
        assert_eq!(kind_of("r-ab12"), Some(IdKind::Root));
        assert_eq!(kind_of("ou-ab12-abcdefgh"), Some(IdKind::Unit));
        assert_eq!(kind_of("111122223333"), Some(IdKind::Account));
        assert_eq!(kind_of("p-FullAWSAccess"), Some(IdKind::Policy));
        assert_eq!(kind_of("o-abc"), None);
        assert_eq!(
            policy_arn(
                "111122223333",
                "o-abcdefghij",
                "SERVICE_CONTROL_POLICY",
                "p-12345678"
            ),
            "arn:aws:organizations::111122223333:policy/o-abcdefghij/service_control_policy/p-12345678"
        );
    }
}
