//! HTTP: the listener, Rampart's own endpoints, and the hand-off of AWS requests to the spine.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rampart_wire::{AwsError, Protocol};
use serde_json::json;

use crate::pipeline::{self, Reply};
use crate::route;
use crate::state::AppState;

/// The header a reset must carry, with the value `true`: a deliberate act of a test harness.
/// A browser cannot add it to a cross-site request without a CORS preflight, which Rampart
/// never grants.
const RESET_HEADER: &str = "x-rampart-reset";

/// Rampart's HTTP routes: its own endpoints under `/_rampart/`, every other request is AWS's.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_rampart/health", get(health))
        .route("/_rampart/reset", post(reset))
        .route("/_rampart/{service}/{name}", get(public_document))
        .fallback(aws)
        .with_state(state)
}

/// Serves `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let store = state.store.health();
    let status = if store.state == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "store": store,
    });
    (status, axum::Json(body)).into_response()
}

async fn reset(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !state.config.enable_reset {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "reset is not enabled (start with --enable-reset)"})),
        )
            .into_response();
    }
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": "reset is served to loopback callers only"})),
        )
            .into_response();
    }
    // Loopback is not enough: a web page the developer has open can make the browser POST to
    // a loopback port (a "simple" cross-site request needs no preflight). Browsers mark their
    // requests; a test harness sends neither mark.
    if let Some(why) = browser_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": format!("reset refuses requests from browsers ({why})")})),
        )
            .into_response();
    }
    if headers.get(RESET_HEADER).and_then(|v| v.to_str().ok()) != Some("true") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "reset requires the header X-Rampart-Reset: true"})),
        )
            .into_response();
    }
    let account = match state
        .store
        .read_with(|tx| rampart_iam::account::deployment(tx))
    {
        Ok(deployment) => deployment.map(|d| d.management_account_id),
        Err(e) => {
            tracing::error!(error = %e, "reset failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "reset failed"})),
            )
                .into_response();
        }
    };
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let event = crate::audit::reset_event(
        peer.ip().to_string(),
        user_agent,
        account,
        state.config.region.clone(),
    );
    // The reset and its event commit together: no reset happens unrecorded.
    let outcome = state
        .store
        .write_with(move |tx| {
            rampart_iam::account::reset_to_bootstrap(tx)?;
            for entry in event.entries() {
                tx.append_journal(&entry)?;
            }
            Ok::<_, rampart_store::StoreError>(())
        })
        .await;
    state.signing_keys.clear();
    state.state_changed();
    state.usage.clear();
    state.rate_limits.clear();
    match outcome {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"reset": true}))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reset failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "reset failed"})),
            )
                .into_response()
        }
    }
}

/// A document a service serves unsigned (SNS's signing certificate at a message's
/// `SigningCertURL`), or 404.
async fn public_document(
    State(state): State<Arc<AppState>>,
    axum::extract::Path((service, name)): axum::extract::Path<(String, String)>,
) -> Response {
    let Some(service) = state.registry.get(&service).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = state
        .store
        .read_with(|tx| Ok::<_, rampart_store::StoreError>(service.public_document(tx, &name)));
    match found {
        Ok(Some((content_type, body))) => {
            ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a public document could not be read");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Why a request looks sent by a browser on a web page's behalf, if it does: it names an
/// `Origin` (browsers send one on cross-origin and on every POST), or `Sec-Fetch-Site` says
/// it crosses sites.
fn browser_origin(headers: &HeaderMap) -> Option<&'static str> {
    if headers.contains_key(axum::http::header::ORIGIN) {
        return Some("it has an Origin header");
    }
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        None | Some(b"none" | b"same-origin") => None,
        Some(_) => Some("Sec-Fetch-Site says it crosses sites"),
    }
}

async fn aws(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let protocol = route::protocol_of(&parts);
    let limit = route::max_body_bytes(protocol);
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A declared length over the bound is refused before a byte of the body is read.
    if declared.is_some_and(|n| n > limit as u64) {
        return http_response(too_large(protocol, limit));
    }
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return http_response(too_large(protocol, limit)),
        Err(e) => {
            tracing::debug!(error = %e, "the request body could not be read");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    http_response(pipeline::handle(state, parts, body, peer).await)
}

/// The answer to a body over [`route::max_body_bytes`], in the protocol's error format so
/// that SDKs report it as a service error. AWS documents no such answer for these services:
/// the code and message are Rampart's, with HTTP's status for it (413).
fn too_large(protocol: Protocol, limit: usize) -> Reply {
    let request_id = pipeline::new_id();
    let message = format!("Request body exceeds the maximum size of {limit} bytes");
    let code = match protocol {
        Protocol::Query => "RequestEntityTooLarge",
        Protocol::Json(_) | Protocol::RpcV2Cbor => "RequestEntityTooLargeException",
    };
    pipeline::encode_error(
        protocol,
        None,
        &AwsError::new(code, 413, message),
        request_id,
    )
}

fn http_response(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    if let Ok(id) = HeaderValue::from_str(&reply.request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn send(state: &Arc<AppState>, request: http::Request<Body>) -> (u16, Vec<u8>) {
        let mut request = request;
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        let response = router(Arc::clone(state)).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body.to_vec())
    }

    fn kms_request() -> http::request::Builder {
        http::Request::post("/")
            .header("x-amz-target", "TrentService.DescribeKey")
            .header("content-type", "application/x-amz-json-1.1")
    }

    /// Finding 8: a body without a declared length is read up to the bound only.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_undeclared_body_over_the_bound_gets_the_protocols_error() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(&dir);
        let big = vec![b'k'; 2 * 1024 * 1024];
        let request = kms_request().body(Body::from(big)).unwrap();
        let (status, body) = send(&state, request).await;
        assert_eq!(status, 413);
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["__type"], "RequestEntityTooLargeException");

        // A Query request is bounded by its own, larger bound, answered in XML.
        let big = vec![b'a'; 9 * 1024 * 1024];
        let request = http::Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(big))
            .unwrap();
        let (status, body) = send(&state, request).await;
        assert_eq!(status, 413);
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains("<Code>RequestEntityTooLarge</Code>"),
            "{text}"
        );
    }

    /// A body within the bound goes on to the spine (here: refused as unsigned).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_body_within_the_bound_reaches_the_spine() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::for_tests(&dir);
        let body = br#"{"KeyId":"alias/x"}"#.to_vec();
        let request = kms_request().body(Body::from(body)).unwrap();
        let (status, body) = send(&state, request).await;
        assert_eq!(status, 400);
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["__type"], "MissingAuthenticationTokenException");
    }
}
