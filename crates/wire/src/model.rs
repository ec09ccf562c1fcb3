//! Service and operation models, and the registry of the vendored ones.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::error::ModelError;
use crate::raw::Raw;
use crate::shape::{ShapeId, ShapeKind, ShapeTable};

/// The version of the awsJson protocol, which names the request and response content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonVersion {
    /// awsJson1_0: `application/x-amz-json-1.0`.
    V1_0,
    /// awsJson1_1: `application/x-amz-json-1.1`.
    V1_1,
}

/// The wire protocol of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsQuery: form-encoded parameters in, XML out (IAM, STS).
    Query,
    /// awsJson: a JSON body named by `X-Amz-Target`, JSON out (KMS, SSM, …).
    Json(JsonVersion),
    /// Smithy RPC v2 CBOR: `POST /service/<Service>/operation/<Operation>`, CBOR in and out
    /// (CloudWatch).
    RpcV2Cbor,
}

impl Protocol {
    /// The protocol a model names (`query`, `json`, `smithy-rpc-v2-cbor`), with the model's
    /// `jsonVersion` for awsJson.
    fn from_model(name: &str, json_version: Option<&str>) -> Option<Self> {
        match name {
            "query" => Some(Protocol::Query),
            "json" => Some(Protocol::Json(match json_version {
                Some("1.0") => JsonVersion::V1_0,
                _ => JsonVersion::V1_1,
            })),
            "smithy-rpc-v2-cbor" => Some(Protocol::RpcV2Cbor),
            _ => None,
        }
    }

    /// The content type of this protocol's responses.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Query => "text/xml",
            Protocol::Json(JsonVersion::V1_0) => "application/x-amz-json-1.0",
            Protocol::Json(JsonVersion::V1_1) => "application/x-amz-json-1.1",
            Protocol::RpcV2Cbor => "application/cbor",
        }
    }
}

/// A modeled error: what the model says an error shape looks like on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeledError {
    /// The error shape's name, such as `NoSuchEntityException`.
    pub shape: String,
    /// The code on the wire, such as `NoSuchEntity` (the shape name unless the model says).
    pub code: String,
    /// The HTTP status.
    pub status: u16,
    /// Whether the caller is at fault.
    pub sender_fault: bool,
}

impl ModeledError {
    /// This error with a message, ready for the wire.
    pub fn with_message(&self, message: impl Into<String>) -> crate::AwsError {
        crate::AwsError {
            code: self.code.clone().into(),
            message: message.into(),
            status: self.status,
            sender_fault: self.sender_fault,
            members: Vec::new(),
        }
    }
}

/// One AWS service's API model (botocore's `service-2.json`), interpreted.
#[derive(Debug)]
pub struct ServiceModel {
    endpoint_prefix: String,
    signing_name: String,
    api_version: String,
    protocol: Protocol,
    /// Every protocol the model lists (`metadata.protocols`), the default one first.
    protocols: Vec<Protocol>,
    /// `awsQueryCompatible`: errors of the JSON and CBOR protocols carry the Query error code
    /// in `x-amzn-query-error`, and validation answers Query's `ValidationError`.
    query_compatible: bool,
    target_prefix: Option<String>,
    xml_namespace: String,
    global_endpoint: Option<String>,
    operations: Vec<OperationModel>,
    by_name: HashMap<String, usize>,
    shapes: Arc<ShapeTable>,
}

/// One operation of a service, with access to the shapes it uses.
#[derive(Debug)]
pub struct OperationModel {
    name: String,
    http_method: String,
    http_request_uri: String,
    input: Option<ShapeId>,
    output: Option<ShapeId>,
    result_wrapper: Option<String>,
    errors: Vec<ShapeId>,
    unsigned: bool,
    pub(crate) shapes: Arc<ShapeTable>,
}

