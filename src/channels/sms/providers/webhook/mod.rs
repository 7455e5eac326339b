//! A generic HTTP gateway described in the configuration
//! (`[sms.gateway.webhook]`): method, path, headers and fields are templates
//! over the message (see [`template`]). Values are escaped for where
//! they land: percent-encoded in the path, as JSON strings in a JSON body,
//! form- or query-encoded by the HTTP client; header values are used as
//! they are (and refused if they cannot be a header).
//!
//! Every send carries the reminder's idempotency key in the configured
//! header (`Idempotency-Key` unless set otherwise), per the IETF draft "The
//! Idempotency-Key HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header).
//! That draft answers 409 while a request with the same key is still being
//! processed: with a key header configured, 409 is transient (the next try
//! gets the first answer), not a refusal of the message.

mod receipt;
pub mod settings;
mod template;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use super::sender::digits;
use super::settings::GatewaySettings;
use super::{Ack, CallbackGateway, Capabilities, Context, Idempotency, Outgoing, Provider, Receipts, Sender};
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::sms::OutboundSms;
use crate::channels::sms::http::{Answer, percent_encode};
use settings::WebhookSettings;
use template::{Placeholder, Template};

/// The generic webhook preset.
pub struct Webhook;

impl Provider for Webhook {
    fn capabilities(&self) -> Capabilities {
        Capabilities::BASE.with_idempotency(Idempotency::Header)
    }

    /// One JSON object (or an array of them) read through the configured
    /// pointers (`[sms.gateway.webhook.receipt]`).
    fn receipts(&self, gateway: &CallbackGateway, _query: Option<&str>, body: &[u8]) -> Receipts {
        receipt::receipts(&gateway.webhook, body)
    }

    /// `{}`.
    fn receipt_ack(&self) -> Ack {
        Ack::json(&serde_json::json!({}))
    }
}

/// Where the fields go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    /// A JSON object of strings.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// The URL's query string.
    Query,
}

/// A gateway spoken to as configured.
#[derive(Debug)]
pub struct WebhookSender {
    /// The gateway.
    ctx: Context,
    /// `sender`, when configured.
    sender: Option<String>,
    /// The HTTP method.
    method: Method,
    /// The path, appended to `base_url`.
    path: Template,
    /// Extra headers.
    headers: Vec<(HeaderName, Template)>,
    /// Where the fields go.
    body: BodyKind,
    /// The fields, name → template.
    fields: Vec<(String, Template)>,
    /// JSON pointer to the message id in the answer.
    message_id_pointer: Option<String>,
    /// Statuses that mean accepted.
    success_status: Vec<u16>,
    /// The header the idempotency key goes in; `None`: not sent.
    idempotency_header: Option<HeaderName>,
}

impl WebhookSender {
    /// The sender of the gateway `settings` describe.
    pub fn new(ctx: Context, settings: &GatewaySettings) -> Result<Self, ChannelConfigError> {
        let webhook: &WebhookSettings = settings
            .webhook
            .as_ref()
            .ok_or_else(|| ctx.config_error("preset = \"webhook\" needs [sms.gateway.webhook]"))?;
        let template = |source: &str| Template::parse(source).map_err(|e| ctx.config_error(e));
        let method = match webhook.method.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            other => return Err(ctx.config_error(format!("webhook method {other:?} must be GET, POST, PUT or PATCH"))),
        };
        let body = match webhook.body.as_str() {
            "json" => BodyKind::Json,
            "form" => BodyKind::Form,
            "query" => BodyKind::Query,
            other => return Err(ctx.config_error(format!("webhook body {other:?} must be json, form or query"))),
        };
        let mut headers = Vec::new();
        for (name, value) in &webhook.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ctx.config_error(format!("{name:?} is not a header name")))?;
            headers.push((name, template(value)?));
        }
        let fields = webhook
            .fields
            .iter()
            .map(|(name, value)| Ok((name.clone(), template(value)?)))
            .collect::<Result<Vec<_>, ChannelConfigError>>()?;
        if let Some(pointer) = &webhook.message_id_pointer
            && !(pointer.is_empty() || pointer.starts_with('/'))
        {
            return Err(ctx.config_error(format!("message_id_pointer {pointer:?} is not a JSON pointer (/…)")));
        }
        if webhook.success_status.is_empty() {
            return Err(ctx.config_error("success_status lists no status"));
        }
        let idempotency_header = match webhook.idempotency_header.trim() {
            "" => None,
            name => Some(
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| ctx.config_error(format!("idempotency_header {name:?} is not a header name")))?,
            ),
        };
        let gateway = Self {
            sender: settings.sender.clone(),
            method,
            path: template(&webhook.path)?,
            headers,
            body,
            fields,
            message_id_pointer: webhook.message_id_pointer.clone(),
            success_status: webhook.success_status.clone(),
            idempotency_header,
            ctx,
        };
        gateway.check_values()?;
        Ok(gateway)
    }

    /// Every placeholder used must have a value.
    fn check_values(&self) -> Result<(), ChannelConfigError> {
        let used = std::iter::once(&self.path)
            .chain(self.headers.iter().map(|(_, t)| t))
            .chain(self.fields.iter().map(|(_, t)| t))
            .flat_map(Template::placeholders);
        for placeholder in used {
            let missing = match placeholder {
                Placeholder::Sender if self.sender.is_none() => "{sender} is used but no sender is set",
                Placeholder::Password if self.ctx.password.is_none() => {
                    "{password} is used but no password_env or password_file is set"
                }
                Placeholder::Token if self.ctx.receipt_token.is_none() => {
                    "{token} is used but no receipt_token_env or receipt_token_file is set"
                }
                _ => continue,
            };
            return Err(self.ctx.config_error(missing));
        }
        Ok(())
    }

    /// A placeholder's value for `msg`, whose idempotency key is `key`.
    fn value(&self, msg: &OutboundSms, key: &str, placeholder: Placeholder) -> String {
        match placeholder {
            Placeholder::IdempotencyKey => key.to_string(),
            Placeholder::To => msg.to.clone(),
            Placeholder::ToDigits => digits(&msg.to).to_string(),
            Placeholder::Text => msg.text.clone(),
            Placeholder::Id => msg.reminder_id.to_string(),
            Placeholder::Sender => self.sender.clone().unwrap_or_default(),
            Placeholder::CallbackUrl => self.ctx.receipt_url(&[]),
            Placeholder::Token => self.ctx.receipt_token.clone().unwrap_or_default(),
            Placeholder::Password => self.ctx.password.clone().unwrap_or_default(),
        }
    }
}

