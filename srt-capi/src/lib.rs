//! libsrt 1.5's C API: `include/srt/srt.h` and the library behind it,
//! built as `libsrt.so` (SONAME `libsrt.so.1.5`) and `libsrt.a`.
//!
//! Names, values and struct layouts are libsrt 1.5.1's (tests/header.rs
//! checks them against Debian's headers); behaviour is libsrt's too
//! (tests/differential.rs runs the same C programs against Debian's
//! libsrt and this library and compares their output).
//!
//! Every exported function runs its body through one wrapper
//! (`guard::api_call`): a Rust error becomes the thread's last error
//! (`srt_getlasterror`) and libsrt's failure value, and a panic is caught
//! there, so none unwinds into C. Pointers from C are checked for NULL
//! before use.
//!
//! # Building and using it
//!
//! `cargo build -p srt-capi` writes `target/debug/libsrt.so` and
//! `libsrt.a`. `cargo xtask capi [--release] [--prefix DIR]` lays them out
//! as an installed libsrt (`DIR/include/srt/*.h`, `DIR/lib/libsrt.so.1.5`,
//! `libsrt.a`, `DIR/lib/pkgconfig/srt.pc` made from `srt.pc.in`; DIR is
//! `target/capi` by default), so a libsrt program builds with
//! `PKG_CONFIG_PATH=DIR/lib/pkgconfig pkg-config --cflags --libs srt`
//! (`--static` adds what Rust's standard library needs).
//!
//! # Tests
//!
//! - `tests/header.rs`: `tests/c/header_check.c` (every constant, every
//!   struct layout) prints the same against Debian's headers and ours,
//!   as C and C++; it names everything Debian's headers define; every
//!   declaration has Debian's type.
//! - `tests/differential.rs`: each C program of `tests/c/` prints the same
//!   linked with Debian's `libsrt.a` and with ours (as C and C++), and
//!   runs clean under valgrind with ours.
//! - `tests/library.rs`: SONAME and exported symbols.
//!
//! Built so far: library start/stop, errors and their messages, version,
//! clock, logging configuration, `SRT_MSGCTRL` defaults, and the group
//! functions as Debian's libsrt answers them without bonding. Sockets and
//! epoll come with srt-mio.

// A C ABI cannot be written without `unsafe` and `#[no_mangle]`; each
// `unsafe` block says why it is sound.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod addr;
pub mod api;
pub mod error;
mod guard;
pub mod types;
