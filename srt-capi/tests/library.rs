//! The built library as a file: SONAME, exported symbols.

mod common;

use common::{debian_shared_lib, our_lib_dir, run_command};
use std::collections::BTreeMap;
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

/// The global symbols a shared library defines: name → (kind, size).
/// Kind is nm's letter: T code, D/R/B data.
fn defined_symbols(lib: &std::path::Path) -> BTreeMap<String, (char, u64)> {
    run_command(
        Command::new("nm")
            .args(["-D", "-S", "--defined-only"])
            .arg(lib),
    )
    .lines()
    .filter_map(|line| {
        // "address size kind name" (size is missing for some symbols)
        let words: Vec<&str> = line.split_whitespace().collect();
        let [.., size, kind, name] = words[..] else {
            return None;
        };
        let kind = kind.chars().next()?;
        let size = u64::from_str_radix(size, 16).unwrap_or(0);
        "TDRBV"
            .contains(kind)
            .then(|| (name.to_string(), (kind, size)))
    })
    .collect()
}

/// Every symbol we export is one that libsrt 1.5.1 exports (nothing of
/// Rust's leaks out), each data object with libsrt's size (a program
/// linked against one library copies it by that size), and the C API
/// functions built so far are there.
#[test]
fn exports_are_libsrt_symbols() {
    let ours = defined_symbols(&our_lib_dir().join("libsrt.so"));
    let debian = defined_symbols(&debian_shared_lib());
    let foreign: Vec<&String> = ours.keys().filter(|n| !debian.contains_key(*n)).collect();
    assert!(
        foreign.is_empty(),
        "exported but not by libsrt: {foreign:?}"
    );
    for (name, &(kind, size)) in &ours {
        if kind != 'T' {
            assert_eq!(size, debian[name].1, "size of the data object {name}");
        }
    }
    for name in [
        "srt_startup",
        "srt_strerror",
        "srt_msgctrl_default",
        "srt_rejectreason_msg",
        "srt_create_socket",
        "srt_setsockflag",
        "srt_sendmsg2",
        "srt_recvmsg2",
        "srt_bstats",
        "srt_epoll_uwait",
        "srt_listen_callback",
    ] {
        assert!(ours.contains_key(name), "{name} is not exported");
    }
}
