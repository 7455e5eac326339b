//! Which SMS templates can grow past a gateway's `max_segments`, for
//! `check-config`: each template used by an SMS rule is rendered with the
//! longest values a participant can bring (a 60-character name, long
//! kelurahan and coordinator names, arrears in two digits), and compared
//! with every gateway's limit. At send time a text over every gateway's
//! limit is refused ([`super::GatewayPool::send`]).

use crate::channels::settings::SmsSettings;
use crate::schedule::{Channel, ReminderVars, Schedules, measure};

/// The longest values a reminder's variables plausibly take.
fn longest_vars() -> ReminderVars {
    let long = |text: &str, len: usize| text.chars().cycle().take(len).collect::<String>();
    ReminderVars {
        name: long("MUHAMMAD ABDURRAHMAN WAHYUDI SETIAWAN KUSUMANEGARA PUTRA ", 60),
        kpj: Some("19012345678901".into()),
        kelurahan: long("Sumbersari Bantul Tengah Kidul ", 40),
        coordinator: Some(long("Raden Ajeng Kartika Dewi Sekarningrum ", 60)),
        months_in_arrears: 99,
        ..ReminderVars::sample()
    }
}

/// One line per (template, gateway) where the template can exceed the
/// gateway's `max_segments`.
pub fn segment_warnings(sms: &SmsSettings, schedules: &Schedules) -> Vec<String> {
    let vars = longest_vars();
    let mut warnings = Vec::new();
    for (name, template) in schedules.templates() {
        let for_sms = schedules
            .rules()
            .iter()
            .any(|r| r.template == *name && r.has_channel(Channel::Sms));
        if !for_sms {
            continue;
        }
        let size = measure(&template.render(&vars));
        for gateway in &sms.gateways {
            let max = gateway.max_segments();
            if size.segments > max as usize {
                warnings.push(format!(
                    "template {name:?} can reach {} SMS segments with long participant values ({size}); \
                     gateway {:?} sends at most {max} (max_segments): such reminders will fail unsent",
                    size.segments, gateway.name
                ));
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedules(text: &str) -> Schedules {
        let toml = format!(
            "[[rule]]\nname = \"h0\"\noffset_days = 0\nchannels = [\"sms\"]\ntemplate = \"t\"\n\
             [[rule]]\nname = \"surel\"\noffset_days = 0\nchannels = [\"email\"]\ntemplate = \"e\"\n\
             [template.t]\ntext = \"{text}\"\n[template.e]\nsubject = \"Iuran\"\ntext = \"{}\"\n",
            "Panjang sekali. ".repeat(40)
        );
        Schedules::parse(&toml, std::path::Path::new("."), "schedules.toml").unwrap()
    }

    fn gateways(max: &[(&str, Option<u32>)]) -> SmsSettings {
        let toml: String = max
            .iter()
            .map(|(name, m)| {
                let limit = m.map(|m| format!("max_segments = {m}\n")).unwrap_or_default();
                format!("[[gateway]]\nname = \"{name}\"\npreset = \"{name}\"\nbase_url = \"http://x\"\n{limit}")
            })
            .collect();
        toml::from_str(&toml).unwrap()
    }

    #[test]
    fn a_template_that_can_outgrow_a_gateway_is_named_with_the_gateway() {
        let text = "Yth. {name} ({kelurahan}), iuran {month} Anda belum dibayar. ".repeat(3);
        let s = schedules(&text);
        let warnings = segment_warnings(&gateways(&[("kannel", Some(2)), ("jasmin", None)]), &s);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("template \"t\""), "{}", warnings[0]);
        assert!(
            warnings[0].contains("gateway \"kannel\" sends at most 2"),
            "{}",
            warnings[0]
        );
        assert!(
            segment_warnings(&gateways(&[("kannel", None)]), &s).is_empty(),
            "fits in 10"
        );
        assert!(
            segment_warnings(&SmsSettings::default(), &s).is_empty(),
            "no gateway, nothing to warn of"
        );
    }
}
