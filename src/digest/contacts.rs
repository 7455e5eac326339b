//! The digest's contact-verification section: the participants of the
//! kelurahan whose phone number or e-mail address the reminders found wrong,
//! or who have neither, with the reason and its date, so the coordinator can
//! ask for the right data in the field. Masked as the rest of the digest:
//! phone numbers masked, NIKs and e-mail addresses not shown.

use std::fmt::Write as _;

use crate::report::contacts::ContactEntry;
use crate::schedule::vars::indonesian_date;

/// One participant of the section, every figure written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactLine {
    /// Name as stored.
    pub name: String,
    /// The masked phone number, or `-`.
    pub masked_phone: String,
    /// Why they are listed.
    pub reason: &'static str,
    /// `15 Juli 2025`.
    pub date: String,
}

/// The section's heading.
pub const TITLE: &str = "Perlu verifikasi data kontak";

/// What the section says under its heading.
pub const NOTE: &str = "Pengingat tidak sampai ke peserta berikut. Mohon tanyakan nomor HP atau alamat email \
     yang benar; peserta keluar dari daftar setelah datanya diperbarui.";

/// What the section says when nobody needs checking.
pub const NONE: &str = "(tidak ada yang perlu diverifikasi)";

/// The lines of the list, in its order.
pub fn lines(list: &[ContactEntry]) -> Vec<ContactLine> {
    list.iter()
        .map(|e| ContactLine {
            name: e.name.clone(),
            masked_phone: e.masked_phone.clone().unwrap_or_else(|| "-".to_string()),
            reason: e.problem.label(),
            date: indonesian_date(e.date),
        })
        .collect()
}

/// The section in plain text.
pub fn text(lines: &[ContactLine]) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{} ({} peserta)", TITLE.to_uppercase(), lines.len());
    if lines.is_empty() {
        let _ = writeln!(t, "  {NONE}");
        return t;
    }
    let _ = writeln!(t, "{NOTE}");
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(
            t,
            "  {}. {} | HP {} | {} | {}",
            i + 1,
            l.name,
            l.masked_phone,
            l.reason,
            l.date
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::ContactProblem;

    #[test]
    fn lines_are_masked_and_dated() {
        let entry = ContactEntry {
            kelurahan_code: "18.72.01.1005".into(),
            kelurahan_name: "Yosomulyo".into(),
            participant_id: 1,
            nik: "1872015207850001".into(),
            name: "Siti Aminah".into(),
            masked_phone: Some("+62812****890".into()),
            masked_email: None,
            problem: ContactProblem::PhoneUnreachable,
            date: NaiveDate::from_ymd_opt(2025, 7, 15).unwrap(),
        };
        let t = text(&lines(&[entry]));
        assert!(t.starts_with("PERLU VERIFIKASI DATA KONTAK (1 peserta)"), "{t}");
        assert!(
            t.contains("1. Siti Aminah | HP +62812****890 | 2 SMS terakhir gagal"),
            "{t}"
        );
        assert!(t.contains("15 Juli 2025"), "{t}");
        assert!(!t.contains("1872015207850001"), "{t}");
        assert!(text(&[]).contains(NONE));
    }
}
