//! How many SMS a text costs: GSM-7 or UCS-2, units and segments.
//!
//! The GSM 03.38 (3GPP 23.038) default
//! alphabet gives 160 septets in one SMS and 153 per part of a concatenated
//! message (the 6-byte user data header takes the rest). Its extension table
//! (`€ [ ] { } \ ^ ~ |` and form feed) is reached through an escape, so each
//! of those characters costs 2 septets. A single character outside both
//! tables switches the *whole* message to UCS-2: 70 UTF-16 units in one SMS,
//! 67 per part, an emoji taking 2 units. One curly quote or en dash thus
//! triples the cost of a reminder, which is why templates are checked and
//! participants' names are transliterated (see [`to_gsm7`]).
//!
//! Our own: the two tables and the segment arithmetic are short and fixed
//! by the standard, and the transliteration table is this project's choice.

use std::borrow::Cow;
use std::fmt;

/// The encoding a gateway will use for a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmsEncoding {
    /// The GSM 7-bit default alphabet (with its extension table).
    Gsm7,
    /// UCS-2 (UTF-16 in practice), needed as soon as one character is outside GSM-7.
    Ucs2,
}

impl SmsEncoding {
    /// Units that fit in a single, unsplit SMS.
    pub fn single_capacity(self) -> usize {
        match self {
            Self::Gsm7 => 160,
            Self::Ucs2 => 70,
        }
    }

    /// Units that fit in each part of a concatenated SMS.
    pub fn part_capacity(self) -> usize {
        match self {
            Self::Gsm7 => 153,
            Self::Ucs2 => 67,
        }
    }

    /// The name operators see: `GSM-7` or `UCS-2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        }
    }
}

impl fmt::Display for SmsEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The size of one text as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SmsSize {
    /// The encoding the whole text needs.
    pub encoding: SmsEncoding,
    /// Septets (GSM-7, extension characters counting 2) or UTF-16 units (UCS-2).
    pub units: usize,
    /// SMS parts the text is sent as (1 for an empty text: an SMS is still sent).
    pub segments: usize,
}

impl SmsSize {
    /// Whether the text goes out as one unsplit SMS.
    pub fn is_single(&self) -> bool {
        self.segments == 1
    }
}

impl fmt::Display for SmsSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.encoding {
            SmsEncoding::Gsm7 => "septets",
            SmsEncoding::Ucs2 => "UTF-16 units",
        };
        let parts = if self.segments == 1 { "segment" } else { "segments" };
        write!(f, "{}, {} {unit}, {} {parts}", self.encoding, self.units, self.segments)
    }
}

/// The GSM-7 cost of `c` in septets: 1 in the basic table, 2 in the
/// extension table, `None` outside GSM-7.
pub fn gsm7_septets(c: char) -> Option<usize> {
    match c {
        'A'..='Z' | 'a'..='z' | '0'..='9' => Some(1),
        ' ' | '!' | '"' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | '-' | '.' | '/' | ':' | ';'
        | '<' | '=' | '>' | '?' | '@' | '_' | '\n' | '\r' => Some(1),
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ' | 'Λ' | 'Ω' | 'Π'
        | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä' | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö'
        | 'ñ' | 'ü' | 'à' => Some(1),
        '\u{0C}' | '^' | '{' | '}' | '\\' | '[' | ']' | '~' | '|' | '€' => Some(2),
        _ => None,
    }
}

/// Whether `c` can be sent in GSM-7.
pub fn is_gsm7(c: char) -> bool {
    gsm7_septets(c).is_some()
}

