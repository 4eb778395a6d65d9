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
//! # Sockets
//!
//! Sockets, options, transmission and epoll run on one process-wide
//! `srt_mio::Context`: `srt_startup` starts it (so does the first
//! `srt_create_socket` or `srt_epoll_create`, as in libsrt), the last
//! `srt_cleanup` closes every socket and container and stops its worker,
//! and so does the end of the process. Where srt-mio's checks differ from
//! libsrt's C layer, the export answers as libsrt 1.5.1 does (an unknown
//! socket in `srt_bind` is `SRT_EINVPARAM`, `srt_getsockopt` writes `int`
//! and `bool` values without looking at the length, the options Debian's
//! 1.5.1 does not know are unknown, `srt_epoll_wait` writes back the
//! number it wrote...); each is said where it is done.
//!
//! A listen callback runs on a worker thread while the engine decides.
//! As with libsrt, its `ns` is the ID `srt_accept` will return for the
//! connection; until then `srt_setsockflag`, `srt_getsockflag` and
//! `srt_setrejectreason` on that ID act on the pending connection; other
//! socket calls from a callback would deadlock.
//!
//! `srt_connection_time` is the time the socket was bound or accepted
//! (libsrt's start time) on `srt_time_now`'s clock. Nothing Debian's
//! libsrt does not export is exported. `srt_sendmsg2` writes back the
//! source time, first sequence number and message number, and takes a
//! forced message number, as libsrt; `srt_bstats` reports the buffer
//! fields as moving averages and `srt_bistats(.., instantaneous = 1)` their
//! current values, as libsrt. `srt_bind_acquire` takes the descriptor only
//! when it succeeds (a refused one stays open, as with libsrt).
//!
//! # Tests
//!
//! - `tests/header.rs`: `tests/c/header_check.c` (every constant, every
//!   struct layout) prints the same against Debian's headers and ours,
//!   as C and C++; it names everything Debian's headers define; every
//!   declaration has Debian's type.
//! - `tests/differential.rs`: each C program of `tests/c/` prints the same
//!   linked with Debian's `libsrt.a` and with ours (as C and C++):
//!   `no_socket` (the socket-free functions), `socket_lifecycle`,
//!   `socket_misuse` (unknown IDs, NULL pointers, wrong states,
//!   timeouts, `srt_bind_acquire`, `srt_connect_debug`'s forced ISN),
//!   `epoll`, `callbacks`, `file_transfer` (and rendezvous); each also
//!   runs clean under valgrind with ours. A test checks that every
//!   exported function is called by one of them.
//!   `epoll_thousand` (1,000 accepted sockets in one container, level-
//!   and edge-triggered) is checked against its expected output, and under
//!   valgrind with 100 sockets.
//! - `tests/library.rs`: SONAME and exported symbols (only libsrt's).
//! - `tests/dropin.rs`: Debian's ffmpeg on our `libsrt.so` (through
//!   `LD_LIBRARY_PATH`) streams to and from Debian's `srt-live-transmit`.

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
