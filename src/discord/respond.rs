//! The chat core's replies as Discord interaction responses.

use crate::chat::{Button, Modal};
use crate::chat::{ButtonTarget, Message, Reply, Visibility};
use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment,
    CreateAutocompleteResponse, CreateButton, CreateEmbed, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateModal, EditInteractionResponse, InputTextStyle,
};

const MAX_CONTENT: usize = 2000;
const MAX_FIELD_NAME: usize = 256;
const MAX_FIELD_VALUE: usize = 1024;
const MAX_BUTTONS_PER_ROW: usize = 5;

/// Cuts at a character boundary, marking the cut, to fit Discord's limits.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

fn button(button: &Button) -> CreateButton {
    let built = match &button.target {
        ButtonTarget::Action(id) => CreateButton::new(id.encode()).style(ButtonStyle::Secondary),
        ButtonTarget::Link(url) => CreateButton::new_link(url),
    };
    built
        .label(fit(&button.label, 80))
        .disabled(button.disabled)
}

/// A message's pieces in Discord's shapes, shared by first responses and later edits.
struct Parts {
    content: String,
    embed: Option<CreateEmbed>,
    rows: Vec<CreateActionRow>,
    files: Vec<CreateAttachment>,
}

fn parts(message: &Message) -> Parts {
    let embed = (!message.fields.is_empty()).then(|| {
        message
            .fields
            .iter()
            .take(25)
            .fold(CreateEmbed::new(), |embed, field| {
                embed.field(
                    fit(&field.name, MAX_FIELD_NAME),
                    fit(&field.value, MAX_FIELD_VALUE),
                    false,
                )
            })
    });
    let rows = message
        .buttons
        .chunks(MAX_BUTTONS_PER_ROW)
        .take(5)
        .map(|chunk| CreateActionRow::Buttons(chunk.iter().map(button).collect()))
        .collect();
    Parts {
        content: fit(&message.text, MAX_CONTENT),
        embed,
        rows,
        files: message
            .files
            .iter()
            .map(|f| CreateAttachment::bytes(f.bytes.clone(), f.name.clone()))
            .collect(),
    }
}

fn message(message: Message) -> CreateInteractionResponseMessage {
    let parts = parts(&message);
    let built = CreateInteractionResponseMessage::new()
        .content(parts.content)
        .ephemeral(message.visibility == Visibility::Private)
        // Replies never ping anyone: a listing that names owners must not notify them.
        .allowed_mentions(CreateAllowedMentions::new())
        // Always set, so a page turn with no buttons left clears the old ones.
        .components(parts.rows)
        .add_files(parts.files);
    match parts.embed {
        Some(embed) => built.embed(embed),
        None => built,
    }
}

/// A late reply after a button press, as a private follow-up message.
pub fn to_followup(reply: Reply) -> CreateInteractionResponseFollowup {
    let message = match reply {
        Reply::Message(m) | Reply::Update(m) => m,
        Reply::Modal(_) | Reply::Choices(_) => {
            Message::private("That took too long to open. Try again.")
        }
    };
    let parts = parts(&message);
    CreateInteractionResponseFollowup::new()
        .content(parts.content)
        .embeds(parts.embed.into_iter().collect())
        .components(parts.rows)
        .add_files(parts.files)
        .ephemeral(true)
        .allowed_mentions(CreateAllowedMentions::new())
}

/// A reply that arrives after a deferral, as an edit of the deferred response.
pub fn to_edit(reply: Reply) -> EditInteractionResponse {
    let message = match reply {
        Reply::Message(m) | Reply::Update(m) => m,
        // A form or suggestions can only be a first response.
        Reply::Modal(_) | Reply::Choices(_) => {
            Message::private("That took too long to open. Run the command again.")
        }
    };
    let parts = parts(&message);
    parts.files.into_iter().fold(
        EditInteractionResponse::new()
            .content(parts.content)
            .embeds(parts.embed.into_iter().collect())
            .components(parts.rows)
            .allowed_mentions(CreateAllowedMentions::new()),
        EditInteractionResponse::new_attachment,
    )
}

fn modal(modal: Modal) -> CreateModal {
    let rows = modal
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            // Discord shows no free text in a classic modal: the first placeholder carries
            // the notice, so it is the first thing the person reads.
            let placeholder = if i == 0 && !modal.notice.is_empty() {
                &modal.notice
            } else {
                &input.placeholder
            };
            CreateActionRow::InputText(
                CreateInputText::new(InputTextStyle::Short, fit(&input.label, 45), input.id)
                    .placeholder(fit(placeholder, 100))
                    .min_length(input.min_length)
                    .max_length(input.max_length)
                    .required(true),
            )
        })
        .collect();
    CreateModal::new(modal.id.encode(), fit(&modal.title, 45)).components(rows)
}

pub fn to_response(reply: Reply) -> CreateInteractionResponse {
    match reply {
        Reply::Message(m) => CreateInteractionResponse::Message(message(m)),
        Reply::Update(m) => CreateInteractionResponse::UpdateMessage(message(m)),
        Reply::Modal(m) => CreateInteractionResponse::Modal(modal(m)),
        Reply::Choices(choices) => CreateInteractionResponse::Autocomplete(
            choices
                .into_iter()
                .take(25)
                .fold(CreateAutocompleteResponse::new(), |r, c| {
                    r.add_string_choice(fit(&c.label, 100), c.value)
                }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_discords_limits_on_a_character_boundary() {
        let long = "é".repeat(3000);
        let cut = fit(&long, MAX_CONTENT);
        assert_eq!(cut.chars().count(), MAX_CONTENT);
        assert!(cut.ends_with('…'));
        assert_eq!(fit("short", 10), "short");
    }
}
