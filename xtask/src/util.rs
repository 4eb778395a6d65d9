//! Running commands and reporting what happened.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line was wrong: print the usage.
    Usage(String),
    /// Something ran and failed.
    Failed(String),
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A `cargo` command in the workspace root. Uses the cargo that runs xtask
/// (`$CARGO`), so the toolchain stays the same.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

/// The command as a shell-like line, with the environment it sets in front.
pub(crate) fn display(cmd: &Command) -> String {
    let mut line = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), quote(value));
        }
    }
    // `$CARGO` is a long toolchain path; show it as the command people type.
    let program = cmd.get_program();
    if std::env::var_os("CARGO").is_some_and(|cargo| cargo == program) {
        line.push_str("cargo");
    } else {
        line.push_str(&quote(program));
    }
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The value of the command-line flag `flag`, a positive number.
pub(crate) fn positive(value: Option<&String>, flag: &str) -> Result<u64, Failure> {
    value
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0)
        .ok_or_else(|| Failure::Usage(format!("{flag} takes a positive number")))
}

/// Runs a command with inherited stdout/stderr and no stdin (CI has none),
/// echoing it first; a non-zero exit is a [`Failure::Failed`].
pub(crate) fn run(cmd: &mut Command) -> Result<(), Failure> {
    let line = display(cmd);
    println!("$ {line}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| Failure::Failed(format!("could not start `{line}`: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Failed(format!("`{line}` exited with {status}")))
    }
}

/// Whether a command runs and exits 0, with all its output discarded.
pub(crate) fn succeeds_quietly(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the cargo subcommand `cargo <sub>` from the crate `krate` at
/// `version` unless some version of it is already there.
pub(crate) fn ensure_cargo_tool(sub: &str, krate: &str, version: &str) -> Result<(), Failure> {
    if succeeds_quietly(cargo().args([sub, "--version"])) {
        return Ok(());
    }
    println!("`cargo {sub}` is not installed; installing {krate} {version}");
    let start = std::time::Instant::now();
    run(cargo().args(["install", "--locked", krate, "--version", version]))?;
    println!(
        "installed {krate} {version} in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A subcommand's arguments as `main` hands them over, for the tests of
/// the command-line parsers.
#[cfg(test)]
pub(crate) fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_the_shell_would_split() {
        let mut cmd = Command::new("dpkg-query");
        cmd.args(["-W", "--showformat=${Status}", "tshark"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            display(&cmd),
            "RUSTDOCFLAGS='-D warnings' dpkg-query -W '--showformat=${Status}' tshark"
        );
    }

    #[test]
    fn root_holds_the_workspace_manifest() {
        assert!(root().join("Cargo.toml").is_file());
        assert!(root().join("xtask").is_dir());
    }
}
