//! Replies as terminal text: Discord's markup becomes what a Discord client would show —
//! `<t:…>` timestamps as local dates and relative phrases, `<@…>` as @id, formatting
//! marks dropped.

use crate::chat::{ButtonTarget, Message, Modal};
use crate::domain::is_bidi_control;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Text as a terminal may show it: control characters (escape sequences start with one)
/// and bidi overrides become `�`, so nothing printed can move the cursor, recolour the
/// screen, set the window title or make text read backwards. Line breaks stay.
pub fn neutralize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\n') || is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Renders markup for a reader at `now` in `tz`.
pub struct Renderer {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl Renderer {
    pub fn message(&self, message: &Message) -> String {
        let mut out = self.markup(&message.text);
        for field in &message.fields {
            out.push_str("\n\n");
            out.push_str(&self.markup(&field.name));
            for line in self.markup(&field.value).lines() {
                out.push_str("\n    ");
                out.push_str(line);
            }
        }
        if !message.buttons.is_empty() {
            out.push('\n');
            for (i, button) in message.buttons.iter().enumerate() {
                out.push_str(&format!("\n  [{}] {}", i + 1, button.label));
                match &button.target {
                    _ if button.disabled => out.push_str(" (not available)"),
                    ButtonTarget::Link(url) => out.push_str(&format!(": {url}")),
                    ButtonTarget::Action(_) => {}
                }
            }
            out.push_str("\nType a button's number to press it.");
        }
        out
    }

    pub fn modal_header(&self, modal: &Modal) -> String {
        format!(
            "── {} ──\n{}",
            self.markup(&modal.title),
            self.markup(&modal.notice)
        )
    }

    /// Converts Discord markup to plain text.
    pub fn markup(&self, text: &str) -> String {
        neutralize(&self.plain(text))
    }

    fn plain(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '\\' {
                // An escaped character stands for itself.
                let mut chars = rest.chars();
                chars.next();
                if let Some(next) = chars.next() {
                    out.push(next);
                    rest = chars.as_str();
                    continue;
                }
            }
            if c == '<' {
                if let Some((replacement, len)) = self.tag(rest) {
                    out.push_str(&replacement);
                    rest = &rest[len..];
                    continue;
                }
            }
            if rest.starts_with("**") {
                rest = &rest[2..];
                continue;
            }
            if c == '`' {
                rest = &rest[1..];
                continue;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// `<t:UNIX:STYLE>` or `<@ID>` at the start of `text`: its rendering and length.
    fn tag(&self, text: &str) -> Option<(String, usize)> {
        let end = text.find('>')?;
        let inner = &text[1..end];
        if let Some(id) = inner.strip_prefix('@') {
            let id = id.strip_prefix('!').unwrap_or(id);
            return id
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| (format!("@{id}"), end + 1));
        }
        let rest = inner.strip_prefix("t:")?;
        let (unix, style) = rest.split_once(':').unwrap_or((rest, "f"));
        let instant = Utc.timestamp_opt(unix.parse().ok()?, 0).single()?;
        let local = instant.with_timezone(&self.tz);
        let shown = match style {
            "R" => relative(instant, self.now),
            "D" => local.format("%-d %B %Y").to_string(),
            "d" => local.format("%Y-%m-%d").to_string(),
            "t" => local.format("%H:%M").to_string(),
            "T" => local.format("%H:%M:%S").to_string(),
            "F" => local.format("%A, %-d %B %Y %H:%M %Z").to_string(),
            _ => local.format("%-d %B %Y %H:%M %Z").to_string(),
        };
        Some((shown, end + 1))
    }
}

/// A relative phrase as chat clients show it: "in 3 days", "2 years ago".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    let magnitude = seconds.unsigned_abs();
    let (n, unit) = match magnitude {
        0..=44 => return "just now".to_owned(),
        45..=2_699 => (magnitude.div_ceil(60), "minute"),
        2_700..=79_199 => ((magnitude + 1_800) / 3_600, "hour"),
        79_200..=2_246_399 => ((magnitude + 43_200) / 86_400, "day"),
        2_246_400..=28_079_999 => ((magnitude + 1_296_000) / 2_592_000, "month"),
        _ => ((magnitude + 15_768_000) / 31_536_000, "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if seconds > 0 {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Button, ComponentId, Field};
    use crate::domain::ShowFilter;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn renderer(tz: Tz) -> Renderer {
        Renderer {
            now: at("2025-11-21T12:00:00Z"),
            tz,
        }
    }

    #[test]
    fn timestamps_become_local_dates_and_relative_phrases() {
        let r = renderer(chrono_tz::Europe::Berlin);
        let unix = at("2023-09-01T00:00:00Z").timestamp();
        assert_eq!(
            r.markup(&format!("<t:{unix}:F> (<t:{unix}:R>)")),
            "Friday, 1 September 2023 02:00 CEST (2 years ago)"
        );
        assert_eq!(r.markup(&format!("<t:{unix}:D>")), "1 September 2023");
    }

    #[test]
    fn mentions_and_formatting_are_made_plain() {
        let r = renderer(Tz::UTC);
        assert_eq!(
            r.markup("**Owner** <@42> `z1` \\*not bold\\* <b>"),
            "Owner @42 z1 *not bold* <b>"
        );
    }

    #[test]
    fn relative_phrases_round_like_chat_clients() {
        let now = at("2025-01-01T00:00:00Z");
        let cases = [
            ("2025-01-01T00:00:10Z", "just now"),
            ("2025-01-01T00:05:00Z", "in 5 minutes"),
            ("2024-12-31T21:00:00Z", "3 hours ago"),
            ("2025-01-04T00:00:00Z", "in 3 days"),
            ("2025-04-01T00:00:00Z", "in 3 months"),
            ("2022-11-01T00:00:00Z", "2 years ago"),
        ];
        for (when, phrase) in cases {
            assert_eq!(relative(at(when), now), phrase, "{when}");
        }
    }

    #[test]
    fn nothing_printed_can_drive_the_terminal() {
        let shown =
            renderer(Tz::UTC).markup("a\u{1b}[2J\u{1b}]0;owned\u{7}b \u{202E}cba\nnext\tline");
        assert_eq!(
            shown,
            "a\u{FFFD}[2J\u{FFFD}]0;owned\u{FFFD}b \u{FFFD}cba\nnext\u{FFFD}line"
        );
    }

    #[test]
    fn fields_are_indented_and_buttons_numbered() {
        let message = Message {
            text: "Title".into(),
            fields: vec![Field {
                name: "Due".into(),
                value: "one\ntwo".into(),
            }],
            buttons: vec![
                Button {
                    label: "◀ Previous".into(),
                    target: ButtonTarget::Action(ComponentId::ConnectionsPage {
                        show: ShowFilter::All,
                        owner: None,
                        page: 1,
                    }),
                    disabled: true,
                },
                Button {
                    label: "Open".into(),
                    target: ButtonTarget::Link("https://x.test/a".into()),
                    disabled: false,
                },
            ],
            visibility: crate::chat::Visibility::Public,
            files: Vec::new(),
        };
        assert_eq!(
            renderer(Tz::UTC).message(&message),
            "Title\n\nDue\n    one\n    two\n\n  [1] ◀ Previous (not available)\n  [2] Open: https://x.test/a\nType a button's number to press it."
        );
    }
}
