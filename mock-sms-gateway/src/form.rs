//! `application/x-www-form-urlencoded` parsing that keeps raw bytes (Kannel
//! and Jasmin carry UCS-2 text as raw UTF-16BE bytes), and the encoding of
//! values into receipt URLs.

use std::borrow::Cow;

/// The decoded name/value pairs of a query string or form body, in order.
pub fn pairs(input: &[u8]) -> impl Iterator<Item = (Cow<'_, [u8]>, Cow<'_, [u8]>)> {
    input.split(|&b| b == b'&').filter(|pair| !pair.is_empty()).map(|pair| {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let name = halves.next().unwrap_or_default();
        let value = halves.next().unwrap_or_default();
        (decode(name), decode(value))
    })
}

/// Percent- and plus-decodes one component; malformed escapes stay literal.
pub fn decode(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match (input.get(i + 1).and_then(hex), input.get(i + 2).and_then(hex)) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// Text from bytes sent as UTF-8 (invalid sequences replaced).
pub fn utf8(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Text from bytes sent as UTF-16BE (UCS-2), falling back to UTF-8 when the
/// bytes cannot be UTF-16BE (odd length or unpaired surrogates).
pub fn utf16be_or_utf8(bytes: &[u8]) -> String {
    if bytes.len().is_multiple_of(2) {
        let units = bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
        if let Ok(text) = char::decode_utf16(units).collect::<Result<String, _>>() {
            return text;
        }
    }
    utf8(bytes)
}

/// Text from ISO-8859-1 bytes.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// Appends `value` percent-encoded for a URL query: everything but RFC 3986
/// unreserved characters is escaped.
pub fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
}

/// `name=value&…` with both sides percent-encoded.
pub fn encode_pairs<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut out = String::with_capacity(params.len() * 24);
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, name.as_ref());
        out.push('=');
        encode_into(&mut out, value.as_ref());
    }
    out
}

/// The value of query parameter `name` in `url`, if any.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    pairs(query.as_bytes())
        .find(|(n, _)| n.as_ref() == name.as_bytes())
        .map(|(_, v)| utf8(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_keeps_malformed_escapes() {
        let got: Vec<(String, String)> = pairs(b"to=%2B6281&text=halo+dunia&bad=100%&x")
            .map(|(k, v)| (utf8(&k), utf8(&v)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("to".into(), "+6281".into()),
                ("text".into(), "halo dunia".into()),
                ("bad".into(), "100%".into()),
                ("x".into(), String::new()),
            ]
        );
    }

    #[test]
    fn ucs2_bytes_become_text() {
        assert_eq!(utf16be_or_utf8(&[0x00, 0x48, 0x20, 0x13]), "H–");
        assert_eq!(utf16be_or_utf8(b"abc"), "abc");
        assert_eq!(latin1(&[0x63, 0xe9]), "cé");
    }

    #[test]
    fn encodes_and_finds_query_parameters() {
        assert_eq!(encode_pairs(&[("a b", "x&y=z/é")]), "a%20b=x%26y%3Dz%2F%C3%A9");
        assert_eq!(
            query_param("http://h/dlr?id=abc%2D1&st=%d", "id").as_deref(),
            Some("abc-1")
        );
        assert_eq!(query_param("http://h/dlr", "id"), None);
    }
}
