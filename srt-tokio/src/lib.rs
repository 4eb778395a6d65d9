//! Async SRT sockets for tokio (not yet implemented; see the issue tracker).