/// The vendored models: (endpoint prefix, signing name, `X-Amz-Target` prefixes, model text).
///
/// The names are repeated here so that a lookup parses only the model it finds;
/// `tests::registry_matches_models` checks them against the models' metadata.
///
/// The target prefixes are every one AWS accepts for the service, the model's `targetPrefix`
/// first. Most SDKs (the JavaScript SDK v3, generated from AWS's Smithy models, among them)
/// send the Smithy service shape's name, which differs from botocore's `targetPrefix` only
/// for CloudTrail: `CloudTrail_20131101` beside
/// `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`. AWS serves both.
const VENDORED: &[(&str, &str, &[&str], &str)] = &[
    ("sts", "sts", &[], include_str!("../models/sts.json")),
    ("iam", "iam", &[], include_str!("../models/iam.json")),
    (
        "kms",
        "kms",
        &["TrentService"],
        include_str!("../models/kms.json"),
    ),
    (
        "cloudtrail",
        "cloudtrail",
        &[
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
            "CloudTrail_20131101",
        ],
        include_str!("../models/cloudtrail.json"),
    ),
    (
        "organizations",
        "organizations",
        &["AWSOrganizationsV20161128"],
        include_str!("../models/organizations.json"),
    ),
    (
        "ssm",
        "ssm",
        &["AmazonSSM"],
        include_str!("../models/ssm.json"),
    ),
    (
        "secretsmanager",
        "secretsmanager",
        &["secretsmanager"],
        include_str!("../models/secretsmanager.json"),
    ),
    (
        "cognito-idp",
        "cognito-idp",
        &["AWSCognitoIdentityProviderService"],
        include_str!("../models/cognito-idp.json"),
    ),
    (
        "acm",
        "acm",
        &["CertificateManager"],
        include_str!("../models/acm.json"),
    ),
    (
        "wafv2",
        "wafv2",
        &["AWSWAF_20190729"],
        include_str!("../models/wafv2.json"),
    ),
    (
        "logs",
        "logs",
        &["Logs_20140328"],
        include_str!("../models/logs.json"),
    ),
    (
        "monitoring",
        "monitoring",
        &["GraniteServiceVersion20100801"],
        include_str!("../models/cloudwatch.json"),
    ),
    ("sns", "sns", &[], include_str!("../models/sns.json")),
];

/// One lazily parsed model per vendored service, in `VENDORED` order.
static PARSED: [OnceLock<Option<ServiceModel>>; 13] = [const { OnceLock::new() }; 13];

fn vendored(index: usize) -> Option<&'static ServiceModel> {
    let (_, _, _, text) = VENDORED.get(index)?;
    PARSED
        .get(index)?
        .get_or_init(|| ServiceModel::from_json(text).ok())
        .as_ref()
}

/// Every vendored model (parsing those not yet parsed).
pub fn all_services() -> impl Iterator<Item = &'static ServiceModel> {
    (0..VENDORED.len()).filter_map(vendored)
}

