use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn kel(code: &str, name: &str, bpu: i64, active: i64, sent: i64) -> KelurahanRow {
    KelurahanRow {
        code: code.into(),
        name: name.into(),
        bpu,
        active,
        nonactive: bpu - active,
        arrears_1: bpu / 20,
        arrears_2: bpu / 40,
        arrears_3_plus: bpu - active,
        sent,
        sms_sent: sent * 4 / 5,
        sms_delivered: sent * 7 / 10,
        email_accepted: sent / 5,
        email_failed: 0,
        failed: sent / 10,
        converted: sent / 4,
        amount_paid: sent / 4 * 16_800,
    }
}

fn sample() -> DashboardData {
    let kelurahan = vec![
        kel("18.72.01.1001", "Metro", 400, 350, 120),
        kel("18.72.01.1002", "Imopuro <b>&\"", 1_600, 1_500, 40),
        kel("18.72.02.1001", "Hadimulyo Barat", 300, 150, 200),
    ];
    let total = KelurahanRow::total(&kelurahan);
    DashboardData {
        title: "Kota Metro".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 6, 30, 1, 0, 0).unwrap(),
        time_zone: chrono_tz::Asia::Jakarta,
        period: Some((
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        )),
        kelurahan,
        total,
        funnel: vec![
            RuleFunnel {
                rule: "H-3".into(),
                sent: 200,
                sms_sent: 200,
                delivered: 190,
                paid: 80,
            },
            RuleFunnel {
                rule: "H+7".into(),
                sent: 160,
                sms_sent: 160,
                delivered: 150,
                paid: 20,
            },
        ],
        history: (0..12)
            .map(|i| MonthRatio {
                year: if i < 6 { 2025 } else { 2026 },
                month: (i + 6) % 12 + 1,
                bpu: 2_300,
                active: 1_800 + i64::from(i) * 10,
                ..MonthRatio::default()
            })
            .collect(),
        contacts_to_verify: 1_234,
        effect: None,
    }
}

fn empty() -> DashboardData {
    DashboardData {
        title: "Semua wilayah".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 6, 30, 1, 0, 0).unwrap(),
        time_zone: chrono_tz::Asia::Jakarta,
        period: None,
        kelurahan: Vec::new(),
        total: KelurahanRow::total(&[]),
        funnel: Vec::new(),
        history: Vec::new(),
        contacts_to_verify: 0,
        effect: None,
    }
}

/// The part of `html` from the element with `id` to the end of its section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let end = html[start..].find("</section>").map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn a_complete_standalone_document() {
    let html = render(&sample());
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"id\">"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(!html.contains("<script"), "no JavaScript");
    let outside = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !outside.contains("http://") && !outside.contains("https://"),
        "no external assets"
    );
    assert!(!html.contains(" src=") && !html.contains("<link rel=\"stylesheet\""));
}

#[test]
fn every_chart_and_the_table_has_its_id_and_an_accessible_svg() {
    let html = render(&sample());
    for id in CHART_IDS {
        let part = section(&html, id);
        assert!(part.contains("<svg "), "{id}");
        assert!(part.contains("role=\"img\""), "{id}");
        assert!(part.contains(&format!("<title id=\"{id}-svg-title\">")), "{id}");
    }
    assert_eq!(html.matches("<svg ").count(), 4);
    assert_eq!(html.matches("class=\"legend\"").count(), 2, "ratio bars and history");
    assert!(html.contains(&format!("<table id=\"{TABLE_ID}\">")));
}

#[test]
fn labels_are_in_indonesian() {
    let html = render(&sample());
    for label in [
        "Rasio aktif per kelurahan",
        "Corong pengingat: terkirim → SMS sampai → membayar",
        "Sebaran tunggakan",
        "Rasio aktif 12 bulan terakhir",
        "Tabel per kelurahan",
        "Nominal dibayar",
    ] {
        assert!(html.contains(label), "{label}");
    }
}

