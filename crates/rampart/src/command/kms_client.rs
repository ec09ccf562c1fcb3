//! KMS Decrypt of trail files' data keys through a Rampart endpoint, signed with the reader's
//! own AWS credentials by AWS's SigV4 signer: reading an encrypted log file takes
//! `kms:Decrypt` on its key, is authorized by the key policy, and is itself audited, as when
//! S3 decrypts an SSE-KMS object for a reader.
//!
//! Credentials are found as the AWS CLI finds them: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) when no profile is named, otherwise the
//! profile (`--profile`, `AWS_PROFILE`, else `default`) of the shared credentials file
//! (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`).

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use rampart_cloudtrail::files::{DataKeyError, DataKeys};
use rampart_cloudtrail::sse_kms::Header;
use zeroize::Zeroizing;

/// Decrypts data keys with KMS at an endpoint.
pub struct KmsDataKeys {
    endpoint: String,
    credentials: Credentials,
    agent: ureq::Agent,
}

/// The reader's credentials, as the AWS CLI would find them.
fn credentials(profile: Option<&str>) -> anyhow::Result<Credentials> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let profile = profile.map(str::to_owned).or_else(|| env("AWS_PROFILE"));
    if profile.is_none()
        && let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
    {
        return Ok(Credentials::new(
            id,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        ));
    }
    let profile = profile.unwrap_or_else(|| "default".to_owned());
    let path = match env("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env("HOME").context("no HOME to find ~/.aws/credentials in")?)
            .join(".aws/credentials"),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read credentials file {}", path.display()))?;
    let mut section = String::new();
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
        } else if section == profile
            && let Some((key, value)) = line.split_once('=')
        {
            let value = Some(value.trim().to_owned());
            match key.trim() {
                "aws_access_key_id" => id = value,
                "aws_secret_access_key" => secret = value,
                "aws_session_token" => token = value,
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Credentials::new(id, secret, token, None, "profile")),
        _ => anyhow::bail!(
            "profile `{profile}` has no credentials in {}",
            path.display()
        ),
    }
}

impl KmsDataKeys {
    /// A client of the KMS at `endpoint` (e.g. `http://127.0.0.1:4566`), with the reader's
    /// credentials.
    pub fn new(endpoint: &str, profile: Option<&str>) -> anyhow::Result<Self> {
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            credentials: credentials(profile)?,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        })
    }

    /// KMS Decrypt of `header`'s data key, naming the key the file says encrypted it (KMS
    /// refuses a blob of another key) and the file's encryption context.
    fn decrypt(&self, header: &Header) -> Result<Zeroizing<Vec<u8>>, DataKeyError> {
        let unavailable = |why: String| DataKeyError::Unavailable(why);
        let region = header
            .kms_key_arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .ok_or(DataKeyError::Rejected)?;
        let body = serde_json::json!({
            "CiphertextBlob": header.encrypted_data_key,
            "EncryptionContext": header.encryption_context,
            "KeyId": header.kms_key_arn,
        })
        .to_string()
        .into_bytes();
        let host = self
            .endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, rest)| rest);
        let mut request = http::Request::post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "TrentService.Decrypt")
            .header("host", host)
            .body(body)
            .map_err(|e| unavailable(format!("cannot build the request: {e}")))?;
        self.sign(&mut request, region)
            .map_err(|e| unavailable(format!("cannot sign the request: {e}")))?;
        let response = self
            .agent
            .run(request)
            .map_err(|e| unavailable(format!("KMS at {} did not answer: {e}", self.endpoint)))?;
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .read_to_string()
            .map_err(|e| unavailable(format!("KMS answered unreadably: {e}")))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| unavailable(format!("KMS answered HTTP {status}")))?;
        if status != 200 {
            let text = |name: &str| json.get(name).and_then(serde_json::Value::as_str);
            let code = text("__type").unwrap_or_default();
            let code = code.rsplit('#').next().unwrap_or(code);
            let message = text("message")
                .or_else(|| text("Message"))
                .unwrap_or_default();
            return Err(match code {
                "InvalidCiphertextException" | "IncorrectKeyException" => DataKeyError::Rejected,
                _ => unavailable(format!("{code}: {message}")),
            });
        }
        json.get("Plaintext")
            .and_then(serde_json::Value::as_str)
            .and_then(|p| data_encoding::BASE64.decode(p.as_bytes()).ok())
            .map(Zeroizing::new)
            .ok_or_else(|| unavailable("KMS answered without a plaintext".to_owned()))
    }

    /// Signs `request` for KMS in `region` with the reader's credentials.
    fn sign(&self, request: &mut http::Request<Vec<u8>>, region: &str) -> anyhow::Result<()> {
        let identity: Identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("kms")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let uri = request.uri().to_string();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(request.body()),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

impl DataKeys for KmsDataKeys {
    fn data_key(&mut self, header: &Header) -> Result<Zeroizing<Vec<u8>>, DataKeyError> {
        self.decrypt(header)
    }
}
