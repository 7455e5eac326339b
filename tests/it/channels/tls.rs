//! A private CA: `email.ca_file` and a gateway's `ca_file` trust it besides
//! the system's roots, over STARTTLS, SMTPS and HTTPS; without them the
//! certificate error is a configuration error (not retried, the channel
//! out of service, `/readyz` naming it and what to fix). The CA and the
//! server certificate (for 127.0.0.1) are made in the test with `openssl`;
//! the relay is aiosmtpd, the HTTPS gateway the mock gateway behind a
//! rustls front.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::app::TestApp;
use pengingat::channels::{Availability, ChannelHealth, EmailSender, OutboundEmail, SendError};
use pengingat::config::delivery::{EmailSettings, GatewaySettings, Preset, SmsSettings};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::email::Sink;
use super::*;
use crate::helpers::*;

both_backends!(readyz_names_a_channel_out_of_service_and_what_to_fix);

/// A test CA and a server certificate it signed for 127.0.0.1.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Pengingat Uji CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            dir.path().join("server.ext"),
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    fn str(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

/// TLS on 127.0.0.1:0 in front of `upstream`, with the server certificate.
async fn tls_front(pki: &Pki, upstream: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pki.path("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(pki.path("server.key")).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses our certificate ends the handshake: nothing to pass on.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (addr, task)
}

fn email_to(n: i64) -> OutboundEmail {
    OutboundEmail {
        reminder_id: n,
        to: "siti.aminah@example.co.id".into(),
        subject: "Iuran Juli 2025".into(),
        text: "Yth. Siti Aminah, iuran Juli 2025 jatuh tempo 15/07/2025.".into(),
        html: None,
    }
}

async fn tls_sink(pki: &Pki, mode: &str) -> Sink {
    Sink::start(&[
        "--tls",
        mode,
        "--cert",
        &pki.str("server.pem"),
        "--key",
        &pki.str("server.key"),
    ])
    .await
}

#[tokio::test]
async fn starttls_and_smtps_relays_with_a_private_ca_are_trusted_through_ca_file() {
    let pki = Pki::new();
    for (mode, tls) in [("starttls", "starttls"), ("smtps", "tls")] {
        let sink = tls_sink(&pki, mode).await;
        let settings = EmailSettings {
            tls: tls.into(),
            ca_file: Some(pki.ca()),
            ..sink.settings()
        };
        let sender = EmailSender::from_settings(&settings).unwrap();
        sender
            .send(&email_to(1))
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(
            sink.message(1).await["rcpt_tos"][0],
            "siti.aminah@example.co.id",
            "{mode}"
        );
        sink.stop().await;
    }
}

#[tokio::test]
async fn an_untrusted_relay_certificate_is_a_configuration_error_named_once() {
    let pki = Pki::new();
    let sink = tls_sink(&pki, "starttls").await;
    let settings = EmailSettings {
        tls: "starttls".into(),
        ..sink.settings()
    };
    let health = ChannelHealth::default();
    let sender = EmailSender::from_settings(&settings)
        .unwrap()
        .with_health(health.clone());
    let error = sender.send(&email_to(1)).await.unwrap_err();
    assert!(error.is_configuration() && !error.is_transient(), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.contains("certificate") && shown.contains("email.ca_file"),
        "{shown}"
    );
    let problems = health.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "smtp");
    // Out of service: refused at once, the relay never sees a message.
    assert!(sender.send(&email_to(2)).await.unwrap_err().is_configuration());
    assert_eq!(sink.count(), 0);
    sink.stop().await;
}

#[tokio::test]
async fn a_ca_file_that_is_not_pem_is_refused_at_start_with_its_key() {
    let pki = Pki::new();
    let settings = EmailSettings {
        tls: "starttls".into(),
        ca_file: Some(pki.path("server.csr")),
        ..EmailSettings::default()
    };
    let error = EmailSender::from_settings(&settings).unwrap_err().to_string();
    assert!(
        error.contains("email.ca_file") && error.contains("server.csr"),
        "{error}"
    );
    let secrets = Secrets::new();
    let mut gateway = gateway("kannel-1", Preset::Kannel, "https://127.0.0.1:9", &secrets);
    gateway.ca_file = Some(pki.path("nowhere.pem"));
    let sms = SmsSettings {
        gateways: vec![gateway],
        ..SmsSettings::default()
    };
    let error = pengingat::channels::GatewayPool::from_settings(&sms, PUBLIC_URL, reqwest::Client::new())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("kannel-1") && error.contains("ca_file") && error.contains("nowhere.pem"),
        "{error}"
    );
}

