//! E-mail over SMTP with lettre: one pooled
//! `AsyncSmtpTransport` built at start, STARTTLS, implicit TLS or plain (for
//! a relay on localhost), AUTH when a user name is set. Messages are UTF-8
//! (lettre encodes a non-ASCII subject as RFC 2047 words), plain text with an
//! optional HTML alternative, and carry a Message-ID we choose, so a bounce
//! can be traced to its reminder.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{self, PoolConfig};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::error::{ChannelConfigError, SendError, causes, is_certificate_error};
use super::first_send::FirstSend;
use super::health::ChannelHealth;
use super::tls::read_ca_file;
use crate::channels::secret::read_secret;
use crate::channels::settings::EmailSettings;
use crate::domain::EmailAddress;

/// The gateway name e-mail errors carry.
pub const SMTP: &str = "smtp";

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    /// The reminder it carries (part of the Message-ID).
    pub reminder_id: i64,
    /// The recipient's address.
    pub to: String,
    /// The subject, UTF-8.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML alternative, when the template has one.
    pub html: Option<String>,
}

/// A weekly coordinator digest: one e-mail to every coordinator of a
/// kelurahan at once, so the relay accepts or refuses it as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundDigest {
    /// The kelurahan it is about (part of the Message-ID).
    pub kelurahan_code: String,
    /// Its ISO week key, `2025-W29` (part of the Message-ID).
    pub week: String,
    /// The recipients as (display name, address), all in `To`.
    pub to: Vec<(String, String)>,
    /// The subject, UTF-8.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML alternative.
    pub html: Option<String>,
}

/// An e-mail the relay accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAccepted {
    /// The Message-ID header it was sent with, `<…@…>`.
    pub message_id: String,
}

/// Sends e-mail through the configured relay.
#[derive(Clone)]
pub struct EmailSender {
    /// The pooled transport; cloning shares the pool.
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `From`.
    from: Mailbox,
    /// `Reply-To`, when configured.
    reply_to: Option<Mailbox>,
    /// The domain of Message-IDs (the From address's domain).
    id_domain: String,
    /// `host:port`, for logs.
    relay: String,
    /// Where a configuration error (credentials, certificate) takes the
    /// relay out of service.
    health: ChannelHealth,
    /// Sends take turns until the relay has answered once.
    first: FirstSend,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl EmailSender {
    /// Builds the transport (no connection is made until the first send).
    /// Must run inside the tokio runtime: the connection pool starts a task
    /// that closes idle connections.
    pub fn from_settings(email: &EmailSettings) -> Result<Self, ChannelConfigError> {
        let bad = |what: String| ChannelConfigError::Email(what);
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(bad(
                "the SMTP connection pool must be built inside the tokio runtime".into()
            ));
        }
        let from: Mailbox = email
            .from
            .parse()
            .map_err(|e| bad(format!("from {:?}: {e}", email.from)))?;
        let reply_to = match &email.reply_to {
            Some(raw) => Some(
                raw.parse::<Mailbox>()
                    .map_err(|e| bad(format!("reply_to {raw:?}: {e}")))?,
            ),
            None => None,
        };
        let tls = match email.tls.as_str() {
            "none" => Tls::None,
            mode @ ("starttls" | "tls") => {
                let mut parameters = TlsParameters::builder(email.host.clone());
                if let Some(path) = &email.ca_file {
                    let pem = read_ca_file("email.ca_file", path).map_err(bad)?;
                    let ca = Certificate::from_pem(&pem)
                        .map_err(|e| bad(format!("email.ca_file {}: {e}", path.display())))?;
                    parameters = parameters.add_root_certificate(ca);
                }
                let parameters = parameters
                    .build_rustls()
                    .map_err(|e| bad(format!("TLS for {}: {e}", email.host)))?;
                if mode == "tls" {
                    Tls::Wrapper(parameters)
                } else {
                    Tls::Required(parameters)
                }
            }
            other => return Err(bad(format!("tls {other:?} must be starttls, tls or none"))),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(email.host.clone())
            .port(email.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(email.timeout_secs.max(1))))
            .pool_config(PoolConfig::new().max_size(email.pool_size.max(1)));
        if let Some(user) = &email.username {
            let password = read_secret(email.password_env.as_deref(), email.password_file.as_deref())
                .map_err(|source| ChannelConfigError::Secret {
                    context: "email password".into(),
                    source,
                })?
                .ok_or_else(|| bad("username is set but neither password_env nor password_file".into()))?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self {
            transport: builder.build(),
            id_domain: from.email.domain().to_string(),
            from,
            reply_to,
            relay: format!("{}:{}", email.host, email.port),
            health: ChannelHealth::default(),
            first: FirstSend::default(),
        })
    }

