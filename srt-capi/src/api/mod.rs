//! The exported functions and data of libsrt's C API, by topic.
//!
//! Sockets, options, transmission and epoll run on one process-wide
//! `srt_mio::Context` (library.rs), started by `srt_startup` or by the
//! first socket or epoll container, stopped by the last `srt_cleanup`.

pub mod diagnostics;
pub mod epoll;
pub mod groups;
pub mod library;
pub mod logging;
pub mod msgctrl;
pub mod options;
pub mod sockets;
pub mod transmission;
