//! Epoll containers (`srt_epoll_*`): SRT sockets and system sockets,
//! level- and edge-triggered, as libsrt's API reference describes them.
//!
//! A socket's readiness comes from the engine's events (readable,
//! writable, connected, broken, accepted); a subscription reports it
//! level-triggered (as long as it lasts) or, with [`SRT_EPOLL_ET`],
//! edge-triggered (once per rise, cleared when reported or when it falls).
//! System sockets are polled with `poll(2)` and are level-triggered only;
//! a wait on a container holding them checks them every
//! [`SYS_POLL_INTERVAL`] while it also waits for SRT events.

use crate::context::Context;
use crate::error::{code::*, Error};
use crate::state::SrtSocket;
use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Ready for reading, or a listener has a connection to accept.
pub const SRT_EPOLL_IN: i32 = 0x1;
/// Ready for writing, or a connection completed.
pub const SRT_EPOLL_OUT: i32 = 0x4;
/// An error: a broken connection or a failed connection attempt.
pub const SRT_EPOLL_ERR: i32 = 0x8;
/// A group or group listener needs attention (always edge-triggered; never raised without groups).
pub const SRT_EPOLL_UPDATE: i32 = 0x10;
/// Edge-triggered subscription.
pub const SRT_EPOLL_ET: i32 = i32::MIN;
/// Container flag: waiting on an empty container is allowed.
pub const SRT_EPOLL_ENABLE_EMPTY: i32 = 1;
/// Container flag: waiting with no room for the output is an error.
pub const SRT_EPOLL_ENABLE_OUTPUTCHECK: i32 = 2;

/// The event types (everything but [`SRT_EPOLL_ET`]).
const EVENT_TYPES: i32 = SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR | SRT_EPOLL_UPDATE;
/// How often a wait re-checks system sockets while it waits for SRT events.
pub const SYS_POLL_INTERVAL: Duration = Duration::from_millis(5);

/// One ready SRT socket as `srt_epoll_uwait` reports it (`SRT_EPOLL_EVENT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct EpollEvent {
    /// The socket.
    pub fd: SrtSocket,
    /// Its ready events (`SRT_EPOLL_*`).
    pub events: i32,
}

/// The arrays `srt_epoll_wait` fills; `None` is an array not asked for
/// (NULL in C): those sockets are neither collected nor counted.
#[derive(Debug, Default)]
pub struct WaitSets<'a> {
    /// SRT sockets ready for reading (or in error).
    pub read: Option<&'a mut [SrtSocket]>,
    /// SRT sockets ready for writing (or in error).
    pub write: Option<&'a mut [SrtSocket]>,
    /// System sockets ready for reading.
    pub sys_read: Option<&'a mut [RawFd]>,
    /// System sockets ready for writing.
    pub sys_write: Option<&'a mut [RawFd]>,
}

/// How many sockets `srt_epoll_wait` found ready, per array (each may
/// exceed the room given; only that many were written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitCounts {
    /// SRT sockets ready for reading (or in error).
    pub read: usize,
    /// SRT sockets ready for writing (or in error).
    pub write: usize,
    /// System sockets ready for reading.
    pub sys_read: usize,
    /// System sockets ready for writing.
    pub sys_write: usize,
}

impl WaitCounts {
    /// The sum, which `srt_epoll_wait` returns.
    pub fn total(&self) -> usize {
        self.read + self.write + self.sys_read + self.sys_write
    }
}

/// What a broken connection is ready for (libsrt's `updateBrokenConnection`).
const BROKEN: i32 = SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR;

/// One SRT socket's subscription.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sub {
    /// Event types watched.
    watch: i32,
    /// Event types reported edge-triggered.
    edge: i32,
    /// Edges raised and not yet reported.
    pending: i32,
    /// Events not watched that are reported anyway since the socket broke
    /// (libsrt 1.5.1's quirk, see [`Sub::readiness_changed`]).
    spill: i32,
}

impl Sub {
    fn new(events: i32, ready: i32) -> Self {
        let watch = events & EVENT_TYPES;
        let edge = if events & SRT_EPOLL_ET != 0 {
            watch
        } else {
            watch & SRT_EPOLL_UPDATE
        };
        // The state at subscription counts as a rise (as libsrt's addEPoll).
        Sub {
            watch,
            edge,
            pending: ready & watch,
            spill: 0,
        }
    }

