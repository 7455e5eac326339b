//! The SMS gateways pengingat speaks, one module each: how a message becomes
//! a request and the answer reads ([`Sender`]), and how the gateway's
//! callbacks read and are answered ([`Provider`]): delivery receipts,
//! inbound SMS, their authentication and acknowledgement.
//!
//! Adding a gateway is one new module here implementing [`Provider`] and a
//! [`Sender`] for its configured gateways, plus one line in the registry
//! below naming both, which makes it a `preset` of `[[sms.gateway]]`.
//!
//! Everything here is free of I/O and of the database: the pool
//! ([`super::GatewayPool`]) makes the requests, the receipt endpoints
//! (`crate::http`) take the callbacks, and the store records them.

mod callback;
mod sender;
pub mod settings;

use serde::Deserialize;

pub use callback::{Ack, AuthError, Callback, CallbackGateway, Inbound, ParseError, ParsedReceipt};
pub use kannel::signature::signature as kannel_signature;
pub use sender::{Context, Outgoing, Sender};
pub use twilio::signature::{SIGNATURE_HEADER as TWILIO_SIGNATURE_HEADER, twilio_signature, verify_twilio_signature};
pub use webhook::settings::{WebhookReceiptSettings, WebhookSettings, default_idempotency_header};

use crate::channels::error::ChannelConfigError;
use settings::GatewaySettings;

/// The registry: each preset's variant, its `preset` value in the
/// configuration, its [`Provider`] and the [`Sender`] of its configured
/// gateways (`module::{Provider, Sender}`, the module declared here; the
/// sender is built by `Sender::new(ctx, settings)`). One line per gateway.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident = $name:literal => $module:ident::{$provider:ident, $sender:ident},)*) => {
        $(mod $module;)*

        /// The wire format a gateway speaks: `preset` of `[[sms.gateway]]`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
        pub enum Preset {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Preset {
            /// Every preset, in the registry's order.
            pub(crate) const ALL: &'static [Preset] = &[$(Preset::$variant),*];

            /// Its `preset` value in the configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// What the gateway speaks and can do.
            pub fn provider(self) -> &'static dyn Provider {
                match self {
                    $(Self::$variant => &$module::$provider,)*
                }
            }

            /// The sender of one configured gateway, or what is wrong with its settings.
            pub fn sender(self, ctx: Context, settings: &GatewaySettings) -> Result<Box<dyn Sender>, ChannelConfigError> {
                Ok(match self {
                    $(Self::$variant => Box::new($module::$sender::new(ctx, settings)?),)*
                })
            }
        }
    };
}

registry! {
    /// Kannel `GET /cgi-bin/sendsms`, receipts to `dlr-url` with `%d`.
    Kannel = "kannel" => kannel::{Kannel, KannelSender},
    /// Jasmin HTTP API `/send`, receipts answered `ACK/Jasmin`.
    Jasmin = "jasmin" => jasmin::{Jasmin, JasminSender},
    /// Twilio Messages API, `StatusCallback` signed with `X-Twilio-Signature`.
    Twilio = "twilio" => twilio::{Twilio, TwilioSender},
    /// Infobip SMS API v3, delivery reports as `{"results": [...]}`.
    Infobip = "infobip" => infobip::{Infobip, InfobipSender},
    /// Any HTTP API, described by `[sms.gateway.webhook]`.
    Webhook = "webhook" => webhook::{Webhook, WebhookSender},
}

impl Preset {
    /// The most segments the gateway sends of one message by default
    /// ([`Capabilities::default_max_segments`]).
    pub(crate) fn default_max_segments(self) -> u32 {
        self.provider().capabilities().default_max_segments
    }
}

/// How a re-send of one reminder (after a crash between the send and its
/// record) is kept from reaching the phone twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// The gateway takes no key it de-duplicates by: a re-send is a second SMS.
    None,
    /// The reminder's idempotency key is the message id the gateway
    /// de-duplicates by (Infobip's `messageId`).
    MessageId,
    /// The key travels in a header (`Idempotency-Key`, configurable).
    Header,
}