impl Sender for WebhookSender {
    fn request(&self, http: &reqwest::Client, out: Outgoing<'_>) -> Result<reqwest::RequestBuilder, SendError> {
        let Outgoing { msg, key, .. } = out;
        let value = |p| self.value(msg, key, p);
        let raw = |v: &str| v.to_string();
        let path = self.path.render(value, percent_encode);
        let mut request = http.request(self.method.clone(), self.ctx.endpoint(&path));
        for (name, template) in &self.headers {
            let rendered = template.render(value, raw);
            let header = HeaderValue::from_str(&rendered).map_err(|_| {
                SendError::permanent(
                    &self.ctx.name,
                    format!("the value of header {name} cannot be sent as a header"),
                )
            })?;
            request = request.header(name, header);
        }
        if let Some(name) = &self.idempotency_header {
            // The key is ASCII letters, digits and '-': always a valid value.
            let header = HeaderValue::from_str(key)
                .map_err(|_| SendError::permanent(&self.ctx.name, "the idempotency key cannot be sent as a header"))?;
            request = request.header(name, header);
        }
        let fields: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(name, t)| (name.clone(), t.render(value, raw)))
            .collect();
        Ok(match self.body {
            BodyKind::Json => {
                let object: serde_json::Map<String, Value> =
                    fields.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
                request.json(&object)
            }
            BodyKind::Form => request.form(&fields),
            BodyKind::Query => request.query(&fields),
        })
    }

    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError> {
        let name = &self.ctx.name;
        if self.success_status.contains(&answer.status.as_u16()) {
            let Some(pointer) = &self.message_id_pointer else {
                return Ok(None);
            };
            let id = answer.json().and_then(|json| match json.pointer(pointer) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
            return match id {
                Some(id) => Ok(Some(id)),
                None => Err(answer.unexpected(name, &format!("JSON with a message id at {pointer}"))),
            };
        }
        if answer.status.is_success() {
            return Err(answer.unexpected(name, &format!("one of the statuses {:?}", self.success_status)));
        }
        let json = answer.json();
        let detail = ["error", "message", "detail"]
            .iter()
            .find_map(|key| json.as_ref()?.get(*key)?.as_str().map(str::to_string))
            .unwrap_or_else(|| answer.excerpt());
        if answer.status == reqwest::StatusCode::CONFLICT && self.idempotency_header.is_some() {
            return Err(SendError::transient(
                name,
                format!("HTTP 409: the first send of this key is still in progress ({detail})"),
                answer.retry_after,
            ));
        }
        Err(answer.failure(name, &detail))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::channels::sms::fixtures;
    use crate::channels::sms::providers::Preset;
    use crate::schedule::measure;

    fn settings(body: &str, path: &str, fields: &[(&str, &str)]) -> GatewaySettings {
        let mut settings = fixtures::settings(Preset::Webhook);
        settings.webhook = Some(WebhookSettings {
            method: "post".into(),
            path: path.into(),
            headers: BTreeMap::from([("X-Api-Key".to_string(), "{password}".to_string())]),
            body: body.into(),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            message_id_pointer: None,
            success_status: vec![200],
            receipt: Default::default(),
            idempotency_header: "Idempotency-Key".into(),
        });
        settings
    }

    fn build(settings: &GatewaySettings) -> reqwest::Request {
        let webhook = WebhookSender::new(fixtures::context(Some("tok")), settings).unwrap();
        let msg = OutboundSms {
            reminder_id: 9,
            to: "+6281234567890".into(),
            text: "Iuran – Juli & Agustus".into(),
        };
        let size = measure(&msg.text);
        webhook
            .request(
                &reqwest::Client::new(),
                Outgoing {
                    msg: &msg,
                    size: &size,
                    key: "pengingat-abc-9",
                },
            )
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn values_are_escaped_for_the_path_the_query_and_the_form() {
        let query = build(&settings(
            "query",
            "/kirim/{to}/{id}",
            &[("pesan", "{text}"), ("nomor", "{to_digits}")],
        ));
        assert_eq!(query.url().path(), "/kirim/%2B6281234567890/9");
        let pairs: Vec<(String, String)> = query.url().query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(
            pairs,
            vec![
                ("nomor".into(), "6281234567890".into()),
                ("pesan".into(), "Iuran – Juli & Agustus".into())
            ]
        );
        assert_eq!(query.headers()["x-api-key"], "rahasia");
        assert_eq!(query.method(), Method::POST);

        let form = build(&settings(
            "form",
            "/kirim",
            &[("cb", "{callback_url}"), ("t", "{token}")],
        ));
        let body = std::str::from_utf8(form.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            "cb=https%3A%2F%2Fpengingat.example%2Freceipts%2Fgw-1%3Ftoken%3Dtok&t=tok"
        );

        let json = build(&settings("json", "/kirim", &[("text", "{text}"), ("from", "{sender}")]));
        let body: Value = serde_json::from_slice(json.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"text": "Iuran – Juli & Agustus", "from": "BPJSTKU"})
        );
    }

    #[test]
    fn placeholders_without_values_and_bad_shapes_are_refused() {
        let context = || fixtures::context(None);
        let token = settings("json", "/kirim", &[("t", "{token}")]);
        assert!(
            WebhookSender::new(context(), &token)
                .unwrap_err()
                .to_string()
                .contains("{token} is used")
        );
        let mut no_sender = settings("json", "/kirim/{sender}", &[]);
        no_sender.sender = None;
        assert!(
            WebhookSender::new(context(), &no_sender)
                .unwrap_err()
                .to_string()
                .contains("{sender} is used")
        );
        let xml = settings("xml", "/kirim", &[]);
        assert!(
            WebhookSender::new(context(), &xml)
                .unwrap_err()
                .to_string()
                .contains("json, form or query")
        );
        let mut delete = settings("json", "/kirim", &[]);
        delete.webhook.as_mut().unwrap().method = "DELETE".into();
        assert!(WebhookSender::new(context(), &delete).is_err());
    }

    #[test]
    fn the_idempotency_key_goes_in_the_configured_header() {
        let request = build(&settings("json", "/kirim", &[]));
        assert_eq!(request.headers()["idempotency-key"], "pengingat-abc-9");

        let mut custom = settings("json", "/kirim", &[("ref", "{idempotency_key}")]);
        custom.webhook.as_mut().unwrap().idempotency_header = "X-Request-Id".into();
        let request = build(&custom);
        assert_eq!(request.headers()["x-request-id"], "pengingat-abc-9");
        assert!(request.headers().get("idempotency-key").is_none());
        let body: Value = serde_json::from_slice(request.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"ref": "pengingat-abc-9"}));

        let mut off = settings("json", "/kirim", &[]);
        off.webhook.as_mut().unwrap().idempotency_header = String::new();
        assert!(build(&off).headers().get("idempotency-key").is_none());

        let mut bad = settings("json", "/kirim", &[]);
        bad.webhook.as_mut().unwrap().idempotency_header = "bad header".into();
        let error = WebhookSender::new(fixtures::context(None), &bad).unwrap_err();
        assert!(error.to_string().contains("idempotency_header"), "{error}");
    }

    #[test]
    fn a_conflict_is_transient_only_with_a_key_header() {
        let answer = Answer {
            status: reqwest::StatusCode::CONFLICT,
            retry_after: None,
            body: r#"{"error": "a request with this key is in progress"}"#.into(),
        };
        let with_key = WebhookSender::new(fixtures::context(Some("tok")), &settings("json", "/kirim", &[])).unwrap();
        assert!(with_key.accepted(&answer).unwrap_err().is_transient());
        let mut off = settings("json", "/kirim", &[]);
        off.webhook.as_mut().unwrap().idempotency_header = String::new();
        let without = WebhookSender::new(fixtures::context(Some("tok")), &off).unwrap();
        assert!(!without.accepted(&answer).unwrap_err().is_transient());
    }
}
