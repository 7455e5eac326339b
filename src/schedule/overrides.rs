//! Per-kelurahan overrides: `[kelurahan."18.72.01.1005"]` with its own send
//! window, extra holidays, collective-payment coordinators, or `disabled`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use toml::Spanned;

use super::build::build_window;
use super::check::Checker;
use super::error::ProblemKind;
use super::raw::{RawCoordinator, RawKelurahan};
use super::window::{QuietHours, SendWindow};
use crate::domain::{EmailAddress, KelurahanCode, PhoneNumber};

/// A collective-payment coordinator (Perisai agent, community group leader)
/// of a kelurahan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator {
    /// Name as participants know them.
    pub name: String,
    /// Where the weekly digest of who is behind goes.
    pub email: EmailAddress,
    /// A number participants may call, if given.
    pub phone: Option<PhoneNumber>,
}

/// What one kelurahan does differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KelurahanOverride {
    /// The kelurahan.
    pub code: KelurahanCode,
    /// Its own send window (inside quiet hours' allowance), instead of the default.
    pub send_window: Option<SendWindow>,
    /// Local holidays: due dates falling on them move to the next working day.
    pub holidays: BTreeSet<NaiveDate>,
    /// Its coordinators, in the configured order.
    pub coordinators: Vec<Coordinator>,
    /// No reminders at all for this kelurahan (for example while its data is being corrected).
    pub disabled: bool,
    /// The line of the `[kelurahan."..."]` header, for later messages.
    pub line: usize,
}

/// Builds every override; broken ones are left out after their problems
/// are recorded.
pub(super) fn build_overrides(
    ck: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, Spanned<RawKelurahan>>,
    quiet: &QuietHours,
) -> BTreeMap<KelurahanCode, KelurahanOverride> {
    let mut built: BTreeMap<KelurahanCode, KelurahanOverride> = BTreeMap::new();
    for (code, table) in raw {
        let (code_span, code_raw) = (code.span(), code.into_inner());
        let key = format!("kelurahan {code_raw:?}");
        let code = match KelurahanCode::parse(&code_raw) {
            Ok(code) => code,
            Err(e) => {
                ck.at(&code_span, &key, ProblemKind::BadKelurahanCode(e.to_string()));
                continue;
            }
        };
        let line = ck.line(&code_span);
        if let Some(first) = built.get(&code) {
            let kind = ProblemKind::DuplicateKelurahan {
                code: code.to_string(),
                first_line: first.line,
            };
            ck.at(&code_span, &key, kind);
            continue;
        }
        let table = table.into_inner();
        let send_window = table
            .send_window
            .and_then(|w| build_window(ck, &w, &format!("{key}.send_window"), quiet));
        let holidays = build_holidays(ck, table.holidays.unwrap_or_default(), &key);
        let coordinators = table
            .coordinators
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| build_coordinator(ck, c, &key))
            .collect();
        let over = KelurahanOverride {
            code: code.clone(),
            send_window,
            holidays,
            coordinators,
            disabled: table.disabled.unwrap_or(false),
            line,
        };
        built.insert(code, over);
    }
    built
}

/// Dates given as TOML dates (`2025-08-18`) or strings (`"2025-08-18"`).
fn build_holidays(ck: &mut Checker<'_>, raw: Vec<Spanned<toml::Value>>, key: &str) -> BTreeSet<NaiveDate> {
    let mut holidays = BTreeSet::new();
    for value in raw {
        let text = match value.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            other => other.to_string(),
        };
        match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(date) => {
                holidays.insert(date);
            }
            Err(_) => ck.at(&value.span(), format!("{key}.holidays"), ProblemKind::BadHoliday(text)),
        }
    }
    holidays
}

fn build_coordinator(ck: &mut Checker<'_>, raw: Spanned<RawCoordinator>, key: &str) -> Option<Coordinator> {
    let key = format!("{key}.coordinators");
    let raw = raw.into_inner();
    let name = raw.name.get_ref().split_whitespace().collect::<Vec<_>>().join(" ");
    let mut ok = true;
    if name.is_empty() {
        ck.at(
            &raw.name.span(),
            &key,
            ProblemKind::BadContact("coordinator name is empty".into()),
        );
        ok = false;
    }
    let email = match EmailAddress::parse(raw.email.get_ref()) {
        Ok(email) => Some(email),
        Err(e) => {
            ck.at(&raw.email.span(), &key, ProblemKind::BadContact(e.to_string()));
            None
        }
    };
    let phone = match raw.phone.as_ref().map(|p| (p.span(), PhoneNumber::parse(p.get_ref()))) {
        None => None,
        Some((_, Ok(phone))) => Some(phone),
        Some((span, Err(e))) => {
            ck.at(&span, &key, ProblemKind::BadContact(e.to_string()));
            ok = false;
            None
        }
    };
    Some(Coordinator {
        name,
        email: email?,
        phone,
    })
    .filter(|_| ok)
}
