//! The exported functions and data of libsrt's C API, by topic.
//!
//! Socket functions (create, bind, connect, send, epoll..) come with the
//! srt-mio driver; until then the library does not export them.

pub mod diagnostics;
pub mod groups;
pub mod library;
pub mod logging;
pub mod msgctrl;