impl ServiceModel {
    /// The vendored model whose `endpointPrefix` is `prefix` (`sts`, `iam`, `kms`, …).
    pub fn by_endpoint_prefix(prefix: &str) -> Option<&'static ServiceModel> {
        let index = VENDORED.iter().position(|(p, _, _, _)| *p == prefix)?;
        vendored(index)
    }

    /// The vendored model that AWS serves under `prefix`, the part of `X-Amz-Target` before
    /// the operation's name: the model's `targetPrefix` (`TrentService` for KMS) or another
    /// form AWS's SDKs send (`CloudTrail_20131101`). Only awsJson services have one.
    pub fn by_target_prefix(prefix: &str) -> Option<&'static ServiceModel> {
        let index = VENDORED
            .iter()
            .position(|(_, _, targets, _)| targets.contains(&prefix))?;
        vendored(index)
    }

    /// The vendored model whose SigV4 credential-scope service name is `name`.
    pub fn by_signing_name(name: &str) -> Option<&'static ServiceModel> {
        let index = VENDORED.iter().position(|(_, s, _, _)| *s == name)?;
        vendored(index)
    }

    /// Interpret a botocore `service-2.json` document.
    pub fn from_json(text: &str) -> Result<ServiceModel, ModelError> {
        let raw: Raw = serde_json::from_str(text)?;
        let meta = raw
            .get("metadata")
            .ok_or_else(|| ModelError::Missing("metadata".into()))?;
        let meta_str = |key: &str| meta.get(key).and_then(Raw::as_str).map(str::to_owned);
        let endpoint_prefix = meta_str("endpointPrefix")
            .ok_or_else(|| ModelError::Missing("metadata.endpointPrefix".into()))?;
        let api_version = meta_str("apiVersion")
            .ok_or_else(|| ModelError::Missing("metadata.apiVersion".into()))?;
        let json_version = meta_str("jsonVersion");
        let protocol = match meta_str("protocol").as_deref() {
            Some(name) => Protocol::from_model(name, json_version.as_deref())
                .ok_or_else(|| ModelError::UnsupportedProtocol(name.to_owned()))?,
            None => return Err(ModelError::Missing("metadata.protocol".into())),
        };
        let mut protocols = vec![protocol];
        for name in meta
            .get("protocols")
            .and_then(Raw::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Raw::as_str)
        {
            // A protocol this crate does not speak is one it does not serve, not an error.
            if let Some(p) = Protocol::from_model(name, json_version.as_deref())
                && !protocols.contains(&p)
            {
                protocols.push(p);
            }
        }
        let query_compatible = meta.get("awsQueryCompatible").is_some();
        let shapes = Arc::new(ShapeTable::build(
            raw.get("shapes")
                .and_then(Raw::as_object)
                .ok_or_else(|| ModelError::Missing("shapes".into()))?,
        )?);
        let raw_ops = raw
            .get("operations")
            .and_then(Raw::as_object)
            .ok_or_else(|| ModelError::Missing("operations".into()))?;
        let mut operations = Vec::with_capacity(raw_ops.len());
        for (name, op) in raw_ops {
            operations.push(OperationModel::build(name, op, &shapes)?);
        }
        let by_name = operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.name.clone(), i))
            .collect();
        Ok(ServiceModel {
            signing_name: meta_str("signingName").unwrap_or_else(|| endpoint_prefix.clone()),
            xml_namespace: meta_str("xmlNamespace").unwrap_or_else(|| {
                format!("https://{endpoint_prefix}.amazonaws.com/doc/{api_version}/")
            }),
            target_prefix: meta_str("targetPrefix"),
            global_endpoint: meta_str("globalEndpoint"),
            endpoint_prefix,
            api_version,
            protocol,
            protocols,
            query_compatible,
            operations,
            by_name,
            shapes,
        })
    }

    /// The `endpointPrefix`, such as `iam`.
    pub fn endpoint_prefix(&self) -> &str {
        &self.endpoint_prefix
    }

    /// The SigV4 service name (`signingName`, else the endpoint prefix).
    pub fn signing_name(&self) -> &str {
        &self.signing_name
    }

    /// The API version, such as `2010-05-08`; the `Version` parameter of Query requests.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The wire protocol (the model's default, when it lists several).
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Whether requests may speak `protocol` (any awsJson version counts as awsJson).
    pub fn serves(&self, protocol: Protocol) -> bool {
        self.protocols.iter().any(|p| match (p, protocol) {
            (Protocol::Json(_), Protocol::Json(_)) => true,
            (p, q) => *p == q,
        })
    }

    /// This service's form of `protocol`: its own awsJson version for any awsJson request.
    pub fn served_protocol(&self, protocol: Protocol) -> Option<Protocol> {
        self.protocols
            .iter()
            .copied()
            .find(|p| match (p, protocol) {
                (Protocol::Json(_), Protocol::Json(_)) => true,
                (p, q) => *p == q,
            })
    }

    /// Whether the model is `awsQueryCompatible` (CloudWatch): see [`Self::query_error_header`].
    pub fn is_query_compatible(&self) -> bool {
        self.query_compatible
    }

    /// For an `awsQueryCompatible` service, the `x-amzn-query-error` header of an error
    /// answered in JSON or CBOR: `<Query code>;Sender` (or `;Receiver`), from which SDKs take
    /// the code Query clients would see.
    pub fn query_error_header(&self, error: &crate::AwsError) -> Option<String> {
        self.query_compatible.then(|| {
            let fault = if error.sender_fault {
                "Sender"
            } else {
                "Receiver"
            };
            format!("{};{fault}", error.code)
        })
    }

    /// The `__type` of an error in a JSON or CBOR body: for an `awsQueryCompatible` service
    /// the modeled error's shape name (`InvalidParameterValueException` for the Query code
    /// `InvalidParameterValue`), otherwise the code.
    pub fn error_type(&self, error: &crate::AwsError) -> String {
        if self.query_compatible
            && let Some(modeled) = self.modeled_error(&error.code)
        {
            return modeled.shape;
        }
        error.code.to_string()
    }

    /// The `X-Amz-Target` prefix of an awsJson service.
    pub fn target_prefix(&self) -> Option<&str> {
        self.target_prefix.as_deref()
    }

    /// The XML namespace of Query responses: the model's `xmlNamespace`, else
    /// `https://<endpointPrefix>.amazonaws.com/doc/<apiVersion>/`. `None` for awsJson services.
    pub fn xml_namespace(&self) -> Option<&str> {
        self.serves(Protocol::Query)
            .then_some(self.xml_namespace.as_str())
    }

    /// The global endpoint host, for global services (`iam.amazonaws.com`).
    pub fn global_endpoint(&self) -> Option<&str> {
        self.global_endpoint.as_deref()
    }

    /// The operation named `name` (its AWS name, such as `CreateUser`).
    pub fn operation(&self, name: &str) -> Option<&OperationModel> {
        self.by_name.get(name).and_then(|&i| self.operations.get(i))
    }

    /// All operations, in model order.
    pub fn operations(&self) -> impl Iterator<Item = &OperationModel> {
        self.operations.iter()
    }

    /// The content type of awsJson requests and responses (`application/x-amz-json-1.1`);
    /// `text/xml` for Query services.
    pub fn json_content_type(&self) -> &'static str {
        match self.served_protocol(Protocol::Json(JsonVersion::V1_1)) {
            Some(json) => json.content_type(),
            None => self.protocol.content_type(),
        }
    }

    /// The code this service answers for an input that breaks the model's constraints.
    ///
    /// Query services answer `ValidationError`; awsJson services `ValidationException`,
    /// except Cognito user pools, which answer `InvalidParameterException` with the same
    /// message format (seen in client code quoting real responses), and Organizations (see
    /// [`Self::validation_error`]).
    pub fn validation_error_code(&self) -> &'static str {
        if self.query_compatible {
            return "ValidationError";
        }
        match (self.protocol, self.endpoint_prefix.as_str()) {
            (Protocol::Query, _) => "ValidationError",
            (_, "cognito-idp") => "InvalidParameterException",
            (_, "organizations") => "InvalidInputException",
            _ => "ValidationException",
        }
    }

    /// The error for an input that breaks the model, `message` listing every violation.
    ///
    /// Organizations answers with `InvalidInputException`, a `Reason` for the first
    /// violation, and that reason's sentence as its message (as its API reference words it:
    /// "You provided a value that does not match the required pattern.").
    pub(crate) fn validation_error(
        &self,
        message: String,
        first: Option<&crate::error::FirstViolation>,
    ) -> crate::AwsError {
        use crate::error::Constraint;
        if self.endpoint_prefix != "organizations" {
            return crate::AwsError::new(self.validation_error_code(), 400, message);
        }
        let (reason, sentence) = match first.map(|f| (f.constraint, f.shape.as_str())) {
            Some((Constraint::Required, _)) | None => (
                "INPUT_REQUIRED",
                "You must include a value for all required parameters.",
            ),
            Some((Constraint::Pattern, _)) => (
                "INVALID_PATTERN",
                "You provided a value that does not match the required pattern.",
            ),
            Some((Constraint::MaxLength, _)) => (
                "MAX_LENGTH_EXCEEDED",
                "You provided a string parameter that is longer than allowed.",
            ),
            Some((Constraint::MinLength, _)) => (
                "MIN_LENGTH_EXCEEDED",
                "You provided a string parameter that is shorter than allowed.",
            ),
            Some((Constraint::MaxValue, _)) => (
                "MAX_VALUE_EXCEEDED",
                "You provided a numeric parameter that has a larger value than allowed.",
            ),
            Some((Constraint::MinValue, _)) => (
                "MIN_VALUE_EXCEEDED",
                "You provided a numeric parameter that has a smaller value than allowed.",
            ),
            Some((Constraint::Enum, "PolicyType")) => (
                "INVALID_ENUM_POLICY_TYPE",
                "You specified an invalid policy type string.",
            ),
            Some((Constraint::Enum, _)) => ("INVALID_ENUM", "You specified an invalid value."),
            Some((Constraint::Member, _)) => (
                "INVALID_LIST_MEMBER",
                "You provided a list to a parameter that contains at least one invalid value.",
            ),
        };
        crate::AwsError::new("InvalidInputException", 400, sentence).with_member("Reason", reason)
    }

    /// The modeled error whose shape name or wire code is `name`
    /// (`NoSuchEntity` and `NoSuchEntityException` both find IAM's).
    pub fn modeled_error(&self, name: &str) -> Option<ModeledError> {
        let from = |shape: &crate::shape::Shape| ModeledError {
            shape: shape.name.clone(),
            code: shape
                .error
                .as_ref()
                .map_or_else(|| shape.name.clone(), |e| e.code.clone()),
            status: shape.error.as_ref().map_or(400, |e| e.status),
            sender_fault: shape.error.as_ref().is_none_or(|e| e.sender_fault),
        };
        if let Some(shape) = self.shapes.id(name).and_then(|id| self.shapes.get(id))
            && shape.exception
        {
            return Some(from(shape));
        }
        self.shapes
            .iter()
            .find(|s| s.exception && s.error.as_ref().is_some_and(|e| e.code == name))
            .map(from)
    }

    /// Every `pattern` string of the model (for diagnostics).
    #[cfg(test)]
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        self.shapes.iter().filter_map(|s| s.pattern.as_deref())
    }
}

