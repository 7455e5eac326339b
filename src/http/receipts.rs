//! The receipt and inbound-SMS routes, merged into the daemon's router.
//!
//! Answers to `/receipts/{gateway}`:
//! - 200 with the preset's acknowledgement (`ACK/Jasmin` for Jasmin, `{}`
//!   for the generic webhook, an empty body otherwise) once every receipt in
//!   the callback is recorded, whatever it did: applied, noted, ignored
//!   (late, repeated, or naming a reminder that does not exist) or waiting
//!   for its send's record. A receipt the gateway would resend gains
//!   nothing from a retry, so it is acknowledged and kept for audit;
//! - 400 with the reason for a callback that is not a receipt of the
//!   gateway's preset (nothing recorded);
//! - 401 for a wrong or missing token or Twilio signature (nothing recorded);
//! - 404 for a gateway not in `[[sms.gateway]]`;
//! - 413 for a body over 64 KiB;
//! - 503 when the database cannot take it now (the gateway retries).

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::auth::GatewayCallback;
use super::error::ApiError;
use super::inbound::{inbound, respond};
use crate::channels::sms::providers::ParsedReceipt;
use crate::store::NewReceipt;

/// The largest callback body accepted: an Infobip batch of 100 reports is
/// about 60 KiB at most; anything bigger is not a receipt.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// `GET|POST /receipts/{gateway}` and `GET|POST /inbound/{gateway}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/receipts/{gateway}", get(receipt).post(receipt))
        .route("/inbound/{gateway}", get(inbound).post(inbound))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn receipt(State(state): State<AppState>, callback: GatewayCallback) -> Result<Response, ApiError> {
    let name = &callback.name;
    let provider = callback.gateway.preset.provider();
    let receipts = provider
        .receipts(&callback.gateway, callback.query.as_deref(), &callback.body)
        .map_err(|e| {
            tracing::warn!(gateway = %name, error = %e, "malformed delivery receipt");
            ApiError::BadRequest(format!("malformed receipt: {e}"))
        })?;
    if let Some(field) = receipts.iter().find_map(nul_field) {
        tracing::warn!(gateway = %name, field, "delivery receipt with a NUL byte refused");
        return Err(ApiError::BadRequest(format!(
            "malformed receipt: the {field} holds a NUL byte (\\0)"
        )));
    }
    let now = state.receipts.now();
    for r in &receipts {
        let new = NewReceipt {
            reminder_id: r.reminder_id,
            provider_message_id: r.provider_message_id.as_deref(),
            state: r.state,
            detail: r.detail.as_deref(),
            raw: &r.raw,
        };
        match state.store.record_receipt(name, &new, now).await {
            Ok(outcome) => state.metrics.record_receipt(name, outcome.as_str()),
            Err(e) => {
                tracing::error!(gateway = %name, error = %e, "cannot record a delivery receipt");
                return Err(ApiError::Unavailable("cannot record it now; try again"));
            }
        }
    }
    Ok(respond(provider.receipt_ack()))
}

/// The field of `r` holding a NUL byte, if one does: no text column stores
/// it (PostgreSQL refuses it), and retrying would not change the callback.
fn nul_field(r: &ParsedReceipt) -> Option<&'static str> {
    if r.provider_message_id.as_deref().is_some_and(|id| id.contains('\0')) {
        Some("message id")
    } else if r.raw.contains('\0') {
        Some("callback")
    } else {
        None
    }
}
