//! Packets made by our encoder, one of every type, are written to a pcap and
//! dissected by Wireshark's SRT dissector (`tshark`): every frame must be
//! recognised as SRT, and none may be malformed or raise expert information.
//!
//! `tshark` must be installed (`cargo xtask ci` installs it); this test fails,
//! rather than skips, without it.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use srt_proto::packet::*;
use srt_proto::seq::{MsgNumber, SeqNumber, SeqRange, Timestamp};
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

const SRT_PORT: u16 = 9000;

fn seq(v: u32) -> SeqNumber {
    SeqNumber::new(v).unwrap()
}

fn key_material(keys: KmKeys, key_len: u8, cipher: Cipher) -> KeyMaterial {
    KeyMaterial {
        keys,
        keki: 0,
        cipher,
        salt: (1..=16).collect(),
        key_len,
        wrapped_keys: (0..8 + keys.count() * usize::from(key_len))
            .map(|i| i as u8)
            .collect(),
    }
}

fn srt_hs(flags: SrtFlags) -> SrtHandshake {
    SrtHandshake {
        version: SrtVersion::new(1, 5, 1),
        flags,
        recv_latency_ms: 120,
        send_latency_ms: 120,
    }
}

fn handshake(
    version: u32,
    enc: u16,
    ext: u16,
    req_type: HandshakeType,
    extensions: Vec<HsExtension>,
) -> ControlBody<'static> {
    ControlBody::Handshake(Handshake {
        version,
        encryption_field: enc,
        extension_field: ext,
        isn: seq(0x1234_5678),
        mss: 1500,
        flow_window: 8192,
        req_type,
        socket_id: 0x2bad_beef,
        syn_cookie: 0x5a5a_1234,
        peer_addr: PeerAddress::from_ip(Ipv4Addr::LOCALHOST.into()),
        extensions,
    })
}

/// One control body of every type and handshake variant.
fn control_bodies(loss: LossList<'_>) -> Vec<ControlBody<'_>> {
    let live = SrtFlags::TSBPD_SND
        | SrtFlags::TSBPD_RCV
        | SrtFlags::HAICRYPT
        | SrtFlags::TLPKTDROP
        | SrtFlags::NAKREPORT
        | SrtFlags::REXMITFLG
        | SrtFlags::FILTERCAP;
    let all_ext = Handshake::EXT_HSREQ | Handshake::EXT_KMREQ | Handshake::EXT_CONFIG;
    vec![
        handshake(4, 0, 2, HandshakeType::Induction, vec![]),
        handshake(5, 2, HS_MAGIC, HandshakeType::Induction, vec![]),
        handshake(
            5,
            2,
            all_ext,
            HandshakeType::Conclusion,
            vec![
                HsExtension::HsReq(srt_hs(live)),
                HsExtension::StreamId(b"#!::r=abcde,m=publish".to_vec()),
                HsExtension::Congestion(b"live".to_vec()),
                HsExtension::Filter(b"fec,cols:10,rows:5".to_vec()),
                HsExtension::Group(GroupBlock {
                    group_id: 0x4000_0001,
                    group_type: 1,
                    flags: 0,
                    weight: 0,
                }),
                HsExtension::KmReq(key_material(KmKeys::Even, 16, Cipher::AesCtr)),
            ],
        ),
        handshake(
            5,
            4,
            Handshake::EXT_HSREQ | Handshake::EXT_KMREQ,
            HandshakeType::Conclusion,
            vec![
                HsExtension::HsRsp(srt_hs(live)),
                HsExtension::KmRsp(KmResponse::Material(key_material(
                    KmKeys::Both,
                    32,
                    Cipher::AesCtr,
                ))),
            ],
        ),
        handshake(
            5,
            0,
            Handshake::EXT_HSREQ | Handshake::EXT_KMREQ,
            HandshakeType::Conclusion,
            vec![
                HsExtension::HsRsp(srt_hs(live)),
                HsExtension::KmRsp(KmResponse::State(KmState::BadSecret)),
            ],
        ),
        handshake(5, 0, 0, HandshakeType::WaveAHand, vec![]),
        handshake(5, 0, 0, HandshakeType::Agreement, vec![]),
        handshake(
            5,
            0,
            0,
            HandshakeType::Rejection(RejectReason::Unsecure),
            vec![],
        ),
        handshake(
            5,
            0,
            0,
            HandshakeType::Rejection(RejectReason::Server(1403)),
            vec![],
        ),
        ControlBody::KeepAlive,
        ControlBody::Ack(Ack {
            ack_number: 7,
            ack_seq: seq(1000),
            info: AckInfo::Full {
                rtt: 20_000,
                rtt_var: 5_000,
                buffer_available: 8000,
                packet_recv_rate: 950,
                link_capacity: 100_000,
                recv_rate: 1_250_000,
            },
        }),
        ControlBody::Ack(Ack {
            ack_number: 8,
            ack_seq: seq(1001),
            info: AckInfo::Small {
                rtt: 20_000,
                rtt_var: 5_000,
                buffer_available: 8000,
            },
        }),
        ControlBody::Ack(Ack {
            ack_number: 0,
            ack_seq: seq(1064),
            info: AckInfo::Light,
        }),
        ControlBody::LossReport(loss),
        ControlBody::CongestionWarning,
        ControlBody::Shutdown,
        ControlBody::AckAck { ack_number: 7 },
        ControlBody::DropRequest {
            msg_number: MsgNumber::new(55).unwrap(),
            first: seq(900),
            last: seq(910),
        },
        ControlBody::PeerError { code: 4000 },
        ControlBody::ExtHsReq(srt_hs(live)),
        ControlBody::ExtHsRsp(srt_hs(live)),
        ControlBody::ExtKmReq(key_material(KmKeys::Both, 16, Cipher::AesCtr)),
        ControlBody::ExtKmRsp(KmResponse::Material(key_material(
            KmKeys::Both,
            16,
            Cipher::AesCtr,
        ))),
        ControlBody::ExtKmRsp(KmResponse::State(KmState::NoSecret)),
        ControlBody::Other {
            control_type: control_type::EXT,
            subtype: 0x100,
            type_info: 0,
            cif: &[1, 2, 3, 4],
        },
    ]
}

fn data_packets(payload: &[u8]) -> Vec<Packet<'_>> {
    let positions = [
        PacketPosition::First,
        PacketPosition::Middle,
        PacketPosition::Last,
        PacketPosition::Solo,
    ];
    let keys = [DataKeyFlags::Clear, DataKeyFlags::Even, DataKeyFlags::Odd];
    let mut out = Vec::new();
    for (i, position) in positions.iter().enumerate() {
        for (j, key) in keys.iter().enumerate() {
            out.push(Packet::Data(DataPacket {
                seq: seq((i * 3 + j) as u32),
                position: *position,
                in_order: i % 2 == 0,
                key: *key,
                retransmitted: j == 1,
                msg_number: MsgNumber::new(1 + i as u32).unwrap(),
                timestamp: Timestamp::from_u32(1000 * i as u32),
                dest_socket: SocketId(0x2bad_beef),
                payload,
            }));
        }
    }
    out
}

