//! Rampart's root key and the envelope encryption of secrets at rest.
//!
//! Every secret Rampart keeps (secret access keys, KMS key material, SecureString values,
//! secret values) is sealed with AES-256-GCM under the root key before it reaches the store.
//! The root key itself never enters the database: it lives in a 0600 file in the data
//! directory, or is handed in by environment.
#![deny(missing_docs)]

mod data_key;
mod root_key;
mod secret;

pub use data_key::{DATA_KEY_NONCE_LEN, DataKeyError, open_with_data_key, seal_with_data_key};
pub use root_key::{RootKey, RootKeyError};
pub use secret::{SecretBytes, constant_time_eq, random_bytes};
