//! Bounds on what the connector reads from files a person names: a configuration, a
//! token file, mapping files, a complaint form or a follow-up text. A read stops one byte
//! past its cap, so `--file /dev/zero` or a log file named by mistake ends with a clear
//! error instead of filling memory.

use std::io::Read;
use std::path::Path;

/// The configuration file (`sp4n.toml`).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// A token file (upstream or API): a token is a line of text.
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;
/// One mapping file (`opd.toml`, rules, `calendar.toml`).
pub const MAX_MAPPING_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// A complaint form (`submit --file`) or a text file (`--text-file`, `--reason-file`):
/// generous next to the platform's text limit, far below what could hurt.
pub const MAX_INPUT_FILE_BYTES: u64 = 1024 * 1024;

/// Reads at most `cap` bytes of `path`; a longer file (or an endless device) is an error
/// of kind [`std::io::ErrorKind::FileTooLarge`] whose message names the cap.
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut out = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(out)
}

/// As [`read_capped`], as UTF-8 text.
pub fn read_to_string_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    let bytes = read_capped(path, cap)?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text: save it as UTF-8",
        )
    })
}

fn too_large(cap: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!(
            "the file is larger than {cap} bytes, the most sp4n reads from such a file: check that the path names the right file (not a device, a log or an archive)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_device_is_refused_at_the_cap() {
        let e = read_capped(Path::new("/dev/zero"), 4096).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("4096 bytes"), "{e}");
    }

    #[test]
    fn a_file_at_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abcd").unwrap();
        assert_eq!(read_capped(&p, 4).unwrap(), b"abcd");
        assert!(read_capped(&p, 3).is_err());
    }
}
