//! `GenerateCredentialReport` and `GetCredentialReport`: AWS's CSV.

use rampart_service::Operation;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    Vec::new()
}
