//! Route: which service and operation a request is for, from `X-Amz-Target` (JSON protocols),
//! the path `/service/<Service>/operation/<Operation>` (Smithy RPC v2 CBOR), or `Action` plus
//! the credential scope's service (Query protocol). No body is parsed here beyond the form
//! parameters that carry `Action`.

use http::request::Parts;
use rampart_wire::{AwsError, JsonVersion, OperationModel, Protocol, ServiceModel};

/// The wire names of the parameters routing and signing own; they are no operation's input.
const ACTION: &str = "Action";
const VERSION: &str = "Version";
const AUTH_PARAM_PREFIX: &str = "X-Amz-";
const X_AMZ_TARGET: &str = "x-amz-target";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
const JSON_1_0_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Query services consulted, in order, when an unsigned request names no service (the
/// operations AWS serves without a signature: STS's `AssumeRoleWithWebIdentity`, SNS's
/// `ConfirmSubscription` at a message's SubscribeURL).
const UNSIGNED_QUERY_SERVICES: &[&str] = &["sts", "iam", "sns"];

/// Where a request goes.
pub(crate) struct Route {
    pub(crate) model: &'static ServiceModel,
    pub(crate) operation: &'static OperationModel,
    /// The protocol the request speaks, which its answer speaks too (a service such as
    /// CloudWatch serves several).
    pub(crate) protocol: Protocol,
    /// Query protocol: the operation's parameters (query string and form body together).
    pub(crate) params: Vec<(String, String)>,
}

/// The protocol a request speaks, before anything else is known: it decides how even a
/// routing error is rendered.
pub(crate) fn protocol_of(parts: &Parts) -> Protocol {
    if parts
        .headers
        .get(rampart_wire::SMITHY_PROTOCOL_HEADER)
        .is_some_and(|v| v.as_bytes() == rampart_wire::RPC_V2_CBOR.as_bytes())
    {
        Protocol::RpcV2Cbor
    } else if parts.headers.contains_key(X_AMZ_TARGET) {
        let json_1_0 = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with(JSON_1_0_CONTENT_TYPE));
        Protocol::Json(if json_1_0 {
            JsonVersion::V1_0
        } else {
            JsonVersion::V1_1
        })
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
/// - RPC v2 CBOR (CloudWatch): 1 MiB, as awsJson; PutMetricData's documented limit is 1 MB
///   per request.
/// - awsQuery (IAM, STS): 8 MiB. IAM's model allows a SAML metadata document of 10,000,000
///   characters (`CreateSAMLProvider`), so a Query body cannot be bounded much tighter
///   without refusing what AWS documents; STS's largest input, a SAML assertion, is 100,000
///   characters.
pub(crate) fn max_body_bytes(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Json(_) | Protocol::RpcV2Cbor => 1024 * 1024,
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
    match protocol_of(parts) {
        Protocol::RpcV2Cbor => resolve_cbor(parts.uri.path()),
        json @ Protocol::Json(_) => resolve_json(
            parts
                .headers
                .get(X_AMZ_TARGET)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
            json,
        ),
        Protocol::Query => resolve_query(parts, body, signing_service),
    }
}

fn resolve_json(target: &str, protocol: Protocol) -> Result<Route, AwsError> {
    let unknown = || AwsError::new("UnknownOperationException", 400, "");
    let (prefix, name) = target.rsplit_once('.').ok_or_else(unknown)?;
    let model = ServiceModel::by_target_prefix(prefix).ok_or_else(unknown)?;
    let operation = model.operation(name).ok_or_else(unknown)?;
    // The service's own awsJson version answers, whatever the request's content type said.
    let protocol = model.served_protocol(protocol).ok_or_else(unknown)?;
    Ok(Route {
        model,
        operation,
        protocol,
        params: Vec::new(),
    })
}

/// Smithy RPC v2 CBOR: `/service/<Service shape name>/operation/<Operation>`, the service
/// named without its namespace (CloudWatch's is `GraniteServiceVersion20100801`, which is
/// also its awsJson target prefix).
fn resolve_cbor(path: &str) -> Result<Route, AwsError> {
    let unknown = || AwsError::new("UnknownOperationException", 404, "");
    let rest = path.strip_prefix("/service/").ok_or_else(unknown)?;
    let (service, rest) = rest.split_once('/').ok_or_else(unknown)?;
    let name = rest.strip_prefix("operation/").ok_or_else(unknown)?;
    let model = ServiceModel::by_target_prefix(service)
        .filter(|m| m.serves(Protocol::RpcV2Cbor))
        .ok_or_else(unknown)?;
    let operation = model.operation(name).ok_or_else(unknown)?;
    Ok(Route {
        model,
        operation,
        protocol: Protocol::RpcV2Cbor,
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
            .filter(|m| m.serves(Protocol::Query))
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
        protocol: Protocol::Query,
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
    fn cloudwatch_routes_over_each_of_its_protocols() {
        // Smithy RPC v2 CBOR: by the path, whatever the target header says.
        let cbor =
            http::Request::post("/service/GraniteServiceVersion20100801/operation/PutMetricData")
                .header("smithy-protocol", "rpc-v2-cbor")
                .header(http::header::CONTENT_TYPE, "application/cbor")
                .body(())
                .unwrap()
                .into_parts()
                .0;
        assert_eq!(protocol_of(&cbor), Protocol::RpcV2Cbor);
        let route = resolve(&cbor, b"", Some("monitoring")).unwrap();
        assert_eq!(
            (route.model.endpoint_prefix(), route.operation.name()),
            ("monitoring", "PutMetricData")
        );
        assert_eq!(route.protocol, Protocol::RpcV2Cbor);
        for path in [
            "/service/GraniteServiceVersion20100801/operation/Nope",
            "/service/TrentService/operation/Encrypt",
            "/service/GraniteServiceVersion20100801/PutMetricData",
            "/",
        ] {
            let parts = http::Request::post(path)
                .header("smithy-protocol", "rpc-v2-cbor")
                .body(())
                .unwrap()
                .into_parts()
                .0;
            let error = resolve(&parts, b"", None).err().unwrap();
            assert_eq!(error.code, "UnknownOperationException", "{path}");
        }
        // awsJson1.0, answered as 1.0.
        let route = resolve(
            &json_request("GraniteServiceVersion20100801.ListMetrics"),
            b"{}",
            None,
        )
        .unwrap();
        assert_eq!(route.operation.name(), "ListMetrics");
        assert_eq!(route.protocol, Protocol::Json(JsonVersion::V1_0));
        // Query, by the signing service `monitoring`.
        let form = http::Request::post("/")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let route = resolve(
            &form,
            b"Action=ListMetrics&Version=2010-08-01&Namespace=App",
            Some("monitoring"),
        )
        .unwrap();
        assert_eq!(route.operation.name(), "ListMetrics");
        assert_eq!(route.protocol, Protocol::Query);
        assert_eq!(route.params, vec![("Namespace".into(), "App".into())]);
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
