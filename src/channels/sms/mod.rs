//! SMS through HTTP gateways: a pool tried in priority order with failover,
//! each gateway behind its own token bucket and circuit breaker. What
//! differs from one gateway to another is in [`providers`], one module each.

mod gateway;
mod http;
mod idempotency;
mod limits;
pub mod providers;

use std::sync::Arc;

use gateway::Gateway;
use providers::{Context, Preset, Sender};
use tokio_util::sync::CancellationToken;

use super::breaker::BreakerState;
use super::error::{ChannelConfigError, SendError};
use super::health::ChannelHealth;
use super::ticker::{Ticker, TokioTicker};
use crate::channels::settings::{GatewaySettings, ReceiptAuth, SmsSettings};
use crate::domain::PhoneNumber;
use crate::schedule::{SmsEncoding, SmsSize, measure};

pub use idempotency::{DeploymentId, InvalidDeploymentId, key as idempotency_key, reminder_of};
pub use limits::segment_warnings;

/// The gateway name in errors about a message refused before any gateway
/// was tried.
pub(crate) const LOCAL: &str = "pengingat";

/// One SMS to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// The reminder it carries; travels to the gateway so receipts find it.
    pub reminder_id: i64,
    /// The recipient in E.164, `+62…`.
    pub to: String,
    /// The text.
    pub text: String,
}

/// A message a gateway accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAccepted {
    /// The gateway that took it.
    pub gateway: String,
    /// The gateway's id for it (receipts carry it); `None` for Kannel,
    /// whose receipts carry our reminder id instead.
    pub message_id: Option<String>,
    /// GSM-7 or UCS-2.
    pub encoding: SmsEncoding,
    /// SMS parts it is sent as (what the operator pays for).
    pub segments: u32,
}

/// A gateway's state, for status pages and readiness checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayStatus {
    /// The gateway's name.
    pub name: String,
    /// Its wire format.
    pub preset: Preset,
    /// Its circuit breaker.
    pub breaker: BreakerState,
}

/// Whether the pool can take messages now, for the dispatcher's claims.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Availability {
    /// Gateways with a closed breaker take this many messages per second together.
    Open { per_second: f64 },
    /// Every breaker is open but one may let a probe through: one message.
    ProbeOnly,
    /// No gateway can be tried now (no gateway, or every breaker open).
    Unavailable,
}

/// The configured SMS gateways, in priority order.
#[derive(Debug)]
pub struct GatewayPool {
    /// Lowest priority first; equal priorities keep the configuration's order.
    gateways: Vec<Gateway>,
    /// The one HTTP client (connection pools are per host inside it).
    http: reqwest::Client,
    /// The database's deployment id, part of every idempotency key.
    deployment: Option<DeploymentId>,
    /// Gateways out of service for a configuration error (keyed by name).
    health: ChannelHealth,
}

impl GatewayPool {
    /// Builds every gateway of `[sms]`, reading secrets with
    /// [`crate::channels::settings::read_secret`]; receipts are asked for at
    /// `{public_url}/receipts/{gateway name}`.
    pub fn from_settings(
        sms: &SmsSettings,
        public_url: &str,
        http: reqwest::Client,
    ) -> Result<Self, ChannelConfigError> {
        Self::with_ticker(sms, public_url, http, Arc::new(TokioTicker))
    }

    /// As [`GatewayPool::from_settings`], with the token buckets and circuit
    /// breakers reading time from `ticker`.
    pub fn with_ticker(
        sms: &SmsSettings,
        public_url: &str,
        http: reqwest::Client,
        ticker: Arc<dyn Ticker>,
    ) -> Result<Self, ChannelConfigError> {
        let parsed = url::Url::parse(public_url).map_err(|_| ChannelConfigError::PublicUrl(public_url.into()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ChannelConfigError::PublicUrl(public_url.into()));
        }
        let mut gateways = Vec::with_capacity(sms.gateways.len());
        for settings in &sms.gateways {
            if gateways.iter().any(|g: &Gateway| g.name == settings.name) {
                return Err(ChannelConfigError::gateway(&settings.name, "the name is used twice"));
            }
            let sender = sender(settings, Context::new(settings, public_url)?)?;
            let own_http = match &settings.ca_file {
                Some(path) => Some(client_trusting(&settings.name, path)?),
                None => None,
            };
            gateways.push(Gateway::new(settings, sender, ticker.clone()).with_http(own_http));
        }
        gateways.sort_by_key(|g| g.priority);
        Ok(Self {
            gateways,
            http,
            deployment: None,
            health: ChannelHealth::default(),
        })
    }

