//! HTTP: the listener, Rampart's own endpoints, and the hand-off of AWS requests to the spine.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::pipeline;
use crate::state::AppState;

/// Larger bodies are refused before any work: AWS's largest security-service inputs (policy
/// documents, 64 KiB secrets) are far smaller.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Rampart's HTTP routes: its own endpoints under `/_rampart/`, every other request is AWS's.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_rampart/health", get(health))
        .route("/_rampart/reset", post(reset))
        .route("/_rampart/trail-public-key", get(trail_public_key))
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

/// The public half of the key that signs trail digest files, for `rampart trail validate
/// --public-key` (as AWS serves ListPublicKeys). Public by nature: no authentication.
async fn trail_public_key(State(state): State<Arc<AppState>>) -> Response {
    match crate::delivery::public_key(&state.store, &state.root_key).await {
        Ok(key) => axum::Json(json!({
            "algorithm": rampart_cloudtrail::files::SIGNATURE_ALGORITHM,
            "publicKey": data_encoding::BASE64.encode(&key),
            "fingerprint": rampart_cloudtrail::files::sha256_hex(&key),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the trail signing key is unavailable");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "the trail signing key is unavailable"})),
            )
                .into_response()
        }
    }
}

async fn reset(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let outcome = state
        .store
        .write_with(|tx| rampart_iam::account::reset_to_bootstrap(tx))
        .await;
    state.signing_keys.clear();
    state.state_changed();
    state.usage.clear();
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

async fn aws(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let reply = pipeline::handle(state, parts, body, peer).await;
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
    response
}
