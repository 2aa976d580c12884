//! `/status`: a personal sign-in link to the campaign page, answered privately.

use super::{Button, ButtonTarget, Caller, ChatCore, ChatError, Message, Reply};

impl ChatCore {
    pub(super) async fn sign_in_link(&self, caller: Caller) -> Result<Reply, ChatError> {
        let link = self.sign_ins.issue(caller.actor).await?;
        let mut message = Message::private(format!(
            "**Your personal sign-in link to the campaign page**: for you only, it works once and expires \
             <t:{expires}:R>. It signs this browser in for {session}; the page shows the whole cutover, \
             updates itself, and has a sign-out button. Do not share the link: anyone who opens it first \
             is signed in as you.",
            expires = link.expires_at.timestamp(),
            session = self.sign_ins.session_ttl(),
        ));
        message.buttons = vec![Button {
            label: "Open the campaign page".to_owned(),
            target: ButtonTarget::Link(link.url),
            disabled: false,
        }];
        Ok(Reply::Message(message))
    }
}
