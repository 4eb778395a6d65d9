//! Socket groups against libsrt 1.5.5 (the peer kit built with bonding):
//! its `srt-test-live-gsend` connects a caller group (broadcast, backup) of
//! two members to our listener (`SRTO_GROUPCONNECT`) and sends what this
//! test feeds it over UDP; our `GroupListener` makes one group of both
//! members and delivers every datagram once, in order, content checked.
//! The engine runs on one `std::net::UdpSocket`.

use srt_proto::group::{
    Admitted, GroupConfig, GroupListener, GroupType, MemberKey, MemberState, MemberTarget,
};
use srt_proto::packet::{
    ControlBody, ControlPacket, GroupBlock, Handshake, HandshakeType, HsExtension, Packet,
};
use srt_proto::MsgCtrl;
use srt_proto::{Endpoint, EndpointConfig, SocketOptions};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LEN: usize = 1316;
/// A one-way delay on our listener's replies. libsrt 1.5.5's
/// `groupConnect` marks a member PENDING after starting its connection; a
/// handshake answered within that moment (loopback, no delay) is
/// overwritten to PENDING for good and the member is never used as a
/// standby (seen in 1–2 runs of 6 here: `srt-test-live-gsend` shows it
/// PENDING throughout). The kit's own verified runs send member paths
/// through a relay (`udprelay.py`), which delays them too.
const PATH_DELAY: Duration = Duration::from_millis(2);