    /// The same sender, reporting configuration errors to `health` (the
    /// daemon's, which `/readyz` reads).
    pub fn with_health(mut self, health: ChannelHealth) -> Self {
        self.health = health;
        self
    }

    /// Refuses at once while the relay is out of service: another attempt
    /// would only repeat the error (and a relay may lock an account after
    /// repeated authentication failures).
    fn check_health(&self) -> Result<(), SendError> {
        match self.health.problem(SMTP) {
            Some(problem) => Err(SendError::configuration(SMTP, problem)),
            None => Ok(()),
        }
    }

    /// Whether the relay is in service: not taken out by a configuration
    /// error (the dispatcher claims no e-mail while it is).
    pub(crate) fn in_service(&self) -> bool {
        self.health.problem(SMTP).is_none()
    }

    /// Hands `message` to the relay, one at a time until the relay has
    /// answered once (wrong credentials are then found by one login, not by
    /// every pooled connection).
    async fn transmit(&self, message: Message) -> Result<(), SendError> {
        let _turn = self.first.turn().await;
        self.check_health()?;
        let result = self.transport.send(message).await.map_err(|e| self.failed(&e));
        self.first
            .record(result.as_ref().is_err_and(SendError::is_configuration));
        result.map(|_| ())
    }

    /// `error` classified; a configuration error takes the relay out of service.
    fn failed(&self, error: &smtp::Error) -> SendError {
        let error = classify(error);
        if let SendError::Configuration { reason, .. } = &error {
            self.health.fail(SMTP, reason);
        }
        error
    }

    /// Hands `msg` to the relay. SMTP 4xx, timeouts and connection trouble
    /// are transient; 5xx and a malformed address are permanent.
    pub async fn send(&self, msg: &OutboundEmail) -> Result<EmailAccepted, SendError> {
        let masked = EmailAddress::parse(&msg.to)
            .map(|a| a.masked())
            .unwrap_or_else(|_| super::redact(&msg.to));
        let to: Address = msg
            .to
            .trim()
            .parse()
            .map_err(|e| SendError::permanent(SMTP, format!("recipient {masked} is not an e-mail address: {e}")))?;
        self.check_health()?;
        let message_id = self.message_id(msg.reminder_id);
        let body = Body {
            subject: &msg.subject,
            text: &msg.text,
            html: msg.html.as_deref(),
        };
        let message = self.message(vec![Mailbox::new(None, to)], &body, &message_id)?;
        match self.transmit(message).await {
            Ok(()) => {
                tracing::debug!(relay = %self.relay, reminder = msg.reminder_id, to = %masked, "e-mail accepted");
                Ok(EmailAccepted { message_id })
            }
            Err(error) => {
                // A configuration error was logged once, when first seen.
                if !error.is_configuration() {
                    tracing::warn!(relay = %self.relay, reminder = msg.reminder_id, to = %masked, %error, "e-mail not accepted");
                }
                Err(error)
            }
        }
    }

