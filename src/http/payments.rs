//! `POST /api/v1/payments`: one payment (a JSON object) or a batch (an
//! array), with the fields of a payments file (`external_ref`, `nik` or
//! `kpj`, `amount`, `months`, `paid_at`, `channel`).
//!
//! Idempotent by external reference: posting the same payment again is a
//! duplicate that changes nothing. Each item is applied on its own and gets
//! its own result; a bad item changes nothing and does not stop the others.
//! The status of a single payment is its own (201 recorded, 200 duplicate,
//! 409 reference reused for a different payment, 422 refused); a batch
//! answers 200 with the per-item results.

use std::path::Path;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::auth::PaymentsRequest;
use super::error::{ApiError, JsonApiError};
use crate::import::{ImportError, ImportOptions, PaymentRowResult, RowError, apply_payment_table, parse_json};
use crate::store::PaymentSource;

/// Largest request body: about 5,000 payments.
const BODY_LIMIT: usize = 1024 * 1024;

/// What the payments API needs besides the store.
#[derive(Debug, Clone, Default)]
pub struct PaymentsApi {
    /// The bearer token; without one the endpoint refuses every call.
    pub token: Option<String>,
    /// The attribution window in seconds.
    pub attribution_secs: i64,
}

/// The payments routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments", post(post_payments))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn post_payments(State(state): State<AppState>, request: PaymentsRequest) -> Result<Response, JsonApiError> {
    let body = request.body;
    let bad = |reason: String| JsonApiError(ApiError::BadRequest(reason));
    let text = std::str::from_utf8(&body).map_err(|_| bad("the body is not UTF-8".into()))?;
    let single = text.trim_start().starts_with('{');
    if single && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        // `{…},{…}` would read as a batch once put in brackets: one object
        // must be the whole body.
        return Err(bad(format!(
            "the request body is not one JSON object or an array of objects: {e}"
        )));
    }
    let text = if single { format!("[{text}]") } else { text.to_string() };
    let source = Path::new("request body");
    let table = parse_json(source, &text).map_err(|e| bad(e.to_string()))?;
    if table.records.is_empty() {
        return Err(bad("no payments in the request".into()));
    }
    let options = ImportOptions {
        payment_source: PaymentSource::Http,
        attribution_secs: state.payments.attribution_secs,
        ..ImportOptions::new(state.clock.now())
    };
    let results = match apply_payment_table(state.store.as_ref(), source, &table, &options).await {
        Ok(results) => results,
        Err(ImportError::Store(e)) => {
            tracing::error!(error = %e, "cannot record posted payments");
            return Err(ApiError::Unavailable("cannot record payments now; try again").into());
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    let items: Vec<ItemResult> = results.iter().enumerate().map(|(i, r)| ItemResult::of(i, r)).collect();
    let count = |s: &str| items.iter().filter(|i| i.status == s).count();
    tracing::info!(
        items = items.len(),
        recorded = count("recorded"),
        duplicates = count("duplicate"),
        refused = items.len() - count("recorded") - count("duplicate"),
        "payments posted"
    );
    for result in ["recorded", "duplicate", "conflict", "rejected"] {
        state.metrics.record_payments("http", result, count(result) as u64);
    }
    let status = if single { items[0].http_status() } else { StatusCode::OK };
    let body = json!({
        "recorded": count("recorded"),
        "duplicates": count("duplicate"),
        "conflicts": count("conflict"),
        "rejected": count("rejected"),
        "results": items,
    });
    Ok((status, axum::Json(body)).into_response())
}

/// One item's result, as answered.
#[derive(Debug, Serialize)]
struct ItemResult {
    /// Its position in the request, from 0.
    index: usize,
    /// `recorded`, `duplicate`, `conflict` or `rejected`.
    status: &'static str,
    /// Recorded: the first month it pays for.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_month: Option<String>,
    /// Recorded: the participant is now paid through this month.
    #[serde(skip_serializing_if = "Option::is_none")]
    paid_through: Option<String>,
    /// Recorded: the reminder credited with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    attributed_reminder: Option<serde_json::Value>,
    /// Recorded: pending reminders it cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled_reminders: Option<u64>,
    /// Conflict or rejected: what is wrong, by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<serde_json::Value>,
}

impl ItemResult {
    fn of(index: usize, result: &PaymentRowResult) -> Self {
        let mut item = Self {
            index,
            status: "duplicate",
            first_month: None,
            paid_through: None,
            attributed_reminder: None,
            cancelled_reminders: None,
            errors: Vec::new(),
        };
        match result {
            PaymentRowResult::Recorded {
                first_month,
                last_month,
                attribution,
                cancelled_reminders,
            } => {
                item.status = "recorded";
                item.first_month = Some(first_month.to_string());
                item.paid_through = Some(last_month.to_string());
                item.attributed_reminder = attribution.as_ref().map(|a| {
                    json!({"id": a.reminder_id, "rule": a.rule, "channel": a.channel, "days_to_pay": a.days_to_pay})
                });
                item.cancelled_reminders = Some(*cancelled_reminders);
            }
            PaymentRowResult::Duplicate => {}
            PaymentRowResult::Rejected(errors) => {
                item.status = if errors.iter().any(|e| e.conflict) {
                    "conflict"
                } else {
                    "rejected"
                };
                item.errors = errors.iter().map(field_error).collect();
            }
        }
        item
    }

    fn http_status(&self) -> StatusCode {
        match self.status {
            "recorded" => StatusCode::CREATED,
            "duplicate" => StatusCode::OK,
            "conflict" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

fn field_error(e: &RowError) -> serde_json::Value {
    json!({"field": e.column, "reason": e.reason})
}
