//! Every packet recorded from libsrt 1.5.1 (the `testvectors` crate) decodes
//! to the fields that Wireshark's dissector (`tshark -V`, stored beside each
//! capture as JSON) shows for it, and re-encodes byte-identical.

use srt_proto::packet::*;
use testvectors::{field, field1, RecordedPacket};

/// Collects mismatches between our decode and tshark's, per packet.
struct Check<'a> {
    packet: &'a RecordedPacket,
    errors: Vec<String>,
}

impl Check<'_> {
    /// tshark's (first) value of `name` must equal `ours`.
    fn eq(&mut self, name: &str, ours: impl ToString) {
        let ours = ours.to_string();
        match field1(&self.packet.tshark, name) {
            Some(theirs) if theirs == ours => {}
            theirs => self
                .errors
                .push(format!("{name}: tshark {theirs:?}, ours {ours:?}")),
        }
    }

    /// All of tshark's values of `name` must equal `ours`, in order.
    fn all(&mut self, name: &str, ours: Vec<String>) {
        let theirs = field(&self.packet.tshark, name);
        if theirs != ours {
            self.errors
                .push(format!("{name}: tshark {theirs:?}, ours {ours:?}"));
        }
    }
}

fn hex32(v: u32) -> String {
    format!("{v:#010x}")
}

