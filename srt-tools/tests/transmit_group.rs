//! `srt-transmit` with socket groups: a caller backup group of two
//! members, each through its own `srt-relay`, to an `srt-transmit`
//! listener with `groupconnect=1`; the active member's relay is killed
//! mid-stream and the listener's output still has every datagram once,
//! in order, content checked. Plain callers into that listener; `-s`
//! statistics of groups (a group line, member lines); `-a:yes` on both
//! sides (the listener takes the next group or caller, the caller group
//! connects a broken member again). The sink and the callers' UDP inputs
//! get 8 MB receive buffers, and a caller stopped for 300 ms and a sink
//! left unread for 300 ms lose nothing.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testvectors::harness::{
    check_datagram, feed, free_port, peer_kit, udp_sink, KillOnDrop, UDP_BUFFER,
};

/// An `srt-relay` forwarding to `forward`, and the address it listens on.
fn relay(forward: SocketAddr) -> (KillOnDrop, SocketAddr) {
    relay_at("127.0.0.1:0", forward)
}

/// [`relay`] listening on `listen`.
fn relay_at(listen: &str, forward: SocketAddr) -> (KillOnDrop, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_srt-relay"))
        .args(["--listen", listen, "--forward", &forward.to_string()])
        .args(["--duration-s", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start srt-relay");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listen = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|r| r.split_once(" -> "))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .0
        .parse()
        .unwrap();
    (KillOnDrop(child), listen)
}

fn transmit(args: &[String]) -> KillOnDrop {
    KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_srt-transmit"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start srt-transmit"),
    )
}