impl OperationModel {
    fn build(name: &str, raw: &Raw, shapes: &Arc<ShapeTable>) -> Result<Self, ModelError> {
        let shape_ref = |key: &str| -> Result<Option<ShapeId>, ModelError> {
            let Some(target) = raw
                .get(key)
                .and_then(|r| r.get("shape"))
                .and_then(Raw::as_str)
            else {
                return Ok(None);
            };
            shapes
                .id(target)
                .map(Some)
                .ok_or_else(|| ModelError::UndefinedShape {
                    from: name.to_owned(),
                    to: target.to_owned(),
                })
        };
        let http = raw.get("http");
        let no_auth = raw
            .get("auth")
            .and_then(Raw::as_array)
            .is_some_and(|a| a.iter().any(|s| s.as_str() == Some("smithy.api#noAuth")));
        let errors = raw
            .get("errors")
            .and_then(Raw::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e.get("shape").and_then(Raw::as_str))
            .filter_map(|s| shapes.id(s))
            .collect();
        Ok(OperationModel {
            name: name.to_owned(),
            http_method: http
                .and_then(|h| h.get("method"))
                .and_then(Raw::as_str)
                .unwrap_or("POST")
                .to_owned(),
            http_request_uri: http
                .and_then(|h| h.get("requestUri"))
                .and_then(Raw::as_str)
                .unwrap_or("/")
                .to_owned(),
            input: shape_ref("input")?,
            output: shape_ref("output")?,
            result_wrapper: raw
                .get("output")
                .and_then(|o| o.get("resultWrapper"))
                .and_then(Raw::as_str)
                .map(str::to_owned),
            errors,
            unsigned: no_auth || raw.get("authtype").and_then(Raw::as_str) == Some("none"),
            shapes: Arc::clone(shapes),
        })
    }

