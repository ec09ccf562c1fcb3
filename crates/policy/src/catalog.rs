//! What validation can know of AWS's services beyond the policy language: their actions,
//! condition keys and resource types (AWS's Service Authorization Reference). The engine holds
//! no such data; a catalog is passed to [`validate_with`](crate::validate_with) by whoever
//! has it, and services it does not describe are not checked.

/// AWS's Service Authorization Reference, or part of it.
pub trait ActionCatalog {
    /// The actions of `service` (its prefix, e.g. `kms`), or `None` when the catalog does not
    /// describe the service.
    fn action_names(&self, service: &str) -> Option<Vec<&str>>;

    /// Whether `service` defines the condition key `key` (a `${…}` template counts for each
    /// of its instances).
    fn defines_key(&self, service: &str, key: &str) -> bool;

    /// Whether AWS supplies `key` for the action `service:action`.
    fn supports_key(&self, service: &str, action: &str, key: &str) -> bool;

    /// Whether `arn`, an ARN of `service` with no wildcard or variable, names a resource of
    /// one of the service's resource types.
    fn resource_matches(&self, service: &str, arn: &str) -> bool;
}
