//! Route: which service and operation a request is for, from `X-Amz-Target` (JSON protocols)
//! or `Action` plus the credential scope's service (Query protocol). No body is parsed here
//! beyond the form parameters that carry `Action`.

use http::request::Parts;
use rampart_wire::{AwsError, OperationModel, Protocol, ServiceModel};

/// The wire names of the parameters routing and signing own; they are no operation's input.
const ACTION: &str = "Action";
const VERSION: &str = "Version";
const AUTH_PARAM_PREFIX: &str = "X-Amz-";
const X_AMZ_TARGET: &str = "x-amz-target";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Query services consulted, in order, when an unsigned request names no service (the
/// operations AWS serves without a signature: STS's `AssumeRoleWithWebIdentity`, SNS's
/// `ConfirmSubscription` at a message's SubscribeURL).
const UNSIGNED_QUERY_SERVICES: &[&str] = &["sts", "iam", "sns"];

/// Where a request goes.
pub(crate) struct Route {
    pub(crate) model: &'static ServiceModel,
    pub(crate) operation: &'static OperationModel,
    /// Query protocol: the operation's parameters (query string and form body together).
    pub(crate) params: Vec<(String, String)>,
}

/// The protocol a request speaks, before anything else is known: it decides how even a
/// routing error is rendered.
pub(crate) fn protocol_of(parts: &Parts) -> Protocol {
    if parts.headers.contains_key(X_AMZ_TARGET) {
        Protocol::Json(rampart_wire::JsonVersion::V1_1)
    } else {
        Protocol::Query
    }
}

/// The largest body accepted for a request of `protocol`, read before anything else.
///
/// AWS documents no request size for these services; each bound is the room the largest
/// input their API models allow needs, with margin:
/// - awsJson (KMS, CloudTrail, Organizations): 1 MiB. KMS's largest inputs are a key policy
///   (32 KB by KMS's quotas, 131,072 characters in the model, at most doubled by JSON
///   escaping) and a Nitro Enclaves attestation document (262,144 bytes, about 350 KB in
///   base64); CloudTrail's and Organizations' are smaller.
/// - awsQuery (IAM, STS): 8 MiB. IAM's model allows a SAML metadata document of 10,000,000
///   characters (`CreateSAMLProvider`), so a Query body cannot be bounded much tighter
///   without refusing what AWS documents; STS's largest input, a SAML assertion, is 100,000
///   characters.
pub(crate) fn max_body_bytes(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Json(_) => 1024 * 1024,
        Protocol::Query => 8 * 1024 * 1024,
    }
}

/// Finds the service and operation. `signing_service` is the credential scope's service,
/// when the request carries a signature.
pub(crate) fn resolve(
    parts: &Parts,
    body: &[u8],
    signing_service: Option<&str>,
) -> Result<Route, AwsError> {
    match parts.headers.get(X_AMZ_TARGET) {
        Some(target) => resolve_json(target.to_str().unwrap_or_default()),
        None => resolve_query(parts, body, signing_service),
    }
}

fn resolve_json(target: &str) -> Result<Route, AwsError> {
    let unknown = || AwsError::new("UnknownOperationException", 400, "");
    let (prefix, name) = target.rsplit_once('.').ok_or_else(unknown)?;
    let model = ServiceModel::by_target_prefix(prefix).ok_or_else(unknown)?;
    let operation = model.operation(name).ok_or_else(unknown)?;
    Ok(Route {
        model,
        operation,
        params: Vec::new(),
    })
}