/// Ethernet + IPv4 + UDP around `payload`, 127.0.0.1:5000 -> 127.0.0.1:9000.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend([0x08, 0x00]);
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    let sum = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum::<u32>();
    let sum = (sum & 0xFFFF) + (sum >> 16);
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend(ip);
    f.extend(5000u16.to_be_bytes());
    f.extend(SRT_PORT.to_be_bytes());
    f.extend((8 + payload.len() as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend(payload);
    f
}

#[test]
fn tshark_dissects_every_encoded_type_cleanly() {
    let mut scratch = [0u8; 64];
    let ranges = [
        SeqRange::single(seq(17)),
        SeqRange::new(seq(20), seq(30)).unwrap(),
        SeqRange::single(seq(40)),
    ];
    let loss = LossList::encode_ranges(&ranges, &mut scratch).unwrap();
    let payload = [0x47u8; 1316];
    let mut packets: Vec<Packet<'_>> = control_bodies(loss)
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            Packet::Control(ControlPacket {
                timestamp: Timestamp::from_u32(i as u32 * 100),
                dest_socket: SocketId(if i == 0 { 0 } else { 0x2bad_beef }),
                body,
            })
        })
        .collect();
    packets.extend(data_packets(&payload));

    let dir = std::env::temp_dir().join(format!("srt-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("encoded.pcap");
    let file = std::fs::File::create(&path).unwrap();
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..Default::default()
    };
    let mut writer = PcapWriter::with_header(file, header).unwrap();
    for (i, p) in packets.iter().enumerate() {
        let mut buf = vec![0u8; p.encoded_len()];
        p.encode(&mut buf).unwrap();
        let data = frame(&buf);
        let pkt = PcapPacket::new(Duration::from_millis(i as u64), data.len() as u32, &data);
        writer.write_packet(&pkt).unwrap();
    }
    drop(writer);

    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args(["-d", &format!("udp.port=={SRT_PORT},srt"), "-V"])
        .output()
        .expect("tshark is not installed: run `cargo xtask ci`, which installs it");
    assert!(out.status.success(), "tshark failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let frames: Vec<&str> = text.split("\nFrame ").collect();
    assert_eq!(frames.len(), packets.len(), "frame count");
    for (p, dissection) in packets.iter().zip(&frames) {
        assert!(
            dissection.contains("SRT Protocol"),
            "not dissected as SRT: {p:?}\n{dissection}"
        );
        for bad in ["Malformed", "Severity level: Error", "[Unknown"] {
            assert!(
                !dissection.contains(bad),
                "tshark reports {bad:?} for {p:?}:\n{dissection}"
            );
        }
        // Wireshark 4.0's SRT dissector predates the FILTER (7) and GROUP (8)
        // handshake blocks and warns that it does not know them; any other
        // warning or error is a failure (notes, such as the loss ranges of a
        // NAK, are information).
        let expert =
            |l: &&str| l.contains("[Expert Info (Warning") || l.contains("[Expert Info (Error");
        for line in dissection.lines().filter(expert) {
            assert!(
                line.contains("Ext Type value is 7]") || line.contains("Ext Type value is 8]"),
                "tshark reports {line:?} for {p:?}:\n{dissection}"
            );
        }
    }
    if std::env::var_os("SRT_KEEP_PCAP").is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
}
