//! Unit tests of the dashboard's SVG charts in `svg.rs`.

use super::*;

fn kel(code: &str, name: &str, bpu: i64, active: i64) -> KelurahanRow {
    KelurahanRow {
        code: code.into(),
        name: name.into(),
        bpu,
        active,
        ..KelurahanRow::default()
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn ratio_bars_are_sorted_highest_first_with_empty_kelurahan_last() {
    let rows = [
        kel("4", "Dara", 10, 5),
        kel("1", "Ayu", 0, 0),
        kel("2", "Bumi", 10, 9),
        kel("3", "Candi", 10, 5),
    ];
    let names: Vec<&str> = sorted_by_ratio(&rows).iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Bumi", "Candi", "Dara", "Ayu"]);
    let svg = active_ratio_chart(&rows);
    let positions: Vec<usize> = ["Bumi", "Candi", "Dara", "Ayu"]
        .iter()
        .map(|n| svg.find(&format!(">{n}<")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(count(&svg, "class=\"bar "), 4);
    assert!(svg.contains(">90,0%<"));
    assert!(svg.contains(">50,0%<"));
    assert!(svg.contains(">–<"));
}

#[test]
fn many_kelurahan_show_the_best_and_the_worst() {
    let rows: Vec<KelurahanRow> = (0..100)
        .map(|i| kel(&format!("{i:03}"), &format!("Kel {i:03}"), 100, i))
        .collect();
    let svg = active_ratio_chart(&rows);
    assert_eq!(count(&svg, "class=\"bar "), MAX_RATIO_BARS);
    assert!(svg.contains("… 40 kelurahan lain di tengah, lihat tabel"));
    assert!(svg.contains(">Kel 099<") && svg.contains(">Kel 000<"));
    assert!(!svg.contains(">Kel 050<"));
}

#[test]
fn empty_charts_say_so_and_have_no_nan() {
    for svg in [
        active_ratio_chart(&[]),
        funnel_chart(&[]),
        arrears_chart(&ArrearsDistribution::default()),
        history_chart(&[]),
    ] {
        assert!(svg.contains(NO_DATA), "{svg}");
        assert!(svg.contains("<title id="), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}

#[test]
fn zero_counts_draw_zero_width_bars_not_nan() {
    let zero = [RuleFunnel {
        rule: "h-3".into(),
        ..RuleFunnel::default()
    }];
    let months = [MonthRatio {
        year: 2026,
        month: 6,
        bpu: 0,
        active: 0,
        ..MonthRatio::default()
    }];
    for svg in [
        active_ratio_chart(&[kel("1", "Kosong", 0, 0)]),
        funnel_chart(&zero),
        history_chart(&months),
    ] {
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(!svg.contains(NO_DATA), "{svg}");
    }
    assert_eq!(count(&funnel_chart(&zero), "width=\"0\""), 3);
}

#[test]
fn funnel_has_three_bars_per_rule_on_one_scale() {
    let funnel = [
        RuleFunnel {
            rule: "H-3 sebelum jatuh tempo".into(),
            sent: 1000,
            sms_sent: 1000,
            delivered: 950,
            paid: 400,
        },
        RuleFunnel {
            rule: "H+1 <tunggak>".into(),
            sent: 500,
            sms_sent: 500,
            delivered: 450,
            paid: 100,
        },
    ];
    let svg = funnel_chart(&funnel);
    assert_eq!(count(&svg, "class=\"bar sent\""), 2);
    assert_eq!(count(&svg, "class=\"bar delivered\""), 2);
    assert_eq!(count(&svg, "class=\"bar paid\""), 2);
    assert!(svg.contains(&format!("width=\"{}\"", coord(BAR_MAX))));
    assert!(svg.contains(&format!("width=\"{}\"", coord(BAR_MAX / 2.0))));
    assert!(svg.contains(">950 (95,0%)<"));
    assert!(svg.contains(">1.000<"));
    assert!(svg.contains("H+1 &lt;tunggak&gt;") && !svg.contains("<tunggak>"));
}

#[test]
fn arrears_bars_are_shares_of_all_participants() {
    let dist = ArrearsDistribution {
        current: 3_000,
        one: 500,
        two: 300,
        three_plus: 200,
    };
    let svg = arrears_chart(&dist);
    assert_eq!(count(&svg, "class=\"bar "), 4);
    assert!(svg.contains(">3.000 (75,0%)<"));
    assert!(svg.contains(">200 (5,0%)<"));
    assert!(svg.contains(">≥3 bulan<"));
}

#[test]
fn history_has_a_column_and_label_per_month() {
    let months: Vec<MonthRatio> = (1..=12)
        .map(|m| MonthRatio {
            year: 2026,
            month: m,
            bpu: 100,
            active: 70 + i64::from(m),
            ..MonthRatio::default()
        })
        .collect();
    let svg = history_chart(&months);
    assert_eq!(count(&svg, "class=\"bar "), 12);
    assert!(svg.contains("Jun 2026: 76,0%"));
    assert!(svg.contains(">Agu</tspan>") && svg.contains(">Des</tspan>"));
    assert!(svg.contains("Jan 2026 sampai Des 2026"));
}