/// A Kannel gateway at `base_url`, trusting `ca_file`.
fn https_gateway(name: &str, base_url: &str, ca_file: Option<&Path>, secrets: &Secrets) -> GatewaySettings {
    let mut settings = gateway(name, Preset::Kannel, base_url, secrets);
    settings.ca_file = ca_file.map(Path::to_path_buf);
    settings
}

#[tokio::test]
async fn an_https_gateway_with_a_private_ca_is_trusted_through_its_ca_file() {
    let pki = Pki::new();
    let mock = Gateway::start(mock_config()).await;
    let upstream: SocketAddr = mock.base.trim_start_matches("http://").parse().unwrap();
    let (front, task) = tls_front(&pki, upstream).await;
    let https = format!("https://{front}");
    let secrets = Secrets::new();

    let trusted = pool(vec![https_gateway("kannel-tls", &https, Some(&pki.ca()), &secrets)]);
    assert_eq!(trusted.send(&sms(1, GSM_TEXT)).await.unwrap().gateway, "kannel-tls");
    assert_eq!(mock.messages().await.len(), 1);

    // Without it: a configuration error for that gateway, and the next one takes over.
    let mut plain = gateway("kannel-plain", Preset::Kannel, &mock.base, &secrets);
    plain.priority = 2;
    let health = ChannelHealth::default();
    let failover = pool(vec![https_gateway("kannel-tls", &https, None, &secrets), plain]).with_health(health.clone());
    assert_eq!(failover.send(&sms(2, GSM_TEXT)).await.unwrap().gateway, "kannel-plain");
    let problems = health.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "kannel-tls");
    assert!(
        problems[0].1.contains("ca_file of [[sms.gateway]] \"kannel-tls\""),
        "{}",
        problems[0].1
    );
    assert_eq!(
        failover.availability(),
        Availability::Open { per_second: 1000.0 },
        "only kannel-plain counts"
    );

    // Alone, it is a configuration error, and the pool has nothing in service.
    let alone = pool(vec![https_gateway("kannel-tls", &https, None, &secrets)]);
    let error = alone.send(&sms(3, GSM_TEXT)).await.unwrap_err();
    assert!(matches!(error, SendError::Configuration { .. }), "{error:?}");
    assert_eq!(alone.availability(), Availability::Unavailable);
    assert_eq!(mock.messages().await.len(), 2);
    task.abort();
    mock.stop().await;
}

async fn readyz_names_a_channel_out_of_service_and_what_to_fix(db: &TestDb) {
    let sink = Sink::start(&["--auth", "pengingat:rahasia-smtp"]).await;
    let secrets = Secrets::new();
    let settings = EmailSettings {
        username: Some("pengingat".into()),
        password_file: Some(secrets.file("smtp.password", "salah")),
        ..sink.settings()
    };
    let health = ChannelHealth::default();
    let sender = EmailSender::from_settings(&settings)
        .unwrap()
        .with_health(health.clone());
    let app = TestApp::builder(db).channels(health).spawn().await;
    let url = app.url("/readyz");
    let ready = || async { app.http.get(&url).send().await.unwrap() };
    assert_eq!(ready().await.status(), 200);

    let error = sender.send(&email_to(1)).await.unwrap_err();
    assert!(error.is_configuration(), "{error:?}");
    let answer = ready().await;
    assert_eq!(answer.status(), 503);
    let text = answer.text().await.unwrap();
    assert!(text.starts_with("smtp out of service: "), "{text}");
    assert!(text.contains("535") && text.contains("email.password_file"), "{text}");
    app.stop().await;
    sink.stop().await;
}
