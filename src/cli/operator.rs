//! Operator commands around delivery: `send-test` and
//! `participant opt-out|opt-in`.

use std::process::ExitCode;

use anyhow::Context;

use super::database::open;
use super::{ParticipantCommand, SendTestArgs, TestChannel};
use crate::channels::{
    EmailSender, GatewayPool, TEST_EMAIL_SUBJECT, TEST_EMAIL_TEXT, TEST_SMS_TEXT, send_test_email, send_test_sms,
};
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Nik;

/// Sends one test message through the configured gateways (in priority
/// order, with failover) or the SMTP relay, and says what happened.
pub(crate) async fn send_test(settings: &Settings, args: &SendTestArgs) -> anyhow::Result<ExitCode> {
    let result = match args.channel {
        TestChannel::Sms => {
            anyhow::ensure!(!settings.sms.gateways.is_empty(), "no [[sms.gateway]] is configured");
            let http = reqwest::Client::builder()
                .build()
                .context("cannot build the HTTP client")?;
            let pool = GatewayPool::from_settings(&settings.sms, &settings.delivery.public_url, http)?;
            let text = args.text.as_deref().unwrap_or(TEST_SMS_TEXT);
            send_test_sms(&pool, &args.to, text).await.map(|a| {
                format!(
                    "accepted by gateway {} (message id {}), {:?}, {} segment(s)",
                    a.gateway,
                    a.message_id.as_deref().unwrap_or("none: receipts carry our id"),
                    a.encoding,
                    a.segments
                )
            })
        }
        TestChannel::Email => {
            anyhow::ensure!(
                settings.email.enabled,
                "e-mail is not enabled ([email] enabled = false)"
            );
            let sender = EmailSender::from_settings(&settings.email)?;
            let text = args.text.as_deref().unwrap_or(TEST_EMAIL_TEXT);
            send_test_email(&sender, &args.to, TEST_EMAIL_SUBJECT, text)
                .await
                .map(|a| {
                    format!(
                        "accepted by {}:{} (Message-ID {})",
                        settings.email.host, settings.email.port, a.message_id
                    )
                })
        }
    };
    match result {
        Ok(line) => {
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: the test message was not sent: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Marks a participant opted out (cancelling their pending reminders) or in.
pub async fn participant(
    settings: &Settings,
    command: &ParticipantCommand,
    clock: &dyn Clock,
) -> anyhow::Result<ExitCode> {
    let (raw, opted_out) = match command {
        ParticipantCommand::OptOut { nik } => (nik, true),
        ParticipantCommand::OptIn { nik } => (nik, false),
    };
    let nik = Nik::parse(raw).with_context(|| format!("{raw:?} is not a NIK"))?;
    let store = open(settings).await?;
    match store.set_opt_out_by_nik(&nik, opted_out, clock.now()).await? {
        None => {
            eprintln!("error: no participant has NIK {}", nik.masked());
            Ok(ExitCode::FAILURE)
        }
        Some(change) => {
            let state = if opted_out { "opted out" } else { "opted in" };
            let note = if change.changed { "" } else { " (already so)" };
            println!(
                "participant {} {state}{note}; {} pending reminder(s) cancelled",
                nik.masked(),
                change.cancelled_reminders
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