/// Sends `count` datagrams, one a millisecond, through a backup group of
/// two relayed members (the relay of the weight-10 member killed after
/// `cut_at`) to the listener `listen(port, sink)` starts; returns how many
/// the listener's output had, in order.
fn backup_through_relays(
    count: u32,
    cut_at: u32,
    listen: impl FnOnce(u16, SocketAddr) -> KillOnDrop,
) -> u32 {
    let (sink, sink_addr) = sink();
    let port = free_port();
    let _listener = listen(port, sink_addr);
    // Let it bind.
    std::thread::sleep(Duration::from_millis(300));
    let target: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (mut active_relay, active) = relay(target);
    let (_standby_relay, standby) = relay(target);
    let feed_port = free_port();
    let _sender = transmit(&[
        feed_input(feed_port),
        format!(
            "srt:////group?type=backup&latency=120&nodes={active}?weight=10,{standby}?weight=1"
        ),
    ]);
    // Let the group connect (both members).
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = feed(feed_port, 0, count, Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(10) + Duration::from_millis(count.into());
    let mut got = receive_in_order(&sink, 0, cut_at, deadline);
    assert_eq!(got, cut_at, "the relay was not cut");
    active_relay.0.kill().unwrap();
    active_relay.0.wait().unwrap();
    got += receive_in_order(&sink, cut_at, count, deadline);
    feeder.join().unwrap();
    got
}

/// srt-transmit listening with `groupconnect=1`.
fn our_listener(port: u16, sink: SocketAddr) -> KillOnDrop {
    transmit(&[
        format!("srt://:{port}?groupconnect=1&latency=120"),
        format!("udp://{sink}"),
    ])
}

#[test]
fn backup_group_survives_a_relay_cut_without_loss() {
    let got = backup_through_relays(4000, 1500, our_listener);
    assert_eq!(got, 4000, "lost after the cut");
}

/// The same group into libsrt 1.5.5's `srt-test-live` (the peer kit,
/// built with bonding) listening with `groupconnect=1`; a missing kit
/// fails under `CI=true` (`testvectors::peer_kit`).
#[test]
fn backup_group_to_libsrt_1_5_5_survives_a_relay_cut() {
    let Some(kit) = peer_kit("srt-transmit backup group -> srt-test-live 1.5.5 across a relay cut")
    else {
        return;
    };
    let bin = kit.bin("srt-test-live");
    let got = backup_through_relays(4000, 1500, move |port, sink| {
        KillOnDrop(
            Command::new(&bin)
                .args([
                    "-v:1".to_string(),
                    format!("srt://:{port}?groupconnect=1&latency=120"),
                    format!("udp://{sink}"),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run srt-test-live"),
        )
    });
    assert_eq!(got, 4000, "lost after the cut");
}

/// Receives datagrams `from..to` on `sink` in order (content checked);
/// returns how many came before `deadline`.
fn receive_in_order(sink: &UdpSocket, from: u32, to: u32, deadline: Instant) -> u32 {
    let mut next = from;
    let mut buf = [0u8; 2048];
    while next < to && Instant::now() < deadline {
        match sink.recv(&mut buf) {
            Ok(n) => {
                check_datagram(&buf[..n], next);
                next += 1;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("{e}"),
        }
    }
    next - from
}

/// The UDP input on `port` of a caller that [`feed`] feeds, with a
/// receive buffer of [`UDP_BUFFER`] (capped at net.core.rmem_max).
fn feed_input(port: u16) -> String {
    format!("udp://127.0.0.1:{port}?rcvbuf={UDP_BUFFER}")
}

/// A sink socket (a receive buffer of [`UDP_BUFFER`]) and its address.
fn sink() -> (UdpSocket, SocketAddr) {
    let sink = udp_sink(UDP_BUFFER);
    sink.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let addr = sink.local_addr().unwrap();
    (sink, addr)
}

/// A plain (non-group) caller `caller(feed, listener_port)` into our
/// `groupconnect=1` listener: accepted as a single socket, as libsrt's
/// `srt_accept` does; 3000 of 3000 in order, content checked.
fn plain_caller_into_group_listener(caller: impl FnOnce(u16, u16) -> KillOnDrop) {
    let (sink, sink_addr) = sink();
    let port = free_port();
    let _listener = our_listener(port, sink_addr);
    std::thread::sleep(Duration::from_millis(300));
    let feed_port = free_port();
    let _caller = caller(feed_port, port);
    // Let it connect and start reading its input.
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = feed(feed_port, 0, 3000, Duration::ZERO);
    let got = receive_in_order(&sink, 0, 3000, Instant::now() + Duration::from_secs(15));
    feeder.join().unwrap();
    assert_eq!(got, 3000, "the plain caller's stream");
}

#[test]
fn srt_live_transmit_plain_caller_into_group_listener() {
    plain_caller_into_group_listener(|feed, port| {
        KillOnDrop(
            Command::new("srt-live-transmit")
                .args([
                    feed_input(feed),
                    format!("srt://127.0.0.1:{port}?latency=120"),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run srt-live-transmit (Debian's srt-tools; `cargo xtask ci` installs it)"),
        )
    });
}

#[test]
fn our_plain_caller_into_group_listener() {
    plain_caller_into_group_listener(|feed, port| {
        transmit(&[
            feed_input(feed),
            format!("srt://127.0.0.1:{port}?latency=120"),
        ])
    });
}

/// srt-transmit with `args`, its stdout piped (the statistics).
fn transmit_stdout(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_srt-transmit"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start srt-transmit")
}

/// Kills `child` and parses each line it printed as JSON.
fn json_lines(mut child: Child) -> Vec<serde_json::Value> {
    use std::io::Read;
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

/// libsrt's group IDs have bit 30 set (`SRTGROUP_MASK`).
fn is_group_id(v: &serde_json::Value) -> bool {
    v["sid"].as_u64().unwrap() & (1 << 30) != 0
}

/// `-s:500 -pf json` on both sides of a broadcast group of two members:
/// each report is the group's line (libsrt's group `srt_bstats`: unique
/// packets, under the group's ID) and then one line per member (its own
/// connection, under its socket ID); the group lines' intervals add up to
/// the whole stream.
#[test]
fn group_statistics_have_group_and_member_lines() {
    let (sink, sink_addr) = sink();
    let port = free_port();
    let listener = transmit_stdout(&[
        "-s:500".into(),
        "-pf".into(),
        "json".into(),
        format!("srt://:{port}?groupconnect=1&latency=120"),
        format!("udp://{sink_addr}"),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let feed_port = free_port();
    let sender = transmit_stdout(&[
        "-s:500".into(),
        "-pf".into(),
        "json".into(),
        feed_input(feed_port),
        format!("srt:////group?type=broadcast&latency=120&nodes=127.0.0.1:{port},127.0.0.1:{port}"),
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = feed(feed_port, 0, 2000, Duration::ZERO);
    let got = receive_in_order(&sink, 0, 2000, Instant::now() + Duration::from_secs(15));
    feeder.join().unwrap();
    assert_eq!(got, 2000);
    for (side, lines, field, cat) in [
        ("listener", json_lines(listener), "packetsUnique", "recv"),
        ("sender", json_lines(sender), "packetsUnique", "send"),
    ] {
        let groups: Vec<_> = lines.iter().filter(|l| is_group_id(l)).collect();
        assert_eq!(
            groups.len(),
            4,
            "{side}: a group line per 500 packets: {lines:?}"
        );
        let total: u64 = groups
            .iter()
            .map(|l| {
                l[cat][field]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{side}: {l}"))
            })
            .sum();
        assert_eq!(total, 2000, "{side}: {field} over the group lines");
        let members: std::collections::BTreeSet<u64> = lines
            .iter()
            .filter(|l| !is_group_id(l))
            .map(|l| l["sid"].as_u64().unwrap())
            .collect();
        assert_eq!(members.len(), 2, "{side}: two members: {lines:?}");
        assert_eq!(
            lines.len(),
            groups.len() * 3,
            "{side}: each group line has its two member lines"
        );
    }
}

/// Sends SIGINT to `child` (srt-transmit closes its connections and
/// exits) and waits for it.
fn interrupt(mut child: KillOnDrop) {
    let pid = child.0.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if child.0.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("srt-transmit did not stop on SIGINT");
}

/// `-a:yes` on a `groupconnect=1` listener: when a group's members have
/// all gone it accepts the next group or plain caller, as
/// srt-live-transmit accepts its next caller: a backup group, then a
/// plain caller, then a broadcast group, each stream whole and in order.
#[test]
fn group_listener_with_a_yes_accepts_the_next_group_or_caller() {
    let (sink, sink_addr) = sink();
    let port = free_port();
    let _listener = transmit(&[
        "-a:yes".into(),
        format!("srt://:{port}?groupconnect=1&latency=120"),
        format!("udp://{sink_addr}"),
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let callers = [
        format!(
            "srt:////group?type=backup&latency=120&nodes=127.0.0.1:{port}?weight=10,127.0.0.1:{port}?weight=1"
        ),
        format!("srt://127.0.0.1:{port}?latency=120"),
        format!(
            "srt:////group?type=broadcast&latency=120&nodes=127.0.0.1:{port},127.0.0.1:{port}"
        ),
    ];
    for (k, target) in callers.iter().enumerate() {
        let from = k as u32 * 1000;
        let feed_port = free_port();
        let caller = transmit(&[feed_input(feed_port), target.clone()]);
        std::thread::sleep(Duration::from_millis(1500));
        let feeder = feed(feed_port, from, from + 1000, Duration::ZERO);
        let got = receive_in_order(
            &sink,
            from,
            from + 1000,
            Instant::now() + Duration::from_secs(10),
        );
        feeder.join().unwrap();
        assert_eq!(got, 1000, "stream {k} ({target})");
        interrupt(caller);
    }
}

/// `-a:yes` on a caller backup group (as libsrt's srt-test-live, which
/// connects every node no longer in the group again): the weight-10
/// member's relay is killed and another started on its port; the member
/// breaks (1 s peer idle timeout) and is connected again; then the other
/// relay is killed too, and the stream goes on over the new member:
/// 7000 of 7000 in order.
#[test]
fn caller_group_with_a_yes_connects_a_broken_member_again() {
    const COUNT: u32 = 7000;
    let (sink, sink_addr) = sink();
    let port = free_port();
    let _listener = our_listener(port, sink_addr);
    std::thread::sleep(Duration::from_millis(300));
    let target: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (mut first_relay, first) = relay(target);
    let (mut second_relay, second) = relay(target);
    let feed_port = free_port();
    let _sender = transmit(&[
        "-a:yes".into(),
        feed_input(feed_port),
        format!(
            "srt:////group?type=backup&latency=120&peeridletimeo=1000&nodes={first}?weight=10,{second}?weight=1"
        ),
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = feed(feed_port, 0, COUNT, Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(10) + Duration::from_millis(COUNT.into());
    let mut got = receive_in_order(&sink, 0, 1500, deadline);
    assert_eq!(got, 1500);
    first_relay.0.kill().unwrap();
    first_relay.0.wait().unwrap();
    let (_new_relay, again) = relay_at(&first.to_string(), target);
    assert_eq!(again, first);
    got += receive_in_order(&sink, 1500, 5000, deadline);
    assert_eq!(got, 5000);
    second_relay.0.kill().unwrap();
    second_relay.0.wait().unwrap();
    got += receive_in_order(&sink, 5000, COUNT, deadline);
    feeder.join().unwrap();
    assert_eq!(got, COUNT, "lost after the second cut");
}

/// Sends `signal` (`-STOP`, `-CONT`) to the process `pid`.
fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// What a loaded machine does to the `-a:yes` test's processes, on
/// purpose: the plain caller is stopped for 300 ms mid-stream (SIGSTOP,
/// SIGCONT), then the sink is not read for 300 ms. What arrives meanwhile
/// waits in a receive buffer (the caller's UDP input, the sink) and
/// nothing is lost: 1500 of 1500 in order, content checked. With the
/// default 208 KB buffers (about 90 datagrams) it fails.
#[test]
fn stalled_caller_and_sink_lose_nothing() {
    const COUNT: u32 = 1500;
    let (sink, sink_addr) = sink();
    let port = free_port();
    let _listener = our_listener(port, sink_addr);
    std::thread::sleep(Duration::from_millis(300));
    let feed_port = free_port();
    let caller = transmit(&[
        feed_input(feed_port),
        format!("srt://127.0.0.1:{port}?latency=120"),
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let feeder = feed(feed_port, 0, COUNT, Duration::ZERO);
    let pid = caller.0.id();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        signal(pid, "-STOP");
        std::thread::sleep(Duration::from_millis(300));
        signal(pid, "-CONT");
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = receive_in_order(&sink, 0, 1000, deadline);
    assert_eq!(got, 1000);
    stopper.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    got += receive_in_order(&sink, 1000, COUNT, deadline);
    feeder.join().unwrap();
    assert_eq!(got, COUNT, "lost across the stalls");
}