#[test]
fn names_and_title_from_data_are_escaped() {
    let mut data = sample();
    data.title = "<script>alert('x')</script>".into();
    data.funnel[0].rule = "\"><script>".into();
    let html = render(&data);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<b>"));
    assert!(html.contains("Imopuro &lt;b&gt;&amp;&quot;"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;"));
}

#[test]
fn ratio_bars_go_from_highest_to_lowest() {
    let html = render(&sample());
    let chart = section(&html, "chart-active-ratio");
    let at = |name: &str| chart.find(&format!(">{name}<")).unwrap_or_else(|| panic!("{name}"));
    assert!(at("Imopuro &lt;b&gt;&amp;&quot;") < at("Metro"));
    assert!(at("Metro") < at("Hadimulyo Barat"));
    assert_eq!(chart.matches("class=\"bar ").count(), 3);
}

#[test]
fn numbers_are_written_the_indonesian_way() {
    let html = render(&sample());
    assert!(html.contains("Diperbarui 30 Jun 2026 08.00 WIB"));
    assert!(html.contains("Pengingat dihitung: 1 Jun 2026 – 30 Jun 2026"));
    assert!(html.contains(">2.300<"), "total participants");
    assert!(html.contains(">87,5%<"), "Metro 350/400");
    assert!(html.contains(">Rp840.000<"), "Hadimulyo Barat 50 × 16.800");
    assert!(html.contains(">Rp1.512.000<"), "the total");
    let history = section(&html, "chart-history");
    assert!(history.contains(">Mei</tspan>") && history.contains(">Agu</tspan>"));
    assert!(history.contains("Jul 2025 sampai Jun 2026"));
}

#[test]
fn empty_data_renders_every_chart_with_no_data_and_no_nan() {
    let html = render(&empty());
    for id in CHART_IDS {
        assert!(section(&html, id).contains(">Belum ada data<"), "{id}");
    }
    assert!(section(&html, "section-table").contains(">Belum ada data<"));
    assert!(html.contains("Pengingat dihitung: sepanjang waktu"));
    assert!(!html.contains("class=\"legend\""), "no colour key without bars");
    for bad in ["NaN", "inf", "Infinity"] {
        assert!(!html.contains(bad), "{bad}");
    }
}

#[test]
fn zero_counts_render_without_nan() {
    let mut data = empty();
    data.kelurahan = vec![kel("18.72.01.1001", "Kosong", 0, 0, 0)];
    data.total = KelurahanRow::total(&data.kelurahan);
    data.funnel = vec![RuleFunnel {
        rule: "H-3".into(),
        ..RuleFunnel::default()
    }];
    data.history = vec![MonthRatio {
        year: 2026,
        month: 6,
        bpu: 0,
        active: 0,
        ..MonthRatio::default()
    }];
    let html = render(&data);
    assert!(!html.contains("NaN") && !html.contains("inf"));
    assert!(section(&html, "chart-arrears").contains(">Belum ada data<"));
    assert!(!section(&html, "chart-funnel").contains(">Belum ada data<"));
}

#[test]
fn a_script_in_any_value_from_data_comes_out_as_text() {
    const EVIL: &str = "<script>alert(1)</script> \"x\" & y";
    const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; &amp; y";
    let mut data = sample();
    data.title = EVIL.into();
    data.kelurahan[0].name = EVIL.into();
    data.kelurahan[0].code = EVIL.into();
    data.funnel[0].rule = EVIL.into();
    let html = render(&data);
    assert!(!html.contains("<script") && !html.contains("\"x\""), "{html}");
    assert_eq!(
        html.matches("alert(1)").count(),
        html.matches("&lt;script&gt;alert(1)").count()
    );
    // The title (twice); the rule's label and its three tooltips; the
    // kelurahan's tooltip, table name and code (its bar label is cut short).
    assert_eq!(html.matches(ESCAPED).count(), 2 + 4 + 3, "{html}");
    assert!(section(&html, "chart-active-ratio").contains(&format!("<title>{ESCAPED}: ")));
    assert!(section(&html, "section-table").contains(&format!("<span class=\"name\">{ESCAPED}</span>")));
    assert!(section(&html, "section-table").contains(&format!("<span class=\"code\">{ESCAPED}</span>")));
    assert!(section(&html, "chart-funnel").contains(">&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; &amp; y<"));
}

#[test]
fn the_contact_verification_count_is_a_headline_figure() {
    let page = render(&sample());
    assert!(page.contains("id=\"kpi-contacts\""), "{page}");
    assert!(
        page.contains("Perlu verifikasi kontak</div><div class=\"kpi-value\">1.234</div>"),
        "{page}"
    );
}

#[test]
fn sms_delivery_and_email_acceptance_are_never_one_percentage() {
    let mut data = empty();
    data.kelurahan = vec![KelurahanRow {
        code: "18.72.01.1001".into(),
        name: "Metro".into(),
        sent: 200,
        sms_sent: 100,
        sms_delivered: 90,
        email_accepted: 100,
        email_failed: 0,
        ..KelurahanRow::default()
    }];
    data.total = KelurahanRow::total(&data.kelurahan);
    let page = render(&data);
    assert!(
        page.contains("SMS sampai 90 dari 100 (90,0%); email diterima relay 100 dari 100 (100,0%)"),
        "{page}"
    );
    // 90 delivered of 200 reminders: what mixing the channels would show.
    assert!(!page.contains("45,0%"), "{page}");
    assert!(
        page.contains("90 (90,0%)") && page.contains("100 (100,0%)"),
        "the table: {page}"
    );
}

#[test]
fn the_effect_card_shows_the_total_and_each_kelurahan_only_while_on() {
    use crate::report::effect::{Comparison, Counts, EffectLine, EffectReport, Interval};
    let comparison = |paid_r, paid_h, low: f64, high: f64| Comparison {
        reminded: Counts {
            total: 900,
            paid: paid_r,
        },
        held_out: Counts {
            total: 100,
            paid: paid_h,
        },
        difference: Some(Interval {
            estimate_pp: (low + high) / 2.0,
            low_pp: low,
            high_pp: high,
        }),
        enough_data: high - low <= 20.0,
    };
    let line = |code: Option<&str>, c: Comparison| EffectLine {
        kelurahan_code: code.map(str::to_string),
        kelurahan_name: code.map_or_else(String::new, |_| "Metro <b>".to_string()),
        month: "2025-07".into(),
        by_due: Some(c),
        by_due_30: None,
    };
    let mut data = sample();
    assert!(
        !render(&data).contains("section-effect"),
        "no card while the holdout is off"
    );
    data.effect = Some(EffectReport {
        lines: vec![
            line(Some("18.72.01.1001"), comparison(500, 30, 8.0, 35.0)),
            line(None, comparison(600, 40, 10.1, 29.3)),
        ],
        max_interval_pp: 20.0,
        rules: vec!["h-7".into(), "h-1".into(), "h0".into()],
        fraction: 0.1,
    });
    let html = render(&data);
    let card = section(&html, "section-effect");
    let total = card.find("<td>Total</td>").expect("the total row");
    let kelurahan = card
        .find("Metro &lt;b&gt; (18.72.01.1001)")
        .expect("the kelurahan row, escaped");
    assert!(total < kelurahan, "the total first");
    assert!(card.contains("+19,7 pp [+10,1; +29,3]"), "{card}");
    assert!(
        card.contains("belum cukup data"),
        "the kelurahan's interval is 27 points wide"
    );
    assert!(
        card.contains("belum lewat"),
        "30 days after the due date have not passed"
    );
    assert!(card.contains("600/900 (66,7%)"));
}
