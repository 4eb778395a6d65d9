//! Batched UDP I/O for the drivers of the SRT engine.
//!
//! A driver hands the engine's datagrams to the kernel and the kernel's to
//! the engine; done one system call per datagram, a live stream of 10,000
//! packets a second wakes every thread on its way once per packet. Here:
//! - [`SendBatch`] queues datagrams back to back in one preallocated
//!   buffer; each run of equal size and destination goes to the kernel in
//!   one `sendmsg` with UDP segmentation offload (GSO), which also wakes a
//!   receiver on the same host once per run;
//! - [`RecvBatch`] fills several buffers per `recvmmsg`, each possibly a
//!   run the kernel coalesced (GRO), and hands out one datagram at a time.
//!
//! The system calls and their fallbacks are `quinn-udp`'s; this crate only
//! arranges the buffers, so that the per-packet path allocates nothing.
//! [`SyncUdp`] puts both on a non-blocking std socket; the tokio driver
//! and `srt-mio`'s worker (one pair of batches for all its sockets, with
//! [`send_batch`]) use the batches with their own readiness.

use arrayvec::ArrayVec;
use quinn_udp::{RecvMeta, Transmit, UdpSockRef};
use std::io::{self, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;

pub use quinn_udp::UdpSocketState;

/// The most datagrams queued before they must go to the kernel.
pub const BATCH: usize = 64;
/// Room for one datagram (the engine's MSS is at most 1500).
pub const SLOT: usize = 1500;
/// The most bytes in one segmented (GSO) send: an IP datagram's limit.
const GSO_BYTES: usize = 65_000;
/// Receive buffers filled by one `recvmmsg`.
const RECV_BUFS: usize = 8;
/// Bytes per receive buffer: room for a coalesced run of datagrams (GRO).
const RECV_BUF: usize = 65_536;

/// Datagrams queued to be sent together.
#[derive(Debug)]
pub struct SendBatch {
    /// Room for `BATCH` datagrams of up to `SLOT` bytes, back to back.
    buf: Vec<u8>,
    /// Where the next datagram goes in `buf`.
    end: usize,
    /// Destination, start and length of each queued datagram.
    pending: ArrayVec<(SocketAddr, usize, usize), BATCH>,
}

impl Default for SendBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl SendBatch {
    /// An empty batch.
    pub fn new() -> Self {
        SendBatch {
            buf: vec![0; BATCH * SLOT],
            end: 0,
            pending: ArrayVec::new(),
        }
    }

    /// The next free slot, to write a datagram of at most `SLOT` bytes
    /// into before [`commit`](Self::commit).
    pub fn slot(&mut self) -> &mut [u8] {
        &mut self.buf[self.end..self.end + SLOT]
    }

    /// Queues the `len` bytes written into [`slot`](Self::slot) for
    /// `dest`; returns whether the batch is now full.
    pub fn commit(&mut self, dest: SocketAddr, len: usize) -> bool {
        let len = len.min(SLOT);
        self.pending.push((dest, self.end, len));
        self.end += len;
        self.is_full()
    }

    /// Queues a copy of `datagram` (at most `SLOT` bytes) for `dest`; the
    /// batch must not be full.
    pub fn push(&mut self, dest: SocketAddr, datagram: &[u8]) {
        let len = datagram.len().min(SLOT);
        self.slot()[..len].copy_from_slice(&datagram[..len]);
        self.commit(dest, len);
    }

    /// Whether no more datagram fits.
    pub fn is_full(&self) -> bool {
        self.pending.is_full()
    }

    /// How many datagrams are queued.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The queued datagrams as transmits, each a run of at most
    /// `max_segments` datagrams of equal size and destination, with the
    /// number of datagrams in it.
    pub fn runs(&self, max_segments: usize) -> Runs<'_> {
        Runs {
            batch: self,
            next: 0,
            max_segments: max_segments.max(1),
        }
    }

    /// Forgets everything queued.
    pub fn clear(&mut self) {
        self.pending.clear();
        self.end = 0;
    }
}

/// The runs of a [`SendBatch`], in order.
#[derive(Debug)]
pub struct Runs<'a> {
    batch: &'a SendBatch,
    next: usize,
    max_segments: usize,
}

impl<'a> Iterator for Runs<'a> {
    type Item = (Transmit<'a>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let &(dest, start, len) = self.batch.pending.get(self.next)?;
        let run = self.batch.pending[self.next..]
            .iter()
            .take(self.max_segments.min(GSO_BYTES / len.max(1)).max(1))
            .take_while(|(d, _, l)| *d == dest && *l == len)
            .count();
        self.next += run;
        let transmit = Transmit {
            destination: dest,
            ecn: None,
            contents: &self.batch.buf[start..start + run * len],
            segment_size: (run > 1).then_some(len),
            src_ip: None,
        };
        Some((transmit, run))
    }
}

