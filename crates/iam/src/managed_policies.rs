//! AWS managed policies (`arn:aws:iam::aws:policy/…`): built in, read-only, the same in every
//! account.

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
}

/// Every AWS managed policy Rampart knows.
pub static ALL: &[AwsManagedPolicy] = &[];

/// The AWS managed policy with `arn`, if Rampart knows it.
pub fn get(arn: &str) -> Option<&'static AwsManagedPolicy> {
    ALL.iter().find(|p| p.arn == arn)
}
