//! One configured gateway: its wire format, token bucket, circuit breaker and
//! timeout, and the shared description every wire format is built from.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use super::OutboundSms;
use super::http::{Answer, percent_encode, transport_error};
use crate::channels::breaker::CircuitBreaker;
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::first_send::FirstSend;
use crate::channels::rate::TokenBucket;
use crate::channels::settings::{GatewaySettings, Preset, read_secret};
use crate::channels::ticker::Ticker;
use crate::schedule::SmsSize;

/// A gateway's wire format: how one message becomes a request and how the
/// answer reads.
pub trait Wire: Send + Sync + Debug {
    /// The request for `msg`, whose size as an SMS is `size` and whose
    /// idempotency key is `key` (sent where the gateway takes one); an error
    /// when this gateway cannot take the message at all.
    fn request(
        &self,
        http: &reqwest::Client,
        msg: &OutboundSms,
        size: &SmsSize,
        key: &str,
    ) -> Result<reqwest::RequestBuilder, SendError>;

    /// The gateway's message id (`None` where the gateway gives none, as
    /// Kannel), or why the message was not accepted.
    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError>;
}

/// What every wire format needs to know about its gateway.
#[derive(Debug, Clone)]
pub struct Context {
    /// The gateway's name (`[[sms.gateway]] name`).
    pub name: String,
    /// `base_url` without a trailing slash.
    pub base_url: String,
    /// `delivery.public_url` without a trailing slash.
    pub public_url: String,
    /// The secret receipts must carry, when one is configured.
    pub receipt_token: Option<String>,
    /// The password, auth token or API key, when one is configured.
    pub password: Option<String>,
}

impl Context {
    /// Reads the gateway's secrets.
    pub fn new(settings: &GatewaySettings, public_url: &str) -> Result<Self, ChannelConfigError> {
        let secret = |what: &str, env: &Option<String>, file: &Option<std::path::PathBuf>| {
            read_secret(env.as_deref(), file.as_deref()).map_err(|source| ChannelConfigError::Secret {
                context: format!("sms.gateway {:?} {what}", settings.name),
                source,
            })
        };
        Ok(Self {
            name: settings.name.clone(),
            base_url: settings.base_url.trim_end_matches('/').to_string(),
            public_url: public_url.trim_end_matches('/').to_string(),
            receipt_token: secret(
                "receipt token",
                &settings.receipt_token_env,
                &settings.receipt_token_file,
            )?,
            password: secret("password", &settings.password_env, &settings.password_file)?,
        })
    }

    /// `{base_url}{path}`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `{public_url}/receipts/{name}`: where this gateway's receipts go.
    pub fn receipt_base(&self) -> String {
        format!("{}/receipts/{}", self.public_url, percent_encode(&self.name))
    }

    /// The receipt URL with `pairs` and then the receipt token (when
    /// configured) as its query; values are percent-encoded.
    pub fn receipt_url(&self, pairs: &[(&str, &str)]) -> String {
        let mut query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        if let Some(token) = &self.receipt_token {
            query.push(format!("token={}", percent_encode(token)));
        }
        let mut url = self.receipt_base();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }

    /// The password, or a configuration error saying the preset needs one.
    pub fn require_password(&self, what: &str) -> Result<String, ChannelConfigError> {
        self.password.clone().ok_or_else(|| {
            ChannelConfigError::gateway(
                &self.name,
                format!("{what} is required (password_env or password_file)"),
            )
        })
    }

    /// A configuration error about this gateway.
    pub fn config_error(&self, reason: impl Into<String>) -> ChannelConfigError {
        ChannelConfigError::gateway(&self.name, reason)
    }
}

/// A gateway ready to send.
#[derive(Debug)]
pub struct Gateway {
    /// Its name.
    pub name: String,
    /// Its wire format's name.
    pub preset: Preset,
    /// Lower is tried first.
    pub priority: u32,
    /// How requests are made and answers read.
    wire: Box<dyn Wire>,
    /// `rate_limit_per_second`.
    pub bucket: TokenBucket,
    /// Takes the gateway out of rotation while it keeps failing.
    pub breaker: CircuitBreaker,
    /// `timeout_ms`, for the whole request (connect to the end of the body).
    timeout: Duration,
    /// The most segments of one message it sends (`max_segments`).
    pub max_segments: u32,
    /// Its own HTTP client, trusting its `ca_file`; `None`: the pool's.
    pub http: Option<reqwest::Client>,
    /// Its sends take turns until it has answered once.
    pub first: FirstSend,
}

impl Gateway {
    pub fn new(settings: &GatewaySettings, wire: Box<dyn Wire>, ticker: Arc<dyn Ticker>) -> Self {
        Self {
            name: settings.name.clone(),
            preset: settings.preset,
            priority: settings.priority,
            wire,
            bucket: TokenBucket::new(settings.rate_limit_per_second, ticker.clone()),
            breaker: CircuitBreaker::new(ticker),
            timeout: Duration::from_millis(settings.timeout_ms.max(1)),
            max_segments: settings.max_segments(),
            http: None,
            first: FirstSend::default(),
        }
    }

    /// The same gateway with its own HTTP client.
    pub fn with_http(mut self, http: Option<reqwest::Client>) -> Self {
        self.http = http;
        self
    }

    /// Whether a message of `size` fits this gateway's `max_segments`.
    pub fn takes(&self, size: &SmsSize) -> bool {
        size.segments <= self.max_segments as usize
    }

    /// One request to this gateway (the caller has the token and the
    /// breaker's permit).
    pub async fn attempt(
        &self,
        http: &reqwest::Client,
        msg: &OutboundSms,
        size: &SmsSize,
        key: &str,
    ) -> Result<Option<String>, SendError> {
        let request = self.wire.request(http, msg, size, key)?.timeout(self.timeout);
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&self.name, self.timeout, e))?;
        let answer = Answer::read(response)
            .await
            .map_err(|e| transport_error(&self.name, self.timeout, e))?;
        self.wire.accepted(&answer)
    }
}

/// The recipient without its `+`, as Jasmin and Infobip take it.
pub fn digits(to: &str) -> &str {
    to.strip_prefix('+').unwrap_or(to)
}
