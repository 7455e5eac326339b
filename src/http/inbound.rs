//! `GET|POST /inbound/{gateway}`: an SMS from a participant. STOP (or
//! BERHENTI, UNREG) stops their reminders, DAFTAR starts them again; the
//! answer carries the reply in the gateway's terms. The formats each preset
//! sends are read by [`crate::receipts::inbound`].

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::GatewayCallback;
use super::error::ApiError;
use crate::config::delivery::Preset;
use crate::domain::PhoneNumber;
use crate::receipts::inbound::{Keyword, START_REPLY, STOP_REPLY, keyword, masked_text, read};

pub(super) async fn inbound(State(state): State<AppState>, callback: GatewayCallback) -> Result<Response, ApiError> {
    let name = &callback.name;
    let preset = callback.preset;
    let message = read(preset, callback.query.as_deref(), &callback.body)
        .map_err(|reason| ApiError::BadRequest(format!("malformed inbound SMS: {reason}")))?;
    let Ok(phone) = PhoneNumber::parse(&message.from) else {
        tracing::info!(gateway = %name, "inbound SMS from a number that is not an Indonesian mobile; ignored");
        return Ok(reply(preset, None));
    };
    let now = state.receipts.now();
    let (result, text) = match keyword(&message.text) {
        Some(Keyword::Stop) => (state.store.opt_out_by_phone(&phone, now).await, STOP_REPLY),
        Some(Keyword::Start) => (state.store.opt_in_by_phone(&phone, now).await, START_REPLY),
        None => {
            tracing::info!(gateway = %name, from = %phone.masked(), text = %masked_text(&message.text),
                "inbound SMS is not a keyword; ignored");
            return Ok(reply(preset, None));
        }
    };
    match result {
        Ok(changes) => {
            let cancelled: u64 = changes.iter().map(|c| c.cancelled_reminders).sum();
            tracing::info!(gateway = %name, from = %phone.masked(), participants = changes.len(),
                cancelled_reminders = cancelled, stop = text == STOP_REPLY, "opt-out by SMS");
            Ok(reply(preset, Some(text)))
        }
        Err(e) => {
            tracing::error!(gateway = %name, error = %e, "cannot record an SMS opt-out");
            Err(ApiError::Unavailable("cannot record it now; try again"))
        }
    }
}

/// The answer in the gateway's terms: Kannel sends the body back as the
/// reply SMS, Twilio reads TwiML, any other gets `{"reply": …}`.
fn reply(preset: Preset, text: Option<&str>) -> Response {
    match preset {
        Preset::Kannel => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text.unwrap_or("").to_string(),
        )
            .into_response(),
        Preset::Twilio => {
            // The replies are fixed texts without XML's special characters.
            let twiml = match text {
                Some(t) => {
                    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{t}</Message></Response>")
                }
                None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>".to_string(),
            };
            ([(header::CONTENT_TYPE, "text/xml")], twiml).into_response()
        }
        _ => {
            let body = match text {
                Some(t) => serde_json::json!({ "reply": t }),
                None => serde_json::json!({}),
            };
            axum::Json(body).into_response()
        }
    }
}
