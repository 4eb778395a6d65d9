//! Sync, epoll-style SRT sockets on mio: the layer under `srt-capi`, and a
//! Rust API for applications without an async runtime.
//!
//! A [`Context`] owns everything: the handle table of SRT sockets (libsrt's
//! `SRTSOCKET` IDs: a random start below 2³⁰, counting down), the
//! multiplexers (one UDP socket each, shared by every SRT socket bound to
//! the same address, with one [`srt_proto::Endpoint`], or one per worker
//! once it listens), the epoll containers, and a pool of worker threads
//! ([`default_workers`]: `SRT_WORKERS`, else one per core;
//! [`Context::with_workers`]) that run the engines: each worker has a
//! `mio::Poll` over the UDP sockets it reads plus a `Waker` for
//! application calls, and sleeps until the earliest timer of its engines.
//!
//! Calls follow libsrt's C API one to one (`srt_bind` is
//! [`Context::bind`], `srt_epoll_wait` is [`Context::epoll_wait`], ...),
//! with libsrt's states ([`SockStatus`]), blocking rules (`SRTO_RCVSYN`,
//! `SRTO_SNDSYN` and their timeouts) and error codes ([`Error::code`]).
//! Blocking calls park on their socket's (or container's) condition
//! variable, which the worker signals when an engine event changes it.
//!
//! Where libsrt 1.5.1 and its API reference disagree, this follows
//! libsrt (a failed non-blocking connect is `SRTS_BROKEN`; a blocking
//! `accept` has no timeout; a socket that breaks reports IN, OUT and ERR
//! to an epoll subscription watching any of them); accept and connect
//! callbacks run on a worker (the accept callback with the listening
//! engine locked, the connect callback with the context locked) and must
//! not call it. Unlike libsrt, a socket added to an epoll container reports what it
//! is ready for at once even when it is listening or broken (libsrt 1.5.1
//! reports those only from their next change).
//!
//! The workers run the one sync driver of the engine ([`driver`]), which
//! `srt-tools` runs too through [`driver::UdpDriver`] (one engine on one
//! socket, in the caller's thread). Its I/O is `srt-udp`'s: datagrams are read several per
//! `recvmmsg` (GRO runs split back into datagrams) and sent in batches, each
//! run of equal datagrams in one GSO `sendmsg`, from buffers each worker
//! owns (none per multiplexer); while every connected socket is live, a
//! worker wakes at most once per tick (a 64th of the latency, 0.5 to
//! 1.875 ms) and handles together what arrived, what the application asked
//! and what fell due, as `srt-transmit` does.
//!
//! Each engine has its own lock, so the workers run their engines at the
//! same time; a listening port has one engine shard per worker, each
//! datagram going to the shard of its sender's address (the worker that
//! reads the port hands the others' datagrams over). One more lock, the
//! context's, covers the handle table and the containers; each socket and
//! container has its own condition variable, so an event wakes only the
//! threads waiting on what it changed. Limits, as built: a port spreads
//! over the workers only if it had no connection when it began listening;
//! the listen backlog applies per shard; a worker's sleep is rounded up to
//! whole milliseconds by `epoll_wait`; system sockets in an epoll container
//! are polled every [`epoll::SYS_POLL_INTERVAL`] while a wait also watches
//! SRT sockets; `SRT_EPOLL_UPDATE` is never raised.
//!
//! Socket groups (libsrt's bonding API, [`group`]): [`Context::create_group`]
//! gives a group ID (bit 30 set) that `sendmsg`, `recvmsg`, `close`, the
//! options and epoll take like a socket's; [`Context::connect_group`]
//! connects it to several listeners at once; a listener with
//! `SRTO_GROUPCONNECT` accepts groups.
//!
//! Options libsrt lets change on a connected socket take effect at once:
//! [`Context::set_option`] and [`Context::configure`] hand `SRTO_MAXBW`,
//! `SRTO_INPUTBW`, `SRTO_MININPUTBW`, `SRTO_OHEADBW`, `SRTO_SNDDROPDELAY`,
//! `SRTO_DRIFTTRACER`, `SRTO_LOSSMAXTTL` and `SRTO_LINGER` to the engine
//! ([`srt_proto::Connection::apply_options`]), of a caller or an accepted
//! socket alike; the blocking modes and timeouts are read by `srt-mio`
//! itself at each call. `SRTO_MAXREXMITBW` is stored but not used.
//!
//! ```no_run
//! use srt_mio::Context;
//! let ctx = Context::new()?;
//! let listener = ctx.create_socket()?;
//! ctx.bind(listener, "127.0.0.1:9000".parse().unwrap())?;
//! ctx.listen(listener, 10)?;
//! let (socket, _peer) = ctx.accept(listener)?;
//! let mut buf = [0u8; 1500];
//! let n = ctx.recv(socket, &mut buf)?;
//! # Ok::<(), srt_mio::Error>(())
//! ```
//!
//! Many sockets in one thread, with an epoll container:
//!
//! ```no_run
//! use srt_mio::epoll::SRT_EPOLL_IN;
//! use srt_mio::{Context, EpollEvent, OptionValue, SockOpt};
//! use std::time::Duration;
//! let ctx = Context::new()?;
//! let listener = ctx.create_socket()?;
//! ctx.set_option(listener, SockOpt::RcvSyn, OptionValue::Bool(false))?;
//! ctx.bind(listener, "127.0.0.1:9000".parse().unwrap())?;
//! ctx.listen(listener, 100)?;
//! let eid = ctx.epoll_create()?;
//! ctx.epoll_add_usock(eid, listener, Some(SRT_EPOLL_IN))?;
//! let mut ready = [EpollEvent::default(); 64];
//! let mut buf = [0u8; 1500];
//! loop {
//!     let n = ctx.epoll_uwait(eid, &mut ready, Some(Duration::from_secs(1)))?;
//!     for e in &ready[..n.min(ready.len())] {
//!         if e.fd == listener {
//!             // Accepted sockets inherit SRTO_RCVSYN = false.
//!             let (s, _peer) = ctx.accept(listener)?;
//!             ctx.epoll_add_usock(eid, s, Some(SRT_EPOLL_IN))?;
//!         } else {
//!             while let Ok(len) = ctx.recv(e.fd, &mut buf) {
//!                 println!("{len} bytes from {}", e.fd);
//!             }
//!         }
//!     }
//! }
//! # Ok::<(), srt_mio::Error>(())
//! ```

mod bind;
mod context;
pub mod driver;
pub mod epoll;
mod error;
pub mod group;
mod shard;
mod state;
mod worker;

pub use context::{default_workers, Context, SockStatus, MAX_WORKERS};
pub use epoll::{EpollEvent, WaitCounts, WaitSets};
pub use error::{code, describe, AcquireError, Error};
pub use group::{GroupMemberData, GroupType, MemberConfig, MemberState};
/// The engine's types that this API takes and gives.
pub use srt_proto::{
    options::{OptionValue, SockOpt},
    packet::RejectReason,
    seq::{MsgNumber, SeqNumber},
    stats::TraceBStats,
    AcceptHook, ConnectionRequest, MsgCtrl, RecvInfo, Sent, SocketOptions,
};
pub use state::{ConnectCallback, ListenCallback, SrtSocket};