/// Datagrams read together, handed out one at a time.
#[derive(Debug)]
pub struct RecvBatch {
    /// `RECV_BUFS` buffers of `RECV_BUF` bytes.
    buf: Vec<u8>,
    /// What the kernel said about each buffer.
    meta: [RecvMeta; RECV_BUFS],
    /// Each filled buffer's received length (at most `RECV_BUF`) and GRO
    /// stride.
    runs: [(usize, usize); RECV_BUFS],
    /// How many buffers the last read filled.
    filled: usize,
    /// The next datagram to hand out.
    at: GroCursor,
}

/// A position in a batch of received buffers, each holding `len` bytes that
/// the kernel may have coalesced (GRO) from datagrams of `stride` bytes
/// (the last one may be shorter; a stride of 0 means one datagram). The
/// splitting is a pure function of the `(len, stride)` pairs, so that it
/// can be tested and fuzzed without a socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroCursor {
    /// The buffer handed out from.
    buf: usize,
    /// The offset of its next datagram.
    offset: usize,
}

impl GroCursor {
    /// The next datagram in `runs` (`(len, stride)` per buffer) as its
    /// buffer index and byte range, advancing past it; `None` when every
    /// buffer is used up. Empty buffers (a zero-length datagram) are
    /// skipped.
    pub fn next(&mut self, runs: &[(usize, usize)]) -> Option<(usize, std::ops::Range<usize>)> {
        loop {
            let &(len, stride) = runs.get(self.buf)?;
            if self.offset < len {
                let stride = if stride == 0 { len } else { stride };
                let start = self.offset;
                let end = start.saturating_add(stride).min(len);
                self.offset = end;
                return Some((self.buf, start..end));
            }
            self.buf += 1;
            self.offset = 0;
        }
    }

    /// Whether [`next`](Self::next) would find a datagram.
    pub fn has_next(&self, runs: &[(usize, usize)]) -> bool {
        let mut probe = *self;
        probe.next(runs).is_some()
    }
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RecvBatch {
    /// An empty batch.
    pub fn new() -> Self {
        RecvBatch {
            buf: vec![0; RECV_BUFS * RECV_BUF],
            meta: [RecvMeta::default(); RECV_BUFS],
            runs: [(0, 0); RECV_BUFS],
            filled: 0,
            at: GroCursor::default(),
        }
    }

    /// Reads a new batch with `state` from `sock` (everything handed out
    /// before is forgotten); returns how many buffers were filled.
    pub fn read(&mut self, state: &UdpSocketState, sock: UdpSockRef<'_>) -> io::Result<usize> {
        self.filled = 0;
        self.at = GroCursor::default();
        let mut slices: ArrayVec<IoSliceMut<'_>, RECV_BUFS> =
            self.buf.chunks_mut(RECV_BUF).map(IoSliceMut::new).collect();
        let n = state
            .recv(sock, &mut slices, &mut self.meta)?
            .min(RECV_BUFS);
        for (run, meta) in self.runs.iter_mut().zip(&self.meta).take(n) {
            *run = (meta.len.min(RECV_BUF), meta.stride);
        }
        self.filled = n;
        Ok(n)
    }

    /// Whether datagrams already read wait to be handed out.
    pub fn has_buffered(&self) -> bool {
        self.at.has_next(&self.runs[..self.filled])
    }

    /// Reads batches until one holds a datagram: `true` then, `false` when
    /// the socket would block or reports an ICMP error (a peer not
    /// listening); interrupted reads are retried.
    pub fn fill(&mut self, state: &UdpSocketState, sock: &impl AsFd) -> io::Result<bool> {
        while !self.has_buffered() {
            match self.read(state, sock.into()) {
                Ok(_) => {}
                Err(e) => match RecvError::of(&e) {
                    RecvError::Interrupted => {}
                    RecvError::Drained | RecvError::Icmp => return Ok(false),
                    RecvError::Fatal => return Err(e),
                },
            }
        }
        Ok(true)
    }

    /// The next datagram read and its sender, if any is left.
    pub fn next_datagram(&mut self) -> Option<(SocketAddr, &[u8])> {
        let (k, range) = self.at.next(&self.runs[..self.filled])?;
        let base = k * RECV_BUF;
        Some((
            self.meta[k].addr,
            &self.buf[base + range.start..base + range.end],
        ))
    }
}

/// What a receive error on a non-blocking UDP socket means to a driver's
/// read loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Nothing more waits (`WouldBlock`): the reading stops until the
    /// socket is readable again.
    Drained,
    /// A signal interrupted the call: read again.
    Interrupted,
    /// The ICMP error of an earlier send (`ConnectionRefused`,
    /// `ConnectionReset`: a peer not listening yet), consumed by this read;
    /// the socket is fine.
    Icmp,
    /// Any other error: the socket is broken.
    Fatal,
}

