//! The daemon's HTTP server: health, readiness and metrics, delivery
//! receipts and inbound SMS, payments, and the dashboard.

pub mod auth;
pub mod dashboard;
mod health;
pub mod serve;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::metrics::Metrics;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Counters served on /metrics.
    pub metrics: Arc<Metrics>,
    /// The gateways delivery receipts and inbound SMS are accepted from.
    pub receipts: Arc<crate::receipts::ReceiptGateways>,
    /// The injected clock: payments are checked against its "now".
    pub clock: Arc<dyn crate::clock::Clock>,
    /// The payments API's token and attribution window.
    pub payments: Arc<crate::payments::api::PaymentsApi>,
    /// Who may see the dashboard, and the rules it is computed with.
    pub dashboard: Arc<dashboard::DashboardContext>,
    /// Channels out of service for a configuration error (readiness).
    pub channels: crate::channels::ChannelHealth,
}

/// The routes of the daemon.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(crate::receipts::http::routes())
        .merge(crate::payments::api::routes())
        .with_state(state)
}
