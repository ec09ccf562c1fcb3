//! AWS-format identifiers: unique IDs (`AIDA…`, `AROA…`, …) and access key IDs.

use rampart_service::Entropy;

/// AWS's unique-ID alphabet: RFC 4648 base32 (upper-case letters and digits 2–7).
const BASE32: data_encoding::Encoding = data_encoding::BASE32_NOPAD;

/// The four-letter prefixes AWS gives each kind of unique ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPrefix {
    /// A long-term access key.
    AccessKey,
    /// A temporary (STS) access key.
    TemporaryAccessKey,
    /// An IAM user.
    User,
    /// An IAM role.
    Role,
    /// An IAM group.
    Group,
    /// A managed policy.
    Policy,
    /// An instance profile.
    InstanceProfile,
    /// An SSH public key.
    SshPublicKey,
    /// A server certificate.
    ServerCertificate,
    /// A service-specific credential.
    ServiceSpecificCredential,
}

impl IdPrefix {
    fn as_str(self) -> &'static str {
        match self {
            IdPrefix::AccessKey => "AKIA",
            IdPrefix::TemporaryAccessKey => "ASIA",
            IdPrefix::User => "AIDA",
            IdPrefix::Role => "AROA",
            IdPrefix::Group => "AGPA",
            IdPrefix::Policy => "ANPA",
            IdPrefix::InstanceProfile => "AIPA",
            IdPrefix::SshPublicKey => "APKA",
            IdPrefix::ServerCertificate => "ASCA",
            IdPrefix::ServiceSpecificCredential => "ACCA",
        }
    }
}

/// A 21-character unique ID such as `AIDAJQABLZS4A3QDU576Q`: the prefix and 17 base32
/// characters (85 random bits).
pub fn unique_id(prefix: IdPrefix, entropy: &dyn Entropy) -> String {
    let mut bytes = [0u8; 11];
    entropy.fill(&mut bytes);
    let mut encoded = BASE32.encode(&bytes);
    encoded.truncate(17);
    format!("{}{encoded}", prefix.as_str())
}

/// A 20-character access key ID that encodes `account_id` the way AWS's do, so
/// `sts get-access-key-info` can answer the owning account without a lookup.
///
/// After the 4-letter prefix come 16 base32 characters (10 bytes); the account ID occupies
/// bits 7..47 of the first 6 bytes read as a big-endian integer. The other bits are random.
pub fn access_key_id(prefix: IdPrefix, account_id: u64, entropy: &dyn Entropy) -> String {
    let mut bytes = [0u8; 10];
    entropy.fill(&mut bytes);
    let random_head = u64::from_be_bytes([
        0, 0, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5],
    ]);
    let head = (random_head & !ACCOUNT_MASK & 0x7f) | ((account_id << 7) & ACCOUNT_MASK);
    let head = head.to_be_bytes();
    bytes[..6].copy_from_slice(&head[2..]);
    format!("{}{}", prefix.as_str(), BASE32.encode(&bytes))
}

const ACCOUNT_MASK: u64 = 0x7fff_ffff_ff80;

/// The account an access key ID encodes, as `sts get-access-key-info` reports it.
pub fn account_of_access_key_id(access_key_id: &str) -> Option<u64> {
    let body = access_key_id.get(4..)?;
    let bytes = BASE32.decode(body.as_bytes()).ok()?;
    let head = bytes.get(..6)?;
    let mut be = [0u8; 8];
    be[2..].copy_from_slice(head);
    Some((u64::from_be_bytes(be) & ACCOUNT_MASK) >> 7)
}

/// A 40-character secret access key, from the same alphabet as AWS's (base64 of 30 random
/// bytes is exactly 40 characters of `[A-Za-z0-9+/]`).
pub fn secret_access_key(entropy: &dyn Entropy) -> String {
    let mut bytes = [0u8; 30];
    entropy.fill(&mut bytes);
    data_encoding::BASE64.encode(&bytes)
}

/// A random 12-digit account ID (never starting with 0, as AWS's don't in practice).
pub fn account_id(entropy: &dyn Entropy) -> String {
    let mut bytes = [0u8; 8];
    entropy.fill(&mut bytes);
    let n = u64::from_be_bytes(bytes) % 900_000_000_000 + 100_000_000_000;
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::OsEntropy;

    #[test]
    fn access_key_ids_encode_their_account() {
        for account in [123_456_789_012u64, 999_999_999_999, 100_000_000_000, 1] {
            let id = access_key_id(IdPrefix::AccessKey, account, &OsEntropy);
            assert_eq!(id.len(), 20);
            assert!(id.starts_with("AKIA"));
            assert!(
                id[4..]
                    .bytes()
                    .all(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains(&b))
            );
            assert_eq!(account_of_access_key_id(&id), Some(account));
        }
    }

    #[test]
    fn decodes_an_access_key_id_published_by_aws() {
        // AWS's documentation example key, which AWS attributes to account 581039954779.
        assert_eq!(
            account_of_access_key_id("AKIAIOSFODNN7EXAMPLE"),
            Some(581_039_954_779)
        );
    }

    #[test]
    fn unique_ids_and_secrets_have_aws_shapes() {
        let id = unique_id(IdPrefix::User, &OsEntropy);
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
        let secret = secret_access_key(&OsEntropy);
        assert_eq!(secret.len(), 40);
        let account = account_id(&OsEntropy);
        assert_eq!(account.len(), 12);
        assert!(account.bytes().all(|b| b.is_ascii_digit()));
    }
}
