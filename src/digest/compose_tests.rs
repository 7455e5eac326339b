//! Tests of the digest composition.

use chrono::NaiveDate;

use super::*;

fn month(s: &str) -> ContributionMonth {
    ContributionMonth::parse(s).unwrap()
}

fn row(id: i64, name: &str, phone: Option<&str>, paid_through: &str) -> BehindParticipant {
    BehindParticipant {
        id,
        name: name.to_string(),
        phone: phone.map(str::to_string),
        funding: "self".to_string(),
        paid_through: month(paid_through).index(),
        monthly_amount: 16_800,
        opted_out: false,
    }
}

/// Standing on 16 July 2025: every month through July is past due.
fn july_entries(rows: &[BehindParticipant]) -> Vec<DigestEntry> {
    entries(rows, month("2025-07"), &StandingRules::default())
}

fn content(entries: Vec<DigestEntry>, previous: Option<PreviousDigest>) -> DigestContent {
    DigestContent {
        kelurahan_code: "18.72.01.1005".into(),
        kelurahan_name: "Yosomulyo".into(),
        week: "2025-W29".into(),
        as_of: NaiveDate::from_ymd_opt(2025, 7, 14)
            .unwrap()
            .and_hms_opt(7, 0, 0)
            .unwrap(),
        zone: "WIB".into(),
        coordinators: vec!["Ratna Dewi".into(), "Budi Santoso".into()],
        entries,
        ratio: ActiveRatio { bpu: 40, active: 33 },
        previous,
        contacts: Vec::new(),
    }
}

#[test]
fn entries_are_grouped_with_amounts_and_masked_phones() {
    let mut opted_out = row(4, "Dewi Lestari", None, "2025-03");
    opted_out.opted_out = true;
    opted_out.funding = "collective".into();
    let rows = vec![
        row(1, "Siti Aminah", Some("+6281234567890"), "2025-06"),
        row(2, "Agus Salim", Some("+6285712345678"), "2025-05"),
        row(3, "Current Person", Some("+6281300000000"), "2025-07"),
        opted_out,
    ];
    let list = july_entries(&rows);
    let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["Dewi Lestari", "Agus Salim", "Siti Aminah"],
        "most months first"
    );
    assert_eq!(list[0].months_in_arrears, 4);
    assert_eq!(list[0].amount_due, 4 * 16_800);
    assert!(list[0].nonactive && list[0].opted_out);
    assert_eq!(list[0].masked_phone, "-");
    assert_eq!((list[1].months_in_arrears, list[1].amount_due), (2, 33_600));
    assert!(!list[1].nonactive);
    assert_eq!(list[2].masked_phone, "+62812****890");
}

#[test]
fn the_text_lists_each_group_and_never_a_full_number() {
    let rows = vec![
        row(1, "Siti Aminah", Some("+6281234567890"), "2025-06"),
        row(2, "Agus Salim", Some("+6285712345678"), "2025-05"),
        row(3, "Bambang", Some("+6281311112222"), "2025-04"),
    ];
    let c = content(july_entries(&rows), None);
    let d = compose(&c);
    assert_eq!(
        d.subject,
        "Rekap mingguan tunggakan iuran BPU Kelurahan Yosomulyo, minggu 29/2025: 3 peserta menunggak"
    );
    let t = &d.text;
    assert!(t.starts_with("Yth. Ratna Dewi dan Budi Santoso,\n"), "{t}");
    assert!(t.contains("per Senin, 14 Juli 2025 pukul 07.00 WIB."), "{t}");
    assert!(t.contains("Rasio aktif: 82,5% (33 dari 40 peserta BPU aktif)"), "{t}");
    assert!(t.contains("Perubahan: digest pertama"), "{t}");
    let one = t.find("MENUNGGAK 1 BULAN (1 peserta, jumlah Rp16.800)").expect(t);
    let two = t.find("MENUNGGAK 2 BULAN (1 peserta, jumlah Rp33.600)").expect(t);
    let three = t
        .find("MENUNGGAK 3 BULAN ATAU LEBIH (1 peserta, jumlah Rp50.400)")
        .expect(t);
    assert!(one < two && two < three);
    let siti = t
        .find("1. Siti Aminah | HP +62812****890 | 1 bulan | Rp16.800")
        .expect(t);
    assert!(one < siti && siti < two);
    let agus = t
        .find("1. Agus Salim | HP +62857****678 | 2 bulan | Rp33.600")
        .expect(t);
    assert!(two < agus && agus < three);
    assert!(
        t.contains("1. Bambang | HP +62813****222 | 3 bulan | Rp50.400 | nonaktif"),
        "{t}"
    );
    assert!(t.contains("Jumlah: 3 peserta menunggak, tunggakan Rp100.800."), "{t}");
    for full in ["+6281234567890", "081234567890", "+6285712345678", "+6281311112222"] {
        assert!(!t.contains(full) && !d.html.contains(full), "{full} shown unmasked");
    }
    assert!(
        d.html.contains("<td>Siti Aminah</td><td>+62812****890</td>"),
        "{}",
        d.html
    );
}