/// One peer run at a time: these are real-time streams on a loaded
/// machine, and a starved driver loop judges links unstable.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A child process killed on drop.
struct Peer(std::process::Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The workspace root (the peer kit is found from it, or `SRT_PEER_KIT`).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether the libsrt 1.5.5 peer kit is here: without it a test fails
/// under `CI=true`, else prints that `what` was not run and returns.
fn have_kit(what: &str) -> bool {
    testvectors::peer_kit::PeerKit::for_test(&root(), what).is_some()
}

/// The kit's program `name` (after [`have_kit`]).
fn kit_bin(name: &str) -> PathBuf {
    match testvectors::peer_kit::PeerKit::locate(&root()) {
        Ok(kit) => kit.bin(name),
        Err(e) => panic!("libsrt 1.5.5 peer kit missing: {e}"),
    }
}

/// A UDP socket for what the peer forwards, with an 8 MB receive buffer
/// (forced as root): a test loop descheduled for a moment on a loaded
/// machine must not lose a burst the kernel's default ~200 KB drops.
#[allow(unsafe_code)] // setsockopt: std has no receive-buffer setter
fn sink_socket() -> UdpSocket {
    use std::os::fd::AsRawFd;
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_nonblocking(true).unwrap();
    let size: libc::c_int = 8 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid socket descriptor and an int option of its size.
        let r = unsafe {
            libc::setsockopt(
                sink.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            break;
        }
    }
    sink
}

/// Datagram `n`: its number, then bytes derived from it.
fn datagram(n: u32) -> [u8; LEN] {
    let mut d = [0u8; LEN];
    d[..4].copy_from_slice(&n.to_be_bytes());
    for (i, b) in d[4..].iter_mut().enumerate() {
        *b = (n as usize * 7 + i) as u8;
    }
    d
}

/// What our listener saw.
struct Outcome {
    delivered: u32,
    members: Vec<MemberState>,
    /// The GROUP blocks of libsrt's CONCLUSION requests, as they came.
    blocks: Vec<GroupBlock>,
}

/// The GROUP block of a CONCLUSION request in `datagram`, if any.
fn conclusion_group(datagram: &[u8]) -> Option<GroupBlock> {
    match Packet::decode(datagram).ok()? {
        Packet::Control(ControlPacket {
            body: ControlBody::Handshake(hs),
            ..
        }) if hs.req_type == HandshakeType::Conclusion => {
            // libsrt announces the block with the CONFIG extension flag.
            assert_ne!(hs.extension_field & Handshake::EXT_CONFIG, 0);
            hs.extensions.iter().find_map(|e| match e {
                HsExtension::Group(g) => Some(*g),
                _ => None,
            })
        }
        _ => None,
    }
}

/// Our listener receives `count` datagrams from a libsrt caller group
/// made by `group_uri` and `members` (srt-test-live-gsend's arguments).
/// With `cut_at`, once that many were delivered, the path of the member
/// of weight 10 is cut: every datagram from or to its address dropped.
fn receive_group(group_uri: &str, members: &[String], count: u32, cut_at: Option<u32>) -> Outcome {
    let port = free_port();
    let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let mut entropy = [0u8; 32];
    entropy[..8].copy_from_slice(&(port as u64).to_be_bytes());
    let mut ep = Endpoint::new(
        EndpointConfig::new(entropy),
        udp.local_addr().unwrap(),
        Instant::now(),
    );
    let opts = SocketOptions {
        groupconnect: true,
        ..SocketOptions::live()
    };
    ep.listen(&opts, 8).unwrap();
    let mut listener = GroupListener::new(&opts);

    let feed_port = free_port();
    let mut args = vec![
        // -v:0 made srt-test-live-gsend send nothing here; -v:1 works.
        if std::env::var("GROUP_TRACE").is_ok() {
            "-v:2"
        } else {
            "-v:1"
        }
        .to_string(),
        format!("udp://:{feed_port}"),
        "-g".to_string(),
        group_uri.to_string(),
    ];
    args.extend(members.iter().map(|m| m.replace("PORT", &port.to_string())));
    let child = Command::new(kit_bin("srt-test-live-gsend"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(match std::env::var("GROUP_TRACE") {
            Ok(f) => Stdio::from(std::fs::File::create(f).unwrap()),
            Err(_) => Stdio::null(),
        })
        .spawn()
        .expect("run srt-test-live-gsend");
    let _peer = Peer(child);

    let feeder = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Let the group connect first.
        std::thread::sleep(Duration::from_millis(1500));
        let start = Instant::now();
        for n in 0..count {
            let due = start + Duration::from_millis(u64::from(n));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sock.send_to(&datagram(n), ("127.0.0.1", feed_port))
                .unwrap();
        }
    });

    let (mut out, mut inp, mut msg) = ([0u8; 1500], [0u8; 1500], [0u8; 1500]);
    let mut expect = 0u32;
    let mut group = None;
    let mut cut: Option<std::net::SocketAddr> = None;
    let mut blocks = Vec::new();
    // What we send waits PATH_DELAY (see there).
    let mut delayed = std::collections::VecDeque::new();
    let deadline = Instant::now() + Duration::from_secs(8) + Duration::from_millis(count.into());
    while Instant::now() < deadline && expect < count {
        let now = Instant::now();
        while let Some(t) = ep.poll_transmit(now, &mut out) {
            if cut != Some(t.destination) {
                delayed.push_back((now + PATH_DELAY, t.destination, out[..t.size].to_vec()));
            }
        }
        while delayed.front().is_some_and(|d| d.0 <= now) {
            let (_, to, bytes) = delayed.pop_front().unwrap();
            udp.send_to(&bytes, to).unwrap();
        }
        while let Some(e) = ep.poll_event() {
            if std::env::var("GROUP_TRACE").is_ok() {
                eprintln!("{:?} endpoint event {e:?}", now.elapsed());
            }
        }
        if let Some(g) = group.and_then(|i| listener.group(i)) {
            while let Some(e) = g.poll_event() {
                if std::env::var("GROUP_TRACE").is_ok() {
                    eprintln!("group event {e:?}");
                }
            }
        }
        if cut.is_none() && cut_at.is_some_and(|c| expect >= c) {
            let g = group.and_then(|i| listener.group(i)).expect("a group");
            let key = g.members().find(|m| m.weight == 10).expect("weight 10").key;
            cut = ep.connection(key.socket).map(|c| c.remote());
        }
        while let Some(socket) = ep.accept() {
            let key = MemberKey {
                endpoint: 0,
                socket,
            };
            match listener.admit(key, ep.connection(socket).unwrap()) {
                Admitted::NewGroup(i) => {
                    assert!(group.is_none(), "a second group");
                    group = Some(i);
                }
                Admitted::Joined(i) => assert_eq!(Some(i), group),
                Admitted::NotMember => panic!("libsrt's member came without its group"),
            }
        }
        if let Some(g) = group.and_then(|i| listener.group(i)) {
            g.handle_timeout(now, &mut ep);
            while let Some(info) = g.recv(now, &mut ep, &mut msg) {
                assert_eq!(info.len, LEN);
                let n = u32::from_be_bytes(msg[..4].try_into().unwrap());
                assert_eq!(n, expect, "out of order, repeated or lost");
                assert_eq!(msg[..LEN], datagram(n)[..], "content of {n}");
                expect += 1;
            }
        }
        match udp.recv_from(&mut inp) {
            Ok((_, from)) if cut == Some(from) => {}
            Ok((n, from)) => {
                if let Some(g) = conclusion_group(&inp[..n]) {
                    blocks.push(g);
                }
                ep.handle_datagram(Instant::now(), from, &inp[..n])
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("{e}"),
        }
        ep.handle_timeout(Instant::now());
    }
    feeder.join().unwrap();
    if std::env::var("GROUP_TRACE").is_ok() {
        eprintln!(
            "endpoint {:?}, {} connections, group {group:?}",
            ep.stats(),
            ep.connection_count()
        );
        if let Some(g) = group.and_then(|i| listener.group(i)) {
            eprintln!("group stats {:?}", g.stats());
            for m in g.members() {
                let st = ep.socket_stats(Instant::now(), m.key.socket, false);
                eprintln!("member {m:?}: {st:?}");
            }
        }
    }
    let members = group
        .and_then(|i| listener.group(i))
        .map(|g| g.members().map(|m| m.state).collect())
        .unwrap_or_default();
    Outcome {
        delivered: expect,
        members,
        blocks,
    }
}

#[test]
fn libsrt_broadcast_group_to_our_listener() {
    if !have_kit("libsrt_broadcast_group_to_our_listener") {
        return;
    }
    let _serial = serial();
    let o = receive_group(
        "srt://*?type=broadcast&latency=120",
        &["127.0.0.1:PORT".to_string(), "127.0.0.1:PORT".to_string()],
        2000,
        None,
    );
    assert_eq!(o.delivered, 2000);
    assert_eq!(o.members, [MemberState::Running, MemberState::Running]);
    check_blocks(&o.blocks, 1, &[0, 0]);
}

/// libsrt's GROUP blocks as our decoder reads them: one group ID with bit
/// 30 for every member, type `kind`, flags 0, the members' weights.
fn check_blocks(blocks: &[GroupBlock], kind: u8, weights: &[u16]) {
    assert!(!blocks.is_empty(), "no GROUP block seen");
    let id = blocks[0].group_id;
    assert_ne!(id & (1 << 30), 0, "group bit");
    for b in blocks {
        assert_eq!((b.group_id, b.group_type, b.flags), (id, kind, 0), "{b:?}");
        assert!(weights.contains(&b.weight), "{b:?}");
    }
    for w in weights {
        assert!(blocks.iter().any(|b| b.weight == *w), "weight {w} missing");
    }
}

#[test]
fn libsrt_backup_group_to_our_listener() {
    if !have_kit("libsrt_backup_group_to_our_listener") {
        return;
    }
    let _serial = serial();
    let o = receive_group(
        "srt://*?type=backup&latency=120",
        &[
            "127.0.0.1:PORT?weight=1".to_string(),
            "127.0.0.1:PORT?weight=10".to_string(),
        ],
        2000,
        None,
    );
    assert_eq!(o.delivered, 2000);
    assert_eq!(o.members.len(), 2);
    check_blocks(&o.blocks, 2, &[1, 10]);
    // The stream came over one member (the weight-10 one).
    assert!(o.members.contains(&MemberState::Running));
}

/// Our caller group (two members, each on its own endpoint and UDP
/// socket) sends `count` datagrams to libsrt's `srt-test-live` listening
/// with `groupconnect=1`, which forwards them to a UDP sink here. With
/// `cut_at`, once that many were sent, the path of the member of weight
/// 10 is cut (nothing sent or received on its socket any more).
fn send_group(
    kind: GroupType,
    weights: [u16; 2],
    count: u32,
    cut_at: Option<u32>,
) -> (u32, Vec<MemberState>, u32) {
    let port = free_port();
    let sink = sink_socket();
    let child = Command::new(kit_bin("srt-test-live"))
        .args([
            "-v:1".to_string(),
            format!("srt://:{port}?groupconnect=1&latency=120"),
            format!("udp://{}", sink.local_addr().unwrap()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run srt-test-live");
    let _peer = Peer(child);
    std::thread::sleep(Duration::from_millis(500)); // let it bind

    let socks: Vec<UdpSocket> = (0..2)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    let mut eps: Vec<Endpoint> = socks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut entropy = [0u8; 32];
            entropy[0] = i as u8;
            entropy[1..9].copy_from_slice(&(port as u64).to_be_bytes());
            Endpoint::new(
                EndpointConfig::new(entropy),
                s.local_addr().unwrap(),
                Instant::now(),
            )
        })
        .collect();
    let opts = SocketOptions::live();
    let mut group = eps[0].new_group(GroupConfig::new(kind, &opts));
    let remote = format!("127.0.0.1:{port}").parse().unwrap();
    let targets = [0, 1].map(|i| MemberTarget {
        endpoint: i,
        remote,
        weight: weights[i],
    });
    group
        .connect(Instant::now(), &mut eps[..], &targets, &opts)
        .unwrap();

    let (mut out, mut inp) = ([0u8; 1500], [0u8; 1500]);
    let mut sent = 0u32;
    let mut got = 0u32;
    let mut start = None;
    let deadline = Instant::now() + Duration::from_secs(8) + Duration::from_millis(count.into());
    while Instant::now() < deadline && got < count {
        let now = Instant::now();
        group.handle_timeout(now, &mut eps[..]);
        if group.is_connected() {
            // Wait for the second member a moment, then 1 datagram per ms.
            let t0 = *start.get_or_insert(now + Duration::from_millis(300));
            while sent < count && now >= t0 + Duration::from_millis(sent.into()) {
                group
                    .send(now, &mut eps[..], &datagram(sent), &MsgCtrl::default())
                    .unwrap();
                sent += 1;
            }
        }
        let cut = cut_at.is_some_and(|c| sent >= c);
        for (i, (ep, s)) in eps.iter_mut().zip(&socks).enumerate() {
            let dead = cut && weights[i] == 10;
            while let Some(t) = ep.poll_transmit(now, &mut out) {
                if !dead {
                    s.send_to(&out[..t.size], t.destination).unwrap();
                }
            }
            while ep.poll_event().is_some() {}
            while let Ok((n, from)) = s.recv_from(&mut inp) {
                if !dead {
                    ep.handle_datagram(Instant::now(), from, &inp[..n]);
                }
            }
            ep.handle_timeout(Instant::now());
        }
        while let Ok(n) = sink.recv(&mut inp) {
            assert_eq!(n, LEN);
            let k = u32::from_be_bytes(inp[..4].try_into().unwrap());
            assert_eq!(k, got, "out of order, repeated or lost");
            assert_eq!(inp[..LEN], datagram(k)[..], "content of {k}");
            got += 1;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    (
        got,
        group.members().map(|m| m.state).collect(),
        group.stats().activations,
    )
}

#[test]
fn our_broadcast_group_to_libsrt() {
    if !have_kit("our_broadcast_group_to_libsrt") {
        return;
    }
    let _serial = serial();
    let (got, states, _) = send_group(GroupType::Broadcast, [0, 0], 2000, None);
    assert_eq!(got, 2000);
    assert_eq!(states, [MemberState::Running, MemberState::Running]);
}

#[test]
fn our_backup_group_to_libsrt() {
    if !have_kit("our_backup_group_to_libsrt") {
        return;
    }
    let _serial = serial();
    let (got, states, activations) = send_group(GroupType::Backup, [1, 10], 2000, None);
    assert_eq!(activations, 1);
    assert_eq!(got, 2000);
    assert_eq!(states.len(), 2);
    assert!(states.contains(&MemberState::Running));
}

#[test]
fn libsrt_backup_group_to_our_listener_across_a_cut() {
    if !have_kit("libsrt_backup_group_to_our_listener_across_a_cut") {
        return;
    }
    let _serial = serial();
    let o = receive_group(
        "srt://*?type=backup&latency=120",
        &[
            "127.0.0.1:PORT?weight=1".to_string(),
            "127.0.0.1:PORT?weight=10".to_string(),
        ],
        4000,
        Some(1500),
    );
    assert_eq!(o.delivered, 4000, "lost after the cut");
}

#[test]
fn our_backup_group_to_libsrt_across_a_cut() {
    if !have_kit("our_backup_group_to_libsrt_across_a_cut") {
        return;
    }
    let _serial = serial();
    let (got, states, activations) = send_group(GroupType::Backup, [1, 10], 4000, Some(1500));
    assert_eq!(got, 4000, "lost after the cut");
    // The standby took over.
    assert!(activations >= 2, "{activations}");
    assert!(states.contains(&MemberState::Running));
}

/// libsrt's case A: `srt-test-live` listens with `groupconnect=1` and
/// sends what this test feeds it; our caller group (two members on two
/// endpoints) receives every datagram once, in order, content checked.
fn receive_from_libsrt_listener(kind: GroupType, count: u32) -> (u32, Vec<MemberState>) {
    let port = free_port();
    let feed_port = free_port();
    let child = Command::new(kit_bin("srt-test-live"))
        .args([
            "-v:1".to_string(),
            format!("udp://:{feed_port}"),
            format!("srt://:{port}?groupconnect=1&latency=120"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run srt-test-live");
    let _peer = Peer(child);
    std::thread::sleep(Duration::from_millis(500)); // let it bind

    let socks: Vec<UdpSocket> = (0..2)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    let mut eps: Vec<Endpoint> = socks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut entropy = [0u8; 32];
            entropy[0] = 0x80 | i as u8;
            entropy[1..9].copy_from_slice(&(port as u64).to_be_bytes());
            Endpoint::new(
                EndpointConfig::new(entropy),
                s.local_addr().unwrap(),
                Instant::now(),
            )
        })
        .collect();
    let opts = SocketOptions::live();
    let mut group = eps[0].new_group(GroupConfig::new(kind, &opts));
    let remote = format!("127.0.0.1:{port}").parse().unwrap();
    let targets = [0, 1].map(|i| MemberTarget {
        endpoint: i,
        remote,
        weight: [1, 10][i],
    });
    group
        .connect(Instant::now(), &mut eps[..], &targets, &opts)
        .unwrap();
    let feeder = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let start = Instant::now();
        for n in 0..count {
            let due = start + Duration::from_millis(u64::from(n));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            sock.send_to(&datagram(n), ("127.0.0.1", feed_port))
                .unwrap();
        }
    });
    let (mut out, mut inp, mut msg) = ([0u8; 1500], [0u8; 1500], [0u8; 1500]);
    let mut got = 0u32;
    let deadline = Instant::now() + Duration::from_secs(8) + Duration::from_millis(count.into());
    while Instant::now() < deadline && got < count {
        let now = Instant::now();
        group.handle_timeout(now, &mut eps[..]);
        while let Some(info) = group.recv(now, &mut eps[..], &mut msg) {
            assert_eq!(info.len, LEN);
            let n = u32::from_be_bytes(msg[..4].try_into().unwrap());
            assert_eq!(n, got, "out of order, repeated or lost");
            assert_eq!(msg[..LEN], datagram(n)[..], "content of {n}");
            got += 1;
        }
        for (ep, s) in eps.iter_mut().zip(&socks) {
            while let Some(t) = ep.poll_transmit(now, &mut out) {
                s.send_to(&out[..t.size], t.destination).unwrap();
            }
            while ep.poll_event().is_some() {}
            while let Ok((n, from)) = s.recv_from(&mut inp) {
                ep.handle_datagram(Instant::now(), from, &inp[..n]);
            }
            ep.handle_timeout(Instant::now());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    feeder.join().unwrap();
    (got, group.members().map(|m| m.state).collect())
}

#[test]
fn libsrt_listener_broadcasts_to_our_caller_group() {
    if !have_kit("libsrt_listener_broadcasts_to_our_caller_group") {
        return;
    }
    let _serial = serial();
    let (got, states) = receive_from_libsrt_listener(GroupType::Broadcast, 2000);
    assert_eq!(got, 2000);
    assert_eq!(states, [MemberState::Running, MemberState::Running]);
}

#[test]
fn libsrt_listener_backup_to_our_caller_group() {
    if !have_kit("libsrt_listener_backup_to_our_caller_group") {
        return;
    }
    let _serial = serial();
    let (got, states) = receive_from_libsrt_listener(GroupType::Backup, 2000);
    assert_eq!(got, 2000);
    assert_eq!(states.len(), 2);
}
