//! The endpoints for tests and operators: recorded messages, fault control,
//! counters. Faults never apply to these.

use std::sync::atomic::Ordering;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use crate::faults::{FaultSettings, FaultUpdate};
use crate::state::Shared;
use crate::store::{MessageFilter, RecordedMessage};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/messages", get(list).delete(clear))
        .route("/messages/count", get(count))
        .route("/control", get(show).post(update))
        .route("/stats", get(stats))
        .route("/health", get(|| async { "ok" }))
        .route("/sink", any(sink))
}

async fn list(State(gateway): State<Shared>, Query(filter): Query<MessageFilter>) -> Json<Vec<RecordedMessage>> {
    Json(gateway.store.list(&filter))
}

async fn count(State(gateway): State<Shared>, Query(filter): Query<MessageFilter>) -> Json<serde_json::Value> {
    Json(json!({"count": gateway.store.count(&filter)}))
}

async fn clear(State(gateway): State<Shared>) -> StatusCode {
    gateway.store.clear();
    gateway.idempotency.clear();
    StatusCode::NO_CONTENT
}

/// `GET /control`: the faults in force and the receipt settings.
#[derive(Debug, Serialize)]
struct ControlView {
    /// The faults.
    #[serde(flatten)]
    faults: FaultSettings,
    /// The receipt settings (fixed at start).
    receipts: ReceiptView,
}

/// The receipt settings as shown.
#[derive(Debug, Serialize)]
struct ReceiptView {
    /// Whether receipts are sent.
    enabled: bool,
    /// Acceptance to receipt, milliseconds.
    delay_ms: u128,
    /// Share of messages that end delivered.
    delivered_ratio: f64,
    /// Seed of the decision.
    seed: u64,
}

fn view(gateway: &Shared) -> ControlView {
    let config = &gateway.receipt_config;
    ControlView {
        faults: gateway.faults.settings(),
        receipts: ReceiptView {
            enabled: gateway.receipts.enabled(),
            delay_ms: config.delay.as_millis(),
            delivered_ratio: config.delivered_ratio,
            seed: config.seed,
        },
    }
}

async fn show(State(gateway): State<Shared>) -> Json<ControlView> {
    Json(view(&gateway))
}

async fn update(State(gateway): State<Shared>, Json(update): Json<FaultUpdate>) -> Response {
    match gateway.faults.apply(&update) {
        Ok(()) => Json(view(&gateway)).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

/// `/sink`, any method: a callback target that acknowledges everything
/// (its body is `ACK/Jasmin`, which satisfies Jasmin receipts too), so a
/// benchmark or a dry run can have receipts sent somewhere real.
///
/// The body is read in full: answering before it is read would make the
/// server close the connection under a sender still writing a large batch.
async fn sink(State(gateway): State<Shared>, _body: axum::body::Bytes) -> &'static str {
    gateway.sink_hits.fetch_add(1, Ordering::Relaxed);
    crate::presets::jasmin_dlr::ACK
}

async fn stats(State(gateway): State<Shared>) -> Json<serde_json::Value> {
    let receipts = &gateway.receipts.stats;
    Json(json!({
        "accepted": gateway.store.count(&MessageFilter::default()),
        "faults_injected": gateway.faults.injected(),
        "duplicates_suppressed": gateway.idempotency.suppressed(),
        "receipts_queued": receipts.queued.load(Ordering::Relaxed),
        "receipts_dropped": receipts.dropped.load(Ordering::Relaxed),
        "callbacks_sent": receipts.callbacks_sent.load(Ordering::Relaxed),
        "callbacks_failed": receipts.callbacks_failed.load(Ordering::Relaxed),
        "sink_received": gateway.sink_hits.load(Ordering::Relaxed),
        "unauthenticated": gateway.unauthenticated.load(Ordering::Relaxed),
    }))
}