impl RecvError {
    /// The class of `e`, an error of a read on a UDP socket.
    pub fn of(e: &io::Error) -> RecvError {
        match e.kind() {
            io::ErrorKind::WouldBlock => RecvError::Drained,
            io::ErrorKind::Interrupted => RecvError::Interrupted,
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => RecvError::Icmp,
            _ => RecvError::Fatal,
        }
    }
}

/// Whether a send error means the datagram is lost as on a lossy network
/// (full buffer, no route, nobody listening) rather than the socket broken.
pub fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
    )
}

/// What [`send_batch`] did.
#[derive(Debug)]
pub struct Sent {
    /// Datagrams the kernel refused for a transient reason (full buffer,
    /// no route, nobody listening), dropped as a lossy network would.
    pub dropped: u64,
    /// The error that stopped the sending (the socket is broken), if any;
    /// the rest of the batch was dropped with it.
    pub error: Option<io::Error>,
}

/// Hands `batch` to the kernel through `sock` (any non-blocking UDP
/// socket: std, mio, tokio) with `state`, one system call per run of equal
/// datagrams, and empties it.
pub fn send_batch<S: AsFd>(state: &UdpSocketState, sock: &S, batch: &mut SendBatch) -> Sent {
    let mut sent = Sent {
        dropped: 0,
        error: None,
    };
    for (transmit, run) in batch.runs(state.max_gso_segments()) {
        match state.try_send(sock.into(), &transmit) {
            Ok(()) => {}
            Err(e) if is_transient(&e) => sent.dropped += run as u64,
            Err(e) => {
                sent.error = Some(e);
                break;
            }
        }
    }
    batch.clear();
    sent
}

/// Batched I/O on a non-blocking std UDP socket, for blocking drivers.
#[derive(Debug)]
pub struct SyncUdp {
    /// The socket's send and receive state (segmentation support,
    /// fallbacks).
    state: UdpSocketState,
    /// What waits to be sent.
    pub out: SendBatch,
    /// What was read.
    input: RecvBatch,
    /// Datagrams the kernel refused (full send buffer, no route, nobody
    /// listening), dropped as a lossy network would.
    pub drops: u64,
}

impl SyncUdp {
    /// Batched I/O for `sock` (which it makes non-blocking).
    pub fn new(sock: &UdpSocket) -> io::Result<Self> {
        Ok(SyncUdp {
            state: UdpSocketState::new(sock.into())?,
            out: SendBatch::new(),
            input: RecvBatch::new(),
            drops: 0,
        })
    }

    /// Queues a copy of `datagram` for `dest`, sending first if the batch
    /// is full.
    pub fn push(&mut self, sock: &UdpSocket, dest: SocketAddr, datagram: &[u8]) -> io::Result<()> {
        if self.out.is_full() {
            self.send(sock)?;
        }
        self.out.push(dest, datagram);
        Ok(())
    }

    /// Hands the queued datagrams to the kernel, one system call per run;
    /// a run the kernel refuses for a transient reason is dropped.
    pub fn send(&mut self, sock: &UdpSocket) -> io::Result<()> {
        let result = send_batch(&self.state, sock, &mut self.out);
        self.drops += result.dropped;
        result.error.map_or(Ok(()), Err)
    }

    /// Whether datagrams already read wait to be handed out (the socket
    /// may not be readable then).
    pub fn has_buffered(&self) -> bool {
        self.input.has_buffered()
    }

