//! E-mail end to end against a real SMTP server on loopback: aiosmtpd, run
//! from tests/support/smtp_sink.py, which writes every message it accepts as
//! Python's e-mail parser reads it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use pengingat::channels::{EmailSender, OutboundEmail, SendError, send_test_email};
use pengingat::config::delivery::EmailSettings;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::Secrets;

/// The longest the sink may take to start or to write a message.
const PATIENCE: Duration = Duration::from_secs(20);

const FROM: &str = "BPJS Ketenagakerjaan Kota Metro <pengingat@metrokota.go.id>";
const REPLY_TO: &str = "Layanan Peserta <layanan@metrokota.go.id>";
const SUBJECT: &str = "Iuran BPJS Ketenagakerjaan Juli 2025 – segera bayar";
const TEXT: &str = "Yth. Siti Aminah,\n\niuran Rp16.800 bulan Juli 2025 jatuh tempo 15/07/2025.\nTerima kasih.";
const HTML: &str = "<p>Yth. <b>Siti Aminah</b>,</p><p>iuran Rp16.800 bulan Juli 2025 jatuh tempo 15/07/2025.</p>";
const TO: &str = "siti.aminah@example.co.id";

/// A running aiosmtpd sink.
pub struct Sink {
    /// The python process (killed when dropped, too).
    child: Child,
    /// The port it listens on.
    port: u16,
    /// Where it writes messages.
    dir: tempfile::TempDir,
}

impl Sink {
    /// Starts the sink with extra arguments and waits until its port answers.
    pub async fn start(args: &[&str]) -> Self {
        crate::prerequisites::require();
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(crate::prerequisites::smtp_python())
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMTP sink's Python runs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        let read = tokio::time::timeout(PATIENCE, BufReader::new(stdout).read_line(&mut line)).await;
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|_| matches!(read, Ok(Ok(n)) if n > 0));
        let port = port.unwrap_or_else(|| panic!("tests/support/smtp_sink.py did not start: {line:?}"));
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the SMTP sink never answered on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { child, port, dir }
    }

    /// The `n`th message it accepted (from 1), waiting for it to be written.
    pub async fn message(&self, n: usize) -> Value {
        let path = self.dir.path().join(format!("{n}.json"));
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return serde_json::from_str(&text).unwrap();
            }
            assert!(tokio::time::Instant::now() < deadline, "message {n} never arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The raw message as it went over the wire.
    fn raw(&self, n: usize) -> Vec<u8> {
        std::fs::read(self.dir.path().join(format!("{n}.eml"))).unwrap()
    }

    /// Messages accepted so far.
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
            .count()
    }

    /// Logins it refused so far (wrong user name or password).
    pub fn refused_logins(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("refused-logins"))
            .map(|log| log.lines().count())
            .unwrap_or(0)
    }

    pub async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }

    /// Settings for a plain relay at this sink.
    pub fn settings(&self) -> EmailSettings {
        EmailSettings {
            enabled: true,
            host: "127.0.0.1".into(),
            port: self.port,
            tls: "none".into(),
            from: FROM.into(),
            reply_to: Some(REPLY_TO.into()),
            pool_size: 2,
            timeout_secs: 10,
            ..EmailSettings::default()
        }
    }
}

fn email(to: &str, html: Option<&str>) -> OutboundEmail {
    OutboundEmail {
        reminder_id: 42,
        to: to.into(),
        subject: SUBJECT.into(),
        text: TEXT.into(),
        html: html.map(str::to_string),
    }
}

/// A body as the reader shows it, line endings normalised.
fn body(value: &Value) -> String {
    value.as_str().unwrap().replace("\r\n", "\n").trim_end().to_string()
}