    /// The same pool, reporting configuration errors to `health` (the
    /// daemon's, which `/readyz` reads).
    pub fn with_health(mut self, health: ChannelHealth) -> Self {
        self.health = health;
        self
    }

    /// The same pool sending idempotency keys of `deployment` (the
    /// database's id): without one, two databases sending through one
    /// gateway account could have a reminder dropped as the other's duplicate.
    pub fn for_deployment(mut self, deployment: DeploymentId) -> Self {
        self.deployment = Some(deployment);
        self
    }

    /// The gateways' names in the order they are tried.
    pub fn gateway_names(&self) -> Vec<String> {
        self.gateways.iter().map(|g| g.name.clone()).collect()
    }

    /// Each gateway's circuit breaker, in the order they are tried.
    pub fn status(&self) -> Vec<GatewayStatus> {
        self.gateways
            .iter()
            .map(|g| GatewayStatus {
                name: g.name.clone(),
                preset: g.preset,
                breaker: g.breaker.state(),
            })
            .collect()
    }

    /// How many messages the pool can take now: the dispatcher claims no
    /// more than that, and nothing while no gateway can be tried. A gateway
    /// out of service for a configuration error counts for nothing.
    pub fn availability(&self) -> Availability {
        let mut per_second = 0.0;
        let mut probe = false;
        for gateway in &self.gateways {
            if self.health.problem(&gateway.name).is_some() {
                continue;
            }
            match gateway.breaker.state() {
                BreakerState::Closed { .. } => per_second += gateway.bucket.rate(),
                BreakerState::HalfOpen { probing: false } => probe = true,
                _ => {}
            }
        }
        if per_second > 0.0 {
            Availability::Open { per_second }
        } else if probe {
            Availability::ProbeOnly
        } else {
            Availability::Unavailable
        }
    }

    /// Sends `msg` with one attempt per gateway, in priority order.
    ///
    /// A transient failure, or a gateway whose breaker is open, moves on to
    /// the next gateway (failover); a permanent failure stops at once, since
    /// a refused number is refused everywhere. Each attempt first waits for
    /// a token of that gateway's bucket. When every gateway failed the last
    /// error is returned; when none could be tried, [`SendError::Unavailable`].
    ///
    /// Every attempt of one reminder carries the same idempotency key
    /// ([`idempotency_key`]), whichever gateway and however often it is tried.
    pub async fn send(&self, msg: &OutboundSms) -> Result<SmsAccepted, SendError> {
        let never = CancellationToken::new();
        self.send_until(msg, &never).await.unwrap_or_else(unreachable_stop)
    }

