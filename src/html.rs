//! HTML escaping, once for the whole crate.
//!
//! The dashboard page, its SVG charts and the digest e-mail are compiled
//! templates (askama; `askama.toml` at the crate root names their folders).
//! Every `{{ value }}` in a template with the extension `html` or `svg` goes
//! through [`Html`], so a value from data can never become markup; only
//! literal template text is markup. The operators' own e-mail templates
//! (`config/templates/`) are not compiled: their values go through
//! [`escape`], which writes the same entities.

use std::fmt::{self, Write};

use askama::Template;

/// Escapes `&`, `<`, `>`, `"` and `'` as `&amp;`, `&lt;`, `&gt;`, `&quot;`
/// and `&#39;`: safe in HTML and SVG text and inside a quoted attribute.
///
/// askama's own HTML escaper writes numeric references (`&#60;`); these
/// named ones keep the pages and e-mails as they have always been written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        let mut plain = 0;
        for (at, byte) in string.bytes().enumerate() {
            let entity = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            // The five are ASCII, so `at` is always a character boundary.
            dest.write_str(&string[plain..at])?;
            dest.write_str(entity)?;
            plain = at + 1;
        }
        dest.write_str(&string[plain..])
    }
}

/// `raw` escaped by [`Html`].
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    // Writing into a String cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&Html, &mut out, raw);
    out
}

/// A template rendered to a String.
///
/// Rendering fails only when the output cannot be written or a filter
/// fails; a String always takes the output and the templates of this crate
/// call no fallible filter, so the logged empty page is never seen.
pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering an HTML template failed");
        String::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("Banjarsari"), "Banjarsari");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("≥3 bulan – Rp1.000 <"), "≥3 bulan – Rp1.000 &lt;");
        assert_eq!(escape(""), "");
    }

    #[derive(Template)]
    #[template(source = "<p title=\"{{ value }}\">{{ value }}</p>", ext = "html")]
    struct Sample<'a> {
        value: &'a str,
    }

    #[test]
    fn templates_escape_every_value_with_the_same_entities() {
        let html = render(&Sample {
            value: r#"<script>alert("x")</script> & 'y'"#,
        });
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;";
        assert_eq!(html, format!("<p title=\"{escaped}\">{escaped}</p>"));
    }
}
