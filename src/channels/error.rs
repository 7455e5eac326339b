//! What can go wrong when a message is handed to a gateway or relay, typed
//! so the dispatcher knows whether to retry, and what is wrong with a
//! configuration before anything is sent.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use super::redact::redact;
use crate::channels::secret::SecretError;

/// Why a message was not accepted.
///
/// Reasons never carry a recipient's full phone number or e-mail address:
/// gateways like to echo the number they refused ("The 'To' number +62… is
/// not a valid phone number"), so every reason goes through [`redact`] when
/// it is built and again when it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (or elsewhere): a timeout, a connection
    /// error, a 5xx, a 429 (with the gateway's `Retry-After`), a gateway that
    /// refuses our credentials or answers garbage, an SMTP 4xx. The pool
    /// fails over to the next gateway on these.
    Transient {
        /// The gateway (or `smtp`) that failed.
        gateway: String,
        /// What happened, for operators.
        reason: String,
        /// How long the gateway asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// Will fail again whatever we do: the recipient was refused, the
    /// request was rejected as invalid, an SMTP 5xx, a malformed address.
    /// The pool does not fail over on these (the number is bad everywhere).
    Permanent {
        /// The gateway (or `smtp`) that refused.
        gateway: String,
        /// What happened, for operators.
        reason: String,
    },
    /// Our configuration is wrong, and every message would fail the same
    /// way until an operator fixes it: the relay or gateway's certificate is
    /// not trusted, the SMTP relay refuses our credentials (535). The
    /// channel is taken out of service and reported on `/readyz`
    /// ([`super::ChannelHealth`]); the message is not at fault, so the
    /// dispatcher postpones it with `reason`, which says what to fix, and
    /// claims nothing more for the channel until a restart.
    Configuration {
        /// The gateway (or `smtp`) concerned.
        gateway: String,
        /// What is wrong and what to fix.
        reason: String,
    },
    /// Nothing could be tried: no gateway is configured, or every gateway's
    /// circuit breaker is open. Transient: the breakers close again.
    Unavailable {
        /// Why nothing was tried.
        reason: String,
    },
}

impl SendError {
    /// A transient failure; the reason is redacted.
    pub fn transient(gateway: &str, reason: impl AsRef<str>, retry_after: Option<Duration>) -> Self {
        Self::Transient {
            gateway: gateway.to_string(),
            reason: redact(reason.as_ref()),
            retry_after,
        }
    }

    /// A permanent failure; the reason is redacted.
    pub fn permanent(gateway: &str, reason: impl AsRef<str>) -> Self {
        Self::Permanent {
            gateway: gateway.to_string(),
            reason: redact(reason.as_ref()),
        }
    }

    /// A configuration error; the reason is redacted.
    pub fn configuration(gateway: &str, reason: impl AsRef<str>) -> Self {
        Self::Configuration {
            gateway: gateway.to_string(),
            reason: redact(reason.as_ref()),
        }
    }

    /// Whether the message may be sent again later.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Permanent { .. } | Self::Configuration { .. })
    }

    /// Whether it is our configuration that is wrong.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::Configuration { .. })
    }

    /// How long the gateway asked us to wait before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The gateway concerned, if one was tried.
    pub fn gateway(&self) -> Option<&str> {
        match self {
            Self::Transient { gateway, .. } | Self::Permanent { gateway, .. } | Self::Configuration { gateway, .. } => {
                Some(gateway)
            }
            Self::Unavailable { .. } => None,
        }
    }

    /// The reason alone (already redacted), e.g. for the reminder's last error.
    pub fn reason(&self) -> &str {
        match self {
            Self::Transient { reason, .. }
            | Self::Permanent { reason, .. }
            | Self::Configuration { reason, .. }
            | Self::Unavailable { reason } => reason,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transient {
                gateway,
                reason,
                retry_after,
            } => {
                write!(f, "{gateway}: temporary failure: {}", redact(reason))?;
                if let Some(wait) = retry_after {
                    write!(f, " (retry after {}s)", wait.as_secs())?;
                }
                Ok(())
            }
            Self::Permanent { gateway, reason } => write!(f, "{gateway}: permanent failure: {}", redact(reason)),
            Self::Configuration { gateway, reason } => {
                write!(f, "{gateway}: configuration error: {}", redact(reason))
            }
            Self::Unavailable { reason } => write!(f, "no gateway available: {}", redact(reason)),
        }
    }
}