#[test]
fn empty_groups_say_so() {
    let c = content(Vec::new(), None);
    let d = compose(&c);
    assert!(d.subject.ends_with(": 0 peserta menunggak"), "{}", d.subject);
    assert_eq!(d.text.matches("(tidak ada)").count(), 3, "{}", d.text);
    assert!(d.text.contains("MENUNGGAK 2 BULAN (0 peserta)"), "{}", d.text);
}

#[test]
fn notes_mark_opted_out_collective_and_budget() {
    let mut a = row(1, "Ani", Some("+6281234567890"), "2025-06");
    a.opted_out = true;
    let mut b = row(2, "Bayu", None, "2025-06");
    b.funding = "collective".into();
    let mut c = row(3, "Cici", None, "2025-06");
    c.funding = "budget".into();
    let t = compose(&content(july_entries(&[a, b, c]), None)).text;
    assert!(
        t.contains("Ani | HP +62812****890 | 1 bulan | Rp16.800 | berhenti SMS"),
        "{t}"
    );
    assert!(t.contains("Bayu | HP - | 1 bulan | Rp16.800 | kolektif"), "{t}");
    assert!(t.contains("Cici | HP - | 1 bulan | Rp16.800 | APBD"), "{t}");
}

#[test]
fn the_change_is_in_percentage_points() {
    let now = ActiveRatio { bpu: 40, active: 33 };
    let prev = |bpu, active| PreviousDigest {
        week: "2025-W28".into(),
        ratio: ActiveRatio { bpu, active },
    };
    assert_eq!(
        change_text(&now, Some(&prev(40, 32))),
        "naik 2,5 poin persen dari rekap minggu 28/2025 (80,0%)"
    );
    assert_eq!(
        change_text(&now, Some(&prev(30, 27))),
        "turun 7,5 poin persen dari rekap minggu 28/2025 (90,0%)"
    );
    assert_eq!(
        change_text(&now, Some(&prev(80, 66))),
        "tetap (0,0 poin persen) dibanding rekap minggu 28/2025 (82,5%)"
    );
    assert_eq!(change_text(&now, None), "digest pertama, belum ada pembanding");
    assert_eq!(
        change_text(&now, Some(&prev(0, 0))),
        "tidak dapat dibandingkan dengan rekap minggu 28/2025 (-)"
    );
    let text = compose(&content(Vec::new(), Some(prev(40, 32)))).text;
    assert!(text.contains("Perubahan: naik 2,5 poin persen"), "{text}");
}

#[test]
fn ratios_round_to_a_tenth_of_a_percent() {
    assert_eq!(ActiveRatio { bpu: 3, active: 2 }.percent_text(), "66,7%");
    assert_eq!(ActiveRatio { bpu: 3, active: 1 }.percent_text(), "33,3%");
    assert_eq!(ActiveRatio { bpu: 8, active: 8 }.percent_text(), "100,0%");
    assert_eq!(ActiveRatio { bpu: 0, active: 0 }.percent_text(), "-");
    assert_eq!(ActiveRatio { bpu: 7, active: 0 }.permille(), Some(0));
}

#[test]
fn week_labels_and_greetings() {
    assert_eq!(week_label("2025-W29"), "29/2025");
    assert_eq!(week_label("2026-W01"), "1/2026");
    assert_eq!(names_list(&["A".into()]), "A");
    assert_eq!(names_list(&["A".into(), "B".into(), "C".into()]), "A, B dan C");
}

#[test]
fn html_escapes_names() {
    let rows = vec![row(1, "Siti <b>Aminah</b> & Co", None, "2025-06")];
    let html = compose(&content(july_entries(&rows), None)).html;
    assert!(html.contains("Siti &lt;b&gt;Aminah&lt;/b&gt; &amp; Co"), "{html}");
    assert!(!html.contains("<b>Aminah"), "{html}");
}

#[test]
fn a_script_in_any_value_comes_out_as_text_in_the_html() {
    const EVIL: &str = "<script>alert(1)</script> \"x\" & y";
    const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; &amp; y";
    let rows = vec![row(1, EVIL, Some("+6281234567890"), "2025-06")];
    let mut c = content(july_entries(&rows), None);
    c.kelurahan_name = EVIL.into();
    c.kelurahan_code = EVIL.into();
    c.coordinators = vec![EVIL.into()];
    let d = compose(&c);
    let html = &d.html;
    assert!(!html.contains("<script") && !html.contains("\"x\""), "{html}");
    assert!(html.contains(&format!("<p>Yth. {ESCAPED},</p>")), "{html}");
    assert!(
        html.contains(&format!("Kelurahan <b>{ESCAPED}</b> ({ESCAPED})")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<td>{ESCAPED}</td><td>+62812****890</td>")),
        "{html}"
    );
    assert_eq!(html.matches(ESCAPED).count(), 4, "{html}");
    // The plain-text part is not HTML: it keeps the value as it is.
    assert!(d.text.contains(&format!("1. {EVIL} | HP +62812****890")), "{}", d.text);
}
