//! Helpers shared by the C tests: where Debian's libsrt and ours are,
//! compiling and running a C program, and comparing two outputs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Debian's include directory, after checking that libsrt's headers are
/// there (the tests fail, never skip, without them).
pub(crate) fn debian_include() -> PathBuf {
    let dir = PathBuf::from("/usr/include");
    assert!(
        dir.join("srt/srt.h").is_file(),
        "Debian's /usr/include/srt/srt.h is missing: install libsrt-openssl-dev \
         (apt-get install libsrt-openssl-dev, or run `cargo xtask ci`)"
    );
    dir
}

/// Our include directory (`srt-capi/include`).
pub(crate) fn our_include() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// A C source of `tests/c/`.
pub(crate) fn c_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(name)
}

/// A fresh scratch path for build products of this test binary.
pub(crate) fn scratch(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// A compiler and language standard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lang {
    /// `-std=` value: `gnu11`, `c99`, `c++17`..
    pub(crate) std: &'static str,
    /// Compile the source as C++ (with `c++`).
    pub(crate) cxx: bool,
}

impl Lang {
    /// C as the differential tests build it: `cc -std=gnu11`.
    pub(crate) const C: Lang = Lang {
        std: "gnu11",
        cxx: false,
    };
    /// C++ as the header check builds it: `c++ -std=gnu++17`.
    pub(crate) const CXX: Lang = Lang {
        std: "gnu++17",
        cxx: true,
    };
}

/// Compiles `source` with `-I include`, warnings as errors, linked with
/// `link` (library arguments), into `out`; panics with the compiler's
/// message on failure.
pub(crate) fn compile(lang: Lang, source: &Path, include: &Path, link: &[String], out: &Path) {
    compile_with(lang, source, include, &[], link, out);
}

/// [`compile`] with extra compiler flags (`-D...`) before the source.
pub(crate) fn compile_with(
    lang: Lang,
    source: &Path,
    include: &Path,
    cflags: &[&str],
    link: &[String],
    out: &Path,
) {
    let mut cmd = Command::new(if lang.cxx { "c++" } else { "cc" });
    cmd.arg(format!("-std={}", lang.std)).args(cflags);
    if lang.cxx {
        cmd.args(["-x", "c++"]);
    }
    cmd.args(["-Wall", "-Wextra", "-Werror", "-g", "-I"])
        .arg(include)
        .arg(source);
    if lang.cxx {
        cmd.args(["-x", "none"]);
    }
    cmd.args(link).arg("-o").arg(out);
    run_command(&mut cmd);
}

/// Runs `program` and returns its standard output; panics if it fails.
pub(crate) fn run(program: &Path) -> String {
    run_command(&mut Command::new(program))
}

/// Runs `cmd` and returns its standard output; panics if it fails.
pub(crate) fn run_command(cmd: &mut Command) -> String {
    let result = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} ({e}): `cargo xtask ci` installs the tools tests need")
    });
    assert!(
        result.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        result.status,
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    String::from_utf8(result.stdout).expect("output is UTF-8")
}

/// Panics with a unified diff if `ours` differs from `debian`.
pub(crate) fn assert_same_output(what: &str, debian: &str, ours: &str) {
    if debian == ours {
        return;
    }
    let a = scratch(&format!("{what}.debian.txt"));
    let b = scratch(&format!("{what}.ours.txt"));
    std::fs::write(&a, debian).unwrap();
    std::fs::write(&b, ours).unwrap();
    let diff = Command::new("diff")
        .arg("-u")
        .arg(&a)
        .arg(&b)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("(diff failed: {e})"));
    panic!("{what}: our output differs from libsrt's (Debian's 1.5.1, or the 1.5.5 peer kit for a `_kit` program; - libsrt, + ours):\n{diff}");
}

/// Cargo's output directory of this build (`target/debug`: two levels
/// above this test binary), after building `libsrt.so` and `libsrt.a`
/// there (once per test binary). `cargo test` itself builds only the
/// Rust library that the tests link, not the C libraries.
pub(crate) fn our_lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
            let profile = match dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev",
                Some(other) => other,
            };
            run_command(Command::new(env!("CARGO")).args([
                "build",
                "--quiet",
                "-p",
                "srt-capi",
                "--lib",
                "--profile",
                profile,
            ]));
            for lib in ["libsrt.a", "libsrt.so"] {
                assert!(
                    dir.join(lib).is_file(),
                    "{} is missing",
                    dir.join(lib).display()
                );
            }
            dir
        })
        .clone()
}

/// Debian's libsrt.so.1.5 (checked to exist).
pub(crate) fn debian_shared_lib() -> PathBuf {
    let lib = PathBuf::from("/usr/lib/x86_64-linux-gnu/libsrt.so.1.5");
    assert!(
        lib.is_file(),
        "{} is missing: install libsrt-openssl-dev",
        lib.display()
    );
    lib
}
