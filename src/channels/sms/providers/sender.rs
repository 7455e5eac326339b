//! What a configured gateway's sender is built from ([`Context`]) and what
//! it does ([`Sender`]): turn one message into a request and read the answer.

use std::fmt::Debug;

use super::settings::GatewaySettings;
use crate::channels::error::{ChannelConfigError, SendError};
use crate::channels::secret::read_secret;
use crate::channels::sms::OutboundSms;
use crate::channels::sms::http::{Answer, percent_encode};
use crate::schedule::SmsSize;

/// A configured gateway's wire format: how one message becomes a request
/// and how the answer reads.
pub trait Sender: Send + Sync + Debug {
    /// The request for `out`; an error when this gateway cannot take the
    /// message at all.
    fn request(&self, http: &reqwest::Client, out: Outgoing<'_>) -> Result<reqwest::RequestBuilder, SendError>;

    /// The gateway's message id (`None` where the gateway gives none, as
    /// Kannel), or why the message was not accepted.
    fn accepted(&self, answer: &Answer) -> Result<Option<String>, SendError>;
}

/// One message on its way to a gateway: what every wire format builds its
/// request from.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The message.
    pub msg: &'a OutboundSms,
    /// Its size as an SMS.
    pub size: &'a SmsSize,
    /// Its idempotency key, sent where the gateway takes one.
    pub key: &'a str,
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
    pub(crate) fn receipt_base(&self) -> String {
        format!("{}/receipts/{}", self.public_url, percent_encode(&self.name))
    }

    /// The receipt URL with `pairs` and then the receipt token (when
    /// configured) as its query; values are percent-encoded.
    pub(crate) fn receipt_url(&self, pairs: &[(&str, &str)]) -> String {
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
    pub(crate) fn require_password(&self, what: &str) -> Result<String, ChannelConfigError> {
        self.password.clone().ok_or_else(|| {
            ChannelConfigError::gateway(
                &self.name,
                format!("{what} is required (password_env or password_file)"),
            )
        })
    }

    /// The user name of `settings` and the password, or a configuration
    /// error: `username_missing` when there is no user name, `password`
    /// naming the password when there is none.
    pub fn login(
        &self,
        settings: &GatewaySettings,
        username_missing: &str,
        password: &str,
    ) -> Result<Login, ChannelConfigError> {
        let username = settings
            .username
            .clone()
            .ok_or_else(|| self.config_error(username_missing))?;
        let password = self.require_password(password)?;
        Ok(Login { username, password })
    }

    /// A configuration error about this gateway.
    pub(crate) fn config_error(&self, reason: impl Into<String>) -> ChannelConfigError {
        ChannelConfigError::gateway(&self.name, reason)
    }
}

/// A user name and password sent with every request, as `username` and
/// `password` (Kannel's sendsms-user, a Jasmin user).
#[derive(Debug)]
pub struct Login {
    /// The user name.
    pub username: String,
    /// Its password.
    pub password: String,
}

impl Login {
    /// `username` and `password` as request fields.
    pub fn fields(&self) -> [(&'static str, String); 2] {
        [("username", self.username.clone()), ("password", self.password.clone())]
    }
}

/// The recipient without its `+`, as Jasmin and Infobip take it.
pub fn digits(to: &str) -> &str {
    to.strip_prefix('+').unwrap_or(to)
}
