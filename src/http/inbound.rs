//! `GET|POST /inbound/{gateway}`: an SMS from a participant. STOP (or
//! BERHENTI, UNREG) stops their reminders, DAFTAR starts them again; the
//! answer carries the reply in the gateway's terms. Each preset's provider
//! reads the message and words the answer
//! ([`crate::channels::sms::providers::Provider::inbound`]).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::GatewayCallback;
use super::error::ApiError;
use crate::channels::sms::providers::{Ack, Provider};
use crate::domain::PhoneNumber;
use crate::receipts::inbound::{Keyword, START_REPLY, STOP_REPLY, keyword, masked_text};

pub(super) async fn inbound(State(state): State<AppState>, callback: GatewayCallback) -> Result<Response, ApiError> {
    let name = &callback.name;
    let provider = callback.gateway.preset.provider();
    let message = provider
        .inbound(callback.query.as_deref(), &callback.body)
        .map_err(|reason| ApiError::BadRequest(format!("malformed inbound SMS: {reason}")))?;
    let Ok(phone) = PhoneNumber::parse(&message.from) else {
        tracing::info!(gateway = %name, "inbound SMS from a number that is not an Indonesian mobile; ignored");
        return Ok(reply(provider, None));
    };
    let now = state.receipts.now();
    let (result, text) = match keyword(&message.text) {
        Some(Keyword::Stop) => (state.store.opt_out_by_phone(&phone, now).await, STOP_REPLY),
        Some(Keyword::Start) => (state.store.opt_in_by_phone(&phone, now).await, START_REPLY),
        None => {
            tracing::info!(gateway = %name, from = %phone.masked(), text = %masked_text(&message.text),
                "inbound SMS is not a keyword; ignored");
            return Ok(reply(provider, None));
        }
    };
    match result {
        Ok(changes) => {
            let cancelled: u64 = changes.iter().map(|c| c.cancelled_reminders).sum();
            tracing::info!(gateway = %name, from = %phone.masked(), participants = changes.len(),
                cancelled_reminders = cancelled, stop = text == STOP_REPLY, "opt-out by SMS");
            Ok(reply(provider, Some(text)))
        }
        Err(e) => {
            tracing::error!(gateway = %name, error = %e, "cannot record an SMS opt-out");
            Err(ApiError::Unavailable("cannot record it now; try again"))
        }
    }
}

/// The answer in the gateway's terms, with `text` as the reply when there is one.
fn reply(provider: &dyn Provider, text: Option<&str>) -> Response {
    respond(provider.inbound_reply(text))
}

/// A provider's acknowledgement as the response (always `200`).
pub(super) fn respond(ack: Ack) -> Response {
    match ack {
        Ack::Empty => StatusCode::OK.into_response(),
        Ack::Body { content_type, body } => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
    }
}
