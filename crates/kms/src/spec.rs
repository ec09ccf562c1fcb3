//! Key specs, key usages and the algorithms each allows, as AWS's key spec reference lists them.

use crate::error::KmsError;

/// The key specs Rampart can create, with their material's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySpec {
    /// AES-256-GCM.
    Symmetric,
    /// RSA with a modulus of this many bits.
    Rsa(u32),
    /// ECDSA over a curve.
    Ecc(Curve),
    /// HMAC with a key of this many bits (and SHA-2 of the same size).
    Hmac(u32),
}

/// The elliptic curves KMS offers for signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384.
    P384,
    /// NIST P-521.
    P521,
    /// secp256k1 (blockchain use).
    Secp256k1,
}

pub(crate) const ENCRYPT_DECRYPT: &str = "ENCRYPT_DECRYPT";
pub(crate) const SIGN_VERIFY: &str = "SIGN_VERIFY";
pub(crate) const GENERATE_VERIFY_MAC: &str = "GENERATE_VERIFY_MAC";
pub(crate) const KEY_AGREEMENT: &str = "KEY_AGREEMENT";
pub(crate) const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

const RSA_SIGNING: [&str; 6] = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
];

impl KeySpec {
    /// The spec named `name`; specs KMS has that Rampart does not implement are refused.
    pub(crate) fn parse(name: &str) -> Result<Self, KmsError> {
        Ok(match name {
            "SYMMETRIC_DEFAULT" => Self::Symmetric,
            "RSA_2048" => Self::Rsa(2048),
            "RSA_3072" => Self::Rsa(3072),
            "RSA_4096" => Self::Rsa(4096),
            "ECC_NIST_P256" => Self::Ecc(Curve::P256),
            "ECC_NIST_P384" => Self::Ecc(Curve::P384),
            "ECC_NIST_P521" => Self::Ecc(Curve::P521),
            "ECC_SECG_P256K1" => Self::Ecc(Curve::Secp256k1),
            "HMAC_224" => Self::Hmac(224),
            "HMAC_256" => Self::Hmac(256),
            "HMAC_384" => Self::Hmac(384),
            "HMAC_512" => Self::Hmac(512),
            other => {
                return Err(KmsError::UnsupportedOperation(format!(
                    "Rampart does not support KeySpec {other} yet (see docs/COVERAGE.md)"
                )));
            }
        })
    }

    /// The key usages the spec allows; the first is the default when CreateKey names none
    /// (HMAC keys have no default: AWS requires GENERATE_VERIFY_MAC to be named).
    pub(crate) fn usages(self) -> &'static [&'static str] {
        match self {
            Self::Symmetric => &[ENCRYPT_DECRYPT],
            Self::Rsa(_) => &[ENCRYPT_DECRYPT, SIGN_VERIFY],
            Self::Ecc(Curve::Secp256k1) => &[SIGN_VERIFY],
            Self::Ecc(_) => &[SIGN_VERIFY, KEY_AGREEMENT],
            Self::Hmac(_) => &[GENERATE_VERIFY_MAC],
        }
    }

    /// The encryption algorithms a key of this spec and usage supports.
    pub(crate) fn encryption_algorithms(self, usage: &str) -> Vec<&'static str> {
        match (self, usage) {
            (Self::Symmetric, _) => vec![SYMMETRIC_DEFAULT],
            (Self::Rsa(_), ENCRYPT_DECRYPT) => vec!["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
            _ => Vec::new(),
        }
    }

    /// The signing algorithms a key of this spec and usage supports.
    pub(crate) fn signing_algorithms(self, usage: &str) -> Vec<&'static str> {
        match (self, usage) {
            (Self::Rsa(_), SIGN_VERIFY) => RSA_SIGNING.to_vec(),
            (Self::Ecc(Curve::P256 | Curve::Secp256k1), SIGN_VERIFY) => vec!["ECDSA_SHA_256"],
            (Self::Ecc(Curve::P384), SIGN_VERIFY) => vec!["ECDSA_SHA_384"],
            (Self::Ecc(Curve::P521), SIGN_VERIFY) => vec!["ECDSA_SHA_512"],
            _ => Vec::new(),
        }
    }

    /// The key agreement algorithms a key of this spec and usage supports.
    pub(crate) fn key_agreement_algorithms(self, usage: &str) -> Vec<&'static str> {
        match (self, usage) {
            (Self::Ecc(_), KEY_AGREEMENT) => vec![crate::key_agreement::ECDH],
            _ => Vec::new(),
        }
    }

    /// The MAC algorithms a key of this spec supports.
    pub(crate) fn mac_algorithms(self) -> Vec<&'static str> {
        match self {
            Self::Hmac(224) => vec!["HMAC_SHA_224"],
            Self::Hmac(256) => vec!["HMAC_SHA_256"],
            Self::Hmac(384) => vec!["HMAC_SHA_384"],
            Self::Hmac(512) => vec!["HMAC_SHA_512"],
            _ => Vec::new(),
        }
    }
}

/// Which request quota a key's cryptographic operations count against.
pub(crate) fn quota_class(spec: KeySpec) -> crate::quotas::QuotaClass {
    use crate::quotas::QuotaClass;
    match spec {
        KeySpec::Symmetric | KeySpec::Hmac(_) => QuotaClass::Symmetric,
        KeySpec::Rsa(_) => QuotaClass::Rsa,
        KeySpec::Ecc(_) => QuotaClass::Ecc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_offer_aws_algorithms() {
        let rsa = KeySpec::parse("RSA_2048").unwrap();
        assert_eq!(rsa.signing_algorithms(SIGN_VERIFY).len(), 6);
        assert!(rsa.signing_algorithms(ENCRYPT_DECRYPT).is_empty());
        assert_eq!(
            rsa.encryption_algorithms(ENCRYPT_DECRYPT),
            ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
        );
        let k1 = KeySpec::parse("ECC_SECG_P256K1").unwrap();
        assert_eq!(k1.signing_algorithms(SIGN_VERIFY), ["ECDSA_SHA_256"]);
        assert_eq!(
            KeySpec::parse("HMAC_384").unwrap().mac_algorithms(),
            ["HMAC_SHA_384"]
        );
        assert!(matches!(
            KeySpec::parse("SM2"),
            Err(KmsError::UnsupportedOperation(_))
        ));
    }
}