    /// [`GatewayPool::send`] that gives up while waiting for a gateway's
    /// token once `stop` is cancelled: `None` when no gateway was tried (the
    /// message never left), else the outcome so far.
    pub(crate) async fn send_until(
        &self,
        msg: &OutboundSms,
        stop: &CancellationToken,
    ) -> Option<Result<SmsAccepted, SendError>> {
        if let Err(e) = check(msg) {
            return Some(Err(e));
        }
        let key = idempotency::key(self.deployment.as_ref(), msg.reminder_id);
        let size = measure(&msg.text);
        if let Some(e) = self.too_long(&size) {
            return Some(Err(e));
        }
        let masked = mask(&msg.to);
        let mut last: Option<SendError> = None;
        let mut misconfigured: Option<SendError> = None;
        let mut skipped = Vec::new();
        for gateway in self.gateways.iter().filter(|g| g.takes(&size)) {
            if let Some(problem) = self.health.problem(&gateway.name) {
                misconfigured = Some(SendError::configuration(&gateway.name, problem));
                continue;
            }
            // Until the gateway has answered once, one send at a time: wrong
            // credentials are found by one request, not by every one in flight.
            let _turn = tokio::select! {
                biased;
                turn = gateway.first.turn() => turn,
                () = stop.cancelled() => return last.map(Err),
            };
            if let Some(problem) = self.health.problem(&gateway.name) {
                misconfigured = Some(SendError::configuration(&gateway.name, problem));
                continue;
            }
            let Ok(permit) = gateway.breaker.try_acquire() else {
                skipped.push(gateway.name.as_str());
                continue;
            };
            if stop.is_cancelled() {
                return last.map(Err);
            }
            tokio::select! {
                biased;
                () = gateway.bucket.acquire() => {}
                () = stop.cancelled() => return last.map(Err),
            }
            let http = gateway.http.as_ref().unwrap_or(&self.http);
            let result = gateway.attempt(http, msg, &size, &key).await;
            gateway
                .first
                .record(result.as_ref().is_err_and(SendError::is_configuration));
            match result {
                Ok(message_id) => {
                    permit.succeeded();
                    tracing::debug!(gateway = %gateway.name, reminder = msg.reminder_id, to = %masked,
                        encoding = %size.encoding, segments = size.segments, "SMS accepted");
                    return Some(Ok(SmsAccepted {
                        gateway: gateway.name.clone(),
                        message_id,
                        encoding: size.encoding,
                        segments: u32::try_from(size.segments).unwrap_or(u32::MAX),
                    }));
                }
                Err(error) if error.is_configuration() => {
                    // Out of service until the configuration is fixed; the
                    // next gateway may take the message.
                    permit.succeeded();
                    self.health.fail(&gateway.name, error.reason());
                    misconfigured = Some(error);
                }
                Err(error) if error.is_transient() => {
                    permit.failed();
                    if matches!(gateway.breaker.state(), BreakerState::Open { .. }) {
                        tracing::warn!(gateway = %gateway.name, "circuit breaker open: gateway skipped for a while");
                    }
                    tracing::warn!(gateway = %gateway.name, reminder = msg.reminder_id, to = %masked,
                        %error, "SMS gateway failed; trying the next one");
                    last = Some(error);
                }
                Err(error) => {
                    // The gateway answered properly: it is healthy, the message is not.
                    permit.succeeded();
                    tracing::info!(gateway = %gateway.name, reminder = msg.reminder_id, to = %masked,
                        %error, "SMS refused");
                    return Some(Err(error));
                }
            }
        }
        // A gateway that may take it later beats one that never will.
        Some(Err(last.or(misconfigured).unwrap_or_else(|| SendError::Unavailable {
            reason: if self.gateways.is_empty() {
                "no SMS gateway is configured".to_string()
            } else {
                format!("circuit breaker open for every gateway ({})", skipped.join(", "))
            },
        })))
    }
}

impl GatewayPool {
    /// The refusal of a text longer than every gateway's `max_segments`: a
    /// gateway would cut it (Kannel drops the rest and still answers
    /// "0: Accepted") or refuse it, so it is not sent at all.
    fn too_long(&self, size: &SmsSize) -> Option<SendError> {
        if self.gateways.is_empty() || self.gateways.iter().any(|g| g.takes(size)) {
            return None;
        }
        let limits: Vec<String> = self
            .gateways
            .iter()
            .map(|g| format!("{} {}", g.name, g.max_segments))
            .collect();
        Some(SendError::permanent(
            LOCAL,
            format!(
                "the text is {size}, more than any gateway sends (max_segments: {}); shorten the template",
                limits.join(", ")
            ),
        ))
    }
}

/// [`GatewayPool::send`]'s token is never cancelled, so it always has an answer.
fn unreachable_stop() -> Result<SmsAccepted, SendError> {
    Err(SendError::Unavailable {
        reason: "the send was stopped".to_string(),
    })
}

/// An HTTP client trusting the CA in `ca_file` besides the system's roots.
fn client_trusting(gateway: &str, ca_file: &std::path::Path) -> Result<reqwest::Client, ChannelConfigError> {
    let pem = super::tls::read_ca_file("ca_file", ca_file).map_err(|e| ChannelConfigError::gateway(gateway, e))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| ChannelConfigError::gateway(gateway, format!("ca_file {}: {e}", ca_file.display())))?;
    reqwest::Client::builder()
        .tls_certs_merge(certs)
        .build()
        .map_err(|e| ChannelConfigError::gateway(gateway, format!("ca_file {}: {e}", ca_file.display())))
}

