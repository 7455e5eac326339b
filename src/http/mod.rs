//! The daemon's HTTP server. Every handler lives here; each module exposes
//! its routes as a `router()`, and the handlers call the feature modules
//! (payments import, receipts parsing, reports), which never see
//! [`AppState`].
//!
//! | Route | Module | Who may call it |
//! |---|---|---|
//! | `GET /` | [`dashboard`] | [`auth::DashboardViewer`] |
//! | `GET /healthz`, `/readyz`, `/metrics` | `health` | anyone |
//! | `GET`/`POST /receipts/{gateway}` | [`receipts`] | [`auth::GatewayCallback`] |
//! | `GET`/`POST /inbound/{gateway}` | `inbound` | [`auth::GatewayCallback`] |
//! | `POST /api/v1/payments` | [`payments`] | [`auth::PaymentsRequest`] |
//!
//! Refusals are [`ApiError`]s; [`serve`] applies the connection and time
//! limits.

pub mod auth;
pub mod dashboard;
mod dashboard_region;
pub mod error;
mod health;
mod inbound;
pub mod page_cache;
pub mod payments;
pub mod receipts;
pub mod serve;

pub use error::{ApiError, JsonApiError};

use std::sync::Arc;

use axum::Router;

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
    pub payments: Arc<payments::PaymentsApi>,
    /// Who may see the dashboard, and the rules it is computed with.
    pub dashboard: Arc<dashboard::DashboardContext>,
    /// Channels out of service for a configuration error (readiness).
    pub channels: crate::channels::ChannelHealth,
}

/// The routes of the daemon.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(dashboard::router())
        .merge(dashboard_region::router())
        .merge(health::router())
        .merge(receipts::router())
        .merge(payments::router())
        .with_state(state)
}