    /// Hands a coordinator digest to the relay, addressed to all its
    /// recipients at once; errors are classified as for [`EmailSender::send`].
    /// Addresses are logged masked.
    pub(crate) async fn send_digest(&self, msg: &OutboundDigest) -> Result<EmailAccepted, SendError> {
        let masked: Vec<String> = msg
            .to
            .iter()
            .map(|(_, a)| {
                EmailAddress::parse(a)
                    .map(|a| a.masked())
                    .unwrap_or_else(|_| super::redact(a))
            })
            .collect();
        let masked = masked.join(", ");
        if msg.to.is_empty() {
            return Err(SendError::permanent(SMTP, "a digest needs at least one recipient"));
        }
        let mut to = Vec::with_capacity(msg.to.len());
        for (name, address) in &msg.to {
            let address: Address = address.trim().parse().map_err(|e| {
                SendError::permanent(SMTP, format!("a recipient of {masked} is not an e-mail address: {e}"))
            })?;
            let name = Some(name.trim().to_string()).filter(|n| !n.is_empty());
            to.push(Mailbox::new(name, address));
        }
        self.check_health()?;
        let message_id = self.digest_message_id(&msg.kelurahan_code, &msg.week);
        let body = Body {
            subject: &msg.subject,
            text: &msg.text,
            html: msg.html.as_deref(),
        };
        let message = self.message(to, &body, &message_id)?;
        match self.transmit(message).await {
            Ok(()) => {
                tracing::debug!(relay = %self.relay, kelurahan = %msg.kelurahan_code, week = %msg.week, to = %masked, "digest accepted");
                Ok(EmailAccepted { message_id })
            }
            Err(error) => {
                // A configuration error was logged once, when first seen.
                if !error.is_configuration() {
                    tracing::warn!(relay = %self.relay, kelurahan = %msg.kelurahan_code, week = %msg.week, to = %masked, %error, "digest not accepted");
                }
                Err(error)
            }
        }
    }

    /// Checks the relay answers (NOOP on a pooled connection), for readiness.
    pub async fn test_connection(&self) -> Result<bool, SendError> {
        self.check_health()?;
        self.transport.test_connection().await.map_err(|e| self.failed(&e))
    }

    /// `<pengingat.{reminder id}.{random}@{from domain}>`: unique, and the
    /// reminder can be read back from a bounce.
    fn message_id(&self, reminder_id: i64) -> String {
        format!(
            "<pengingat.{reminder_id}.{:016x}@{}>",
            rand::random::<u64>(),
            self.id_domain
        )
    }

    /// `<pengingat.digest.{kelurahan code without dots}.{week}.{random}@{from domain}>`.
    fn digest_message_id(&self, kelurahan_code: &str, week: &str) -> String {
        let code: String = kelurahan_code.chars().filter(char::is_ascii_digit).collect();
        let week: String = week
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        format!(
            "<pengingat.digest.{code}.{week}.{:016x}@{}>",
            rand::random::<u64>(),
            self.id_domain
        )
    }

    fn message(&self, to: Vec<Mailbox>, body: &Body<'_>, message_id: &str) -> Result<Message, SendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(body.subject.to_string())
            .message_id(Some(message_id.to_string()));
        for mailbox in to {
            builder = builder.to(mailbox);
        }
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let built = match body.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                body.text.to_string(),
                html.to_string(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(body.text.to_string()),
            ),
        };
        built.map_err(|e| SendError::permanent(SMTP, format!("cannot build the message: {e}")))
    }
}

/// The parts of a message shared by reminders and digests.
struct Body<'a> {
    /// The subject.
    subject: &'a str,
    /// The plain-text body.
    text: &'a str,
    /// The HTML alternative, if any.
    html: Option<&'a str>,
}

