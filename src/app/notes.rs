//! The case notes as the console holds them: sanitised rows, newest first,
//! and the editor for a new note. Plain data; the case itself (keys,
//! journal) stays with the runtime.

use ratatui_textarea::TextArea;

use crate::case::record::{Body, Record};
use crate::model::SafeText;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRow {
    pub id: String,
    /// `2026-11-25 12:04`.
    pub time: String,
    pub author: SafeText,
    pub tags: Vec<SafeText>,
    /// The text, line by line.
    pub lines: Vec<SafeText>,
    /// What the note is about: `signin:ID`, later findings and items.
    pub links: Vec<SafeText>,
    pub supersedes: Option<String>,
}

impl NoteRow {
    pub fn from_record(record: &Record) -> Option<Self> {
        let Body::Note {
            text,
            tags,
            links,
            supersedes,
        } = &record.body
        else {
            return None;
        };
        let time = record
            .time
            .get(..16)
            .unwrap_or(&record.time)
            .replace('T', " ");
        Some(Self {
            id: record.id.clone(),
            time,
            author: SafeText::new(&record.author),
            tags: tags.iter().map(|t| SafeText::new(t)).collect(),
            lines: text.lines().map(SafeText::new).collect(),
            links: links.iter().map(|l| SafeText::new(l)).collect(),
            supersedes: supersedes.clone(),
        })
    }

    /// Whether the note matches a search (case-insensitive, any field).
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        let has = |t: &SafeText| t.as_str().to_lowercase().contains(&needle);
        self.lines.iter().any(has) || self.tags.iter().any(has) || has(&self.author)
    }
}

/// Notes newest first, with the indices a search leaves.
pub fn visible(notes: &[NoteRow], filter: Option<&SafeText>) -> Vec<usize> {
    notes
        .iter()
        .enumerate()
        .filter(|(_, n)| filter.is_none_or(|f| n.matches(f.as_str())))
        .map(|(i, _)| i)
        .collect()
}

/// A note being written.
#[derive(Clone, Debug)]
pub struct NoteEditor {
    pub input: TextArea<'static>,
    /// Sent to be saved; waiting for the journal to confirm.
    pub saving: bool,
    /// The note this one amends.
    pub amends: Option<String>,
    /// What the note is about (the row selected when it was started).
    pub links: Vec<String>,
}

impl Default for NoteEditor {
    fn default() -> Self {
        let mut input = TextArea::default();
        input.set_cursor_line_style(ratatui::style::Style::new());
        input.set_cursor_style(
            ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED),
        );
        Self {
            input,
            saving: false,
            amends: None,
            links: Vec::new(),
        }
    }
}

impl NoteEditor {
    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub fn is_blank(&self) -> bool {
        self.input.lines().iter().all(|l| l.trim().is_empty())
    }

    /// `#tag` words in the text become the note's tags.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        let words = self.input.lines().iter().flat_map(|l| l.split_whitespace());
        for word in words.filter_map(|w| w.strip_prefix('#')) {
            let tag = word.trim_end_matches(|c: char| !c.is_alphanumeric());
            if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_words_become_tags() {
        let mut editor = NoteEditor::default();
        editor
            .input
            .insert_str("Saw #adfs cert export, #dcsync.\nsee #adfs");
        assert_eq!(editor.tags(), vec!["adfs", "dcsync"]);
    }
}
