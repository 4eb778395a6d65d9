//! Drives an `srt_proto::Endpoint` from a blocking `std::net::UdpSocket`:
//! connects to an SRT listener, sends messages, closes. It is the example of
//! `Endpoint`'s documentation and, as it is, an interop test against
//! libsrt's srt-live-transmit (srt-proto/tests/interop_doc_driver.rs).
//!
//! Run: cargo run -p srt-proto --example udp_caller -- 127.0.0.1:9000
use srt_proto::{CloseMode, Endpoint, EndpointConfig, Event, MsgCtrl, SocketOptions};
use std::error::Error;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Connects to the SRT listener at `remote`, sends `messages`, closes once
/// the peer has had time to deliver them, and returns how many were sent.
pub(crate) fn send_messages(
    remote: SocketAddr,
    messages: &[&[u8]],
) -> Result<usize, Box<dyn Error>> {
    // Entropy: 32 fresh bytes from the operating system for each endpoint
    // (socket IDs, sequence numbers, SYN cookies and keys come from them).
    let mut entropy = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut entropy)?;
    let udp = UdpSocket::bind(if remote.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })?;
    // `now`: always a fresh reading of a monotonic clock, never older than
    // the last one given to the endpoint.
    let mut endpoint = Endpoint::new(
        EndpointConfig::new(entropy),
        udp.local_addr()?,
        Instant::now(),
    );
    let latency = Duration::from_millis(120);
    let options = SocketOptions::live()
        .latency(latency)?
        .linger(Some(Duration::from_secs(3)));
    let id = endpoint.connect(Instant::now(), remote, &options)?;

    let (mut out, mut inp) = ([0u8; 1500], [0u8; 1500]);
    let (mut sent, mut close_at) = (0, None);
    loop {
        let now = Instant::now();
        // 1. Send every datagram the endpoint has ready.
        while let Some(t) = endpoint.poll_transmit(now, &mut out) {
            udp.send_to(&out[..t.size], t.destination)?;
        }
        // 2. Act on what happened.
        while let Some(event) = endpoint.poll_event() {
            match event {
                Event::Connected { .. } => {
                    for m in messages {
                        endpoint.send(now, id, m, &MsgCtrl::default())?;
                        sent += 1;
                    }
                    // A live receiver hands a message to its application
                    // `latency` after it was sent: give it that time.
                    close_at = Some(now + 2 * latency);
                }
                Event::ConnectFailed { reason, .. } => {
                    return Err(format!("refused: {reason:?}").into())
                }
                Event::Broken { cause, .. } => return Err(format!("broken: {cause:?}").into()),
                Event::Closed { .. } => return Ok(sent),
                _ => {} // Readable, Writable, Accepted: not used by a caller that only sends.
            }
        }
        if close_at.is_some_and(|t| now >= t) {
            close_at = None;
            endpoint.close(now, id, CloseMode::Linger)?;
            continue; // send the SHUTDOWN, collect Closed
        }
        // 3. Sleep until a datagram comes or the next timer is due.
        let deadline = [endpoint.poll_timeout(), close_at]
            .into_iter()
            .flatten()
            .min();
        let wait = deadline.map_or(Duration::from_millis(100), |d| {
            d.saturating_duration_since(now)
        });
        udp.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match udp.recv_from(&mut inp) {
            Ok((len, from)) => endpoint.handle_datagram(Instant::now(), from, &inp[..len]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
        // 4. Run the timers that are due (retransmission, ACK, keepalive, timeouts).
        endpoint.handle_timeout(Instant::now());
    }
}

#[allow(dead_code)] // the interop test includes this file and calls `send_messages`
fn main() -> Result<(), Box<dyn Error>> {
    let remote: SocketAddr = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => return Err("usage: udp_caller HOST:PORT".into()),
    };
    let sent = send_messages(remote, &[b"hello", b"from", b"srt-proto"])?;
    println!("sent {sent} messages to {remote}");
    Ok(())
}
