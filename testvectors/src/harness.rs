//! What the interop tests share: child processes killed on drop, free
//! loopback ports, this workspace's libsrt 1.5.5 peer kit, and a numbered
//! live stream over UDP (a feeder that sends it, a sink that receives
//! it, a check of each datagram).

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::live_payload;
use crate::peer_kit::PeerKit;

/// A child process (a peer, a relay, a tool under test) killed and
/// reaped on drop.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free UDP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// For a test that needs the peer kit: this workspace's kit, or, without
/// it, a failure under `CI=true` and otherwise `None` after saying that
/// `what` was not run ([`PeerKit::for_test`]).
pub fn peer_kit(what: &str) -> Option<PeerKit> {
    PeerKit::for_test(&workspace_root(), what)
}

/// The receive buffer of a sink ([`udp_sink`]) and of a tool's UDP input
/// in the tests, bytes: 8 MB, as the drivers' SRT sockets get. The
/// default (208 KB) holds about 90 datagrams of a live stream (the kernel
/// charges each about 2.3 KB), 90 ms of one a millisecond: on a loaded
/// machine (load average 7 to 9 on 2 cores) readers went unscheduled for
/// up to 200 ms and lost datagrams.
pub const UDP_BUFFER: usize = 8 << 20;

/// A blocking UDP socket on 127.0.0.1 (any port) for what a peer
/// forwards, with a receive buffer of `bytes`: forced past
/// `net.core.rmem_max` where allowed (root), as the drivers do, else
/// capped at it.
pub fn udp_sink(bytes: usize) -> UdpSocket {
    use rustix::net::sockopt;
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    if sockopt::set_socket_recv_buffer_size_force(&sink, bytes).is_err() {
        sockopt::set_socket_recv_buffer_size(&sink, bytes).unwrap();
    }
    sink
}

/// Sends datagrams `from..to` of the live stream ([`live_payload`]: its
/// number, then bytes derived from it) to `127.0.0.1:port`, one a
/// millisecond, from a thread that first waits `after` (for a peer to
/// connect).
pub fn feed(port: u16, from: u32, to: u32, after: Duration) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        std::thread::sleep(after);
        let start = Instant::now();
        for n in from..to {
            let due = start + Duration::from_millis(u64::from(n - from));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sock.send_to(&live_payload(n), ("127.0.0.1", port)).unwrap();
        }
    })
}

/// Checks that `datagram` is datagram `expect` of the live stream that
/// [`feed`] sends.
///
/// # Panics
/// If it is another one (out of order, repeated or lost), or its length
/// or content differ.
pub fn check_datagram(datagram: &[u8], expect: u32) {
    let n = datagram
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    assert_eq!(n, Some(expect), "out of order, repeated or lost");
    assert_eq!(
        datagram.len(),
        crate::LIVE_PAYLOAD_LEN,
        "length of {expect}"
    );
    assert!(datagram == live_payload(expect), "content of {expect}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sink_gets_what_the_feeder_sends_in_order() {
        let sink = udp_sink(UDP_BUFFER);
        sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let port = sink.local_addr().unwrap().port();
        let feeder = feed(port, 10, 30, Duration::from_millis(10));
        let mut buf = [0u8; 2048];
        for n in 10..30 {
            let len = sink.recv(&mut buf).unwrap();
            check_datagram(&buf[..len], n);
        }
        feeder.join().unwrap();
        assert!(std::panic::catch_unwind(|| check_datagram(&live_payload(3), 4)).is_err());
        let mut wrong = live_payload(3);
        wrong[100] ^= 1;
        assert!(std::panic::catch_unwind(|| check_datagram(&wrong, 3)).is_err());
        assert!(std::panic::catch_unwind(|| check_datagram(&wrong[..500], 3)).is_err());
    }

    #[test]
    fn the_workspace_root_holds_the_peer_kit_module() {
        assert!(workspace_root()
            .join("testvectors/src/peer_kit.rs")
            .is_file());
        assert_ne!(free_port(), 0);
    }
}