    /// The socket's readiness went from `old` to `new`.
    ///
    /// A connection that breaks raises IN, OUT and ERR at once. libsrt
    /// 1.5.1 (`CEPoll::update_events`) then reports all three to a
    /// subscription that watches any one of those that rose, watched or
    /// not (13 to an IN-only subscription), and keeps the unwatched ones
    /// in every later report, edge-triggered or not, until a watched event
    /// falls with them. Programs that look for `SRT_EPOLL_ERR` without
    /// subscribing it see it as with libsrt.
    pub(crate) fn readiness_changed(&mut self, old: i32, new: i32) {
        let (rose, fell) = (new & !old, old & !new);
        self.pending |= rose & self.watch;
        self.pending &= !fell;
        if rose & SRT_EPOLL_ERR != 0 && rose & self.watch & BROKEN != 0 {
            self.spill |= BROKEN & !self.watch;
        }
        if fell & self.watch != 0 {
            self.spill &= !fell;
        }
    }

    /// What a wait reports now, given the socket's readiness.
    fn report(&self, ready: i32) -> i32 {
        (ready & self.watch & !self.edge) | (self.pending & self.edge) | self.spill
    }

    /// Clears the edge-triggered events just reported.
    fn consume(&mut self, reported: i32) {
        self.pending &= !(reported & self.edge);
    }
}

/// One epoll container.
#[derive(Debug, Default)]
pub(crate) struct EpollSet {
    /// Signalled when a subscribed socket's readiness or the subscriptions change.
    pub(crate) cond: crate::state::Signal,
    flags: i32,
    pub(crate) usocks: BTreeMap<SrtSocket, Sub>,
    ssocks: BTreeMap<RawFd, i32>,
}

/// The `poll(2)` events of a system socket subscription.
fn poll_events(events: i32) -> libc::c_short {
    let mut e = 0;
    if events & SRT_EPOLL_IN != 0 {
        e |= libc::POLLIN;
    }
    if events & SRT_EPOLL_OUT != 0 {
        e |= libc::POLLOUT;
    }
    e
}

/// Polls the system sockets once, without waiting; fills `read`/`write`.
fn poll_system(
    ssocks: &BTreeMap<RawFd, i32>,
    fds: &mut Vec<libc::pollfd>,
    read: &mut Vec<RawFd>,
    write: &mut Vec<RawFd>,
) {
    fds.clear();
    fds.extend(ssocks.iter().map(|(&fd, &ev)| libc::pollfd {
        fd,
        events: poll_events(ev),
        revents: 0,
    }));
    if fds.is_empty() || poll_now(fds) <= 0 {
        return;
    }
    for p in fds.iter() {
        let err = p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0;
        let ev = ssocks.get(&p.fd).copied().unwrap_or(0);
        if p.revents & libc::POLLIN != 0 || (err && ev & SRT_EPOLL_IN != 0) {
            read.push(p.fd);
        }
        if p.revents & libc::POLLOUT != 0 || (err && ev & SRT_EPOLL_OUT != 0) {
            write.push(p.fd);
        }
    }
}

/// `poll(2)` without waiting; returns how many descriptors have events.
fn poll_now(fds: &mut [libc::pollfd]) -> i32 {
    // SAFETY: `fds` is a valid, initialised array of `fds.len()` pollfd
    // structs that lives across the call; a timeout of 0 never blocks.
    #[allow(unsafe_code)]
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0)
    }
}

/// Whether `fd` is an open descriptor (`poll` does not say `POLLNVAL`).
fn fd_is_open(fd: RawFd) -> bool {
    let mut p = [libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    }];
    fd >= 0 && poll_now(&mut p) >= 0 && p[0].revents & libc::POLLNVAL == 0
}

fn einvpollid() -> Error {
    Error::Srt(SRT_EINVPOLLID)
}

