//! Socket groups against libsrt 1.5.5 (the peer kit built with bonding):
//! its `srt-test-live-gsend` connects a caller group (broadcast, backup) of
//! two members to our listener (`SRTO_GROUPCONNECT`) and sends what this
//! test feeds it over UDP; our `GroupListener` makes one group of both
//! members and delivers every datagram once, in order, content checked.
//! The engine runs on one `std::net::UdpSocket`.

use srt_proto::group::{
    Admitted, Group, GroupConfig, GroupListener, GroupType, MemberKey, MemberState, MemberTarget,
};
use srt_proto::packet::{
    ControlBody, ControlPacket, GroupBlock, Handshake, HandshakeType, HsExtension, Packet,
};
use srt_proto::MsgCtrl;
use srt_proto::{Endpoint, EndpointConfig, SocketOptions};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testvectors::harness::{
    check_datagram, feed, free_port, peer_kit, udp_sink, KillOnDrop, UDP_BUFFER,
};
use testvectors::live_payload;
use testvectors::peer_kit::PeerKit;

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
fn receive_group(
    kit: &PeerKit,
    group_uri: &str,
    members: &[String],
    count: u32,
    cut_at: Option<u32>,
) -> Outcome {
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
    let child = Command::new(kit.bin("srt-test-live-gsend"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(match std::env::var("GROUP_TRACE") {
            Ok(f) => Stdio::from(std::fs::File::create(f).unwrap()),
            Err(_) => Stdio::null(),
        })
        .spawn()
        .expect("run srt-test-live-gsend");
    let _peer = KillOnDrop(child);
    // Let the group connect first.
    let feeder = feed(feed_port, 0, count, Duration::from_millis(1500));

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
                check_datagram(&msg[..info.len], expect);
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
    let Some(kit) = peer_kit("libsrt_broadcast_group_to_our_listener") else {
        return;
    };
    let _serial = serial();
    let o = receive_group(
        &kit,
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
    let Some(kit) = peer_kit("libsrt_backup_group_to_our_listener") else {
        return;
    };
    let _serial = serial();
    let o = receive_group(
        &kit,
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

/// Our caller group of two members, each on its own endpoint and
/// non-blocking UDP socket, connecting to `127.0.0.1:port`.
struct CallerGroup {
    socks: Vec<UdpSocket>,
    eps: Vec<Endpoint>,
    group: Group,
}

impl CallerGroup {
    /// Starts connecting a group of `kind` with members of `weights`;
    /// `tag` makes the endpoints' entropy differ between uses.
    fn connect(kind: GroupType, weights: [u16; 2], port: u16, tag: u8) -> CallerGroup {
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
                entropy[0] = tag | i as u8;
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
        CallerGroup { socks, eps, group }
    }

    /// One turn of each member's endpoint: what it sends goes out, what
    /// waits on its socket comes in; the path of member `cut` (if any) is
    /// cut (nothing sent, what comes dropped).
    fn turn(&mut self, now: Instant, cut: Option<usize>) {
        let (mut out, mut inp) = ([0u8; 1500], [0u8; 1500]);
        for (i, (ep, s)) in self.eps.iter_mut().zip(&self.socks).enumerate() {
            let dead = cut == Some(i);
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
    }

    /// The members' states.
    fn states(&self) -> Vec<MemberState> {
        self.group.members().map(|m| m.state).collect()
    }
}

/// Our caller group (two members, each on its own endpoint and UDP
/// socket) sends `count` datagrams to libsrt's `srt-test-live` listening
/// with `groupconnect=1`, which forwards them to a UDP sink here. With
/// `cut_at`, once that many were sent, the path of the member of weight
/// 10 is cut (nothing sent or received on its socket any more).
fn send_group(
    kit: &PeerKit,
    kind: GroupType,
    weights: [u16; 2],
    count: u32,
    cut_at: Option<u32>,
) -> (u32, Vec<MemberState>, u32) {
    let port = free_port();
    // A test loop descheduled for a moment on a loaded machine must not
    // lose a burst the kernel's default ~200 KB drops.
    let sink = udp_sink(UDP_BUFFER);
    sink.set_nonblocking(true).unwrap();
    let child = Command::new(kit.bin("srt-test-live"))
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
    let _peer = KillOnDrop(child);
    std::thread::sleep(Duration::from_millis(500)); // let it bind

    let mut g = CallerGroup::connect(kind, weights, port, 0);
    let mut inp = [0u8; 1500];
    let mut sent = 0u32;
    let mut got = 0u32;
    let mut start = None;
    let deadline = Instant::now() + Duration::from_secs(8) + Duration::from_millis(count.into());
    while Instant::now() < deadline && got < count {
        let now = Instant::now();
        g.group.handle_timeout(now, &mut g.eps[..]);
        if g.group.is_connected() {
            // Wait for the second member a moment, then 1 datagram per ms.
            let t0 = *start.get_or_insert(now + Duration::from_millis(300));
            while sent < count && now >= t0 + Duration::from_millis(sent.into()) {
                g.group
                    .send(
                        now,
                        &mut g.eps[..],
                        &live_payload(sent),
                        &MsgCtrl::default(),
                    )
                    .unwrap();
                sent += 1;
            }
        }
        let cut = cut_at.is_some_and(|c| sent >= c);
        g.turn(now, weights.iter().position(|&w| cut && w == 10));
        while let Ok(n) = sink.recv(&mut inp) {
            check_datagram(&inp[..n], got);
            got += 1;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    (got, g.states(), g.group.stats().activations)
}

#[test]
fn our_broadcast_group_to_libsrt() {
    let Some(kit) = peer_kit("our_broadcast_group_to_libsrt") else {
        return;
    };
    let _serial = serial();
    let (got, states, _) = send_group(&kit, GroupType::Broadcast, [0, 0], 2000, None);
    assert_eq!(got, 2000);
    assert_eq!(states, [MemberState::Running, MemberState::Running]);
}

#[test]
fn our_backup_group_to_libsrt() {
    let Some(kit) = peer_kit("our_backup_group_to_libsrt") else {
        return;
    };
    let _serial = serial();
    let (got, states, activations) = send_group(&kit, GroupType::Backup, [1, 10], 2000, None);
    assert_eq!(activations, 1);
    assert_eq!(got, 2000);
    assert_eq!(states.len(), 2);
    assert!(states.contains(&MemberState::Running));
}

#[test]
fn libsrt_backup_group_to_our_listener_across_a_cut() {
    let Some(kit) = peer_kit("libsrt_backup_group_to_our_listener_across_a_cut") else {
        return;
    };
    let _serial = serial();
    let o = receive_group(
        &kit,
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
    let Some(kit) = peer_kit("our_backup_group_to_libsrt_across_a_cut") else {
        return;
    };
    let _serial = serial();
    let (got, states, activations) = send_group(&kit, GroupType::Backup, [1, 10], 4000, Some(1500));
    assert_eq!(got, 4000, "lost after the cut");
    // The standby took over.
    assert!(activations >= 2, "{activations}");
    assert!(states.contains(&MemberState::Running));
}

/// libsrt's case A: `srt-test-live` listens with `groupconnect=1` and
/// sends what this test feeds it; our caller group (two members on two
/// endpoints) receives every datagram once, in order, content checked.
fn receive_from_libsrt_listener(
    kit: &PeerKit,
    kind: GroupType,
    count: u32,
) -> (u32, Vec<MemberState>) {
    let port = free_port();
    let feed_port = free_port();
    let child = Command::new(kit.bin("srt-test-live"))
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
    let _peer = KillOnDrop(child);
    std::thread::sleep(Duration::from_millis(500)); // let it bind

    let mut g = CallerGroup::connect(kind, [1, 10], port, 0x80);
    let feeder = feed(feed_port, 0, count, Duration::from_millis(1500));
    let mut msg = [0u8; 1500];
    let mut got = 0u32;
    let deadline = Instant::now() + Duration::from_secs(8) + Duration::from_millis(count.into());
    while Instant::now() < deadline && got < count {
        let now = Instant::now();
        g.group.handle_timeout(now, &mut g.eps[..]);
        while let Some(info) = g.group.recv(now, &mut g.eps[..], &mut msg) {
            check_datagram(&msg[..info.len], got);
            got += 1;
        }
        g.turn(now, None);
        std::thread::sleep(Duration::from_micros(200));
    }
    feeder.join().unwrap();
    (got, g.states())
}

#[test]
fn libsrt_listener_broadcasts_to_our_caller_group() {
    let Some(kit) = peer_kit("libsrt_listener_broadcasts_to_our_caller_group") else {
        return;
    };
    let _serial = serial();
    let (got, states) = receive_from_libsrt_listener(&kit, GroupType::Broadcast, 2000);
    assert_eq!(got, 2000);
    assert_eq!(states, [MemberState::Running, MemberState::Running]);
}

#[test]
fn libsrt_listener_backup_to_our_caller_group() {
    let Some(kit) = peer_kit("libsrt_listener_backup_to_our_caller_group") else {
        return;
    };
    let _serial = serial();
    let (got, states) = receive_from_libsrt_listener(&kit, GroupType::Backup, 2000);
    assert_eq!(got, 2000);
    assert_eq!(states.len(), 2);
}