/// The sender of one gateway, built by its preset's provider.
fn sender(settings: &GatewaySettings, ctx: Context) -> Result<Box<dyn Sender>, ChannelConfigError> {
    if settings.preset != Preset::Webhook && settings.webhook.is_some() {
        return Err(ctx.config_error("[sms.gateway.webhook] goes with preset = \"webhook\" only"));
    }
    if settings.max_segments == Some(0) {
        return Err(ctx.config_error("max_segments must be at least 1"));
    }
    let provider = settings.preset.provider();
    if !provider.capabilities().signed_receipt_urls && settings.receipt_auth == ReceiptAuth::Signature {
        let signing: Vec<String> = Preset::ALL
            .iter()
            .filter(|p| p.provider().capabilities().signed_receipt_urls)
            .map(|p| format!("preset = {:?}", p.as_str()))
            .collect();
        return Err(ctx.config_error(format!(
            "receipt_auth = \"signature\" goes with {} only",
            signing.join(" or ")
        )));
    }
    settings.preset.sender(ctx, settings)
}

/// What no gateway could send: a recipient that is not E.164, an empty text.
fn check(msg: &OutboundSms) -> Result<(), SendError> {
    let e164 = msg
        .to
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'));
    if !e164 {
        return Err(SendError::permanent(
            LOCAL,
            format!("recipient {} is not an E.164 number", msg.to),
        ));
    }
    if msg.text.is_empty() {
        return Err(SendError::permanent(LOCAL, "the text is empty"));
    }
    Ok(())
}

/// The recipient as logs may show it.
fn mask(to: &str) -> String {
    PhoneNumber::parse(to)
        .map(|p| p.masked())
        .unwrap_or_else(|_| super::redact(to))
}

/// Settings and a context for unit tests of the wire formats.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn settings(preset: Preset) -> GatewaySettings {
        GatewaySettings {
            name: "gw-1".into(),
            preset,
            base_url: "http://gateway.test:13013/".into(),
            username: Some("pengingat".into()),
            password_env: None,
            password_file: None,
            sender: Some("BPJSTKU".into()),
            rate_limit_per_second: 10.0,
            timeout_ms: 1000,
            priority: 1,
            receipt_token_env: None,
            receipt_token_file: None,
            receipt_auth: Default::default(),
            max_segments: None,
            ca_file: None,
            webhook: None,
        }
    }

    pub fn context(token: Option<&str>) -> Context {
        Context {
            name: "gw-1".into(),
            base_url: "http://gateway.test:13013".into(),
            public_url: "https://pengingat.example".into(),
            receipt_token: token.map(str::to_string),
            password: Some("rahasia".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(to: &str, text: &str) -> OutboundSms {
        OutboundSms {
            reminder_id: 1,
            to: to.into(),
            text: text.into(),
        }
    }

    #[test]
    fn only_e164_recipients_and_real_texts_are_tried() {
        assert!(check(&sms("+6281234567890", "halo")).is_ok());
        for to in ["081234567890", "6281234567890", "+62 812", "+0812345678"] {
            let error = check(&sms(to, "halo")).unwrap_err();
            assert!(!error.is_transient(), "{to}");
            assert!(!error.to_string().contains("1234567890"), "{error}");
        }
        assert!(check(&sms("+6281234567890", "")).is_err());
    }

    #[tokio::test]
    async fn an_empty_pool_is_unavailable() {
        let pool = GatewayPool::from_settings(&SmsSettings::default(), "http://127.0.0.1:8080", reqwest::Client::new())
            .unwrap();
        let error = pool.send(&sms("+6281234567890", "halo")).await.unwrap_err();
        assert!(matches!(error, SendError::Unavailable { .. }), "{error}");
        assert!(error.is_transient());
    }

    #[test]
    fn a_public_url_must_be_http() {
        let error = GatewayPool::from_settings(&SmsSettings::default(), "ftp://x", reqwest::Client::new()).unwrap_err();
        assert!(matches!(error, ChannelConfigError::PublicUrl(_)));
    }
}
