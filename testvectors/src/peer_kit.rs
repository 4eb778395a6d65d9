//! Where the libsrt 1.5.5 peer kit is (libsrt with bonding and AES-GCM:
//! `bin/` with its statically linked apps, `lib/` with `libsrt.so.1.5.5`,
//! `include/srt/`), for the tests and `cargo xtask ci`.
//!
//! The kit is found through the environment variable `SRT_PEER_KIT`, else
//! at `<workspace root>/../shared/peers/libsrt-1.5.5` (in CI the repository
//! is a fresh clone with `../shared` beside it). Under `CI=true` a missing
//! kit is a failure; elsewhere the tests that need it say clearly that they
//! were not run, and return.
//!
//! This file has no dependencies: `xtask` includes it by path, so that it
//! starts without building the rest of the workspace.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the kit's directory.
pub const ENV: &str = "SRT_PEER_KIT";

/// The kit's directory under `../shared/peers` when `SRT_PEER_KIT` is unset.
pub const DEFAULT_NAME: &str = "libsrt-1.5.5";

/// A libsrt 1.5.5 kit that was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerKit {
    /// Its root directory.
    pub root: PathBuf,
}

/// Whether this runs under CI (`CI=true`), where a missing peer fails.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Where the kit should be: `SRT_PEER_KIT`, else beside the workspace.
pub fn expected_path(workspace_root: &Path) -> PathBuf {
    match std::env::var_os(ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root
            .join("..")
            .join("shared")
            .join("peers")
            .join(DEFAULT_NAME),
    }
}

impl PeerKit {
    /// The kit for a workspace, or the path looked at and what is missing
    /// there.
    pub fn locate(workspace_root: &Path) -> Result<PeerKit, String> {
        PeerKit::at(expected_path(workspace_root))
    }

    /// The kit at `root`, if it has what the tests use.
    pub fn at(root: PathBuf) -> Result<PeerKit, String> {
        let kit = PeerKit { root };
        for needed in [
            kit.bin("srt-live-transmit"),
            kit.include().join("srt/srt.h"),
        ] {
            if !needed.is_file() {
                return Err(format!(
                    "no libsrt 1.5.5 peer kit at {} ({} is missing; set {ENV})",
                    kit.root.display(),
                    needed.display()
                ));
            }
        }
        if kit.library().is_none() {
            return Err(format!(
                "no libsrt 1.5.5 peer kit at {}: lib/ has no libsrt.so.* shared object",
                kit.root.display()
            ));
        }
        Ok(kit)
    }

    /// For a test that needs the kit: the kit; or, without it, panics
    /// under CI and otherwise prints that `what` was not run and returns
    /// `None`.
    pub fn for_test(workspace_root: &Path, what: &str) -> Option<PeerKit> {
        match PeerKit::locate(workspace_root) {
            Ok(kit) => Some(kit),
            Err(e) if under_ci() => panic!("{what}: {e} (CI=true: the peer kit is required)"),
            Err(e) => {
                eprintln!("NOT RUN: {what}: {e}");
                println!("NOT RUN: {what}: {e}");
                None
            }
        }
    }

    /// One of its programs (`bin/NAME`).
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// Its include directory (put it first on the `-I` path).
    pub fn include(&self) -> PathBuf {
        self.root.join("include")
    }

    /// Its shared library: the ELF file among `lib/libsrt.so*` with the
    /// longest name (`libsrt.so.1.5.5`).
    pub fn library(&self) -> Option<PathBuf> {
        let mut found: Option<PathBuf> = None;
        for entry in std::fs::read_dir(self.root.join("lib")).ok()?.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with("libsrt.so") {
                continue;
            }
            let path = entry.path();
            let mut magic = [0u8; 4];
            let is_elf = std::fs::File::open(&path)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
                .is_ok()
                && magic == *b"\x7fELF";
            let longer = found
                .as_ref()
                .is_none_or(|f| f.as_os_str().len() < path.as_os_str().len());
            if is_elf && longer {
                found = Some(path);
            }
        }
        found
    }

    /// A directory (made in `scratch`) with `libsrt.so` and `libsrt.so.1.5`
    /// linking to the kit's library, to link against (`-L`) and to put
    /// first on `LD_LIBRARY_PATH`: Debian's libsrt has the same SONAME, and
    /// a copied kit may hold its links as text files.
    pub fn lib_dir(&self, scratch: &Path) -> std::io::Result<PathBuf> {
        let library = self.library().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no libsrt.so.* in the kit")
        })?;
        let dir = scratch.join("peer-kit-lib");
        std::fs::create_dir_all(&dir)?;
        for name in ["libsrt.so", "libsrt.so.1.5"] {
            let link = dir.join(name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&library, &link)?;
        }
        Ok(dir)
    }

    /// `LD_LIBRARY_PATH` with `lib_dir` first, then what it was.
    pub fn ld_library_path(lib_dir: &Path) -> OsString {
        let mut value = OsString::from(lib_dir);
        if let Some(old) = std::env::var_os("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
            value.push(":");
            value.push(old);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_kit_and_links_its_library() {
        let root = std::env::temp_dir().join(format!("peer-kit-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        assert!(PeerKit::at(root.clone())
            .unwrap_err()
            .contains("srt-live-transmit"));
        for dir in ["bin", "include/srt", "lib"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("bin/srt-live-transmit"), "").unwrap();
        std::fs::write(root.join("include/srt/srt.h"), "").unwrap();
        // A copied kit: its links became text files.
        std::fs::write(root.join("lib/libsrt.so"), "libsrt.so.1.5").unwrap();
        std::fs::write(root.join("lib/libsrt.so.1.5"), "libsrt.so.1.5.5").unwrap();
        assert!(PeerKit::at(root.clone())
            .unwrap_err()
            .contains("shared object"));
        std::fs::write(root.join("lib/libsrt.so.1.5.5"), b"\x7fELF rest").unwrap();
        let kit = PeerKit::at(root.clone()).unwrap();
        assert_eq!(kit.library(), Some(root.join("lib/libsrt.so.1.5.5")));
        let dir = kit.lib_dir(&root.join("scratch")).unwrap();
        for name in ["libsrt.so", "libsrt.so.1.5"] {
            assert_eq!(
                std::fs::read_link(dir.join(name)).unwrap(),
                root.join("lib/libsrt.so.1.5.5")
            );
        }
        let path = PeerKit::ld_library_path(&dir);
        assert!(path.to_str().unwrap().starts_with(dir.to_str().unwrap()));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