fn deadline_of(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

/// Copies `items` into `out` as far as it reaches.
fn fill<T: Copy>(out: &mut [T], items: &[T]) {
    for (o, i) in out.iter_mut().zip(items) {
        *o = *i;
    }
}

impl Context {
    /// Creates an epoll container (`srt_epoll_create`).
    pub fn epoll_create(&self) -> Result<i32, Error> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(Error::Srt(SRT_ESCLOSED));
        }
        let eid = st.next_eid;
        st.next_eid = st.next_eid.checked_add(1).unwrap_or(1);
        st.epolls.insert(eid, EpollSet::default());
        Ok(eid)
    }

    /// Deletes an epoll container (`srt_epoll_release`).
    pub fn epoll_release(&self, eid: i32) -> Result<(), Error> {
        let mut st = self.lock();
        let set = st.epolls.get(&eid).ok_or_else(einvpollid)?;
        let ids: Vec<SrtSocket> = set.usocks.keys().copied().collect();
        for u in ids {
            st.unlink_epoll(eid, u);
        }
        if let Some(set) = st.epolls.remove(&eid) {
            set.cond.notify_all();
        }
        Ok(())
    }

    /// Subscribes an SRT socket (`srt_epoll_add_usock`); `None` is
    /// IN | OUT | ERR level-triggered; an existing subscription is replaced.
    pub fn epoll_add_usock(
        &self,
        eid: i32,
        u: SrtSocket,
        events: Option<i32>,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        if !st.epolls.contains_key(&eid) {
            return Err(einvpollid());
        }
        let events = events.unwrap_or(SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR);
        let state = &mut *st;
        let s = state.sockets.get_mut(&u).ok_or(Error::Srt(SRT_EINVSOCK))?;
        let ready = s.ready;
        let set = state.epolls.get_mut(&eid).expect("checked above");
        if events & EVENT_TYPES == 0 && events & SRT_EPOLL_ET != 0 {
            // libsrt: "Specified only SRT_EPOLL_ET flag, but no event flag".
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        if events & EVENT_TYPES == 0 {
            // libsrt: subscribing to nothing removes the subscription.
            set.usocks.remove(&u);
            s.epolls.retain(|e| *e != eid);
        } else {
            set.usocks.insert(u, Sub::new(events, ready));
            if !s.epolls.contains(&eid) {
                s.epolls.push(eid);
            }
        }
        set.cond.notify_all();
        Ok(())
    }

    /// Changes an SRT socket's subscription (`srt_epoll_update_usock`);
    /// readiness for events no longer watched is forgotten.
    pub fn epoll_update_usock(
        &self,
        eid: i32,
        u: SrtSocket,
        events: Option<i32>,
    ) -> Result<(), Error> {
        self.epoll_add_usock(eid, u, events)
    }

    /// Unsubscribes an SRT socket (`srt_epoll_remove_usock`).
    pub fn epoll_remove_usock(&self, eid: i32, u: SrtSocket) -> Result<(), Error> {
        let mut st = self.lock();
        if !st.epolls.contains_key(&eid) {
            return Err(einvpollid());
        }
        st.unlink_epoll(eid, u);
        Ok(())
    }

    /// Removes every SRT socket from a container (`srt_epoll_clear_usocks`).
    pub fn epoll_clear_usocks(&self, eid: i32) -> Result<(), Error> {
        let mut st = self.lock();
        let set = st.epolls.get_mut(&eid).ok_or_else(einvpollid)?;
        let ids: Vec<SrtSocket> = set.usocks.keys().copied().collect();
        for u in ids {
            st.unlink_epoll(eid, u);
        }
        Ok(())
    }

    /// Subscribes a system socket (`srt_epoll_add_ssock`); level-triggered
    /// only (`SRT_EPOLL_ET` is ignored, as libsrt does not support it
    /// there). As libsrt's `epoll_ctl`, a closed descriptor (`EBADF`) or
    /// one already subscribed (`EEXIST`) fails, with code 0 (libsrt 1.5.1's
    /// default exception) and the errno.
    pub fn epoll_add_ssock(&self, eid: i32, fd: RawFd, events: Option<i32>) -> Result<(), Error> {
        self.ssock_ctl(eid, fd, Some(events), false)
    }

    /// Changes a system socket's subscription (`srt_epoll_update_ssock`);
    /// one not subscribed fails (`ENOENT`, code 0).
    pub fn epoll_update_ssock(
        &self,
        eid: i32,
        fd: RawFd,
        events: Option<i32>,
    ) -> Result<(), Error> {
        self.ssock_ctl(eid, fd, Some(events), true)
    }

    /// Unsubscribes a system socket (`srt_epoll_remove_ssock`); one not
    /// subscribed fails (`ENOENT`, code 0).
    pub fn epoll_remove_ssock(&self, eid: i32, fd: RawFd) -> Result<(), Error> {
        self.ssock_ctl(eid, fd, None, true)
    }

    /// Adds (`events` given, `existing` false), changes (`events` given,
    /// `existing` true) or removes (`events` `None`) a system socket, with
    /// the errors of `epoll_ctl`.
    fn ssock_ctl(
        &self,
        eid: i32,
        fd: RawFd,
        events: Option<Option<i32>>,
        existing: bool,
    ) -> Result<(), Error> {
        let mut st = self.lock();
        let set = st.epolls.get_mut(&eid).ok_or_else(einvpollid)?;
        // libsrt 1.5.1 throws a default CUDTException here: code
        // SRT_SUCCESS (0) with the errno, and returns SRT_ERROR.
        let ctl_error =
            |errno| Error::system(0, "epoll_ctl", std::io::Error::from_raw_os_error(errno));
        if set.ssocks.contains_key(&fd) != existing {
            return Err(ctl_error(if existing {
                libc::ENOENT
            } else {
                libc::EEXIST
            }));
        }
        match events {
            None => {
                set.ssocks.remove(&fd);
            }
            Some(events) => {
                if !fd_is_open(fd) {
                    return Err(ctl_error(libc::EBADF));
                }
                let all = SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR;
                set.ssocks.insert(fd, events.unwrap_or(all) & EVENT_TYPES);
                set.cond.notify_all();
            }
        }
        Ok(())
    }

    /// Sets container flags (`srt_epoll_set`): `-1` only reads them, `0`
    /// clears them, anything else adds to them. Returns the flags before.
    pub fn epoll_set(&self, eid: i32, flags: i32) -> Result<i32, Error> {
        let mut st = self.lock();
        let set = st.epolls.get_mut(&eid).ok_or_else(einvpollid)?;
        let old = set.flags;
        match flags {
            -1 => {}
            0 => set.flags = 0,
            f => set.flags |= f,
        }
        Ok(old)
    }

    /// Waits until a subscribed socket is ready (`srt_epoll_wait`); a
    /// `timeout` of `None` waits forever. Ready sockets are written into
    /// the arrays of `sets` as far as they reach; an array that is `None`
    /// is not collected or counted (a NULL array in C). An error counts as
    /// both read- and write-ready; `SRT_EPOLL_UPDATE` is not reported.
    /// Errors: `SRT_ETIMEOUT` if nothing became ready in time;
    /// `SRT_EPOLLEMPTY` on an empty container without
    /// `SRT_EPOLL_ENABLE_EMPTY`; `SRT_EINVPARAM` when no array is given
    /// and the wait is endless, or, with `SRT_EPOLL_ENABLE_OUTPUTCHECK`,
    /// when either array of a kind of socket the container holds is missing.
    pub fn epoll_wait(
        &self,
        eid: i32,
        sets: WaitSets<'_>,
        timeout: Option<Duration>,
    ) -> Result<WaitCounts, Error> {
        let WaitSets {
            read,
            write,
            sys_read,
            sys_write,
        } = sets;
        if read.is_none()
            && write.is_none()
            && sys_read.is_none()
            && sys_write.is_none()
            && timeout.is_none()
        {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        let deadline = deadline_of(timeout);
        let (mut r, mut w, mut sr, mut sw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut fds = Vec::new();
        let mut st = self.lock();
        loop {
            let state = &mut *st;
            let set = state.epolls.get_mut(&eid).ok_or_else(einvpollid)?;
            check_waitable(set)?;
            if set.flags & SRT_EPOLL_ENABLE_OUTPUTCHECK != 0
                && ((!set.usocks.is_empty() && (read.is_none() || write.is_none()))
                    || (!set.ssocks.is_empty() && (sys_read.is_none() || sys_write.is_none())))
            {
                return Err(Error::Srt(SRT_EINVPARAM));
            }
            r.clear();
            w.clear();
            for (&u, sub) in set.usocks.iter_mut() {
                let ready = state.sockets.get(&u).map_or(0, |s| s.ready);
                let bits = sub.report(ready) & !SRT_EPOLL_UPDATE;
                if bits == 0 {
                    continue;
                }
                // As libsrt, a reported edge is spent even where no array takes it.
                sub.consume(bits);
                if read.is_some() && bits & (SRT_EPOLL_IN | SRT_EPOLL_ERR) != 0 {
                    r.push(u);
                }
                if write.is_some() && bits & (SRT_EPOLL_OUT | SRT_EPOLL_ERR) != 0 {
                    w.push(u);
                }
            }
            sr.clear();
            sw.clear();
            if sys_read.is_some() || sys_write.is_some() {
                poll_system(&set.ssocks, &mut fds, &mut sr, &mut sw);
                if sys_read.is_none() {
                    sr.clear();
                }
                if sys_write.is_none() {
                    sw.clear();
                }
            }
            let has_sys = !set.ssocks.is_empty();
            let counts = WaitCounts {
                read: r.len(),
                write: w.len(),
                sys_read: sr.len(),
                sys_write: sw.len(),
            };
            if counts.total() > 0 {
                for (out, found) in [(read, &r), (write, &w)] {
                    if let Some(out) = out {
                        fill(out, found);
                    }
                }
                for (out, found) in [(sys_read, &sr), (sys_write, &sw)] {
                    if let Some(out) = out {
                        fill(out, found);
                    }
                }
                return Ok(counts);
            }
            let cond = set.cond.clone();
            st = self.wait_epoll(st, &cond, deadline, has_sys)?;
        }
    }

    /// Waits until a subscribed SRT socket is ready (`srt_epoll_uwait`)
    /// and reports each with all its events (`SRT_EPOLL_UPDATE` included).
    /// Returns how many were written, `out.len() + 1` if more were ready
    /// (edge-triggered events not written stay pending), or 0 on timeout.
    /// `SRT_EINVPARAM` on a container with system sockets.
    pub fn epoll_uwait(
        &self,
        eid: i32,
        out: &mut [EpollEvent],
        timeout: Option<Duration>,
    ) -> Result<usize, Error> {
        let deadline = deadline_of(timeout);
        let mut st = self.lock();
        loop {
            let state = &mut *st;
            let set = state.epolls.get_mut(&eid).ok_or_else(einvpollid)?;
            // libsrt 1.5.1's order; only SRT sockets count as subscribed here.
            if set.usocks.is_empty() && set.flags & SRT_EPOLL_ENABLE_EMPTY == 0 {
                return Err(Error::Srt(SRT_EPOLLEMPTY));
            }
            if set.flags & SRT_EPOLL_ENABLE_OUTPUTCHECK != 0 && out.is_empty() {
                return Err(Error::Srt(SRT_EINVPARAM));
            }
            if !set.ssocks.is_empty() {
                return Err(Error::Srt(SRT_EINVPARAM));
            }
            let mut n = 0;
            for (&u, sub) in set.usocks.iter_mut() {
                let ready = state.sockets.get(&u).map_or(0, |s| s.ready);
                let bits = sub.report(ready);
                if bits == 0 {
                    continue;
                }
                if n == out.len() {
                    return Ok(n + 1);
                }
                sub.consume(bits);
                out[n] = EpollEvent {
                    fd: u,
                    events: bits,
                };
                n += 1;
            }
            if n > 0 {
                return Ok(n);
            }
            let cond = set.cond.clone();
            st = match self.wait_epoll(st, &cond, deadline, false) {
                Err(e) if e.code() == SRT_ETIMEOUT => return Ok(0),
                r => r?,
            };
        }
    }

    /// Accepts a connection on whichever of `listeners` has one first
    /// (`srt_accept_bond`), waiting up to `timeout` (`None`: forever;
    /// `SRT_ETIMEOUT` after it). `SRT_EINVPARAM` for no listeners,
    /// `SRT_EINVSOCK` or `SRT_ENOLISTEN` for one that is not a listener.
    pub fn accept_bond(
        &self,
        listeners: &[SrtSocket],
        timeout: Option<Duration>,
    ) -> Result<(SrtSocket, std::net::SocketAddr), Error> {
        if listeners.is_empty() {
            return Err(Error::Srt(SRT_EINVPARAM));
        }
        {
            let st = self.lock();
            for l in listeners {
                let s = st.sockets.get(l).ok_or(Error::Srt(SRT_EINVSOCK))?;
                if s.accept_queue.is_none() {
                    return Err(Error::Srt(SRT_ENOLISTEN));
                }
            }
        }
        // As libsrt: an epoll container of its own for the wait.
        let eid = self.epoll_create()?;
        let result = (|| {
            for l in listeners {
                self.epoll_add_usock(eid, *l, Some(SRT_EPOLL_IN))?;
            }
            let mut ready = [EpollEvent::default()];
            match self.epoll_uwait(eid, &mut ready, timeout)? {
                0 => Err(Error::Srt(SRT_ETIMEOUT)),
                _ => self.accept(ready[0].fd),
            }
        })();
        let _ = self.epoll_release(eid);
        result
    }

    /// One wait of an epoll call: for the worker's signal, and no longer
    /// than [`SYS_POLL_INTERVAL`] when system sockets must be polled too.
    fn wait_epoll<'a>(
        &'a self,
        st: std::sync::MutexGuard<'a, crate::state::State>,
        cond: &std::sync::Condvar,
        deadline: Option<Instant>,
        has_sys: bool,
    ) -> Result<std::sync::MutexGuard<'a, crate::state::State>, Error> {
        if !has_sys {
            return self.wait(st, cond, deadline);
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(Error::Srt(SRT_ETIMEOUT));
        }
        let slice = Instant::now() + SYS_POLL_INTERVAL;
        let d = deadline.map_or(slice, |d| d.min(slice));
        match self.wait(st, cond, Some(d)) {
            Err(e) if e.code() == SRT_ETIMEOUT => Ok(self.lock()),
            r => r,
        }
    }
}