/// The characters of `text` outside GSM-7, each once, in order of first
/// appearance: what an operator must remove to keep a template cheap.
pub fn non_gsm7_chars(text: &str) -> Vec<char> {
    let mut found = Vec::new();
    for c in text.chars().filter(|c| !is_gsm7(*c)) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// Measures `text` as one SMS message.
pub fn measure(text: &str) -> SmsSize {
    let gsm_costs: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    match gsm_costs {
        Some(costs) => size_of(SmsEncoding::Gsm7, &costs),
        None => {
            let costs: Vec<usize> = text.chars().map(char::len_utf16).collect();
            size_of(SmsEncoding::Ucs2, &costs)
        }
    }
}

/// Packs the per-character `costs` into parts. A character is never split
/// across two parts (neither an escape sequence nor a surrogate pair), so a
/// 2-unit character that does not fit in what is left of a part starts the
/// next one, as gateways do.
fn size_of(encoding: SmsEncoding, costs: &[usize]) -> SmsSize {
    let units: usize = costs.iter().sum();
    if units <= encoding.single_capacity() {
        return SmsSize {
            encoding,
            units,
            segments: 1,
        };
    }
    let capacity = encoding.part_capacity();
    let mut segments = 1;
    let mut used = 0;
    for &cost in costs {
        if used + cost > capacity {
            segments += 1;
            used = 0;
        }
        used += cost;
    }
    SmsSize {
        encoding,
        units,
        segments,
    }
}

/// Replacements for characters outside GSM-7 that have a plain equivalent.
/// Characters already in GSM-7 (é, ñ, ü, ...) are never replaced.
const TRANSLITERATIONS: &[(&str, &str)] = &[
    ("‘’‚‛′`´", "'"),
    ("“”„‟″«»", "\""),
    ("‐‑‒–—―−", "-"),
    ("…", "..."),
    ("•", "-"),
    ("\u{a0}\u{2002}\u{2003}\u{2007}\u{2009}\u{200a}\u{202f}\t", " "),
    ("\u{200b}\u{200c}\u{200d}\u{feff}\u{ad}", ""),
    ("áâãāăąǎ", "a"),
    ("ÀÁÂÃĀĂĄǍ", "A"),
    ("çćĉċč", "c"),
    ("ĆĈĊČ", "C"),
    ("ďđð", "d"),
    ("ĎĐÐ", "D"),
    ("êëēĕėęě", "e"),
    ("ÈÊËĒĔĖĘĚ", "E"),
    ("ĝğġģ", "g"),
    ("ĜĞĠĢ", "G"),
    ("ĥħ", "h"),
    ("ĤĦ", "H"),
    ("íîïĩīĭįı", "i"),
    ("ÌÍÎÏĨĪĬĮİ", "I"),
    ("ĵ", "j"),
    ("Ĵ", "J"),
    ("ķ", "k"),
    ("Ķ", "K"),
    ("ĺļľŀł", "l"),
    ("ĹĻĽĿŁ", "L"),
    ("ńņňŉ", "n"),
    ("ŃŅŇ", "N"),
    ("óôõōŏő", "o"),
    ("ÒÓÔÕŌŎŐ", "O"),
    ("œ", "oe"),
    ("Œ", "OE"),
    ("ŕŗř", "r"),
    ("ŔŖŘ", "R"),
    ("śŝşšș", "s"),
    ("ŚŜŞŠȘ", "S"),
    ("ţťŧț", "t"),
    ("ŢŤŦȚ", "T"),
    ("úûũūŭůűų", "u"),
    ("ÙÚÛŨŪŬŮŰŲ", "U"),
    ("ŵ", "w"),
    ("Ŵ", "W"),
    ("ýÿŷ", "y"),
    ("ÝŸŶ", "Y"),
    ("źżž", "z"),
    ("ŹŻŽ", "Z"),
    ("þ", "th"),
    ("Þ", "Th"),
];

/// The plain replacement of a character outside GSM-7, if there is one.
fn transliteration(c: char) -> Option<&'static str> {
    TRANSLITERATIONS
        .iter()
        .find(|(from, _)| from.contains(c))
        .map(|(_, to)| *to)
}

