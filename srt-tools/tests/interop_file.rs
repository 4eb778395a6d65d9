//! File mode between our engine and libsrt 1.5.1's tools, through
//! `srt-relay` (2% loss, 5 ms delay, no jitter, so order is kept: libsrt's
//! FileCC collapses under reordering, see INTEROP.md):
//!
//! - `srt-file-transmit` uploads a file to our listener (stream API);
//! - we upload a file to `srt-file-transmit` listening (stream API);
//! - message API: we send messages of 1 to 16 KiB (up to 12 packets each) to
//!   `srt-live-transmit ... srt://...?transtype=file&messageapi=1` which
//!   writes each whole message as one UDP datagram, and the reverse:
//!   `srt-live-transmit` turns each UDP datagram into one message to us.
//!
//! Files are verified by SHA-1 digest, messages by content, length and order.
//! `INTEROP_FILE_MIB` sets the file size (default 200 MiB, as issue 5 asks).
//! `INTEROP_TRACE` prints our side's statistics once a second. In the
//! libsrt → us test `srt-file-transmit` writes its statistics every 2000
//! packets, printed when the test fails: a `usPktSndPeriod` of
//! milliseconds there is libsrt's FileCC collapse (ARCHITECTURE.md,
//! "libsrt's FileCC collapse"), not a stall of ours.
//!
//! Fails, never skips, when libsrt's tools are missing (`cargo xtask ci`
//! installs them).

mod common;

use common::{free_port, Proc};

