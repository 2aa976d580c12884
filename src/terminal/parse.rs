//! Reads a typed line as a slash command: `/connections show:all owner:<@42>`.
//! Values with spaces are quoted as in a shell: `name:"Zoom prod"`.

use crate::chat::{find_command, Action, OptionValue};
use crate::markdown::truncate;

/// How much of a word that was not understood is said back: enough to recognise it,
/// never a whole pasted file.
const ECHOED: usize = 60;

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    UnbalancedQuotes,
    UnknownCommand(String),
    /// Words with no slash that name no command: said back as typed, not as a command.
    NotACommand(String),
    NotAnOption(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::UnbalancedQuotes => f.write_str("A quote is not closed. Quote values with spaces: name:\"Zoom prod\"."),
            ParseError::UnknownCommand(name) => write!(f, "/{name} is not a cutover command. Type /help to see what there is."),
            ParseError::NotACommand(typed) => write!(f, "{typed:?} is not something cutover understands: it takes commands, which start with a slash, like /deadlines. Type /help to see them all."),
            ParseError::NotAnOption(word) => write!(f, "{word:?} is not an option. Write options as name:value, e.g. /connections show:all."),
        }
    }
}

pub fn parse_command(line: &str) -> Result<Action, ParseError> {
    let words = shlex::split(line.trim()).ok_or(ParseError::UnbalancedQuotes)?;
    let first = words
        .first()
        .map(|w| w.strip_prefix('/').unwrap_or(w))
        .unwrap_or_default();
    // The command is the longest run of leading words that names one (`cutover deadline add`).
    let path: Vec<String> = std::iter::once(first)
        .chain(words.iter().skip(1).map(String::as_str))
        .take_while(|w| !w.contains(':'))
        .map(str::to_ascii_lowercase)
        .collect();
    let (name, used) = (1..=path.len())
        .rev()
        .map(|n| (path[..n].join(" "), n))
        .find(|(name, _)| find_command(name).is_some())
        .ok_or_else(|| {
            if line.trim_start().starts_with('/') {
                ParseError::UnknownCommand(truncate(&path.join(" "), ECHOED))
            } else {
                ParseError::NotACommand(truncate(line.trim(), ECHOED))
            }
        })?;
    let options = words
        .into_iter()
        .skip(used)
        .map(|word| match word.split_once(':') {
            Some((key, value)) if !key.is_empty() => Ok((
                key.to_ascii_lowercase(),
                OptionValue::Text(value.to_owned()),
            )),
            _ => Err(ParseError::NotAnOption(truncate(&word, ECHOED))),
        })
        .collect::<Result<_, _>>()?;
    Ok(Action::Command { name, options })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_with_and_without_slash_and_quoted_values() {
        assert_eq!(
            parse_command("/connections show:all owner:<@42>"),
            Ok(Action::Command {
                name: "connections".into(),
                options: vec![
                    ("show".into(), OptionValue::Text("all".into())),
                    ("owner".into(), OptionValue::Text("<@42>".into())),
                ],
            })
        );
        assert_eq!(
            parse_command("migrate connection:\"z 1\""),
            Ok(Action::Command {
                name: "migrate".into(),
                options: vec![("connection".into(), OptionValue::Text("z 1".into()))]
            })
        );
    }

    #[test]
    fn reads_grouped_commands() {
        assert_eq!(
            parse_command("/cutover deadline add title:\"Go live\" due:2026-12-15"),
            Ok(Action::Command {
                name: "cutover deadline add".into(),
                options: vec![
                    ("title".into(), OptionValue::Text("Go live".into())),
                    ("due".into(), OptionValue::Text("2026-12-15".into())),
                ],
            })
        );
        assert_eq!(
            parse_command("/migration status"),
            Ok(Action::Command {
                name: "migration status".into(),
                options: vec![]
            })
        );
        assert_eq!(
            parse_command("/cutover deadline"),
            Err(ParseError::UnknownCommand("cutover deadline".into()))
        );
    }

    #[test]
    fn explains_what_it_cannot_read() {
        assert_eq!(
            parse_command("/nope"),
            Err(ParseError::UnknownCommand("nope".into()))
        );
        assert_eq!(
            parse_command("hello world"),
            Err(ParseError::NotACommand("hello world".into()))
        );
        assert_eq!(
            parse_command("/connections all"),
            Err(ParseError::NotAnOption("all".into()))
        );
        assert_eq!(
            parse_command("/connections show:\"all"),
            Err(ParseError::UnbalancedQuotes)
        );
        assert_eq!(
            parse_command("/connections :x"),
            Err(ParseError::NotAnOption(":x".into()))
        );
    }

    #[test]
    fn says_back_only_the_start_of_a_huge_line() {
        let huge = format!("/{}", "x".repeat(10 * 1024 * 1024));
        let said = parse_command(&huge).expect_err("unknown").to_string();
        assert_eq!(
            said,
            format!(
                "/{}… is not a cutover command. Type /help to see what there is.",
                "x".repeat(59)
            )
        );
        let said = parse_command(&format!("/connections {}", "y".repeat(100_000)))
            .expect_err("not an option")
            .to_string();
        assert!(said.len() < 200, "{said}");
    }
}
