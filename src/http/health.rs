//! Liveness, readiness and metrics.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

/// `GET /healthz`, `/readyz` and `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process answers: it is alive.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers within two seconds and no channel is out of
/// service for a configuration error: the daemon can do its work. 503
/// otherwise, naming what is wrong, so a load balancer or operator sees it
/// at once.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => {
            let problems = state.channels.problems();
            if problems.is_empty() {
                return (StatusCode::OK, "ready\n".to_string());
            }
            let lines: String = problems
                .iter()
                .map(|(channel, problem)| format!("{channel} out of service: {problem}\n"))
                .collect();
            (StatusCode::SERVICE_UNAVAILABLE, lines)
        }
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("database unreachable: {e}\n")),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database did not answer within 2 s\n".to_string(),
        ),
    }
}

/// Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}
