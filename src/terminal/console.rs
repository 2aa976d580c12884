//! Where the terminal adapter reads and writes. [`StdConsole`] is the process's
//! stdin/stdout; tests can drive the adapter with their own [`Console`].

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use tokio::sync::{mpsc, oneshot};

/// Shared (`&self`) so the adapter can print an event while a read is pending.
pub trait Console {
    /// The next line, or `None` at the end of input (Ctrl-D, a closed pipe).
    fn read_line(&self, prompt: &str) -> impl Future<Output = Option<String>> + Send;
    /// Like `read_line`, but not echoed when reading from a terminal.
    fn read_secret(&self, prompt: &str) -> impl Future<Output = Option<String>> + Send;
    fn write(&self, text: &str);
}

enum ReadKind {
    Line,
    Secret,
}

/// Standard input and output. Reading happens on a dedicated thread (stdin blocks),
/// one read at a time on request, so a secret prompt never races a line read.
pub struct StdConsole {
    requests: mpsc::UnboundedSender<(ReadKind, oneshot::Sender<Option<String>>)>,
    interactive: bool,
}

impl StdConsole {
    pub fn new() -> Self {
        let interactive = std::io::stdin().is_terminal();
        let (requests, mut receiver) =
            mpsc::unbounded_channel::<(ReadKind, oneshot::Sender<Option<String>>)>();
        // A plain thread, not the runtime's blocking pool: a read that never returns
        // (nobody types) must not keep the runtime from shutting down.
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut number = 0u64;
            while let Some((kind, reply)) = receiver.blocking_recv() {
                let line = match kind {
                    ReadKind::Secret if interactive => rpassword::read_password().ok(),
                    _ => loop {
                        number += 1;
                        let mut bytes = Vec::new();
                        match stdin.lock().read_until(b'\n', &mut bytes) {
                            Ok(0) | Err(_) => break None,
                            Ok(_) => {}
                        }
                        match String::from_utf8(bytes) {
                            Ok(line) => break Some(line.trim_end_matches(['\n', '\r']).to_owned()),
                            // One unreadable line is not the end of the input: say so, go on.
                            Err(_) => write_out(&format!(
                                "Line {number} of the input is not UTF-8 text, so it was skipped; type it again.\n"
                            )),
                        }
                    },
                };
                let ended = line.is_none();
                let _ = reply.send(line);
                if ended {
                    break;
                }
            }
        });
        Self {
            requests,
            interactive,
        }
    }

    async fn read(&self, kind: ReadKind, prompt: &str) -> Option<String> {
        // Prompts only make sense to a person; a script reading the output gets replies only.
        if self.interactive {
            self.write_raw(prompt);
        }
        let (reply, answer) = oneshot::channel();
        self.requests.send((kind, reply)).ok()?;
        answer.await.ok().flatten()
    }

    fn write_raw(&self, text: &str) {
        write_out(text);
    }
}

fn write_out(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (the reader went away) leaves nothing useful to do with the error.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

impl Default for StdConsole {
    fn default() -> Self {
        Self::new()
    }
}

impl Console for StdConsole {
    async fn read_line(&self, prompt: &str) -> Option<String> {
        self.read(ReadKind::Line, prompt).await
    }

    async fn read_secret(&self, prompt: &str) -> Option<String> {
        self.read(ReadKind::Secret, prompt).await
    }

    fn write(&self, text: &str) {
        self.write_raw(&format!("{text}\n"));
    }
}
