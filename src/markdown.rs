//! Discord Markdown helpers, for everything that writes chat text (the chat core, the
//! switch's announcements, reminders): text from outside (connection names, notes) is
//! escaped so it reads as itself, never as formatting or a mention.

/// Escapes Markdown control characters and defuses mentions.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '~' | '|' | '>' | '<' | '[' | ']' | '@'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Shortens to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_formatting_and_mentions() {
        assert_eq!(
            escape("**a** @everyone <@1>"),
            "\\*\\*a\\*\\* \\@everyone \\<\\@1\\>"
        );
        assert_eq!(escape("plain text 42"), "plain text 42");
    }

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
