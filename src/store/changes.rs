//! Whether the database may have changed, known without asking it.
//!
//! A commit becomes visible to readers only after SQLite has written it to the WAL, so the
//! WAL's own write events come slightly too early: a reader in between would read (and
//! keep) the old state. So every cutover process, after each commit, bumps this process's
//! counter and touches a marker file beside the database (`<database>-changed`), whose
//! event comes after the commit is visible. Readers drain the folder's inotify queue
//! before each read: a request that begins after a commit (here or in another process)
//! always finds it, and a read that raced a commit is tagged with a generation that the
//! commit's marker makes old. Writes by other programs are noticed by their WAL events
//! alone. Where inotify is not available, nothing is cached.

use rustix::fd::OwnedFd;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

pub(super) struct Changes {
    watch: Option<Watch>,
    /// The marker touched after each commit (none for a database in memory).
    marker: Option<PathBuf>,
}

struct Watch {
    fd: OwnedFd,
    /// Bumped by every drain that found something and by every commit of ours; held
    /// while draining, so a request that finds the queue empty because another is
    /// draining it waits for the new number.
    generation: Mutex<u64>,
    /// The folder's watch ended (it was deleted or moved): changes can no longer be seen.
    lost: AtomicBool,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("watched", &self.watch.is_some())
            .field("marker", &self.marker)
            .finish()
    }
}

impl Changes {
    /// Watches the folder the database really lives in (links resolved, as SQLite
    /// resolves them); in memory or on failure, nothing is watched.
    pub(super) fn watch(file: Option<&Path>) -> Self {
        let Some(file) = file else {
            return Self {
                watch: None,
                marker: None,
            };
        };
        let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        let folder = match file.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut marker = file.clone().into_os_string();
        marker.push("-changed");
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK);
        let added = fd.and_then(|fd| {
            let events = WatchFlags::MODIFY
                | WatchFlags::CLOSE_WRITE
                | WatchFlags::CREATE
                | WatchFlags::DELETE
                | WatchFlags::MOVED_FROM
                | WatchFlags::MOVED_TO;
            inotify::add_watch(&fd, &folder, events).map(|_| fd)
        });
        let watch = match added {
            Ok(fd) => Some(Watch {
                fd,
                generation: Mutex::new(0),
                lost: AtomicBool::new(false),
            }),
            Err(e) => {
                tracing::warn!(error = %e, folder = %folder.display(),
                    "cannot watch the database folder for changes: answers are read from the database each time");
                None
            }
        };
        Self {
            watch,
            marker: Some(PathBuf::from(marker)),
        }
    }

    /// A commit of ours is visible: readers here see it at once, other processes when
    /// the marker's event reaches them.
    pub(super) fn changed(&self) {
        if let Some(watch) = &self.watch {
            *watch
                .generation
                .lock()
                .unwrap_or_else(PoisonError::into_inner) += 1;
        }
        if let Some(marker) = &self.marker {
            // Opening for writing and closing queues IN_CLOSE_WRITE for every watcher.
            if let Err(e) = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(marker)
            {
                tracing::warn!(error = %e, marker = %marker.display(),
                    "cannot touch the change marker: other cutover processes may answer from an old cache until their next change");
            }
        }
    }

    /// A number that changes after any write to the database, read after every write
    /// committed before this call; `None` when changes cannot be known (then nothing may
    /// be served from a cache).
    pub(super) fn generation(&self) -> Option<u64> {
        let watch = self.watch.as_ref()?;
        if watch.lost.load(Ordering::Relaxed) {
            return None;
        }
        let mut generation = watch
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut buffer = [MaybeUninit::<u8>::uninit(); 4096];
        let mut events = inotify::Reader::new(&watch.fd, &mut buffer);
        let mut changed = false;
        loop {
            match events.next() {
                Ok(event) => {
                    changed = true;
                    if event.events().contains(ReadFlags::IGNORED) {
                        tracing::warn!("the database folder is no longer watched (deleted or moved): answers are read from the database each time");
                        watch.lost.store(true, Ordering::Relaxed);
                        return None;
                    }
                }
                Err(rustix::io::Errno::WOULDBLOCK) => break,
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