    /// The operation's AWS name, such as `CreateUser`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the operation is called without a signature (`auth: ["smithy.api#noAuth"]` or
    /// `authtype: "none"`), as STS AssumeRoleWithSAML and AssumeRoleWithWebIdentity are.
    pub fn is_unsigned(&self) -> bool {
        self.unsigned
    }

    /// The HTTP method in the model (`POST` for every Query and awsJson operation).
    pub fn http_method(&self) -> &str {
        &self.http_method
    }

    /// The request URI in the model (`/`).
    pub fn http_request_uri(&self) -> &str {
        &self.http_request_uri
    }

    /// The name of the input shape, if the operation takes input.
    pub fn input_shape(&self) -> Option<&str> {
        self.shape_name(self.input)
    }

    /// The name of the output shape, if the operation returns output.
    pub fn output_shape(&self) -> Option<&str> {
        self.shape_name(self.output)
    }

    /// The Query result element (`resultWrapper`, else `<Operation>Result`).
    pub fn result_wrapper(&self) -> String {
        self.result_wrapper
            .clone()
            .unwrap_or_else(|| format!("{}Result", self.name))
    }

    /// The errors the model lists for this operation.
    pub fn errors(&self) -> Vec<ModeledError> {
        self.errors
            .iter()
            .filter_map(|&id| self.shapes.get(id))
            .map(|shape| ModeledError {
                shape: shape.name.clone(),
                code: shape
                    .error
                    .as_ref()
                    .map_or_else(|| shape.name.clone(), |e| e.code.clone()),
                status: shape.error.as_ref().map_or(400, |e| e.status),
                sender_fault: shape.error.as_ref().is_none_or(|e| e.sender_fault),
            })
            .collect()
    }