fn hex16(v: u16) -> String {
    format!("{v:#06x}")
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn km_bytes(km: &KeyMaterial) -> String {
    let mut buf = [0u8; KM_MAX_LEN];
    let n = km.encode(&mut buf).unwrap();
    colon_hex(&buf[..n])
}

fn check_data(c: &mut Check<'_>, d: &DataPacket<'_>) {
    c.eq("srt.iscontrol", 0);
    c.eq("srt.seqno", d.seq.as_u32());
    let pb = match d.position {
        PacketPosition::First => 2,
        PacketPosition::Middle => 0,
        PacketPosition::Last => 1,
        PacketPosition::Solo => 3,
    };
    c.eq("srt.pb", pb);
    c.eq("srt.msg.order", u8::from(d.in_order));
    let kk = match d.key {
        DataKeyFlags::Clear => 0,
        DataKeyFlags::Even => 1,
        DataKeyFlags::Odd => 2,
    };
    c.eq("srt.msg.enc", kk);
    c.eq("srt.msg.rexmit", u8::from(d.retransmitted));
    c.eq("srt.msgno", d.msg_number.as_u32());
    c.eq("data.len", d.payload.len());
}

fn check_handshake(c: &mut Check<'_>, hs: &Handshake) {
    // tshark lists the handshake version and then each HSREQ/HSRSP's SRT
    // version under the same field name.
    let mut versions = vec![hs.version.to_string()];
    if hs.version == 4 {
        c.eq("srt.hs.socktype", hs.extension_field);
    } else {
        c.eq("srt.hs.encfield", hex16(hs.encryption_field));
        c.eq("srt.hs.extfield", hex16(hs.extension_field));
    }
    c.eq("srt.hs.isn", hs.isn.as_u32());
    c.eq("srt.hs.mtu", hs.mss);
    c.eq("srt.hs.flow_window", hs.flow_window);
    c.eq("srt.hs.reqtype", hs.req_type.to_u32().unwrap() as i32);
    c.eq("srt.hs.id", hex32(hs.socket_id));
    c.eq("srt.hs.cookie", hex32(hs.syn_cookie));
    c.eq("srt.hs.peerip", hs.peer_addr.to_ip());
    c.all(
        "srt.hs.blocktype",
        hs.extensions.iter().map(|e| hex16(e.kind())).collect(),
    );
    let mut flags = vec![];
    let mut peer_latency = vec![];
    let mut agent_latency = vec![];
    let mut sids = vec![];
    let mut congestion = vec![];
    let mut km = vec![];
    let mut km_state = vec![];
    for ext in &hs.extensions {
        match ext {
            HsExtension::HsReq(s) | HsExtension::HsRsp(s) => {
                versions.push(hex32(s.version.0));
                flags.push(hex32(s.flags.0));
                peer_latency.push(s.recv_latency_ms.to_string());
                agent_latency.push(s.send_latency_ms.to_string());
            }
            HsExtension::StreamId(s) => sids.push(String::from_utf8(s.clone()).unwrap()),
            HsExtension::Congestion(s) => congestion.push(String::from_utf8(s.clone()).unwrap()),
            HsExtension::KmReq(m) | HsExtension::KmRsp(KmResponse::Material(m)) => {
                km.push(km_bytes(m))
            }
            HsExtension::KmRsp(KmResponse::State(s)) => km_state.push((*s as u32).to_string()),
            other => panic!("libsrt 1.5.1 sent a block we did not expect: {other:?}"),
        }
    }
    c.all("srt.hs.version", versions);
    c.all("srt.hs.srtflags", flags);
    // tshark's "peer latency" is bits 31-16 (the receiver's), "latency" 15-0.
    c.all("srt.hs.peer_latency", peer_latency);
    c.all("srt.hs.agent_latency", agent_latency);
    c.all("srt.hs.sid", sids);
    c.all("srt.hs.conjestctrl", congestion);
    c.all("srt.km.msg", km);
    c.all("srt.km.error", km_state);
}

fn check_control(c: &mut Check<'_>, p: &ControlPacket<'_>) {
    c.eq("srt.iscontrol", 1);
    let (ty, subtype, type_info) = p.header_fields();
    c.eq("srt.type", hex16(ty));
    if ty == control_type::EXT {
        c.eq("srt.exttype", hex16(subtype));
    }
    match &p.body {
        ControlBody::Handshake(hs) => check_handshake(c, hs),
        ControlBody::Ack(ack) => {
            c.eq("srt.ackno", ack.ack_number);
            c.eq("srt.ack_seqno", ack.ack_seq.as_u32());
            match ack.info {
                AckInfo::Light => c.all("srt.rtt", vec![]),
                AckInfo::Small {
                    rtt,
                    rtt_var,
                    buffer_available,
                } => {
                    c.eq("srt.rtt", rtt);
                    c.eq("srt.rttvar", rtt_var);
                    c.eq("srt.bufavail", buffer_available);
                }
                AckInfo::Full {
                    rtt,
                    rtt_var,
                    buffer_available,
                    packet_recv_rate,
                    link_capacity,
                    recv_rate,
                } => {
                    c.eq("srt.rtt", rtt);
                    c.eq("srt.rttvar", rtt_var);
                    c.eq("srt.bufavail", buffer_available);
                    c.eq("srt.rate", packet_recv_rate);
                    c.eq("srt.bw", link_capacity);
                    c.eq("srt.rcvrate", recv_rate);
                }
            }
        }
        ControlBody::AckAck { ack_number } => c.eq("srt.ackno", ack_number),
        ControlBody::LossReport(list) => {
            let ours: Vec<(u32, u32)> = list
                .iter()
                .map(|r| {
                    let r = r.unwrap();
                    (r.first.as_u32(), r.last.as_u32())
                })
                .collect();
            let theirs = testvectors::loss_list(&c.packet.tshark);
            if ours != theirs {
                c.errors
                    .push(format!("loss list: tshark {theirs:?}, ours {ours:?}"));
            }
        }
        ControlBody::DropRequest {
            msg_number, first, ..
        } => {
            // tshark 4.0 shows the message number and, as "additional
            // info", the first sequence number of the CIF.
            c.eq("srt.msgno", msg_number.as_u32());
            c.eq("srt.addinfo", first.as_u32());
        }
        ControlBody::ExtKmReq(km) | ControlBody::ExtKmRsp(KmResponse::Material(km)) => {
            c.eq("srt.km.msg", km_bytes(km));
        }
        ControlBody::KeepAlive | ControlBody::Shutdown => c.eq("srt.addinfo", type_info),
        other => panic!("libsrt 1.5.1 sent a control packet we did not expect: {other:?}"),
    }
}

#[test]
fn every_vector_matches_tshark_and_reencodes_identically() {
    let captures = testvectors::all();
    assert!(captures.len() >= 10, "test vectors are missing");
    let mut checked = 0;
    let mut failures = Vec::new();
    for capture in &captures {
        for packet in &capture.packets {
            let decoded = Packet::decode(&packet.payload).unwrap_or_else(|e| {
                panic!(
                    "{} frame {}: decode failed: {e}",
                    capture.name, packet.frame
                )
            });
            let mut buf = vec![0u8; 2048];
            let n = decoded.encode(&mut buf).unwrap();
            assert_eq!(
                &buf[..n],
                &packet.payload[..],
                "{} frame {}: re-encoding differs for {decoded:?}",
                capture.name,
                packet.frame
            );
            assert_eq!(n, decoded.encoded_len());
            let mut c = Check {
                packet,
                errors: Vec::new(),
            };
            c.eq("srt.timestamp", decoded.timestamp().as_u32());
            c.eq("srt.id", hex32(decoded.dest_socket().0));
            match &decoded {
                Packet::Data(d) => check_data(&mut c, d),
                Packet::Control(ctl) => check_control(&mut c, ctl),
            }
            if !c.errors.is_empty() {
                failures.push(format!(
                    "{} frame {}: {}",
                    capture.name,
                    packet.frame,
                    c.errors.join("; ")
                ));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} packets differ from tshark:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 300, "only {checked} packets checked");
}
