//! Terminal-safe text.
//!
//! Every string that comes from a tenant, a log file, a config file or a
//! paste is wrapped in [`SafeText`] before anything can draw it. App names,
//! user agents and display names are chosen by the attacker, so a raw string
//! could carry escape sequences that clear the screen, write to the
//! responder's clipboard (OSC 52) or reorder text with bidi overrides.
//!
//! The inner string is private and only [`SafeText::new`] (or
//! [`SafeText::multiline`]) can build one, so holding a `SafeText` proves the
//! text was sanitised. Dangerous characters become visible escapes such as
//! `\x1b` or `\u{202e}`: the responder sees that something was there. The
//! escapes are remembered as ranges ([`SafeText::segments`]) so the console
//! can draw them in their own style: a name that merely *contains* the text
//! `\x1b` does not look like one that carried an escape character.

use std::fmt;

#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeText {
    text: Box<str>,
    /// Byte ranges of `text` that are escapes we wrote; empty (no
    /// allocation) for the usual clean string.
    escapes: Box<[(u32, u32)]>,
}

impl SafeText {
    /// Sanitises text for a single-line cell: every control character,
    /// including newline and tab, becomes a visible escape.
    pub fn new(raw: &str) -> Self {
        sanitise(raw, false)
    }

    /// Sanitises text that may span lines (note bodies): newlines survive,
    /// everything else is treated as in [`SafeText::new`].
    pub fn multiline(raw: &str) -> Self {
        sanitise(raw, true)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// True when something had to be escaped.
    pub fn has_escapes(&self) -> bool {
        !self.escapes.is_empty()
    }

    /// The text in runs: `(run, is_escape)`.
    pub fn segments(&self) -> impl Iterator<Item = (&str, bool)> {
        let mut out = Vec::with_capacity(self.escapes.len() * 2 + 1);
        let mut at = 0usize;
        for &(start, end) in self.escapes.iter() {
            let (start, end) = (start as usize, end as usize);
            if start > at {
                out.push((&self.text[at..start], false));
            }
            out.push((&self.text[start..end], true));
            at = end;
        }
        if at < self.text.len() {
            out.push((&self.text[at..], false));
        }
        out.into_iter()
    }
}

/// Read from JSON as a sanitised string: `null` becomes empty, numbers and
/// booleans their text, so a record with an odd value still loads.
impl<'de> serde::Deserialize<'de> for SafeText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        Ok(match Value::deserialize(d)? {
            Value::String(s) => SafeText::new(&s),
            Value::Null => SafeText::default(),
            Value::Bool(b) => SafeText::new(&b.to_string()),
            Value::Number(n) => SafeText::new(&n.to_string()),
            other => SafeText::new(&other.to_string()),
        })
    }
}

/// Written as its sanitised text.
impl serde::Serialize for SafeText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl fmt::Display for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for SafeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

/// True for characters that must never reach a terminal as themselves.
pub fn is_dangerous(c: char) -> bool {
    matches!(c,
        // C0 controls (ESC, BEL, BS, CR, ...), DEL and C1 controls (CSI is U+009B).
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Bidi embeddings, overrides and isolates; they reorder what follows.
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{061c}'
        // Invisible characters that make two names look the same (zero
        // widths, soft hyphen, Mongolian vowel separator, combining grapheme
        // joiner, Hangul fillers). ZWJ and variation selectors stay: emoji
        // need them.
        | '\u{200b}' | '\u{200c}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}'
        | '\u{180e}' | '\u{034f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}'
        // Line and paragraph separators break the row layout.
        | '\u{2028}' | '\u{2029}'
        // Tag characters are invisible and have been used to smuggle text.
        | '\u{e0000}'..='\u{e007f}'
        // Interlinear annotation controls.
        | '\u{fff9}'..='\u{fffb}')
}

