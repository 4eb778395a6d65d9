//! The built library as a file: SONAME, exported symbols.

mod common;

use common::{debian_shared_lib, our_lib_dir, run_command};
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn shared_library_has_libsrt_soname() {
    let so = our_lib_dir().join("libsrt.so");
    let dynamic = run_command(Command::new("readelf").arg("-d").arg(&so));
    assert!(
        dynamic.contains("Library soname: [libsrt.so.1.5]"),
        "{} has no SONAME libsrt.so.1.5:\n{dynamic}",
        so.display()
    );
}

/// The global symbols a shared library defines.
fn defined_symbols(lib: &std::path::Path) -> BTreeSet<String> {
    run_command(Command::new("nm").args(["-D", "--defined-only"]).arg(lib))
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().skip(1);
            let (kind, name) = (words.next()?, words.next()?);
            "TDRBV".contains(kind).then(|| name.to_string())
        })
        .collect()
}

/// Every symbol we export is one that libsrt 1.5.1 exports (nothing of
/// Rust's leaks out), and the C API functions built so far are there.
#[test]
fn exports_are_libsrt_symbols() {
    let ours = defined_symbols(&our_lib_dir().join("libsrt.so"));
    let debian = defined_symbols(&debian_shared_lib());
    let foreign: Vec<&String> = ours.difference(&debian).collect();
    assert!(
        foreign.is_empty(),
        "exported but not by libsrt: {foreign:?}"
    );
    for name in [
        "srt_startup",
        "srt_strerror",
        "srt_msgctrl_default",
        "srt_rejectreason_msg",
    ] {
        assert!(ours.contains(name), "{name} is not exported");
    }
}
