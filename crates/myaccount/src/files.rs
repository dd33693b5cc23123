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
