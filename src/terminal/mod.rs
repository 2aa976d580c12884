//! The terminal adapter: the chat commands in a shell, as a local admin, in the spirit
//! of Hubot's shell adapter. Works on a terminal and on a pipe alike.

mod console;
mod parse;
mod render;

pub use console::{Console, StdConsole};
use parse::parse_command;
pub use render::neutralize;
use render::Renderer;

use crate::chat::{Action, Answer, Button, ButtonTarget, Caller, ChatCore, Modal, Reply, Request};
use crate::clock::Clock;
use crate::domain::Actor;
use crate::reminders::ReminderEvent;
use crate::switch::SwitchEvent;
use tokio::sync::broadcast;

const CALLER: Caller = Caller {
    actor: Actor::Terminal,
    is_admin: true,
};

/// What happens on its own while the terminal waits for a line.
struct Events {
    switches: broadcast::Receiver<SwitchEvent>,
    reminders: broadcast::Receiver<ReminderEvent>,
}

/// The next line; meanwhile, prints how the terminal's switches turn out, and reminders
/// as they fall due.
async fn next_line<C: Console>(
    core: &ChatCore,
    clock: &dyn Clock,
    console: &C,
    events: &mut Events,
) -> Option<String> {
    let line = console.read_line("cutover> ");
    tokio::pin!(line);
    // Read when an event arrives, not when the wait began: a countdown is said as of
    // the moment it is printed.
    let renderer = || Renderer {
        now: clock.now(),
        tz: core.timezone().tz(),
    };
    loop {
        tokio::select! {
            line = &mut line => return line,
            event = events.switches.recv() => match event {
                Ok(event) if event.actor == Actor::Terminal => {
                    console.write(&format!("\n{}\n", renderer().markup(&event.text)));
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return line.await,
            },
            reminder = events.reminders.recv() => match reminder {
                Ok(reminder) => {
                    let mut text = format!("\n── reminder ──\n{}", renderer().markup(&reminder.text));
                    if let Some(chart) = reminder.chart {
                        text.push_str(&format!("\nBurndown chart saved to {}", chart.display()));
                    }
                    console.write(&format!("{text}\n"));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return line.await,
            },
        }
    }
}

/// Reads commands until the input ends or the person types `exit`.
pub async fn run<C: Console>(core: &ChatCore, clock: &dyn Clock, console: &C) {
    console.write("cutover terminal: type /help for the commands, /exit or Ctrl-D to leave.\n");
    let mut buttons: Vec<Button> = Vec::new();
    let mut events = Events {
        switches: core.switch_events(),
        reminders: core.reminder_events(),
    };
    while let Some(line) = next_line(core, clock, console, &mut events).await {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "exit" | "quit" | "/exit" | "/quit") {
            break;
        }
        let Some(action) = action_for(line, &buttons, console) else {
            continue;
        };
        let Some(Answer { reply, aside }) =
            answer_filling_in_forms(core, clock, console, action).await
        else {
            console.write("Cancelled.");
            return;
        };
        let renderer = Renderer {
            now: clock.now(),
            tz: core.timezone().tz(),
        };
        if let Some(shown) = show(core, &renderer, console, reply) {
            buttons = shown;
        }
        if let Some(aside) = aside {
            console.write(&format!("{}\n", renderer.message(&aside)));
        }
    }
}

/// What a typed line asks for: a command, or the number of a button on the last reply.
/// None when there is nothing to ask the core (the console was told why).
fn action_for<C: Console>(line: &str, buttons: &[Button], console: &C) -> Option<Action> {
    if let Ok(number) = line.parse::<usize>() {
        return pressed(number, buttons, console);
    }
    match parse_command(line) {
        Ok(action) => Some(action),
        Err(error) => {
            console.write(&render::neutralize(&error.to_string()));
            None
        }
    }
}

/// Button `[number]` of the last reply, pressed: its action, if it has one here.
fn pressed<C: Console>(number: usize, buttons: &[Button], console: &C) -> Option<Action> {
    match number.checked_sub(1).and_then(|i| buttons.get(i)) {
        Some(Button {
            disabled: true,
            label,
            ..
        }) => {
            console.write(&format!("[{number}] {label} is not available here."));
            None
        }
        Some(Button {
            target: ButtonTarget::Action(id),
            ..
        }) => Some(Action::Button { id: id.encode() }),
        Some(Button {
            target: ButtonTarget::Link(url),
            ..
        }) => {
            console.write(&format!("Open this link in your browser: {url}"));
            None
        }
        None => {
            console.write(&format!("There is no button [{number}] on the last reply."));
            None
        }
    }
}

/// The core's answer to `action`. A form becomes prompts, and its submit one more
/// request, until the answer is no form; None when the input ends in a form.
async fn answer_filling_in_forms<C: Console>(
    core: &ChatCore,
    clock: &dyn Clock,
    console: &C,
    action: Action,
) -> Option<Answer> {
    let mut answered = answer(core, console, action).await;
    while let Reply::Modal(modal) = &answered.reply {
        let values = fill_in(core, clock, console, modal).await?;
        let action = Action::ModalSubmit {
            id: modal.id.encode(),
            values,
        };
        answered = answer(core, console, action).await;
    }
    Some(answered)
}

/// Prints a reply, saving the files it carries; the buttons it offers, when it is a
/// message (other replies leave the last message's buttons in place).
fn show<C: Console>(
    core: &ChatCore,
    renderer: &Renderer,
    console: &C,
    reply: Reply,
) -> Option<Vec<Button>> {
    match reply {
        Reply::Message(message) | Reply::Update(message) => {
            let mut text = renderer.message(&message);
            for file in &message.files {
                match core.save_file(file) {
                    Ok(path) => {
                        text.push_str(&format!("\n{} saved to {}", file.name, path.display()))
                    }
                    Err(e) => text.push_str(&format!("\n{} could not be saved: {e}", file.name)),
                }
            }
            console.write(&format!("{text}\n"));
            Some(message.buttons)
        }
        // Suggestions are for clients that show them as someone types.
        Reply::Modal(_) | Reply::Choices(_) => None,
    }
}

/// The core's answer; work that takes a while says first what it is doing.
async fn answer<C: Console>(core: &ChatCore, console: &C, action: Action) -> Answer {
    let request = Request::new(CALLER, action);
    if let Some(work) = core.slow_work(&request) {
        console.write(work);
    }
    core.handle(request).await
}

async fn fill_in<C: Console>(
    core: &ChatCore,
    clock: &dyn Clock,
    console: &C,
    modal: &Modal,
) -> Option<Vec<(String, String)>> {
    let renderer = Renderer {
        now: clock.now(),
        tz: core.timezone().tz(),
    };
    console.write(&renderer.modal_header(modal));
    let mut values = Vec::with_capacity(modal.inputs.len());
    for input in &modal.inputs {
        let prompt = format!("{}: ", input.label);
        let value = if input.secret {
            console.read_secret(&prompt).await?
        } else {
            console.read_line(&prompt).await?
        };
        values.push((input.id.to_owned(), value));
    }
    Some(values)
}
