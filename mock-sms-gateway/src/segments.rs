//! How many SMS segments a text takes (3GPP TS 23.038 and 23.040):
//! GSM-7 fits 160 characters in one SMS and 153 per concatenated segment,
//! extension characters costing two; any other character switches the whole
//! text to UCS-2, 70 / 67 UTF-16 units.
// Written here independently of pengingat's encoding rules, so each checks the other.

/// The GSM 03.38 basic characters outside ASCII.
const GSM_BASIC_NON_ASCII: &str = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";

/// Characters of the GSM 03.38 extension table (two septets each).
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{000c}";

/// Septets a character takes in GSM-7, or `None` if GSM-7 cannot carry it.
fn gsm_septets(c: char) -> Option<u32> {
    if GSM_EXTENSION.contains(c) {
        return Some(2);
    }
    match c {
        '\n' | '\r' => Some(1),
        '`' => None,
        ' '..='~' => Some(1),
        _ if GSM_BASIC_NON_ASCII.contains(c) => Some(1),
        _ => None,
    }
}

/// The number of segments `text` is sent in (at least 1).
pub fn count_segments(text: &str) -> u32 {
    let gsm: Option<u32> = text.chars().map(gsm_septets).sum();
    let (units, single, per_part) = match gsm {
        Some(septets) => (septets, 160, 153),
        None => (text.encode_utf16().count() as u32, 70, 67),
    };
    if units <= single { 1 } else { units.div_ceil(per_part) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_and_ucs2_limits() {
        assert_eq!(count_segments(""), 1);
        assert_eq!(count_segments(&"a".repeat(160)), 1);
        assert_eq!(count_segments(&"a".repeat(161)), 2);
        assert_eq!(count_segments(&"€".repeat(80)), 1);
        assert_eq!(count_segments(&"€".repeat(81)), 2);
        assert_eq!(count_segments(&"é".repeat(160)), 1);
        assert_eq!(count_segments("Iuran – Rp16.800"), 1);
        assert_eq!(count_segments(&format!("{}–", "a".repeat(70))), 2);
        assert_eq!(count_segments(&"a".repeat(153 * 3)), 3);
    }

    #[test]
    fn the_notes_reminder_is_one_gsm_segment_and_three_with_a_dash() {
        let reminder = "BPJAMSOSTEK: Yth. SITI AMINAH, iuran JKK+JKM Rp16.800 bln Juli 2025 jatuh tempo \
                        15/07/2025. Bayar via JMO/GoPay/DANA/agen Perisai. Info Kel. Yosomulyo";
        assert_eq!(count_segments(reminder), 1);
        assert_eq!(count_segments(&reminder.replacen(',', " –", 1)), 3);
    }
}
