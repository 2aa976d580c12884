//! What the chat core answers. Adapters turn these into Discord JSON or terminal text.

use super::ComponentId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A new message.
    Message(Message),
    /// Replaces the message whose button was pressed (a page turn).
    Update(Message),
    /// A form to fill in; its submit comes back as [`super::Action::ModalSubmit`].
    Modal(Modal),
    /// Suggestions for an option as the person types (at most 25).
    Choices(Vec<Choice>),
}

/// What a request gets: the reply, and a word for the caller alone that could not go in
/// it (a public reply cannot carry it; Discord sends it as an ephemeral follow-up, the
/// terminal prints it after the reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub reply: Reply,
    pub aside: Option<Message>,
}

impl Answer {
    pub fn new(reply: Reply) -> Self {
        Self { reply, aside: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the person sees (at most 100 characters).
    pub label: String,
    /// What the option is set to when picked.
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone in the channel sees it.
    Public,
    /// Only the person who asked sees it (Discord: ephemeral).
    Private,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Discord-flavoured Markdown; timestamps as `<t:UNIX:STYLE>`, users as `<@ID>`.
    pub text: String,
    pub fields: Vec<Field>,
    pub buttons: Vec<Button>,
    pub visibility: Visibility,
    /// Files sent with it (Discord attaches them; the terminal saves them).
    pub files: Vec<Attachment>,
}

/// A file that goes with a message, e.g. the burndown chart.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Attachment({}, {} bytes)", self.name, self.bytes.len())
    }
}

impl Message {
    pub fn public(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            fields: Vec::new(),
            buttons: Vec::new(),
            visibility: Visibility::Public,
            files: Vec::new(),
        }
    }

    pub fn private(text: impl Into<String>) -> Self {
        Self {
            visibility: Visibility::Private,
            ..Self::public(text)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub target: ButtonTarget,
    pub disabled: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub enum ButtonTarget {
    /// Pressing it sends [`super::Action::Button`] with this id.
    Action(ComponentId),
    /// Opens this URL in the person's browser.
    Link(String),
}

impl std::fmt::Debug for ButtonTarget {
    /// A link's query can be a personal authorization link's `state`: left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ButtonTarget::Action(id) => f.debug_tuple("Action").field(id).finish(),
            ButtonTarget::Link(url) => {
                let without_query = url.split('?').next().unwrap_or_default();
                f.debug_tuple("Link")
                    .field(&format!("{without_query}?[redacted]"))
                    .finish()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modal {
    pub id: ComponentId,
    pub title: String,
    /// Shown above the inputs where the client can (a terminal prints it; Discord puts
    /// it in the first input's placeholder).
    pub notice: String,
    pub inputs: Vec<TextInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextInput {
    /// The key under which the submit carries the value.
    pub id: &'static str,
    pub label: String,
    pub placeholder: String,
    pub min_length: u16,
    pub max_length: u16,
    /// A terminal reads it without echo. (Discord never masks inputs: the notice says so.)
    pub secret: bool,
}