fn resolve_query(
    parts: &Parts,
    body: &[u8],
    signing_service: Option<&str>,
) -> Result<Route, AwsError> {
    // Only the operation's own parameters are copied out of the request; `Action` is kept
    // (the first one counts) and the parameters routing and signing own are skipped unowned.
    let mut action: Option<String> = None;
    let mut params: Vec<(String, String)> = Vec::new();
    let query = parts.uri.query().unwrap_or_default().as_bytes();
    let body = if is_form(parts) { body } else { &[] };
    for (name, value) in form_urlencoded::parse(query).chain(form_urlencoded::parse(body)) {
        if name == ACTION {
            if action.is_none() {
                action = Some(value.into_owned());
            }
        } else if name != VERSION && !name.starts_with(AUTH_PARAM_PREFIX) {
            params.push((name.into_owned(), value.into_owned()));
        }
    }
    let action = action.ok_or_else(|| AwsError::new("MissingAction", 400, "Missing Action"))?;

    let model = match signing_service {
        Some(service) => ServiceModel::by_signing_name(service)
            .filter(|m| m.protocol() == Protocol::Query)
            .ok_or_else(|| {
                AwsError::new(
                    "InvalidAction",
                    400,
                    format!(
                        "Rampart does not serve the service '{service}' over the Query protocol"
                    ),
                )
            })?,
        None => UNSIGNED_QUERY_SERVICES
            .iter()
            .filter_map(|name| ServiceModel::by_endpoint_prefix(name))
            .find(|m| m.operation(&action).is_some())
            .ok_or_else(|| {
                AwsError::new(
                    "MissingAuthenticationToken",
                    403,
                    "Request is missing Authentication Token",
                )
            })?,
    };
    let operation = model.operation(&action).ok_or_else(|| {
        AwsError::new(
            "InvalidAction",
            400,
            format!(
                "Could not find operation {action} for version {}",
                model.api_version()
            ),
        )
    })?;
    Ok(Route {
        model,
        operation,
        params,
    })
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with(FORM_CONTENT_TYPE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_request(target: &str) -> Parts {
        http::Request::post("/")
            .header(X_AMZ_TARGET, target)
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    fn routed(target: &str) -> (&'static str, &'static str) {
        let route = resolve(&json_request(target), b"{}", None)
            .unwrap_or_else(|e| panic!("`{target}` was refused: {}", e.code));
        (route.model.endpoint_prefix(), route.operation.name())
    }

    fn refused(target: &str) -> AwsError {
        match resolve(&json_request(target), b"{}", None) {
            Ok(route) => panic!(
                "`{target}` routed to {}:{}",
                route.model.endpoint_prefix(),
                route.operation.name()
            ),
            Err(e) => e,
        }
    }

    #[test]
    fn every_target_prefix_the_sdks_send_for_a_served_json_service() {
        // botocore and the JavaScript SDK v3 send KMS's and Organizations' prefixes alike.
        assert_eq!(routed("TrentService.Encrypt"), ("kms", "Encrypt"));
        assert_eq!(
            routed("AWSOrganizationsV20161128.DescribeOrganization"),
            ("organizations", "DescribeOrganization")
        );
        // CloudTrail: botocore's qualified prefix, and the Smithy service name that the
        // JavaScript SDK v3 sends (`serviceTarget: "CloudTrail_20131101"`).
        assert_eq!(
            routed("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail"),
            ("cloudtrail", "CreateTrail")
        );
        assert_eq!(
            routed("CloudTrail_20131101.CreateTrail"),
            ("cloudtrail", "CreateTrail")
        );
        assert_eq!(
            routed("CloudTrail_20131101.LookupEvents"),
            ("cloudtrail", "LookupEvents")
        );
    }

    #[test]
    fn a_target_no_sdk_sends_is_an_unknown_operation() {
        for target in [
            // an operation the service does not have, under each CloudTrail prefix
            "CloudTrail_20131101.CreateKey",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateKey",
            // an operation of another service, under the wrong service's prefix
            "TrentService.CreateTrail",
            // prefixes no AWS SDK sends: other qualifications, other case, a bare name
            "com.amazonaws.cloudtrail.CreateTrail",
            "cloudtrail_20131101.CreateTrail",
            "CloudTrail.CreateTrail",
            "CloudTrail_20131101",
            ".CreateTrail",
            "",
            // a Query service has no target prefix
            "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
        ] {
            let error = refused(target);
            assert_eq!(error.code, "UnknownOperationException", "{target}");
            assert_eq!(error.status, 400, "{target}");
        }
    }

    #[test]
    fn a_target_header_makes_the_request_json() {
        let parts = json_request("CloudTrail_20131101.DescribeTrails");
        assert!(matches!(protocol_of(&parts), Protocol::Json(_)));
        let query = http::Request::post("/").body(()).unwrap().into_parts().0;
        assert_eq!(protocol_of(&query), Protocol::Query);
    }

    #[test]
    fn query_services_route_by_action_and_signing_service() {
        let parts = http::Request::post("/")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let body = b"Action=GetUser&Version=2010-05-08&UserName=alice";
        let route = resolve(&parts, body, Some("iam")).unwrap();
        assert_eq!(
            (route.model.endpoint_prefix(), route.operation.name()),
            ("iam", "GetUser")
        );
        assert_eq!(route.params, vec![("UserName".into(), "alice".into())]);
        let body = b"Action=GetCallerIdentity&Version=2011-06-15";
        let route = resolve(&parts, body, Some("sts")).unwrap();
        assert_eq!(route.operation.name(), "GetCallerIdentity");
        // A JSON service signed for is no Query service.
        let error = resolve(&parts, b"Action=Encrypt", Some("kms"))
            .err()
            .unwrap();
        assert_eq!(error.code, "InvalidAction");
    }
}