/// SMTP reply codes decide (RFC 5321 §4.2.1): 4xx transient, 5xx
/// permanent, except the AUTH refusals (RFC 4954: 530, 534, 535, 538),
/// which are about our credentials, not the recipient, and an untrusted
/// certificate: configuration errors, which every message would meet
/// until an operator fixes the settings, so nothing is retried.
/// Everything else without a reply code (timeout, connection, a garbled
/// answer) is the relay's trouble: transient.
fn classify(error: &smtp::Error) -> SendError {
    let code = error.status().map(|c| c.to_string());
    let auth_refused = matches!(code.as_deref(), Some("530" | "534" | "535" | "538"));
    if auth_refused {
        SendError::configuration(
            SMTP,
            format!(
                "the relay refused our credentials ({error}): check email.username and the password in \
                 email.password_env or email.password_file"
            ),
        )
    } else if code.is_none() && is_certificate_error(error) {
        SendError::configuration(
            SMTP,
            format!(
                "the relay's TLS certificate is not trusted ({}): set email.ca_file to the PEM file of the CA \
                 that signed it, or check email.host",
                causes(error)
            ),
        )
    } else if error.is_permanent() {
        SendError::permanent(SMTP, error.to_string())
    } else if error.is_timeout() {
        SendError::transient(SMTP, format!("no answer in time: {error}"), None)
    } else {
        SendError::transient(SMTP, error.to_string(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EmailSettings {
        EmailSettings {
            from: "BPJS Ketenagakerjaan Kota Metro <pengingat@metrokota.go.id>".into(),
            reply_to: Some("layanan@metrokota.go.id".into()),
            ..EmailSettings::default()
        }
    }

    #[tokio::test]
    async fn message_ids_are_unique_and_name_the_reminder() {
        let sender = EmailSender::from_settings(&settings()).unwrap();
        let a = sender.message_id(42);
        assert!(
            a.starts_with("<pengingat.42.") && a.ends_with("@metrokota.go.id>"),
            "{a}"
        );
        assert_ne!(a, sender.message_id(42));
    }

    #[tokio::test]
    async fn digest_message_ids_name_the_kelurahan_and_week() {
        let sender = EmailSender::from_settings(&settings()).unwrap();
        let id = sender.digest_message_id("18.72.01.1005", "2025-W29");
        assert!(
            id.starts_with("<pengingat.digest.1872011005.2025-W29.") && id.ends_with("@metrokota.go.id>"),
            "{id}"
        );
    }

    #[tokio::test]
    async fn a_digest_without_recipients_or_with_a_bad_one_is_permanent_and_masked() {
        let sender = EmailSender::from_settings(&settings()).unwrap();
        let mut digest = OutboundDigest {
            kelurahan_code: "18.72.01.1005".into(),
            week: "2025-W29".into(),
            to: Vec::new(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
        };
        assert!(!sender.send_digest(&digest).await.unwrap_err().is_transient());
        digest.to = vec![("Ratna".into(), "ratna dewi@example.org".into())];
        let error = sender.send_digest(&digest).await.unwrap_err();
        assert!(!error.is_transient());
        assert!(!error.to_string().contains("dewi"), "{error}");
    }

    #[tokio::test]
    async fn bad_settings_are_refused() {
        let bad_from = EmailSettings {
            from: "not an address".into(),
            ..settings()
        };
        assert!(EmailSender::from_settings(&bad_from).is_err());
        let bad_tls = EmailSettings {
            tls: "ssl".into(),
            ..settings()
        };
        assert!(EmailSender::from_settings(&bad_tls).is_err());
        let no_password = EmailSettings {
            username: Some("u".into()),
            ..settings()
        };
        assert!(EmailSender::from_settings(&no_password).is_err());
    }

    #[test]
    fn outside_the_runtime_is_an_error_not_a_panic() {
        assert!(matches!(
            EmailSender::from_settings(&settings()),
            Err(ChannelConfigError::Email(_))
        ));
    }

    #[tokio::test]
    async fn a_malformed_recipient_is_permanent_and_masked() {
        let sender = EmailSender::from_settings(&settings()).unwrap();
        let msg = OutboundEmail {
            reminder_id: 1,
            to: "budi santoso@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
        };
        let error = sender.send(&msg).await.unwrap_err();
        assert!(!error.is_transient());
        assert!(!error.to_string().contains("santoso"), "{error}");
    }
}