/// `SRT_EPOLLEMPTY` for a container with nothing to wait for.
fn check_waitable(set: &EpollSet) -> Result<(), Error> {
    if set.usocks.is_empty() && set.ssocks.is_empty() && set.flags & SRT_EPOLL_ENABLE_EMPTY == 0 {
        return Err(Error::Srt(SRT_EPOLLEMPTY));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_reports_while_ready_edge_once_per_rise() {
        let mut lt = Sub::new(SRT_EPOLL_IN, 0);
        let mut et = Sub::new(SRT_EPOLL_IN | SRT_EPOLL_ET, 0);
        assert_eq!((lt.report(0), et.report(0)), (0, 0));
        lt.readiness_changed(0, SRT_EPOLL_IN);
        et.readiness_changed(0, SRT_EPOLL_IN);
        for _ in 0..2 {
            assert_eq!(lt.report(SRT_EPOLL_IN), SRT_EPOLL_IN);
            lt.consume(SRT_EPOLL_IN);
        }
        assert_eq!(et.report(SRT_EPOLL_IN), SRT_EPOLL_IN);
        et.consume(SRT_EPOLL_IN);
        assert_eq!(et.report(SRT_EPOLL_IN), 0, "an edge is reported once");
        // It falls and rises again: a new edge.
        et.readiness_changed(SRT_EPOLL_IN, 0);
        et.readiness_changed(0, SRT_EPOLL_IN);
        assert_eq!(et.report(SRT_EPOLL_IN), SRT_EPOLL_IN);
        // A rise that falls before any wait is not reported.
        let mut et2 = Sub::new(SRT_EPOLL_IN | SRT_EPOLL_ET, 0);
        et2.readiness_changed(0, SRT_EPOLL_IN);
        et2.readiness_changed(SRT_EPOLL_IN, 0);
        assert_eq!(et2.report(0), 0);
    }

    #[test]
    fn a_break_reports_unwatched_events_as_libsrt() {
        const OUT: i32 = SRT_EPOLL_OUT;
        let mut lt = Sub::new(SRT_EPOLL_IN, OUT);
        let mut et = Sub::new(SRT_EPOLL_IN | SRT_EPOLL_ET, OUT);
        let mut out = Sub::new(OUT, OUT);
        for sub in [&mut lt, &mut et, &mut out] {
            sub.readiness_changed(OUT, BROKEN);
        }
        for _ in 0..2 {
            assert_eq!(lt.report(BROKEN), BROKEN);
            lt.consume(BROKEN);
        }
        assert_eq!(et.report(BROKEN), BROKEN);
        et.consume(BROKEN);
        assert_eq!(et.report(BROKEN), OUT | SRT_EPOLL_ERR, "the unwatched stay");
        // OUT was already up and nothing it watches rose: as before.
        assert_eq!(out.report(BROKEN), OUT);
        // A readable socket (IN already up) that breaks: nothing watched rose.
        let mut readable = Sub::new(SRT_EPOLL_IN, SRT_EPOLL_IN | OUT);
        readable.readiness_changed(SRT_EPOLL_IN | OUT, BROKEN);
        assert_eq!(readable.report(BROKEN), SRT_EPOLL_IN);
        // A watched event falling takes the spilled ones that fall with it.
        lt.readiness_changed(BROKEN, 0);
        assert_eq!(lt.report(0), 0);
    }

    #[test]
    fn subscription_takes_current_readiness_and_watch_mask() {
        let et = Sub::new(SRT_EPOLL_OUT | SRT_EPOLL_ET, SRT_EPOLL_IN | SRT_EPOLL_OUT);
        assert_eq!(et.report(SRT_EPOLL_IN | SRT_EPOLL_OUT), SRT_EPOLL_OUT);
        let lt = Sub::new(SRT_EPOLL_IN, SRT_EPOLL_OUT);
        assert_eq!(lt.report(SRT_EPOLL_OUT), 0);
    }
}
