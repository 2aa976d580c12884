//! Whether the database may have changed, known without asking it: inotify on the
//! database's folder. Every commit, by this process or another (`cutover connections
//! import`, a second instance), writes the WAL or the database file there, and the kernel
//! queues the event before that write returns. So a request that drains the queue before
//! it reads sees every change committed before it began; a cached read is kept only while
//! nothing was queued since. Where inotify is not available, nothing is cached.

use rustix::fd::OwnedFd;
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

pub(super) struct Changes {
    watch: Option<Watch>,
}

struct Watch {
    fd: OwnedFd,
    /// Counts the drains that found something; held while draining, so a request that
    /// finds the queue empty because another is draining it waits for the new count.
    generation: Mutex<u64>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("watched", &self.watch.is_some())
            .finish()
    }
}

impl Changes {
    /// Watches the folder of `file`; `None` (in memory) or a failure: nothing watched.
    pub(super) fn watch(file: Option<&Path>) -> Self {
        let watch = file.and_then(|file| {
            let folder = match file.parent() {
                Some(folder) if !folder.as_os_str().is_empty() => folder,
                _ => Path::new("."),
            };
            let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK);
            let added = fd.and_then(|fd| {
                let events = WatchFlags::MODIFY
                    | WatchFlags::CREATE
                    | WatchFlags::DELETE
                    | WatchFlags::MOVED_FROM
                    | WatchFlags::MOVED_TO;
                inotify::add_watch(&fd, folder, events).map(|_| fd)
            });
            match added {
                Ok(fd) => Some(Watch {
                    fd,
                    generation: Mutex::new(0),
                }),
                Err(e) => {
                    tracing::warn!(error = %e, folder = %folder.display(),
                        "cannot watch the database folder for changes: answers are read from the database each time");
                    None
                }
            }
        });
        Self { watch }
    }

    /// A number that changes after any write to the database by anyone, read after
    /// every write committed before this call; `None` when changes cannot be known (then
    /// nothing may be served from a cache).
    pub(super) fn generation(&self) -> Option<u64> {
        let watch = self.watch.as_ref()?;
        let mut generation = watch
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut buffer = [0u8; 4096];
        let mut changed = false;
        loop {
            match rustix::io::read(&watch.fd, &mut buffer) {
                Ok(read) if read > 0 => changed = true,
                Ok(_) | Err(rustix::io::Errno::WOULDBLOCK) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "reading database change events failed");
                    return None;
                }
            }
        }
        if changed {
            *generation += 1;
        }
        Some(*generation)
    }
}
