//! A flood of induction handshakes costs a listener no memory: inductions
//! are answered statelessly with a SYN cookie.

use srt_proto::packet::{
    ControlBody, ControlPacket, Handshake, HandshakeType, Packet, PeerAddress, SocketId,
};
use srt_proto::seq::{SeqNumber, Timestamp};
use srt_proto::{Endpoint, EndpointConfig, SocketOptions};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

fn induction(socket_id: u32) -> Vec<u8> {
    let packet = Packet::Control(ControlPacket {
        timestamp: Timestamp::from_u32(0),
        dest_socket: SocketId(0),
        body: ControlBody::Handshake(Handshake {
            version: 4,
            encryption_field: 0,
            extension_field: 2,
            isn: SeqNumber::new_truncate(socket_id),
            mss: 1500,
            flow_window: 8192,
            req_type: HandshakeType::Induction,
            socket_id,
            syn_cookie: 0,
            peer_addr: PeerAddress::from_ip(Ipv4Addr::LOCALHOST.into()),
            extensions: vec![],
        }),
    });
    let mut buf = vec![0u8; packet.encoded_len()];
    packet.encode(&mut buf).unwrap();
    buf
}

#[test]
fn induction_flood_leaves_listener_memory_unchanged() {
    let start = Instant::now();
    let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let mut ep = Endpoint::new(EndpointConfig::seeded(0), local, start);
    ep.listen(&SocketOptions::default(), 16).unwrap();
    // 10,000 distinct sources (127.0.x.y, varying ports), 10 inductions each.
    let sources: Vec<SocketAddr> = (0..10_000u32)
        .map(|i| {
            let ip = Ipv4Addr::new(127, 0, (i / 200) as u8, (i % 200) as u8 + 1);
            SocketAddr::new(IpAddr::V4(ip), 1024 + (i % 50_000) as u16)
        })
        .collect();
    let packets: Vec<Vec<u8>> = (0..16u32).map(|i| induction(0x1000 + i)).collect();
    let mut out = [0u8; 1500];
    // Warm up once so lazily sized internals reach their steady size.
    ep.handle_datagram(start, sources[0], &packets[0]);
    while ep.poll_transmit(start, &mut out).is_some() {}

    let mut answered = 0u64;
    let info = allocation_counter::measure(|| {
        for round in 0..10u32 {
            // Spread over time, crossing a cookie period boundary.
            let now = start + Duration::from_secs(u64::from(round) * 10);
            for (i, src) in sources.iter().enumerate() {
                ep.handle_datagram(now, *src, &packets[i % packets.len()]);
                // Drain only every 100 datagrams: replies queue up in between.
                if i % 100 == 99 {
                    while ep.poll_transmit(now, &mut out).is_some() {
                        answered += 1;
                    }
                }
            }
            ep.handle_timeout(now);
        }
    });
    assert_eq!(ep.stats().inductions, 100_001);
    assert_eq!(answered, 100_000);
    assert_eq!(ep.connection_count(), 0);
    assert_eq!(
        info.bytes_current, 0,
        "the flood left memory allocated: {info:?}"
    );
    assert_eq!(info.count_current, 0, "{info:?}");
}

#[test]
fn undrained_replies_are_bounded() {
    let start = Instant::now();
    let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let mut config = EndpointConfig::seeded(0);
    config.max_stateless_replies = 64;
    let mut ep = Endpoint::new(config, local, start);
    ep.listen(&SocketOptions::default(), 16).unwrap();
    let packet = induction(7);
    let info = allocation_counter::measure(|| {
        for port in 0..10_000u16 {
            let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1024 + port);
            ep.handle_datagram(start, src, &packet);
        }
    });
    assert_eq!(ep.stats().replies_dropped, 10_000 - 64);
    assert_eq!(info.bytes_current, 0, "{info:?}");
}