    /// The next datagram and its sender, or `None` when nothing is queued
    /// (or an ICMP error says a peer is not listening yet).
    pub fn recv(&mut self, sock: &UdpSocket) -> io::Result<Option<(SocketAddr, &[u8])>> {
        if !self.input.fill(&self.state, sock)? {
            return Ok(None);
        }
        Ok(self.input.next_datagram())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn runs_group_equal_sizes_to_one_destination() {
        let mut b = SendBatch::new();
        for len in [100, 100, 100, 40, 100, 100] {
            b.push(addr(1), &vec![7; len]);
        }
        b.push(addr(2), &[1; 100]);
        let runs: Vec<(usize, Option<usize>, usize, SocketAddr)> = b
            .runs(64)
            .map(|(t, n)| (t.contents.len(), t.segment_size, n, t.destination))
            .collect();
        assert_eq!(
            runs,
            vec![
                (300, Some(100), 3, addr(1)),
                (40, None, 1, addr(1)),
                (200, Some(100), 2, addr(1)),
                (100, None, 1, addr(2)),
            ]
        );
        // No segmentation: one datagram per transmit.
        assert_eq!(b.runs(1).count(), 7);
        b.clear();
        assert!(b.is_empty() && b.runs(64).next().is_none());
    }

    #[test]
    fn receive_errors_are_classified() {
        use io::ErrorKind as K;
        for (kind, class) in [
            (K::WouldBlock, RecvError::Drained),
            (K::Interrupted, RecvError::Interrupted),
            (K::ConnectionRefused, RecvError::Icmp),
            (K::ConnectionReset, RecvError::Icmp),
            (K::PermissionDenied, RecvError::Fatal),
            (K::NetworkUnreachable, RecvError::Fatal),
            (K::InvalidInput, RecvError::Fatal),
            (K::Other, RecvError::Fatal),
        ] {
            assert_eq!(RecvError::of(&io::Error::from(kind)), class, "{kind:?}");
        }
        // A real one: a connected socket's datagram to a closed port comes
        // back as ICMP "port unreachable", reported by the next read; then
        // nothing waits.
        let sock = UdpSocket::bind(addr(0)).unwrap();
        sock.set_nonblocking(true).unwrap();
        let closed = UdpSocket::bind(addr(0)).unwrap().local_addr().unwrap();
        sock.connect(closed).unwrap();
        sock.send(b"anyone?").unwrap();
        let mut buf = [0u8; 16];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let class = loop {
            let e = sock.recv(&mut buf).unwrap_err();
            let class = RecvError::of(&e);
            if class != RecvError::Drained || std::time::Instant::now() > deadline {
                break class;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert_eq!(class, RecvError::Icmp);
        let e = sock.recv(&mut buf).unwrap_err();
        assert_eq!(RecvError::of(&e), RecvError::Drained);
    }

    /// Every datagram of `runs`, as (buffer, start, end).
    fn split(runs: &[(usize, usize)]) -> Vec<(usize, usize, usize)> {
        let mut at = GroCursor::default();
        std::iter::from_fn(|| at.next(runs).map(|(k, r)| (k, r.start, r.end))).collect()
    }

    #[test]
    fn gro_buffers_split_at_their_stride() {
        assert_eq!(
            split(&[(3000, 1316), (20, 0), (1316, 1316)]),
            vec![
                (0, 0, 1316),
                (0, 1316, 2632),
                (0, 2632, 3000),
                (1, 0, 20),
                (2, 0, 1316)
            ]
        );
    }

    #[test]
    fn only_empty_buffers_left_means_nothing_buffered() {
        // A zero-length datagram fills a buffer with nothing: has_next said
        // "buffered" while next_datagram found nothing, so SyncUdp::recv
        // reported an empty socket instead of reading it.
        let runs = [(100, 0), (0, 0), (0, 0)];
        let mut at = GroCursor::default();
        assert!(at.has_next(&runs));
        assert_eq!(at.next(&runs), Some((0, 0..100)));
        assert!(!at.has_next(&runs));
        assert_eq!(at.next(&runs), None);
    }

    #[test]
    fn a_run_stays_within_one_ip_datagram() {
        let mut b = SendBatch::new();
        while !b.is_full() {
            b.push(addr(1), &[3; 1400]);
        }
        for (t, n) in b.runs(64) {
            assert!(t.contents.len() <= GSO_BYTES, "{n} × 1400");
        }
    }

    #[test]
    fn loopback_round_trip_keeps_every_datagram_and_its_boundaries() {
        let rx = UdpSocket::bind(addr(0)).unwrap();
        let tx = UdpSocket::bind(addr(0)).unwrap();
        let to = rx.local_addr().unwrap();
        let mut sender = SyncUdp::new(&tx).unwrap();
        let mut receiver = SyncUdp::new(&rx).unwrap();
        let mut sent = Vec::new();
        let mut got = Vec::new();
        // Rounds of 50, each read before the next, so that the receive
        // buffer (the kernel's default) never overflows.
        for i in 0..200u32 {
            // Runs of equal sizes, broken by a short one every tenth.
            let len = if i % 10 == 9 { 20 } else { 1316 };
            let mut d = vec![(i % 251) as u8; len];
            d[..4].copy_from_slice(&i.to_be_bytes());
            sender.push(&tx, to, &d).unwrap();
            sent.push(d);
            if sent.len() % 50 != 0 {
                continue;
            }
            sender.send(&tx).unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while got.len() < sent.len() && std::time::Instant::now() < deadline {
                match receiver.recv(&rx).unwrap() {
                    Some((from, d)) => {
                        assert_eq!(from, tx.local_addr().unwrap());
                        got.push(d.to_vec());
                    }
                    None => std::thread::sleep(std::time::Duration::from_millis(1)),
                }
            }
        }
        assert_eq!(sender.drops, 0);
        let lens: Vec<usize> = got.iter().map(Vec::len).collect();
        let want: Vec<usize> = sent.iter().map(Vec::len).collect();
        assert_eq!(lens, want, "{} of {} datagrams", got.len(), sent.len());
        assert!(got == sent, "contents differ");
    }
}