    pub(crate) fn input_id(&self) -> Option<ShapeId> {
        self.input
    }

    pub(crate) fn output_id(&self) -> Option<ShapeId> {
        self.output
    }

    fn shape_name(&self, id: Option<ShapeId>) -> Option<&str> {
        id.and_then(|id| self.shapes.get(id))
            .map(|s| s.name.as_str())
    }

    /// Whether the input structure has no members (so an empty request is complete).
    pub fn takes_no_input(&self) -> bool {
        match self
            .input
            .and_then(|id| self.shapes.get(id))
            .map(|s| &s.kind)
        {
            Some(ShapeKind::Structure { members, .. }) => members.is_empty(),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_matches_models() {
        for (prefix, signing, targets, text) in VENDORED {
            let model = ServiceModel::from_json(text).unwrap();
            assert_eq!(model.endpoint_prefix(), *prefix);
            assert_eq!(model.signing_name(), *signing);
            assert_eq!(model.target_prefix(), targets.first().copied());
            assert!(ServiceModel::by_endpoint_prefix(prefix).is_some());
            for target in *targets {
                let found = ServiceModel::by_target_prefix(target).unwrap();
                assert_eq!(found.endpoint_prefix(), *prefix);
            }
        }
        assert_eq!(all_services().count(), VENDORED.len());
    }

    #[test]
    fn lookups() {
        let kms = ServiceModel::by_target_prefix("TrentService").unwrap();
        assert_eq!(kms.endpoint_prefix(), "kms");
        assert_eq!(kms.protocol(), Protocol::Json(JsonVersion::V1_1));
        assert_eq!(kms.json_content_type(), "application/x-amz-json-1.1");
        assert_eq!(kms.xml_namespace(), None);
        let iam = ServiceModel::by_signing_name("iam").unwrap();
        assert_eq!(iam.protocol(), Protocol::Query);
        assert_eq!(iam.api_version(), "2010-05-08");
        assert_eq!(
            iam.xml_namespace(),
            Some("https://iam.amazonaws.com/doc/2010-05-08/")
        );
        assert_eq!(iam.operations().count(), 181);
        assert!(ServiceModel::by_endpoint_prefix("s3").is_none());
        assert!(ServiceModel::by_target_prefix("sts").is_none());
    }

    #[test]
    fn operation_facts() {
        let sts = ServiceModel::by_endpoint_prefix("sts").unwrap();
        assert!(
            sts.operation("AssumeRoleWithWebIdentity")
                .unwrap()
                .is_unsigned()
        );
        assert!(sts.operation("AssumeRoleWithSAML").unwrap().is_unsigned());
        let gci = sts.operation("GetCallerIdentity").unwrap();
        assert!(!gci.is_unsigned());
        assert_eq!(gci.result_wrapper(), "GetCallerIdentityResult");
        assert!(gci.takes_no_input());
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        let no_such = iam.modeled_error("NoSuchEntity").unwrap();
        assert_eq!(
            (no_such.shape.as_str(), no_such.status),
            ("NoSuchEntityException", 404)
        );
        assert_eq!(iam.modeled_error("NoSuchEntityException"), Some(no_such));
        let delete = iam.operation("DeleteUser").unwrap();
        assert_eq!(delete.output_shape(), None);
        assert!(delete.errors().iter().any(|e| e.code == "DeleteConflict"));
    }
}