#[tokio::test]
async fn a_reminder_arrives_with_its_headers_subject_and_both_bodies() {
    let sink = Sink::start(&[]).await;
    let sender = EmailSender::from_settings(&sink.settings()).unwrap();
    let accepted = sender.send(&email(TO, Some(HTML))).await.unwrap();
    let got = sink.message(1).await;
    assert_eq!(got["mail_from"], "pengingat@metrokota.go.id");
    assert_eq!(got["rcpt_tos"], serde_json::json!([TO]));
    let headers = &got["headers"];
    assert_eq!(headers["From"], FROM);
    assert_eq!(headers["To"], TO);
    assert_eq!(headers["Reply-To"], REPLY_TO);
    assert_eq!(headers["Subject"], SUBJECT, "the UTF-8 subject decodes as written");
    assert_eq!(headers["Message-ID"], accepted.message_id.as_str());
    assert!(
        accepted.message_id.starts_with("<pengingat.42."),
        "{}",
        accepted.message_id
    );
    assert_eq!(got["content_type"], "multipart/alternative");
    assert_eq!(body(&got["text"]), TEXT);
    assert_eq!(body(&got["html"]), HTML);

    // On the wire the header block is ASCII: the subject went as RFC 2047 words.
    let raw = sink.raw(1);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(raw[..end].is_ascii(), "{}", String::from_utf8_lossy(&raw[..end]));
    sink.stop().await;
}

#[tokio::test]
async fn a_text_only_reminder_is_plain_text() {
    let sink = Sink::start(&[]).await;
    let sender = EmailSender::from_settings(&sink.settings()).unwrap();
    let first = sender.send(&email(TO, None)).await.unwrap();
    let second = send_test_email(&sender, "Budi@Example.co.id", "Pesan uji", "Halo")
        .await
        .unwrap();
    assert_ne!(first.message_id, second.message_id);
    let got = sink.message(1).await;
    assert_eq!(got["content_type"], "text/plain");
    assert_eq!(body(&got["text"]), TEXT);
    assert!(got["html"].is_null());
    let test = sink.message(2).await;
    assert_eq!(test["headers"]["Subject"], "Pesan uji");
    assert_eq!(test["headers"]["Message-ID"], second.message_id.as_str());
    sink.stop().await;
}

#[tokio::test]
async fn refusals_are_permanent_for_550_and_transient_for_451() {
    let sink = Sink::start(&["--reject", "tolak@example.co.id", "--defer", "tunda@example.co.id"]).await;
    let sender = EmailSender::from_settings(&sink.settings()).unwrap();

    let error = sender.send(&email("tolak@example.co.id", None)).await.unwrap_err();
    assert!(
        matches!(&error, SendError::Permanent { gateway, .. } if gateway == "smtp"),
        "{error:?}"
    );
    let shown = error.to_string();
    assert!(
        shown.contains("550") && shown.contains("Recipient address rejected"),
        "{shown}"
    );
    assert!(!shown.contains("tolak@"), "the address is masked: {shown}");

    let error = sender.send(&email("tunda@example.co.id", None)).await.unwrap_err();
    assert!(matches!(error, SendError::Transient { .. }), "{error:?}");
    assert!(error.to_string().contains("451"), "{error}");

    // The pooled connections survive refusals.
    sender.send(&email(TO, None)).await.unwrap();
    assert_eq!(sink.message(1).await["rcpt_tos"], serde_json::json!([TO]));
    assert_eq!(sink.count(), 1);

    let error = send_test_email(&sender, "bukan alamat", "s", "t").await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    sink.stop().await;
}

#[tokio::test]
async fn the_relay_is_authenticated_when_a_user_name_is_set() {
    let sink = Sink::start(&["--auth", "pengingat:rahasia-smtp"]).await;
    let secrets = Secrets::new();
    let settings = EmailSettings {
        username: Some("pengingat".into()),
        password_file: Some(secrets.file("smtp.password", "rahasia-smtp")),
        ..sink.settings()
    };
    let sender = EmailSender::from_settings(&settings).unwrap();
    sender.send(&email(TO, None)).await.unwrap();
    assert_eq!(sink.message(1).await["auth_login"], "pengingat");

    let wrong = EmailSettings {
        password_file: Some(secrets.file("wrong", "salah")),
        ..settings
    };
    let sender = EmailSender::from_settings(&wrong).unwrap();
    let error = sender.send(&email(TO, None)).await.unwrap_err();
    // The relay is out of service now: the next send does not even try.
    let again = sender.send(&email(TO, None)).await.unwrap_err();
    assert!(again.is_configuration(), "{again:?}");
    // A 535 is our configuration: not retried, and it says what to fix.
    assert!(error.is_configuration() && !error.is_transient(), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.contains("535") && shown.contains("email.password_file"),
        "{shown}"
    );
    assert_eq!(sink.count(), 1);
    sink.stop().await;
}
