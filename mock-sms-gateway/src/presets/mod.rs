//! The gateways' wire formats: one module per gateway for the send endpoint
//! and one for its receipt, and what their answers share. The receipt
//! modules depend only on what lies below the gateway's state (the courier,
//! the form encoding), so the receipt scheduler can name them without a
//! circle.

pub mod infobip;
pub mod infobip_report;
pub mod jasmin;
pub mod jasmin_dlr;
pub mod kannel;
pub mod kannel_dlr;
pub mod twilio;
pub mod twilio_callback;
pub mod webhook;
pub mod webhook_receipt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::faults::Fault;

/// The HTTP status a fault is answered with.
pub fn fault_status(fault: &Fault) -> StatusCode {
    match fault {
        Fault::Down | Fault::Released => StatusCode::SERVICE_UNAVAILABLE,
        Fault::Fail { status } => StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        Fault::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// Adds what every fault answer carries whatever the preset: `Retry-After`
/// on 429, and `Connection: close` while down so pooled connections drop.
pub fn with_fault_headers(fault: &Fault, mut response: Response) -> Response {
    *response.status_mut() = fault_status(fault);
    let headers = response.headers_mut();
    match fault {
        Fault::RateLimited { retry_after_secs } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        Fault::Down => {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Fault::Fail { .. } | Fault::Released => {}
    }
    response
}

/// The first `n` characters of `text` (SMPP receipts carry 20).
pub fn first_chars(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}
