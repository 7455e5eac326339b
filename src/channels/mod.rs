//! The outbound channels: SMS through HTTP gateways and e-mail over SMTP.
//!
//! This layer knows nothing of the database. The dispatcher claims a
//! reminder, hands its message to [`GatewayPool::send`] or
//! [`EmailSender::send`], and persists what comes back: an acceptance (with
//! the gateway's message id, the SMS encoding and segment count) or a
//! [`SendError`] that says whether to retry ([`SendError::is_transient`],
//! [`RetryPolicy::delay`]). What differs from one SMS gateway to another
//! (the request, the answer, receipts, inbound SMS, callback authentication)
//! is one module per gateway in [`sms::providers`].
//!
//! The lessons applied here come from other notification systems' bug trackers:
//! a token bucket per gateway, `429` and
//! `Retry-After` honoured as transient (courier treated 429 as permanent and
//! its users lost messages), typed retryable/permanent errors, exponential
//! backoff with jitter, and failover by priority (GOV.UK Notify runs two SMS
//! providers for exactly this).

pub mod breaker;
pub mod email;
mod error;
mod first_send;
mod health;
pub mod rate;
mod redact;
pub mod retry;
mod secret;
mod send_test;
pub mod settings;
pub mod sms;
pub mod ticker;
mod tls;

pub use breaker::{BreakerState, CircuitBreaker};
pub use email::{EmailAccepted, EmailSender, OutboundDigest, OutboundEmail};
pub use error::{ChannelConfigError, SendError};
pub use health::ChannelHealth;
pub use rate::TokenBucket;
pub use redact::redact;
pub use retry::RetryPolicy;
pub use send_test::{TEST_EMAIL_SUBJECT, TEST_EMAIL_TEXT, TEST_SMS_TEXT, send_test_email, send_test_sms};
pub use sms::{
    Availability, DeploymentId, GatewayPool, GatewayStatus, InvalidDeploymentId, OutboundSms, SmsAccepted,
    idempotency_key, reminder_of as reminder_of_key,
};
pub use ticker::{ManualTicker, Ticker, TokioTicker};

pub use crate::schedule::SmsEncoding;
