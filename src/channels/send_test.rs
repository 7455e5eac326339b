//! Test sends an operator starts by hand (to check a gateway or relay before
//! reminders go out). The recipient is checked first, so a typo is reported
//! as such rather than as a gateway refusal.

use super::email::{EmailAccepted, EmailSender, OutboundEmail, SMTP};
use super::error::SendError;
use super::sms::{GatewayPool, LOCAL, OutboundSms, SmsAccepted};
use crate::domain::{EmailAddress, PhoneNumber};

/// A default SMS text for test sends (GSM-7, one segment).
pub const TEST_SMS_TEXT: &str = "Pesan uji dari pengingat iuran BPJS Ketenagakerjaan. Abaikan pesan ini.";
/// A default subject for test e-mails.
pub const TEST_EMAIL_SUBJECT: &str = "Pesan uji pengingat iuran BPJS Ketenagakerjaan";
/// A default body for test e-mails.
pub const TEST_EMAIL_TEXT: &str =
    "Ini pesan uji dari layanan pengingat iuran BPJS Ketenagakerjaan. Tidak perlu dibalas.";

/// The reminder id test messages carry: no reminder has it, so a receipt for
/// a test message updates nothing.
pub(crate) const TEST_REMINDER_ID: i64 = 0;

/// Sends `text` to `to` (any written form of an Indonesian mobile number)
/// through the pool, as a reminder would go.
pub async fn send_test_sms(pool: &GatewayPool, to: &str, text: &str) -> Result<SmsAccepted, SendError> {
    let number = PhoneNumber::parse(to).map_err(|e| SendError::permanent(LOCAL, format!("{to}: {e}")))?;
    let accepted = pool
        .send(&OutboundSms {
            reminder_id: TEST_REMINDER_ID,
            to: number.as_str().to_string(),
            text: text.to_string(),
        })
        .await?;
    tracing::info!(gateway = %accepted.gateway, to = %number.masked(), "test SMS accepted");
    Ok(accepted)
}

/// Sends a plain-text e-mail to `to` through the relay.
pub async fn send_test_email(
    sender: &EmailSender,
    to: &str,
    subject: &str,
    text: &str,
) -> Result<EmailAccepted, SendError> {
    let address = EmailAddress::parse(to).map_err(|e| SendError::permanent(SMTP, format!("{to}: {e}")))?;
    let accepted = sender
        .send(&OutboundEmail {
            reminder_id: TEST_REMINDER_ID,
            to: address.as_str().to_string(),
            subject: subject.to_string(),
            text: text.to_string(),
            html: None,
        })
        .await?;
    tracing::info!(to = %address.masked(), message_id = %accepted.message_id, "test e-mail accepted");
    Ok(accepted)
}
