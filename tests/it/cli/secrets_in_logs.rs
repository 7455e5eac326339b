//! A debug-level run leaks nothing: with `[log] level = "debug"` and no
//! `RUST_LOG`, an SMTP send with AUTH, an SMS send, a participant import
//! and an opt-out write their log, and it holds no password (plain or as
//! the base64 of SMTP AUTH PLAIN/LOGIN), phone number, e-mail address, NIK,
//! name or street address.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Cli;
use crate::channels::email::Sink;
use crate::helpers::*;

both_backends!(a_debug_run_logs_no_secret_and_no_personal_data);

const SMTP_USER: &str = "pengingat";
const SMTP_PASSWORD: &str = "rahasia-smtp-4471";
const KANNEL_PASSWORD: &str = "kannel-sandi-9920";
const NIK: &str = "1872014506880001";
const NAME: &str = "Siti Rahayu Lestari";
const PHONE: &str = "081234567801";
const EMAIL: &str = "siti.rahayu@contoh.co.id";
const ADDRESS: &str = "Jl. Merpati Nomor 7";

async fn a_debug_run_logs_no_secret_and_no_personal_data(db: &TestDb) {
    load_test_kelurahan(db).await;
    let sink = Sink::start(&["--auth", &format!("{SMTP_USER}:{SMTP_PASSWORD}")]).await;
    let mut gateway = crate::channels::mock_config();
    gateway.credentials.kannel_password = KANNEL_PASSWORD.into();
    let mock = crate::mock_gateway::Gateway::start(gateway).await;
    let cli = Cli::new(db);
    let secrets = crate::channels::Secrets::new();
    let mut config = std::fs::read_to_string(cli.config()).unwrap();
    config.push_str(&format!(
        "[log]\nlevel = \"debug\"\n\
         [email]\nenabled = true\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"pengingat@bpjs.example\"\n\
         username = \"{SMTP_USER}\"\npassword_file = \"{}\"\n\
         [[sms.gateway]]\nname = \"uji\"\npreset = \"kannel\"\nbase_url = \"{}\"\nusername = \"kannel\"\n\
         password_file = \"{}\"\nsender = \"BPJSTK\"\n",
        sink.settings().port,
        secrets.file("smtp", SMTP_PASSWORD).display(),
        mock.base,
        secrets.file("kannel", KANNEL_PASSWORD).display(),
    ));
    std::fs::write(cli.config(), config).unwrap();
    let participants = cli.dir.path().join("peserta.csv");
    std::fs::write(
        &participants,
        format!(
            "nik,name,phone,email,kelurahan,segment,monthly_amount\n{NIK},{NAME},{PHONE},{EMAIL},18.72.01.1001,bpu,16800\n"
        ),
    )
    .unwrap();
    let text = format!("Yth. {NAME}, {ADDRESS}: uji pengingat.");
    let mut log = String::new();
    for args in [
        vec!["send-test", "--channel", "email", "--to", EMAIL, "--text", &text],
        vec!["send-test", "--channel", "sms", "--to", PHONE, "--text", &text],
        vec!["import", "participants", participants.to_str().unwrap()],
        vec!["participant", "opt-out", NIK],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pengingat"))
            .arg("--config")
            .arg(cli.config())
            .args(&args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        log.push_str(&stderr);
    }
    assert_eq!(sink.message(1).await["auth_login"], SMTP_USER, "AUTH was used");
    assert_eq!(mock.messages().await.len(), 1, "the SMS went out");
    assert!(log.contains("DEBUG"), "the run logged at debug level:\n{log}");
    let plain = STANDARD.encode(format!("\0{SMTP_USER}\0{SMTP_PASSWORD}"));
    let international = format!("62{}", &PHONE[1..]);
    for secret in [
        SMTP_PASSWORD,
        KANNEL_PASSWORD,
        &plain,
        &STANDARD.encode(SMTP_PASSWORD),
        &STANDARD.encode(SMTP_USER),
        &international,
        PHONE,
        EMAIL,
        NIK,
        NAME,
        "Siti",
        ADDRESS,
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
    mock.stop().await;
    sink.stop().await;
}
