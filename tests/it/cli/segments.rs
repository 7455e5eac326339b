//! `check-config` warns of an SMS template that long participant values can
//! push past a gateway's `max_segments`, naming both.

use super::check_config;

const SCHEDULES: &str = r#"
[[rule]]
name = "h0"
offset_days = 0
channels = ["sms"]
template = "t"

[template.t]
text = "Yth. {name} dari Kelurahan {kelurahan}, iuran BPJS Ketenagakerjaan {month} sebesar {amount} jatuh tempo {due_date}. Bayar lewat JMO atau agen Perisai."
"#;

#[test]
fn check_config_warns_of_templates_longer_than_a_gateway_sends() {
    let dir = tempfile::tempdir().unwrap();
    let schedules = dir.path().join("schedules.toml");
    std::fs::write(&schedules, SCHEDULES).unwrap();
    std::fs::write(dir.path().join("kannel.password"), "kannel\n").unwrap();
    let gateway = |max: u32| {
        format!(
            "[[sms.gateway]]\nname = \"kannel-1\"\npreset = \"kannel\"\nbase_url = \"http://127.0.0.1:13013\"\n\
             username = \"kannel\"\npassword_file = \"{}\"\nmax_segments = {max}\n",
            dir.path().join("kannel.password").display()
        )
    };
    let warnings = |max: u32| {
        check_config(dir.path(), &schedules, &gateway(max))
            .lines()
            .filter(|l| l.starts_with("warning:") && l.contains("max_segments"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let one = warnings(1);
    assert_eq!(one.len(), 1, "{one:?}");
    assert!(one[0].contains("template \"t\""), "{}", one[0]);
    assert!(one[0].contains("gateway \"kannel-1\" sends at most 1"), "{}", one[0]);
    assert_eq!(warnings(10), Vec::<String>::new());
}