/// The secret a gateway's callbacks are authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKey {
    /// The receipt token (`receipt_token_env` / `receipt_token_file`).
    ReceiptToken,
    /// The gateway's password, which signs its callbacks (Twilio's auth token).
    Password,
}

/// What a preset can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The most segments of one message it sends unless `max_segments` says otherwise.
    pub default_max_segments: u32,
    /// How a re-send is de-duplicated, if at all.
    pub idempotency: Idempotency,
    /// Which secret its callbacks carry or are signed with.
    pub callback_key: CallbackKey,
    /// Whether `receipt_auth = "signature"` is possible: receipt URLs signed
    /// per reminder instead of carrying the receipt token.
    pub signed_receipt_urls: bool,
}

impl Capabilities {
    /// What a gateway can do unless its provider says otherwise: 10
    /// segments, no de-duplication, callbacks carrying the receipt token.
    pub(crate) const BASE: Self = Self {
        default_max_segments: 10,
        idempotency: Idempotency::None,
        callback_key: CallbackKey::ReceiptToken,
        signed_receipt_urls: false,
    };

    /// These capabilities with re-sends de-duplicated by `idempotency`.
    pub const fn with_idempotency(self, idempotency: Idempotency) -> Self {
        Self { idempotency, ..self }
    }
}

/// The receipts of one callback, or why it is refused whole.
pub type Receipts = Result<Vec<ParsedReceipt>, ParseError>;

/// One gateway preset: everything that differs from one gateway to another.
pub trait Provider: Send + Sync {
    /// What it can do: by default [`Capabilities::BASE`].
    fn capabilities(&self) -> Capabilities {
        Capabilities::BASE
    }

    /// A message id as stored and matched (from the send's answer and from
    /// receipts alike): trimmed; `None` when empty.
    fn message_id(&self, id: &str) -> Option<String> {
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_string())
    }

    /// Whether `callback` comes from `gateway`: by default its receipt
    /// token, in the query (`token`) or as `Authorization: Bearer`.
    fn authenticate(&self, gateway: &CallbackGateway, callback: &Callback<'_>) -> Result<(), AuthError> {
        callback::check_token(callback::receipt_token(gateway)?, callback)
    }

    /// The delivery receipts in one callback; a malformed callback is
    /// refused whole.
    fn receipts(&self, gateway: &CallbackGateway, query: Option<&str>, body: &[u8]) -> Receipts;

    /// The answer to a receipt callback once it is recorded: by default
    /// `200` with an empty body.
    fn receipt_ack(&self) -> Ack {
        Ack::Empty
    }

    /// An inbound SMS: by default `POST` JSON `{"from": "+62…", "text": "…"}`.
    fn inbound(&self, query: Option<&str>, body: &[u8]) -> Result<Inbound, String> {
        let _ = query;
        callback::inbound_json(body)
    }

    /// The answer to an inbound SMS, with `reply` for the participant when
    /// there is one: by default `{"reply": "…"}` (or `{}`), for the gateway
    /// to send if it can.
    fn inbound_reply(&self, reply: Option<&str>) -> Ack {
        let body = match reply {
            Some(t) => serde_json::json!({ "reply": t }),
            None => serde_json::json!({}),
        };
        Ack::json(&body)
    }
}

/// A gateway's message id as stored and matched ([`Provider::message_id`]):
/// the dispatcher stores `provider_message_id` through this so receipts find it.
pub fn normalise_provider_id(preset: Preset, id: &str) -> Option<String> {
    preset.provider().message_id(id)
}