impl std::error::Error for SendError {}

/// A channel that cannot be built from its settings.
#[derive(Debug, Error)]
pub enum ChannelConfigError {
    /// A secret named in the settings could not be read (unset variable,
    /// unreadable file): starting without it would fail every send.
    #[error("{context}: {source}")]
    Secret {
        /// Which setting needed it, e.g. `sms.gateway "kannel-1" password`.
        context: String,
        /// Why it could not be read.
        #[source]
        source: SecretError,
    },
    /// A gateway's settings cannot work with its preset (missing user name or
    /// password, an invalid Twilio Account SID, an unknown template
    /// placeholder, …).
    #[error("sms.gateway {gateway:?}: {reason}")]
    Gateway {
        /// The gateway's name.
        gateway: String,
        /// What is wrong.
        reason: String,
    },
    /// `delivery.public_url` is not an http(s) URL gateways could call back.
    #[error("delivery.public_url {0:?} is not an http(s) URL")]
    PublicUrl(String),
    /// The e-mail settings cannot work (bad From or Reply-To, unknown TLS
    /// mode, a TLS setup that fails).
    #[error("email: {0}")]
    Email(String),
}

impl ChannelConfigError {
    /// A gateway problem.
    pub fn gateway(name: &str, reason: impl Into<String>) -> Self {
        Self::Gateway {
            gateway: name.to_string(),
            reason: reason.into(),
        }
    }
}

/// Whether the TLS handshake failed on the peer's certificate (rustls:
/// "invalid peer certificate: UnknownIssuer", "… NotValidForName", …).
pub(crate) fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).contains("certificate")
}

/// `error` and its sources, joined with `: `.
pub(crate) fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = e.source();
    }
    causes.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_gateway_and_never_the_number() {
        let e = SendError::permanent("twilio", "The 'To' number +6281234567890 is not a valid phone number.");
        let shown = e.to_string();
        assert!(shown.starts_with("twilio: permanent failure: "), "{shown}");
        assert!(!shown.contains("6281234567890"), "{shown}");
        assert!(!e.is_transient());
        let raw = SendError::Transient {
            gateway: "kannel".into(),
            reason: "to 081234567890 failed".into(),
            retry_after: Some(Duration::from_secs(7)),
        };
        assert!(!raw.to_string().contains("081234567890"), "{raw}");
        assert!(raw.to_string().ends_with("(retry after 7s)"), "{raw}");
        assert_eq!(raw.retry_after(), Some(Duration::from_secs(7)));
        assert!(SendError::Unavailable { reason: "x".into() }.is_transient());
    }

    #[test]
    fn the_contact_check_reads_refusals_as_stored() {
        use crate::domain::contact_check::{email_failure_is_address_related, sms_failure_is_number_related};
        let refused = SendError::permanent("twilio", "HTTP 400: The 'To' number +6281234567890 is not valid.");
        assert!(sms_failure_is_number_related("failed", Some(&refused.to_string())));
        let too_long = SendError::permanent("local", "the text is 4 parts, more than any gateway sends");
        assert!(!sms_failure_is_number_related("failed", Some(&too_long.to_string())));
        let busy = SendError::transient("kannel", "HTTP 503: busy", None);
        assert!(!sms_failure_is_number_related("failed", Some(&busy.to_string())));
        let mailbox = SendError::permanent("smtp", "permanent error (550): 5.1.1 <budi@example.org>: User unknown");
        assert!(email_failure_is_address_related("failed", Some(&mailbox.to_string())));
    }
}
