//! One configured gateway: its sender (the wire format of its preset), token
//! bucket, circuit breaker and timeout.

use std::sync::Arc;
use std::time::Duration;

use super::OutboundSms;
use super::http::{Answer, transport_error};
use super::providers::settings::GatewaySettings;
use super::providers::{Outgoing, Preset, Sender};
use crate::channels::breaker::CircuitBreaker;
use crate::channels::error::SendError;
use crate::channels::first_send::FirstSend;
use crate::channels::rate::TokenBucket;
use crate::channels::ticker::Ticker;
use crate::schedule::SmsSize;

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
    sender: Box<dyn Sender>,
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
    pub fn new(settings: &GatewaySettings, sender: Box<dyn Sender>, ticker: Arc<dyn Ticker>) -> Self {
        Self {
            name: settings.name.clone(),
            preset: settings.preset,
            priority: settings.priority,
            sender,
            bucket: TokenBucket::new(settings.rate_limit_per_second, ticker.clone()),
            breaker: CircuitBreaker::new(ticker),
            timeout: Duration::from_millis(settings.timeout_ms.max(1)),
            max_segments: settings.max_segments(),
            http: None,
            first: FirstSend::default(),
        }
    }

    /// The same gateway with its own HTTP client.
    pub(crate) fn with_http(mut self, http: Option<reqwest::Client>) -> Self {
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
        let request = self
            .sender
            .request(http, Outgoing { msg, size, key })?
            .timeout(self.timeout);
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&self.name, self.timeout, e))?;
        let answer = Answer::read(response)
            .await
            .map_err(|e| transport_error(&self.name, self.timeout, e))?;
        self.sender.accepted(&answer)
    }
}
