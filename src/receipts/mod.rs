//! Delivery receipts and inbound SMS (opt-out): how each preset's callbacks
//! are authenticated and read, and the gateways they are accepted from. The
//! endpoints that take them (`/receipts/{gateway}`, `/inbound/{gateway}`)
//! are in [`crate::http`].
//!
//! The store side (matching, forward-only transitions) is
//! [`crate::store::delivery_state`].

mod auth;
pub mod inbound;
pub mod kannel;
pub mod parse;

use std::collections::HashMap;
use std::sync::Arc;

use thiserror::Error;

use crate::clock::{Clock, SystemClock};
use crate::config::delivery::{Preset, ReceiptAuth, SecretError, SmsSettings, WebhookReceiptSettings, read_secret};

pub use crate::store::ReceiptState;
pub(crate) use auth::{Callback, authenticate};
pub use inbound::{Keyword, keyword};
pub use parse::{ParseError, ParsedReceipt, parse};

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

/// One gateway receipts are accepted from.
pub(crate) struct ReceiptGateway {
    /// Its configured name, the `{gateway}` of the URLs.
    pub name: String,
    /// The format its callbacks come in.
    pub preset: Preset,
    /// The secret its callbacks carry (`token` or `Authorization: Bearer`);
    /// `None`: none configured, and every callback is refused.
    pub token: Option<String>,
    /// Twilio's auth token (the gateway's password), which signs its callbacks.
    pub auth_token: Option<String>,
    /// How a generic webhook's receipts read.
    pub webhook: WebhookReceiptSettings,
    /// Whether a Kannel report may prove itself by `sig` ([`kannel::signature`]).
    pub signed: bool,
}

impl std::fmt::Debug for ReceiptGateway {
    // Secrets stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptGateway")
            .field("name", &self.name)
            .field("preset", &self.preset)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("auth_token", &self.auth_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The gateways receipts and inbound SMS are accepted from, with their
/// secrets, the public URL they call, and the clock receipts are stamped with.
#[derive(Debug)]
pub struct ReceiptGateways {
    /// By name.
    gateways: HashMap<String, ReceiptGateway>,
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
            let token = secret("receipt token", &g.receipt_token_env, &g.receipt_token_file)?;
            let auth_token = match g.preset {
                Preset::Twilio => secret("auth token (password)", &g.password_env, &g.password_file)?,
                _ => None,
            };
            let usable = if g.preset == Preset::Twilio {
                &auth_token
            } else {
                &token
            };
            if usable.as_deref().is_none_or(str::is_empty) {
                tracing::warn!(
                    gateway = %g.name,
                    "no receipt secret configured (receipt_token_env/_file, or the password for Twilio): \
                     its receipts and inbound SMS will be refused"
                );
            }
            let webhook = g.webhook.as_ref().map(|w| w.receipt.clone()).unwrap_or_default();
            let gateway = ReceiptGateway {
                name: g.name.clone(),
                preset: g.preset,
                token,
                auth_token,
                webhook,
                signed: g.preset == Preset::Kannel && g.receipt_auth == ReceiptAuth::Signature,
            };
            gateways.insert(g.name.clone(), gateway);
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

    pub(crate) fn get(&self, name: &str) -> Option<&ReceiptGateway> {
        self.gateways.get(name)
    }

    /// The URL a gateway was told to call for `route` (`receipts` or
    /// `inbound`), with the query the request came with.
    pub(crate) fn public_url(&self, route: &str, gateway: &str, query: Option<&str>) -> String {
        match query {
            Some(q) => format!("{}/{route}/{gateway}?{q}", self.public_url),
            None => format!("{}/{route}/{gateway}", self.public_url),
        }
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// A gateway's message id as stored and matched: trimmed, and Jasmin's
/// UUIDs lower-cased (Jasmin users were hurt by ids whose case or format
/// differed between the send answer and the receipt). The dispatcher must store
/// `provider_message_id` through this so receipts find it. `None` for an
/// empty id.
pub fn normalise_provider_id(preset: Preset, id: &str) -> Option<String> {
    let id = id.trim();
    if id.is_empty() {
        return None;
    }
    Some(match preset {
        Preset::Jasmin => id.to_ascii_lowercase(),
        _ => id.to_string(),
    })
}

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
}
