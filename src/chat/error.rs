use super::Message;

/// Why a request could not be answered as asked. Each becomes a private, plain-language
/// message; only [`ChatError::Internal`] hides its details (they go to the log).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("/{0} is not a cutover command. Type /help to see what there is.")]
    UnknownCommand(String),
    #[error("The option {option} {problem}")]
    BadOption { option: String, problem: String },
    #[error("This button or form is out of date. Run the command again to get a fresh one.")]
    StaleComponent,
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for ChatError {
    fn from(error: crate::store::StoreError) -> Self {
        ChatError::Internal(error.into())
    }
}

impl ChatError {
    /// A fixed name for /metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            ChatError::UnknownCommand(_) | ChatError::BadOption { .. } => "invalid",
            ChatError::StaleComponent => "stale",
            ChatError::NotAllowed(_) => "not_allowed",
            ChatError::NotFound(_) => "not_found",
            ChatError::Refused(_) => "refused",
            ChatError::Internal(_) => "error",
        }
    }

    pub fn into_message(self) -> Message {
        match self {
            ChatError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "a chat request failed");
                Message::private(
                    "Something went wrong on cutover's side, and nothing was changed. Try again in a moment; \
                     if it keeps happening, an admin can find the details in cutover's log.",
                )
            }
            other => Message::private(other.to_string()),
        }
    }
}