#[cfg(test)]
#[path = "receipt_tests.rs"]
mod receipt_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_are_trimmed_and_jasmin_ids_lower_cased() {
        assert_eq!(
            normalise_provider_id(Preset::Jasmin, " 07033084-5CFD-4812-90A4-E4D24FFB6E3D\n").as_deref(),
            Some("07033084-5cfd-4812-90a4-e4d24ffb6e3d")
        );
        assert_eq!(
            normalise_provider_id(Preset::Twilio, " SMabc ").as_deref(),
            Some("SMabc")
        );
        assert_eq!(normalise_provider_id(Preset::Infobip, "  "), None);
    }

    fn read(preset: Preset, query: Option<&str>, body: &[u8]) -> Result<Inbound, String> {
        preset.provider().inbound(query, body)
    }

    #[test]
    fn messages_are_read_per_preset() {
        let kannel = read(Preset::Kannel, Some("from=%2B6281234567890&text=STOP&token=x"), b"").unwrap();
        assert_eq!((kannel.from.as_str(), kannel.text.as_str()), ("+6281234567890", "STOP"));
        let twilio = read(Preset::Twilio, None, b"From=%2B6281234567890&Body=stop&To=%2B1").unwrap();
        assert_eq!(twilio.text, "stop");
        let json = read(Preset::Webhook, None, br#"{"from": "0812345678", "text": "Berhenti"}"#).unwrap();
        assert_eq!(json.from, "0812345678");
        assert!(read(Preset::Kannel, Some("text=STOP"), b"").is_err());
        assert!(read(Preset::Webhook, None, b"{").is_err());
    }

    #[test]
    fn each_preset_answers_callbacks_in_its_gateways_terms() {
        let body = |content_type: &'static str, body: &str| Ack::Body {
            content_type,
            body: body.to_string(),
        };
        let receipt_acks: Vec<Ack> = Preset::ALL.iter().map(|p| p.provider().receipt_ack()).collect();
        assert_eq!(
            receipt_acks,
            [
                Ack::Empty,
                body("text/plain", "ACK/Jasmin"),
                Ack::Empty,
                Ack::Empty,
                body("application/json", "{}"),
            ]
        );
        let reply = |p: Preset, text: Option<&str>| p.provider().inbound_reply(text);
        assert_eq!(
            reply(Preset::Kannel, Some("OK")),
            body("text/plain; charset=utf-8", "OK")
        );
        assert_eq!(reply(Preset::Kannel, None), body("text/plain; charset=utf-8", ""));
        assert_eq!(
            reply(Preset::Twilio, Some("OK")),
            body(
                "text/xml",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>OK</Message></Response>"
            )
        );
        assert_eq!(
            reply(Preset::Twilio, None),
            body(
                "text/xml",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
            )
        );
        for preset in [Preset::Jasmin, Preset::Infobip, Preset::Webhook] {
            assert_eq!(reply(preset, Some("OK")), body("application/json", r#"{"reply":"OK"}"#));
            assert_eq!(reply(preset, None), body("application/json", "{}"));
        }
    }

    #[test]
    fn each_preset_reads_as_its_configuration_value() {
        for preset in Preset::ALL {
            let parsed: Preset = serde_json::from_value(serde_json::json!(preset.as_str())).unwrap();
            assert_eq!(parsed, *preset);
        }
        let error = serde_json::from_value::<Preset>(serde_json::json!("smpp")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`kannel`, `jasmin`, `twilio`, `infobip`, `webhook`"),
            "{error}"
        );
    }

    #[test]
    fn capabilities_say_what_each_gateway_de_duplicates_and_sends() {
        let caps = |p: Preset| p.provider().capabilities();
        let idempotent: Vec<&str> = Preset::ALL
            .iter()
            .filter(|p| caps(**p).idempotency != Idempotency::None)
            .map(|p| p.as_str())
            .collect();
        assert_eq!(idempotent, ["infobip", "webhook"]);
        let limits: Vec<u32> = Preset::ALL.iter().map(|p| p.default_max_segments()).collect();
        assert_eq!(limits, [10, 5, 10, 10, 10]);
        assert_eq!(caps(Preset::Twilio).callback_key, CallbackKey::Password);
        let signed: Vec<&str> = Preset::ALL
            .iter()
            .filter(|p| caps(**p).signed_receipt_urls)
            .map(|p| p.as_str())
            .collect();
        assert_eq!(signed, ["kannel"]);
    }
}
