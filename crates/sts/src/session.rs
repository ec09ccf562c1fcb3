//! Temporary credentials: an `ASIA…` access key, its secret, and a session token that carries
//! everything authentication and authorization need about the session, sealed under the
//! root key. The token is opaque to clients and verified without a database read: opening
//! it authenticates it (AES-GCM), and the access key ID is bound in as associated data, so a
//! token cannot be moved to another key. A changed byte makes it unreadable, hence invalid.

use rampart_crypto::{RootKey, SecretBytes};
use rampart_service::{Caller, PrincipalKind};
use serde::{Deserialize, Serialize};

/// The first characters of every Rampart session token, so logs and humans can tell them
/// apart from other base64 blobs. They carry no meaning for verification.
const TOKEN_PREFIX: &str = "RmpSVFMx";

/// What a session is: who, until when, with which extra limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The temporary access key ID (`ASIA…`).
    pub access_key_id: String,
    /// The secret access key, inside the sealed token only.
    pub secret_access_key: String,
    /// The session's principal.
    pub caller: Caller,
    /// When it was issued (Unix seconds).
    pub issued_at: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// Whether MFA was presented when the session was made.
    #[serde(default)]
    pub mfa_authenticated: bool,
    /// For role sessions: the role's name (its ARN is in `role_arn`).
    #[serde(default)]
    pub role_name: Option<String>,
    /// For role sessions: the role's ARN (with its path).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// For federated users and user sessions: the IAM user whose permissions the session
    /// carries (`None` for the root user).
    #[serde(default)]
    pub user_name: Option<String>,
    /// The unique ID (`AIDA…`) of that user: the session carries this user's permissions and
    /// no other's, whoever holds the name later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Session policies (JSON documents): the session can do at most what they allow.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Session tags, in the order given.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Keys of the tags that pass on to a chained role session.
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
    /// The source identity, set once and kept along a role chain.
    #[serde(default)]
    pub source_identity: Option<String>,
    /// Whether this role session was made from another role session (role chaining).
    #[serde(default)]
    pub chained: bool,
    /// For role sessions made by `AssumeRoleWithWebIdentity`: the OIDC provider's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_identity_provider: Option<String>,
    /// For role sessions an identity provider made: the keys its token or assertion carried,
    /// which every request of the session carries too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_keys: Vec<(String, Vec<String>)>,
    /// For root sessions made by `AssumeRoot`: the task policy (an AWS managed policy ARN)
    /// that cuts the root user's permissions down to one privileged task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_task_policy: Option<String>,
}

/// Why a session token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Not a token Rampart issued for this key, or altered.
    #[error("The security token included in the request is invalid.")]
    Invalid,
    /// The session is over.
    #[error("The security token included in the request is expired")]
    Expired,
}

fn seal_context(access_key_id: &str) -> Vec<u8> {
    format!("sts.session/{access_key_id}").into_bytes()
}

impl Session {
    /// A session of `caller` (whose `access_key_id` is the session's) from `issued_at` to
    /// `expires_at` (Unix seconds), with nothing else to it yet.
    pub fn new(caller: Caller, secret_access_key: String, issued_at: i64, expires_at: i64) -> Self {
        Self {
            access_key_id: caller.access_key_id.clone(),
            caller,
            secret_access_key,
            issued_at,
            expires_at,
            mfa_authenticated: false,
            role_name: None,
            role_arn: None,
            user_name: None,
            user_id: None,
            policies: Vec::new(),
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            chained: false,
            web_identity_provider: None,
            identity_keys: Vec::new(),
            root_task_policy: None,
        }
    }

    /// The session token clients send as `X-Amz-Security-Token`.
    pub fn token(&self, root_key: &RootKey) -> String {
        // Serializing a struct of strings, numbers and booleans cannot fail.
        let claims = serde_json::to_vec(self).unwrap_or_default();
        let claims = zeroize::Zeroizing::new(claims);
        let sealed = root_key.seal(&claims, &seal_context(&self.access_key_id));
        format!("{TOKEN_PREFIX}{}", data_encoding::BASE64.encode(&sealed))
    }

    /// Opens the token sent with `access_key_id`, refusing it if it is not Rampart's, was
    /// altered, belongs to another key, or has expired at `now` (Unix seconds).
    pub fn open(
        root_key: &RootKey,
        access_key_id: &str,
        token: &str,
        now: i64,
    ) -> Result<Self, SessionError> {
        let body = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(SessionError::Invalid)?;
        let sealed = data_encoding::BASE64
            .decode(body.as_bytes())
            .map_err(|_| SessionError::Invalid)?;
        let claims = root_key
            .open(&sealed, &seal_context(access_key_id))
            .map_err(|_| SessionError::Invalid)?;
        let session: Session =
            serde_json::from_slice(claims.expose()).map_err(|_| SessionError::Invalid)?;
        if session.access_key_id != access_key_id {
            return Err(SessionError::Invalid);
        }
        if now >= session.expires_at {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }

    /// The secret, for signature verification.
    pub fn secret(&self) -> SecretBytes {
        SecretBytes::new(self.secret_access_key.as_bytes().to_vec())
    }

    /// Whether this is a role session.
    pub fn is_role_session(&self) -> bool {
        self.caller.kind == PrincipalKind::AssumedRole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let caller = Caller {
            account_id: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/r/s".into(),
            principal_id: "AROAEXAMPLE:s".into(),
            kind: PrincipalKind::AssumedRole,
            user_name: None,
            access_key_id: "ASIAEXAMPLE".into(),
        };
        Session {
            role_name: Some("r".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/r".into()),
            ..Session::new(caller, "secret".into(), 100, 1000)
        }
    }

    #[test]
    fn a_token_opens_for_its_key_until_it_expires() {
        let key = RootKey::generate();
        let token = session().token(&key);
        assert!(!token.contains("secret"));
        assert_eq!(
            Session::open(&key, "ASIAEXAMPLE", &token, 999).unwrap(),
            session()
        );
        assert_eq!(
            Session::open(&key, "ASIAEXAMPLE", &token, 1000),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn altered_moved_or_foreign_tokens_are_invalid() {
        let key = RootKey::generate();
        let token = session().token(&key);
        assert_eq!(
            Session::open(&key, "ASIAOTHER", &token, 500),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            Session::open(&RootKey::generate(), "ASIAEXAMPLE", &token, 500),
            Err(SessionError::Invalid)
        );
        let mut altered = token.clone().into_bytes();
        let i = altered.len() / 2;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            Session::open(&key, "ASIAEXAMPLE", &altered, 500),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            Session::open(&key, "ASIAEXAMPLE", "garbage", 500),
            Err(SessionError::Invalid)
        );
    }
}