fn sanitise(raw: &str, keep_newlines: bool) -> SafeText {
    let keep = |c: char| !is_dangerous(c) || (keep_newlines && c == '\n');
    if raw.chars().all(keep) {
        return SafeText {
            text: raw.into(),
            escapes: Box::default(),
        };
    }
    let mut out = String::with_capacity(raw.len() + 16);
    let mut escapes = Vec::new();
    for c in raw.chars() {
        if keep(c) {
            out.push(c);
            continue;
        }
        let start = out.len() as u32;
        if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
        escapes.push((start, out.len() as u32));
    }
    SafeText {
        text: out.into_boxed_str(),
        escapes: escapes.into_boxed_slice(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        let t = SafeText::new("Adele Vance <adele@contoso.com> — Outlook ✓ 日本");
        assert_eq!(
            t.as_str(),
            "Adele Vance <adele@contoso.com> — Outlook ✓ 日本"
        );
    }

    #[test]
    fn escape_sequences_become_visible() {
        let t = SafeText::new("a\x1b]52;c;ZXZpbA==\x07b\x1b[2Jc\u{202e}d\u{9b}e");
        assert_eq!(
            t.as_str(),
            "a\\x1b]52;c;ZXZpbA==\\x07b\\x1b[2Jc\\u{202e}d\\x9be"
        );
    }

    #[test]
    fn escapes_are_marked_apart_from_look_alike_text() {
        let real = SafeText::new("a\x1bb");
        let fake = SafeText::new("a\\x1bb");
        assert_eq!(real.as_str(), fake.as_str());
        assert_eq!(
            real.segments().collect::<Vec<_>>(),
            vec![("a", false), ("\\x1b", true), ("b", false)]
        );
        assert_eq!(
            fake.segments().collect::<Vec<_>>(),
            vec![("a\\x1bb", false)]
        );
        assert!(real.has_escapes() && !fake.has_escapes());
    }

    #[test]
    fn newlines_survive_only_in_multiline() {
        assert_eq!(SafeText::new("a\nb\tc").as_str(), "a\\x0ab\\x09c");
        assert_eq!(SafeText::multiline("a\nb\rc").as_str(), "a\nb\\x0dc");
    }

    /// Every Unicode scalar value: the output never contains a dangerous one.
    #[test]
    fn no_dangerous_character_survives() {
        let all: String = (0..=0x10ffff_u32).filter_map(char::from_u32).collect();
        let safe = SafeText::new(&all);
        assert!(!safe.as_str().chars().any(is_dangerous));
        assert!(!safe.as_str().chars().any(char::is_control));
        let multi = SafeText::multiline(&all);
        assert!(!multi.as_str().chars().any(|c| is_dangerous(c) && c != '\n'));
    }
}

/// A count with its noun in the right number: "1 event", "2 events",
/// "3 matches", "2 entities".
/// Tenant text for a Markdown report, inline: made safe as on screen, then
/// every character Markdown would act on (links, images, HTML, emphasis,
/// code, table cells) escaped, so an attacker's string reads as itself
/// and cannot become a live link or image in the incident record.
pub fn markdown_inline(text: &str) -> String {
    let safe = SafeText::new(text);
    let mut out = String::with_capacity(safe.as_str().len());
    for c in safe.as_str().chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '|' | '#' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Tenant text as a Markdown code span: made safe as on screen, and fenced
/// with more backticks than it holds in a row, so it cannot close early.
pub fn markdown_code(text: &str) -> String {
    let safe = SafeText::new(text);
    let text = safe.as_str();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    // Not for table cells: a bar would end the cell even inside code.
    format!("{fence}{pad}{text}{pad}{fence}")
}

pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let plural = if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{noun}es")
    } else if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{noun}s")
    };
    format!("{n} {plural}")
}

#[cfg(test)]
mod counted_tests {
    use super::counted;

    #[test]
    fn nouns_agree_with_their_numbers() {
        assert_eq!(counted(1, "event"), "1 event");
        assert_eq!(counted(0, "event"), "0 events");
        assert_eq!(counted(3, "match"), "3 matches");
        assert_eq!(counted(2, "entity"), "2 entities");
        assert_eq!(counted(2, "day"), "2 days");
        assert_eq!(counted(5, "address"), "5 addresses");
    }
}

#[cfg(test)]
mod markdown_tests {
    use super::{markdown_code, markdown_inline};

    #[test]
    fn attacker_text_cannot_become_a_link_image_or_html_in_a_report() {
        let hostile = "[click](https://evil.example) ![x](https://evil.example/p.png) <img src=x> a|b megan_bowen";
        let md = markdown_inline(hostile);
        // Every bracket, bang, angle and bar escaped: no link, image, tag
        // or cell break.
        assert_eq!(
            md,
            "\\[click\\](https://evil.example) \\!\\[x\\](https://evil.example/p.png) \\<img src=x\\> a\\|b megan\\_bowen"
        );
        // Control characters are made visible first, as on screen.
        assert!(!markdown_inline("a\u{1b}]0;x\u{7}").contains('\u{1b}'));
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(markdown_code("abc"), "`abc`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
    }
}
