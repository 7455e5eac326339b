//! Delivery receipts and inbound SMS (opt-out): the gateways they are
//! accepted from, with their secrets, read once at start. How each preset's
//! callbacks read, are authenticated and answered is its provider's
//! ([`crate::channels::sms::providers`]); the endpoints that take them
//! (`/receipts/{gateway}`, `/inbound/{gateway}`) are in [`crate::http`].
//!
//! The store side (matching, forward-only transitions) is
//! [`crate::store::delivery_state`].

pub mod inbound;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use thiserror::Error;

use crate::channels::sms::providers::{AuthError, Callback, CallbackGateway, CallbackKey};
use crate::clock::{Clock, SystemClock};
use crate::config::delivery::{ReceiptAuth, SecretError, SmsSettings, read_secret};

pub use crate::store::ReceiptState;
pub use inbound::{Keyword, keyword};

/// Why the receipt endpoints could not be set up.
#[derive(Debug, Error)]
pub enum ReceiptSetupError {
    /// A configured secret (receipt token, Twilio auth token) could not be
    /// read; the daemon refuses to start rather than reject every receipt.
    #[error("gateway {gateway}: cannot read its {what}: {source}")]
    Secret {
        gateway: String,
        what: &'static str,
        #[source]
        source: SecretError,
    },
}

/// The gateways receipts and inbound SMS are accepted from, with their
/// secrets, the public URL they call, and the clock receipts are stamped with.
#[derive(Debug)]
pub struct ReceiptGateways {
    /// By name.
    gateways: HashMap<String, Arc<CallbackGateway>>,
    /// `delivery.public_url` without a trailing `/`: Twilio signs the URL it
    /// was given, not the one the request reaches us at behind a proxy.
    public_url: String,
    /// Stamps `received_at` and the transitions.
    clock: Arc<dyn Clock>,
}

impl ReceiptGateways {
    /// Reads every `[[sms.gateway]]`'s receipt token (Twilio: its auth
    /// token) once, at start. A gateway without one is logged and all its
    /// callbacks are refused (401).
    pub fn from_settings(sms: &SmsSettings, public_url: &str) -> Result<Self, ReceiptSetupError> {
        let mut gateways = HashMap::with_capacity(sms.gateways.len());
        for g in &sms.gateways {
            let secret = |what, env: &Option<String>, file: &Option<std::path::PathBuf>| {
                read_secret(env.as_deref(), file.as_deref()).map_err(|source| ReceiptSetupError::Secret {
                    gateway: g.name.clone(),
                    what,
                    source,
                })
            };
            let capabilities = g.preset.provider().capabilities();
            let token = secret("receipt token", &g.receipt_token_env, &g.receipt_token_file)?;
            let auth_token = match capabilities.callback_key {
                CallbackKey::Password => secret("auth token (password)", &g.password_env, &g.password_file)?,
                CallbackKey::ReceiptToken => None,
            };
            let usable = match capabilities.callback_key {
                CallbackKey::Password => &auth_token,
                CallbackKey::ReceiptToken => &token,
            };
            if usable.as_deref().is_none_or(str::is_empty) {
                tracing::warn!(
                    gateway = %g.name,
                    "no receipt secret configured (receipt_token_env/_file, or the password for Twilio): \
                     its receipts and inbound SMS will be refused"
                );
            }
            let webhook = g.webhook.as_ref().map(|w| w.receipt.clone()).unwrap_or_default();
            let gateway = CallbackGateway {
                name: g.name.clone(),
                preset: g.preset,
                token,
                auth_token,
                webhook,
                signed: capabilities.signed_receipt_urls && g.receipt_auth == ReceiptAuth::Signature,
            };
            gateways.insert(g.name.clone(), Arc::new(gateway));
        }
        Ok(Self {
            gateways,
            public_url: public_url.trim_end_matches('/').to_string(),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same, stamping receipts with `clock` (the daemon's injected clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The gateway `name`, when it is configured.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<CallbackGateway>> {
        self.gateways.get(name)
    }

    /// Whether a callback to `/{route}/{gateway}` (`route`: `receipts` or
    /// `inbound`) comes from that gateway, as its preset authenticates them.
    pub(crate) fn authenticate(
        &self,
        gateway: &CallbackGateway,
        route: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AuthError> {
        let url = self.public_url(route, &gateway.name, query);
        let callback = Callback {
            url: &url,
            query,
            headers,
            body,
        };
        gateway.preset.provider().authenticate(gateway, &callback)
    }

    /// The URL a gateway was told to call for `route`, with the query the
    /// request came with.
    fn public_url(&self, route: &str, gateway: &str, query: Option<&str>) -> String {
        match query {
            Some(q) => format!("{}/{route}/{gateway}?{q}", self.public_url),
            None => format!("{}/{route}/{gateway}", self.public_url),
        }
    }

    /// Now, by the clock receipts are stamped with.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