use sha1::{Digest, Sha1};
use srt_proto::{CloseMode, ConnectionRequest, Event, MsgCtrl, SendError, SocketOptions};
use srt_tools::udp_driver::UdpDriver;
use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest message of the message-API tests (srt-live-transmit's
/// `-chunk`, its read size; libsrt truncates a longer message to it).
const MAX_MSG: usize = 16_384;
/// How many messages each message-API test sends.
const MESSAGES: u64 = 3000;

/// The tests take turns: each measures a transfer at full speed, and
/// `cargo test` would otherwise run them side by side on the same CPUs.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn file_len() -> u64 {
    let mib: u64 = std::env::var("INTEROP_FILE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    mib << 20
}

/// How long a transfer of `len` bytes may take before the test fails.
fn time_limit(len: u64) -> Duration {
    Duration::from_secs(60 + (len >> 20))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The deterministic content of the test file from `offset` (a multiple
/// of 8) on, into `out`.
fn file_bytes(seed: u64, offset: u64, out: &mut [u8]) {
    assert_eq!(offset % 8, 0);
    for (k, chunk) in out.chunks_mut(8).enumerate() {
        let v = splitmix64(seed ^ (offset / 8 + k as u64)).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// Generates the test file content piece by piece (64 KiB at a time).
struct FileGen {
    seed: u64,
    len: u64,
    offset: u64,
    buf: Vec<u8>,
}

impl FileGen {
    fn new(seed: u64, len: u64) -> Self {
        FileGen {
            seed,
            len,
            offset: 0,
            buf: Vec::new(),
        }
    }

    /// The next piece, empty at the end.
    fn next_piece(&mut self) -> &[u8] {
        let n = (self.len - self.offset).min(65_536) as usize;
        self.buf.resize(n, 0);
        file_bytes(self.seed, self.offset, &mut self.buf);
        self.offset += n as u64;
        &self.buf
    }
}

/// Writes the test file; returns its SHA-1.
fn write_file(path: &Path, seed: u64, len: u64) -> [u8; 20] {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut gen = FileGen::new(seed, len);
    let mut h = Sha1::new();
    loop {
        let piece = gen.next_piece();
        if piece.is_empty() {
            break;
        }
        h.update(piece);
        f.write_all(piece).unwrap();
    }
    f.flush().unwrap();
    h.finalize().into()
}

/// A file's length and SHA-1.
fn digest_file(path: &Path) -> (u64, [u8; 20]) {
    let mut f =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut h = Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    (len, h.finalize().into())
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 * 8.0 / d.as_secs_f64() / 1e6
}

/// A fresh scratch directory with `in` and `out` subdirectories (libsrt's
/// listener writes to `<out>/<stream ID>`, so input and output never meet).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("interop-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

/// `srt-relay` from any port to `forward`, 2% loss each way, 5 ms delay,
/// no jitter (order kept); returns it and the address it listens on.
fn relay(forward: SocketAddr, seed: u64) -> (Proc, SocketAddr) {
    common::relay(forward, seed, &["--loss", "0.02", "--delay-ms", "5"])
}

/// A listener that records the stream ID of each caller.
fn listening_driver(opts: &SocketOptions) -> (UdpDriver, Arc<Mutex<Vec<String>>>) {
    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    d.endpoint.listen(opts, 5).unwrap();
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ids);
    d.endpoint
        .set_accept_hook(Some(Box::new(
            move |req: &ConnectionRequest<'_>, _: &mut SocketOptions| {
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(req.stream_id).into_owned());
                Ok(())
            },
        )))
        .unwrap();
    (d, ids)
}

/// With `INTEROP_TRACE` set, prints the statistics once a second.
struct Tracer {
    on: bool,
    next: Instant,
}

impl Tracer {
    fn new() -> Self {
        Tracer {
            on: std::env::var_os("INTEROP_TRACE").is_some(),
            next: Instant::now(),
        }
    }

    fn tick(&mut self, who: &str, d: &mut UdpDriver, id: srt_proto::packet::SocketId) {
        if self.on && Instant::now() >= self.next {
            self.next += Duration::from_secs(1);
            print_stats(who, d, id);
        }
    }
}

fn print_stats(who: &str, d: &mut UdpDriver, id: srt_proto::packet::SocketId) {
    if let Some(s) = d.endpoint.socket_stats(Instant::now(), id, false) {
        println!(
            "{who}: sent {} unique {} retrans {} snd-loss {} | recv {} unique {} rcv-loss {} rcv-retrans {} drop {} | ack sent {} recv {} nak sent {} recv {} | rcv-buf {} pkts, avail {} B | flow {} cwnd {} flight {} period {:.1} us | rtt {:.1} ms | bw {:.1} Mbit/s",
            s.pkt_sent_total,
            s.pkt_sent_unique_total,
            s.pkt_retrans_total,
            s.pkt_snd_loss_total,
            s.pkt_recv_total,
            s.pkt_recv_unique_total,
            s.pkt_rcv_loss_total,
            s.pkt_rcv_retrans,
            s.pkt_rcv_drop_total,
            s.pkt_sent_ack_total,
            s.pkt_recv_ack_total,
            s.pkt_sent_nak_total,
            s.pkt_recv_nak_total,
            s.pkt_rcv_buf,
            s.byte_avail_rcv_buf,
            s.pkt_flow_window,
            s.pkt_congestion_window,
            s.pkt_flight_size,
            s.us_pkt_snd_period,
            s.ms_rtt,
            s.mbps_bandwidth,
        );
    }
}

/// Prints the header and the last lines of `srt-file-transmit`'s CSV
/// statistics (its sender's packet period, windows, losses).
fn print_sender_stats(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    println!("srt-file-transmit statistics ({}):", path.display());
    if let Some(header) = lines.first() {
        println!("{header}");
    }
    for line in lines.iter().skip(1.max(lines.len().saturating_sub(3))) {
        println!("{line}");
    }
}

#[test]
fn libsrt_file_transmit_sends_file_to_us() {
    let _turn = serial();
    let len = file_len();
    let dir = scratch("to-us");
    let input = dir.join("in").join("upload.bin");
    let t = Instant::now();
    let want = write_file(&input, 0xF11E_0001, len);
    println!(
        "generated {} MiB in {:.2?}, sha1 {}",
        len >> 20,
        t.elapsed(),
        hex(&want)
    );

    let (mut d, stream_ids) = listening_driver(&SocketOptions::file());
    let (relay, relay_addr) = relay(d.local_addr(), 11);
    let src = format!("file://{}", input.display());
    let dst = format!("srt://{relay_addr}?streamid=upload.bin");
    let sft_stats = dir.join("sft-stats.csv");
    let statsout = format!("-statsout:{}", sft_stats.display());
    let sft = Proc::spawn(
        "srt-file-transmit",
        &["-s:2000", "-f", "-pf:csv", &statsout, &src, &dst],
    );
    assert!(
        d.run_until(Duration::from_secs(10), |e| matches!(
            e,
            Event::Accepted { .. }
        ))
        .unwrap(),
        "srt-file-transmit did not connect: {}",
        sft.wait(Duration::ZERO).1
    );
    let id = d.endpoint.accept().unwrap();
    println!("accepted stream ID {:?}", stream_ids.lock().unwrap());
    let start = Instant::now();
    let limit = time_limit(len);

    let mut h = Sha1::new();
    let mut got = 0u64;
    let mut last_data = start;
    let mut broken = None;
    let mut buf = vec![0u8; 65_536];
    let mut tracer = Tracer::new();
    d.events.clear();
    loop {
        tracer.tick("receiver (ours)", &mut d, id);
        let new_broken = d
            .turn(Duration::from_millis(1))
            .unwrap()
            .iter()
            .find_map(|e| match e {
                Event::Broken { socket, cause } if *socket == id => Some(*cause),
                _ => None,
            });
        d.events.clear();
        if broken.is_none() && new_broken.is_some() {
            println!(
                "broken ({new_broken:?}) after {:.2?} with {got} bytes read",
                start.elapsed()
            );
            broken = new_broken;
        }
        let mut read_any = false;
        while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
            if info.len == 0 {
                break;
            }
            h.update(&buf[..info.len]);
            got += info.len as u64;
            read_any = true;
        }
        if read_any {
            last_data = Instant::now();
        }
        // Done: the peer closed and nothing is left to read.
        if broken.is_some() && !read_any {
            break;
        }
        if start.elapsed() > limit {
            print_stats("receiver (ours)", &mut d, id);
            println!("{}", relay.stop().trim());
            print_sender_stats(&sft_stats);
            panic!(
                "libsrt -> us: {got} of {len} bytes after {:.2?}, broken {broken:?}; srt-file-transmit: {}",
                start.elapsed(),
                sft.wait(Duration::ZERO).1
            );
        }
    }
    let took = last_data - start;
    print_stats("receiver (ours)", &mut d, id);
    let (status, out) = sft.wait(Duration::from_secs(5));
    println!("srt-file-transmit {status:?}: {}", out.trim());
    println!("{}", relay.stop().trim());
    let digest: [u8; 20] = h.finalize().into();
    println!(
        "libsrt -> us: {got} of {len} bytes in {took:.2?} ({:.1} Mbit/s), sha1 {}",
        mbps(got, took),
        hex(&digest)
    );
    assert_eq!(got, len, "libsrt -> us: length differs");
    assert_eq!(hex(&digest), hex(&want), "libsrt -> us: content differs");
    assert!(
        status.is_some_and(|s| s.success()),
        "srt-file-transmit did not finish cleanly: {status:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn we_send_file_to_libsrt_file_transmit() {
    let _turn = serial();
    let len = file_len();
    let dir = scratch("to-libsrt");
    let seed = 0xF11E_0002;
    let mut want = Sha1::new();
    let mut gen = FileGen::new(seed, len);
    loop {
        let piece = gen.next_piece();
        if piece.is_empty() {
            break;
        }
        want.update(piece);
    }
    let want: [u8; 20] = want.finalize().into();

    let port = free_port();
    let src = format!("srt://127.0.0.1:{port}?mode=listener");
    let dst = format!("file://{}/", dir.join("out").display());
    let sft = Proc::spawn("srt-file-transmit", &[&src, &dst]);
    let (relay, relay_addr) = relay(format!("127.0.0.1:{port}").parse().unwrap(), 12);

    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut opts = SocketOptions::file().stream_id("download.bin").unwrap();
    opts.conntimeo = Duration::from_secs(10);
    let id = common::connect(&mut d, relay_addr, &opts);
    d.events.clear();

    let start = Instant::now();
    let limit = time_limit(len);
    let mut gen = FileGen::new(seed, len);
    let mut piece: Vec<u8> = gen.next_piece().to_vec();
    let mut at = 0;
    let mut queued = 0u64;
    let mut tracer = Tracer::new();
    while !piece.is_empty() {
        tracer.tick("sender (ours)", &mut d, id);
        let now = Instant::now();
        loop {
            match d.endpoint.send(now, id, &piece[at..], &MsgCtrl::default()) {
                Ok(n) => {
                    at += n;
                    queued += n as u64;
                    if at == piece.len() {
                        piece = gen.next_piece().to_vec();
                        at = 0;
                        if piece.is_empty() {
                            break;
                        }
                    }
                }
                Err(SendError::WouldBlock) => break,
                Err(e) => panic!("send failed after {queued} bytes: {e}"),
            }
        }
        let broken = d
            .turn(Duration::from_millis(1))
            .unwrap()
            .iter()
            .find(|e| matches!(e, Event::Broken { .. }))
            .cloned();
        d.events.clear();
        if let Some(e) = broken {
            print_stats("sender (ours)", &mut d, id);
            panic!("us -> libsrt: {e:?} after {queued} bytes queued");
        }
        if start.elapsed() > limit {
            print_stats("sender (ours)", &mut d, id);
            panic!(
                "us -> libsrt: only {queued} of {len} bytes queued after {:.2?}",
                start.elapsed()
            );
        }
    }
    let all_queued = start.elapsed();
    print_stats("sender (ours), all queued", &mut d, id);
    // Linger: SHUTDOWN goes once everything is acknowledged.
    d.endpoint
        .close(Instant::now(), id, CloseMode::Linger)
        .unwrap();
    let closed = d
        .run_until(limit.saturating_sub(start.elapsed()), |e| {
            matches!(e, Event::Closed { .. } | Event::Broken { .. })
        })
        .unwrap();
    let took = start.elapsed();
    let closed_events = d.events.clone();
    // Let the SHUTDOWN out.
    d.run_for(Duration::from_millis(100)).unwrap();
    let (status, out) = sft.wait(Duration::from_secs(10));
    println!("srt-file-transmit {status:?}: {}", out.trim());
    println!("{}", relay.stop().trim());
    println!(
        "us -> libsrt: {len} bytes queued in {all_queued:.2?}, acknowledged and closed in {took:.2?} ({:.1} Mbit/s)",
        mbps(len, took)
    );
    assert!(
        closed,
        "us -> libsrt: linger close did not finish: {closed_events:?}"
    );
    assert!(
        closed_events.contains(&Event::Closed { socket: id }),
        "us -> libsrt: {closed_events:?}"
    );
    let (got, digest) = digest_file(&dir.join("out").join("download.bin"));
    println!("libsrt wrote {got} bytes, sha1 {}", hex(&digest));
    assert_eq!(got, len, "us -> libsrt: length differs");
    assert_eq!(hex(&digest), hex(&want), "us -> libsrt: content differs");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Message `i`: its index and length, then a pattern derived from both.
fn message(i: u64) -> Vec<u8> {
    // Mostly small, some at the limit, some spanning several packets.
    let r = splitmix64(i ^ 0x4D53_4700);
    let len = match i % 10 {
        0 => MAX_MSG,
        1 => 1456,
        2 => 1457,
        3 => 16 + (r % 64) as usize,
        _ => 16 + (r % (MAX_MSG as u64 - 15)) as usize,
    };
    let mut m = vec![0u8; len];
    m[..8].copy_from_slice(&i.to_be_bytes());
    m[8..16].copy_from_slice(&(len as u64).to_be_bytes());
    for (k, b) in m[16..].iter_mut().enumerate() {
        *b = (r as usize).wrapping_add(k.wrapping_mul(31)) as u8;
    }
    m
}

/// Checks a received message; returns its index if it is whole and right.
fn verify_message(bytes: &[u8]) -> Option<u64> {
    if bytes.len() < 16 {
        return None;
    }
    let i = u64::from_be_bytes(bytes[..8].try_into().ok()?);
    (i < MESSAGES && bytes == message(i)).then_some(i)
}

/// What arrived of the messages 0..MESSAGES.
#[derive(Default)]
struct Arrivals {
    order: Vec<u64>,
    corrupt: u64,
    bytes: u64,
}

impl Arrivals {
    fn add(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        match verify_message(bytes) {
            Some(i) => self.order.push(i),
            None => {
                if self.corrupt < 5 {
                    println!(
                        "bad message of {} bytes, starts {:02x?}",
                        bytes.len(),
                        &bytes[..bytes.len().min(16)]
                    );
                }
                self.corrupt += 1;
            }
        }
    }

    /// Checks that every message arrived once, whole; and in order if
    /// `ordered` (the sender set the O flag).
    fn check(&self, direction: &str, ordered: bool) {
        let mut seen = vec![false; MESSAGES as usize];
        for &i in &self.order {
            seen[i as usize] = true;
        }
        let missing: Vec<usize> = (0..MESSAGES as usize).filter(|&i| !seen[i]).collect();
        let in_order = self.order.windows(2).all(|w| w[0] < w[1]);
        println!(
            "{direction}: {} of {MESSAGES} messages whole ({} bytes), {} corrupt, {} missing (first {:?}), in order: {in_order}",
            self.order.len(),
            self.bytes,
            self.corrupt,
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        assert_eq!(self.corrupt, 0, "{direction}: corrupt or partial messages");
        assert!(missing.is_empty(), "{direction}: messages missing");
        assert_eq!(self.order.len() as u64, MESSAGES, "{direction}: duplicates");
        assert!(!ordered || in_order, "{direction}: messages out of order");
    }
}

/// Messages per second, so that the UDP side (sink or srt-live-transmit's
/// input) never overflows: about 40 Mbit/s at an average of 6.6 KB.
const MESSAGE_RATE: u64 = 750;

#[test]
fn we_send_messages_to_libsrt_live_transmit_in_file_mode() {
    let _turn = serial();
    let slt_port = free_port();
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sink_port = sink.local_addr().unwrap().port();
    let src = format!("srt://127.0.0.1:{slt_port}?mode=listener&transtype=file&messageapi=1");
    let dst = format!("udp://127.0.0.1:{sink_port}");
    let chunk = format!("-chunk:{MAX_MSG}");
    let slt = Proc::spawn("srt-live-transmit", &["-a:no", &chunk, &src, &dst]);
    let (relay, relay_addr) = relay(format!("127.0.0.1:{slt_port}").parse().unwrap(), 13);

    let receiver = std::thread::spawn(move || {
        let _ = socket2::SockRef::from(&sink).set_recv_buffer_size(4 << 20);
        sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut arrivals = Arrivals::default();
        let mut buf = vec![0u8; 65_536];
        while let Ok(n) = sink.recv(&mut buf) {
            arrivals.add(&buf[..n]);
            if arrivals.order.len() as u64 == MESSAGES {
                break;
            }
        }
        arrivals
    });

    let mut d = UdpDriver::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut opts = SocketOptions::file()
        .message_api(true)
        .stream_id("messages")
        .unwrap();
    opts.conntimeo = Duration::from_secs(10);
    let id = common::connect(&mut d, relay_addr, &opts);
    d.events.clear();

    let start = Instant::now();
    let period = Duration::from_nanos(1_000_000_000 / MESSAGE_RATE);
    let ctrl = MsgCtrl {
        in_order: true,
        ..MsgCtrl::default()
    };
    let mut i = 0;
    let mut bytes = 0u64;
    while i < MESSAGES {
        let now = Instant::now();
        while i < MESSAGES && start + period * i as u32 <= now {
            let m = message(i);
            match d.endpoint.send(now, id, &m, &ctrl) {
                Ok(n) => {
                    assert_eq!(n, m.len(), "message {i} queued in part");
                    bytes += n as u64;
                    i += 1;
                }
                Err(SendError::WouldBlock) => break,
                Err(e) => panic!("message {i}: {e}"),
            }
        }
        let next = start + period * i as u32;
        d.turn(next.saturating_duration_since(Instant::now()))
            .unwrap();
        assert!(
            !d.events.iter().any(|e| matches!(e, Event::Broken { .. })),
            "{:?}",
            d.events
        );
        d.events.clear();
        assert!(start.elapsed() < Duration::from_secs(60), "sending stalled");
    }
    print_stats("sender (ours), all queued", &mut d, id);
    d.endpoint
        .close(Instant::now(), id, CloseMode::Linger)
        .unwrap();
    let closed = d
        .run_until(Duration::from_secs(30), |e| {
            matches!(e, Event::Closed { .. } | Event::Broken { .. })
        })
        .unwrap();
    let took = start.elapsed();
    d.run_for(Duration::from_millis(100)).unwrap();
    let arrivals = receiver.join().unwrap();
    println!("srt-live-transmit: {}", slt.stop().trim());
    println!("{}", relay.stop().trim());
    println!(
        "us -> libsrt (messages): {MESSAGES} messages, {bytes} bytes in {took:.2?} ({:.1} Mbit/s, paced)",
        mbps(bytes, took)
    );
    assert!(closed, "linger close did not finish: {:?}", d.events);
    arrivals.check("us -> libsrt (messages)", true);
}

#[test]
fn libsrt_live_transmit_sends_messages_to_us_in_file_mode() {
    let _turn = serial();
    let (mut d, stream_ids) = listening_driver(&SocketOptions::file().message_api(true));
    let (relay, relay_addr) = relay(d.local_addr(), 14);
    let udp_in = free_port();
    let src = format!("udp://127.0.0.1:{udp_in}?rcvbuf=4194304");
    let dst = format!("srt://{relay_addr}?transtype=file&messageapi=1&streamid=messages");
    let chunk = format!("-chunk:{MAX_MSG}");
    let slt = Proc::spawn("srt-live-transmit", &["-a:no", &chunk, &src, &dst]);
    assert!(
        d.run_until(Duration::from_secs(10), |e| matches!(
            e,
            Event::Accepted { .. }
        ))
        .unwrap(),
        "srt-live-transmit did not connect: {}",
        slt.stop()
    );
    let id = d.endpoint.accept().unwrap();
    println!("accepted stream ID {:?}", stream_ids.lock().unwrap());
    // srt-live-transmit reads its UDP input a moment after it connects.
    d.run_for(Duration::from_secs(1)).unwrap();

    let source = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let _ = socket2::SockRef::from(&sock).set_send_buffer_size(4 << 20);
        let start = Instant::now();
        let period = Duration::from_nanos(1_000_000_000 / MESSAGE_RATE);
        let mut bytes = 0;
        for i in 0..MESSAGES {
            let due = start + period * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let m = message(i);
            bytes += m.len() as u64;
            sock.send_to(&m, ("127.0.0.1", udp_in)).unwrap();
        }
        bytes
    });

    let start = Instant::now();
    let mut arrivals = Arrivals::default();
    let mut buf = vec![0u8; 65_536];
    let mut done_at = None;
    let mut tracer = Tracer::new();
    loop {
        tracer.tick("receiver (ours)", &mut d, id);
        d.turn(Duration::from_millis(1)).unwrap();
        d.events.clear();
        while let Some(info) = d.endpoint.recv(Instant::now(), id, &mut buf).unwrap() {
            assert!(!info.truncated, "a message longer than 64 KiB");
            arrivals.add(&buf[..info.len]);
        }
        if arrivals.order.len() as u64 == MESSAGES {
            break;
        }
        if done_at.is_none() && source.is_finished() {
            done_at = Some(Instant::now());
        }
        if done_at.is_some_and(|t| t.elapsed() > Duration::from_secs(5)) {
            break;
        }
    }
    let took = start.elapsed();
    let sent = source.join().unwrap();
    print_stats("receiver (ours)", &mut d, id);
    println!("srt-live-transmit: {}", slt.stop().trim());
    println!("{}", relay.stop().trim());
    println!(
        "libsrt -> us (messages): {sent} bytes sent in {took:.2?} ({:.1} Mbit/s, paced)",
        mbps(sent, took)
    );
    // srt-live-transmit sends with libsrt's default SRT_MSGCTRL, whose
    // `inorder` is 0: a whole message may overtake one still missing a
    // packet, as libsrt's own receiver allows.
    arrivals.check("libsrt -> us (messages)", false);
}