/// `text` with every character outside GSM-7 replaced by its plain
/// equivalent where one exists (`Ma’ruf` → `Ma'ruf`, `Nguyễn`'s `ễ` stays,
/// `Ángel` → `Angel`). Characters with no equivalent are kept, so nothing is
/// silently lost; the message then goes out as UCS-2.
pub fn to_gsm7(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_gsm7) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (is_gsm7(c), transliteration(c)) {
            (false, Some(plain)) => out.push_str(plain),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm(units: usize, segments: usize) -> SmsSize {
        SmsSize {
            encoding: SmsEncoding::Gsm7,
            units,
            segments,
        }
    }

    fn ucs2(units: usize, segments: usize) -> SmsSize {
        SmsSize {
            encoding: SmsEncoding::Ucs2,
            units,
            segments,
        }
    }

    #[test]
    fn plain_ascii_is_gsm7() {
        assert_eq!(measure("Halo"), gsm(4, 1));
        assert_eq!(measure(""), gsm(0, 1));
    }

    #[test]
    fn gsm7_single_segment_boundary_is_160() {
        assert_eq!(measure(&"a".repeat(160)), gsm(160, 1));
        assert_eq!(measure(&"a".repeat(161)), gsm(161, 2));
    }

    #[test]
    fn gsm7_parts_hold_153() {
        assert_eq!(measure(&"a".repeat(306)), gsm(306, 2));
        assert_eq!(measure(&"a".repeat(307)), gsm(307, 3));
        assert_eq!(measure(&"a".repeat(459)), gsm(459, 3));
        assert_eq!(measure(&"a".repeat(460)), gsm(460, 4));
    }

    #[test]
    fn every_extension_character_costs_two_septets() {
        for c in ['€', '[', ']', '{', '}', '\\', '^', '~', '|', '\u{0C}'] {
            assert_eq!(measure(&c.to_string()), gsm(2, 1), "{c:?}");
        }
    }

    #[test]
    fn extension_characters_at_the_single_boundary() {
        // 158 + 2 = 160: still one SMS.
        assert_eq!(measure(&format!("{}€", "a".repeat(158))), gsm(160, 1));
        // 159 + 2 = 161: two parts, although it is only 160 characters.
        assert_eq!(measure(&format!("{}€", "a".repeat(159))), gsm(161, 2));
    }

    #[test]
    fn an_escape_sequence_is_never_split_across_parts() {
        // 152 septets then `[`: the escape and the bracket move together to
        // part 2; 152 + 2 + 152 = 306 septets would fit two parts if split.
        let text = format!("{}[{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(measure(&text), gsm(306, 3));
        // 151 + 2 fills part one exactly.
        let text = format!("{}[{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(measure(&text), gsm(306, 2));
    }

    #[test]
    fn basic_table_accents_and_greek_stay_gsm7() {
        for text in [
            "é è ù ì ò Ç Ø ø Å å Æ æ ß É Ä Ö Ñ Ü ä ö ñ ü à",
            "Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ",
            "@ £ $ ¥ ¤ § ¡ ¿ _",
        ] {
            assert_eq!(measure(text).encoding, SmsEncoding::Gsm7, "{text}");
        }
    }

    #[test]
    fn ascii_outside_gsm7_switches_to_ucs2() {
        assert_eq!(measure("a`b").encoding, SmsEncoding::Ucs2);
        assert_eq!(measure("a\tb").encoding, SmsEncoding::Ucs2);
    }

    #[test]
    fn a_curly_quote_switches_the_whole_message() {
        let text = format!("{}’", "a".repeat(69));
        assert_eq!(measure(&text), ucs2(70, 1));
        let text = format!("{}’", "a".repeat(70));
        assert_eq!(measure(&text), ucs2(71, 2));
    }

    #[test]
    fn an_en_dash_triples_a_full_reminder() {
        let reminder = "BPJAMSOSTEK: Yth. SITI AMINAH, iuran JKK+JKM Rp16.800 bln Juli 2025 jatuh tempo 15/07/2025. \
                        Bayar via JMO/GoPay/DANA/agen Perisai. Info Kel. Yosomulyo";
        assert_eq!(measure(reminder), gsm(150, 1));
        let dashed = reminder.replace("JMO/", "JMO – ");
        assert_eq!(measure(&dashed).encoding, SmsEncoding::Ucs2);
        assert_eq!(measure(&dashed).segments, 3);
    }

    #[test]
    fn ucs2_boundaries_are_70_and_67() {
        assert_eq!(measure(&"ā".repeat(70)), ucs2(70, 1));
        assert_eq!(measure(&"ā".repeat(71)), ucs2(71, 2));
        assert_eq!(measure(&"ā".repeat(134)), ucs2(134, 2));
        assert_eq!(measure(&"ā".repeat(135)), ucs2(135, 3));
    }

    #[test]
    fn an_emoji_is_two_units_and_is_not_split() {
        assert_eq!(measure("🙂"), ucs2(2, 1));
        assert_eq!(measure(&format!("{}🙂", "a".repeat(68))), ucs2(70, 1));
        assert_eq!(measure(&format!("{}🙂", "a".repeat(69))), ucs2(71, 2));
        // 66 units then an emoji: the surrogate pair goes whole to part 2.
        let text = format!("{}🙂{}", "a".repeat(66), "a".repeat(66));
        assert_eq!(measure(&text), ucs2(134, 3));
    }

    #[test]
    fn lists_the_characters_that_break_gsm7() {
        assert_eq!(non_gsm7_chars("a “b” – c “d”"), vec!['“', '”', '–']);
        assert!(non_gsm7_chars("Rp16.800 {ok} é").is_empty());
    }

    #[test]
    fn transliterates_names_and_punctuation_to_gsm7() {
        assert_eq!(to_gsm7("Ma’ruf Amin"), "Ma'ruf Amin");
        assert_eq!(to_gsm7("Ángel Núñez"), "Angel Nuñez");
        assert_eq!(to_gsm7("“Siti” – Aminah…"), "\"Siti\" - Aminah...");
        assert_eq!(to_gsm7("Siti\u{a0}Aminah"), "Siti Aminah");
        assert_eq!(to_gsm7("Łukasz Żółć"), "Lukasz Zolc");
        // GSM-7 accents are kept: they cost nothing extra.
        assert_eq!(to_gsm7("José"), "José");
        assert!(matches!(to_gsm7("SITI AMINAH"), Cow::Borrowed(_)));
        // No equivalent: kept, and the message will be UCS-2.
        assert_eq!(to_gsm7("王芳"), "王芳");
        assert_eq!(measure(&to_gsm7("Ma’ruf")).encoding, SmsEncoding::Gsm7);
    }
}
