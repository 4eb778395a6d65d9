//! Sync, epoll-style SRT sockets on mio (not yet implemented; see the issue tracker).
