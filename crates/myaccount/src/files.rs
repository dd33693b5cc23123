//! Writing what the set-up commands generate: a file replaced whole, created with the mode it
//! needs (0600 for a private key or seed, so it is never readable by others even for a moment).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

pub fn write_with_mode(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?
        .write_all(content)
}

/// Where a workload's own secret lives: `dir/<owner>/<file>`, in a directory (mode 0700) that
/// holds nothing else, so a deployment can mount that directory alone into the owner's
/// containers (compose's volume `subpath`) and no other workload ever sees the secret. A secret
/// from the earlier flat layout (`dir/<file>`) is moved into place, so re-running a set-up
/// command keeps existing keys.
pub fn private_file(dir: &Path, owner: &str, file: &str) -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let own_dir = dir.join(owner);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&own_dir)?;
    let path = own_dir.join(file);
    let flat = dir.join(file);
    if !path.exists() && flat.is_file() {
        std::fs::rename(&flat, &path)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_file_gets_a_directory_of_its_own_and_an_older_flat_file_moves_there() {
        let dir = std::env::temp_dir().join(format!("myaccount-files-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("devices.nk"), "the old seed").expect("flat file");

        let moved = private_file(&dir, "devices", "devices.nk").expect("placed");
        assert_eq!(moved, dir.join("devices").join("devices.nk"));
        assert_eq!(std::fs::read_to_string(&moved).expect("moved"), "the old seed");
        assert!(
            !dir.join("devices.nk").exists(),
            "no copy is left where every workload could mount it"
        );
        let mode = std::fs::metadata(dir.join("devices")).expect("own dir").permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o700);

        let fresh = private_file(&dir, "audit", "audit.nk").expect("placed");
        assert!(!fresh.exists(), "nothing is invented: the caller writes the secret");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
