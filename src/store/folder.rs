//! The database folder: made if missing, and checked writable before SQLite is asked to
//! open anything in it, so that a folder cutover may not write in is named as such with
//! the permission it needs (SQLite itself would only say it cannot open the file).

use super::StoreError;
use std::io::ErrorKind;
use std::path::Path;

/// Creates `folder` if needed and checks that this process may create files in it.
pub(super) fn usable(folder: &Path) -> Result<(), StoreError> {
    if folder.is_dir() {
        let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
        return rustix::fs::access(folder, access).map_err(|errno| StoreError::WriteFolder {
            path: folder.display().to_string(),
            reason: cannot_write(&std::io::Error::from(errno)),
        });
    }
    std::fs::create_dir_all(folder).map_err(|error| StoreError::CreateFolder {
        path: folder.display().to_string(),
        reason: cannot_create(folder, &error),
    })
}

/// Why files cannot be made in an existing folder, and what to change.
fn cannot_write(error: &std::io::Error) -> String {
    match error.kind() {
        ErrorKind::PermissionDenied => {
            "the user cutover runs as needs write and search permission on it \
             (w and x: SQLite keeps its journal files beside the database). Give it those \
             (e.g. chown the folder to that user, or chmod u+wx), or point database.url elsewhere"
                .to_owned()
        }
        ErrorKind::ReadOnlyFilesystem => {
            "it is on a read-only file system; point database.url at a writable place".to_owned()
        }
        _ => error.to_string(),
    }
}

/// Why `folder` cannot be created, naming the folder (or file) in the way.
fn cannot_create(folder: &Path, error: &std::io::Error) -> String {
    let parent = folder
        .ancestors()
        .skip(1)
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    match error.kind() {
        ErrorKind::PermissionDenied => format!(
            "the user cutover runs as needs write and search permission (w and x) on {} to create it. \
             Create the folder yourself, writable by that user, or point database.url elsewhere",
            parent.display()
        ),
        ErrorKind::ReadOnlyFilesystem => format!(
            "{} is on a read-only file system; point database.url at a writable place",
            parent.display()
        ),
        // A file where a folder should be: the folder itself, or one above it.
        ErrorKind::AlreadyExists | ErrorKind::NotADirectory => {
            let file = folder
                .ancestors()
                .find(|a| a.is_file())
                .unwrap_or(folder);
            format!(
                "{} is a file, not a folder; move it, or point database.url elsewhere",
                file.display()
            )
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_says_what_to_change() {
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        assert!(cannot_write(&denied).starts_with(
            "the user cutover runs as needs write and search permission on it (w and x"
        ));
        let read_only = std::io::Error::from(ErrorKind::ReadOnlyFilesystem);
        assert!(cannot_write(&read_only).contains("read-only file system"));
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = dir.path().join("a/b");
        assert!(cannot_create(&folder, &denied).contains(&format!(
            "needs write and search permission (w and x) on {} to create it",
            dir.path().display()
        )));
    }
}
