//! Changes to the database as they happen, for pages that update themselves: one task
//! per process follows the database folder (its own inotify watch, beside the read
//! cache's) and counts each burst of writes to the database's files, by this process or
//! any other. A commit's marker (see `changes`) comes after the commit is visible, so a
//! read after the last count always sees the write. In memory, our own commits count.

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::watch;

pub(super) struct ChangeFeed {
    /// The database file, canonical (none in memory).
    file: Option<PathBuf>,
    count: watch::Sender<u64>,
    following: OnceLock<()>,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("file", &self.file)
            .finish()
    }
}

impl ChangeFeed {
    pub(super) fn new(file: Option<&Path>) -> Self {
        Self {
            file: file.map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf())),
            count: watch::channel(0).0,
            following: OnceLock::new(),
        }
    }

    /// A receiver that sees the count move at each change; the folder is followed from
    /// the first subscriber on.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        if let Some(file) = &self.file {
            self.following.get_or_init(|| {
                let count = self.count.clone();
                let file = file.clone();
                tokio::spawn(async move {
                    if let Err(e) = follow(&file, &count).await {
                        tracing::warn!(error = %e, "cannot follow the database's changes: the campaign page updates only when reloaded");
                    }
                });
            });
        }
        self.count.subscribe()
    }

    /// A commit of ours (in memory nothing else tells).
    pub(super) fn committed(&self) {
        if self.file.is_none() {
            self.count.send_modify(|n| *n += 1);
        }
    }
}

async fn follow(file: &Path, count: &watch::Sender<u64>) -> std::io::Result<()> {
    let folder = match file.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The database, its -wal and -shm, and the commit marker all start with its name.
    let name = file
        .file_name()
        .map(|n| n.as_encoded_bytes().to_vec())
        .unwrap_or_default();
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    inotify::add_watch(
        &fd,
        &folder,
        WatchFlags::MODIFY | WatchFlags::CLOSE_WRITE | WatchFlags::CREATE | WatchFlags::MOVED_TO,
    )?;
    // SAFETY: the AsyncFd owns the OwnedFd, so the descriptor stays open and the same
    // until the AsyncFd is dropped, which is what `register` asks.
    let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(std::io::Error::from)?;
    loop {
        let mut ready = fd.readable().await?;
        let mut buffer = [MaybeUninit::<u8>::uninit(); 4096];
        let mut events = inotify::Reader::new(ready.get_inner(), &mut buffer);
        let mut ours = false;
        loop {
            match events.next() {
                Ok(event) => {
                    ours |= event
                        .file_name()
                        .is_some_and(|n| n.to_bytes().starts_with(&name));
                }
                Err(rustix::io::Errno::WOULDBLOCK) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        ready.clear_ready();
        if ours {
            count.send_modify(|n| *n += 1);
        }
    }
}
