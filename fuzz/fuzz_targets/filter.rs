//! The packet filter (builtin FEC): its configuration parser and
//! negotiation on arbitrary strings, then a connected live pair whose
//! caller set a FEC configuration (the parsed one when it is usable, else
//! one of a few presets) and whose listener adopts it, over a wire that
//! loses every n-th datagram, with hostile FEC packets (message number 0:
//! any group index, flags, length field, payload length and content,
//! sequence number relative to the live one, key flags) and data packets
//! injected into the receiver from the caller's address. Checks: no panic;
//! what parses prints and parses back the same; a negotiated filter fits
//! the 64-byte FILTER block and makes a valid FEC configuration; the
//! option's parser agrees with the filter's; the harness's bounds (burst,
//! heap, steps); and when no hostile packet landed in the receive window,
//! the honest stream flows again after them.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt_fuzz::harness::Harness;
use srt_fuzz::hostile::Rel;
use srt_proto::filter::{negotiate, FecConfig, FilterConfig, HsSide};
use srt_proto::options::PacketFilterConfig;
use srt_proto::packet::{DataKeyFlags, DataPacket, PacketPosition, SocketId};
use srt_proto::seq::{MsgNumber, Timestamp};
use srt_proto::{EndpointConfig, Event, MsgCtrl, SocketOptions};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Arbitrary, Debug)]
enum Step {
    /// A FEC packet to the receiver.
    Fec {
        seq: Rel,
        ts: Rel,
        key: u8,
        index: u8,
        flags: u8,
        length: u16,
        /// Payload bytes after the 4-byte header: this many (mod 1500)...
        len: u16,
        /// ...filled with this, then `body` over it.
        fill: u8,
        body: Vec<u8>,
    },
    /// A data packet to the receiver (message number 1..).
    Data {
        seq: Rel,
        msgno: u8,
        len: u16,
        retransmitted: bool,
    },
    /// Honest traffic for this many milliseconds.
    Run(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    ours: String,
    theirs: String,
    responder: bool,
    rendezvous: bool,
    preset: u8,
    crypto: bool,
    /// Every n-th datagram to the receiver is lost (n = 4 + this mod 60).
    loss: u8,
    seed: u8,
    steps: Vec<Step>,
}

const PRESETS: &[&str] = &[
    "fec,cols:10,rows:5,arq:never",
    "fec,cols:4,rows:4,layout:even,arq:onreq",
    "fec,cols:5,rows:1,arq:always",
    "fec,cols:3,rows:-3,layout:staircase,arq:onreq",
    "fec,cols:2,rows:2,arq:never",
];
const MSG_LEN: usize = 188;
const HONEST: u8 = 0xA5;
const EARLY: u8 = 0x5A;
const BUF_PKTS: i64 = 256;

fn check_parsers(input: &Input) {
    for text in [&input.ours, &input.theirs] {
        let parsed = FilterConfig::parse(text);
        if let Ok(cfg) = &parsed {
            let again = FilterConfig::parse_any(&cfg.to_string()).expect("printed config parses");
            assert_eq!(&again, cfg, "{text:?} printed as {cfg}");
        }
        if text.len() <= 64 {
            assert_eq!(
                parsed.is_ok(),
                PacketFilterConfig::parse(text.as_bytes()).is_ok(),
                "{text:?}"
            );
        }
        if let Ok(fec) = FecConfig::parse(text) {
            fec.validate().expect("a parsed FEC configuration is valid");
        }
    }
    let side = if input.responder {
        HsSide::Responder
    } else {
        HsSide::Initiator
    };
    let ours = (!input.ours.is_empty()).then_some(input.ours.as_str());
    let theirs = (!input.theirs.is_empty()).then_some(input.theirs.as_str());
    if let Ok(Some(agreed)) = negotiate(ours, theirs, side, input.rendezvous) {
        assert!(agreed.text.len() <= 64, "{agreed:?}");
        agreed.fec.validate().expect("an agreed filter is valid");
        assert_eq!(FecConfig::parse(&agreed.text).ok(), Some(agreed.fec));
    }
}

fn filter_text(input: &Input) -> &str {
    match FecConfig::parse(&input.ours) {
        // Large matrices are valid but slow to fill: presets then.
        Ok(c) if c.matrix_size() <= 400 => &input.ours,
        _ => PRESETS[usize::from(input.preset) % PRESETS.len()],
    }
}

fn options(input: &Input, filter: Option<&str>) -> SocketOptions {
    let mut o = SocketOptions {
        sndbuf_pkts: BUF_PKTS as u32,
        rcvbuf_pkts: BUF_PKTS as u32,
        ..SocketOptions::live()
    };
    if input.crypto {
        o = o
            .passphrase("fuzzing passphrase")
            .expect("valid passphrase");
    }
    match filter {
        Some(f) => o.packet_filter(f).expect("a valid filter"),
        None => o,
    }
}

/// The honest stream: one message every 5 ms from the caller, everything
/// ready read at the receiver (counting the bytes of `HONEST` messages).
struct Stream {
    sender: SocketId,
    receiver: SocketId,
    next_send: Instant,
    honest: usize,
    buf: Vec<u8>,
}

impl Stream {
    fn pump(&mut self, h: &mut Harness, byte: u8) {
        let now = h.now;
        while self.next_send <= now {
            let _ = h.eps[0].send(now, self.sender, &[byte; MSG_LEN], &MsgCtrl::default());
            self.next_send += Duration::from_millis(5);
        }
        for _ in 0..10_000 {
            match h.eps[1].recv(now, self.receiver, &mut self.buf) {
                Ok(Some(info)) => {
                    let got = &self.buf[..info.len.min(self.buf.len())];
                    self.honest += got.iter().filter(|&&b| b == HONEST).count();
                }
                _ => break,
            }
        }
    }

    fn run(&mut self, h: &mut Harness, d: Duration, byte: u8) {
        let end = h.now + d;
        while h.now < end {
            let slice = (end - h.now).min(Duration::from_millis(10));
            h.run_for(slice);
            self.pump(h, byte);
        }
    }
}

fuzz_target!(|input: Input| {
    check_parsers(&input);

    let start = Instant::now();
    let addrs: [SocketAddr; 2] = [
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.2:5000".parse().unwrap(),
    ];
    let seed = u64::from(input.seed);
    let mut h = Harness::new(
        [
            EndpointConfig::seeded(seed),
            EndpointConfig::seeded(seed + 1000),
        ],
        addrs,
        start,
    );
    h.eps[1].listen(&options(&input, None), 1).expect("listen");
    let caller_opts = options(&input, Some(filter_text(&input)));
    let sender = h.eps[0]
        .connect(start, addrs[1], &caller_opts)
        .expect("connect");
    let connected = h.run_until(Duration::from_secs(3), |h| {
        h.events[0].contains(&Event::Connected { socket: sender })
    });
    assert!(connected, "the honest pair did not connect: {:?}", h.events);
    let receiver = h.eps[1].accept().expect("accepted");
    h.drop_every = 4 + u32::from(input.loss % 60);
    let mut st = Stream {
        sender,
        receiver,
        next_send: start,
        honest: 0,
        buf: vec![0u8; 2048],
    };
    st.run(&mut h, Duration::from_millis(200), EARLY);
    h.set_heap_baseline();

    let mut in_window = false;
    let mut out = vec![0u8; 2048];
    for step in input.steps.iter().take(256) {
        let (Some(dest), Some(live), Some(ts)) = (h.seen[0].dest, h.seen[0].data_seq, h.seen[0].ts)
        else {
            break;
        };
        let mut payload = [0u8; 1500];
        let (seq_rel, packet) = match step {
            Step::Run(ms) => {
                st.run(&mut h, Duration::from_millis(u64::from(*ms)), EARLY);
                continue;
            }
            Step::Fec {
                seq,
                ts: t,
                key,
                index,
                flags,
                length,
                len,
                fill,
                body,
            } => {
                let n = 4 + usize::from(*len) % 1452;
                payload[..n].fill(*fill);
                payload[0] = *index;
                payload[1] = *flags;
                payload[2..4].copy_from_slice(&length.to_be_bytes());
                for (d, s) in payload[4..n].iter_mut().zip(body) {
                    *d = *s;
                }
                (
                    seq.get(),
                    DataPacket {
                        seq: live + seq.get(),
                        position: PacketPosition::Solo,
                        in_order: false,
                        key: match key % 3 {
                            0 => DataKeyFlags::Clear,
                            1 => DataKeyFlags::Even,
                            _ => DataKeyFlags::Odd,
                        },
                        retransmitted: false,
                        msg_number: MsgNumber::FILTER,
                        timestamp: Timestamp::from_u32(ts.as_u32().wrapping_add(t.get() as u32)),
                        dest_socket: dest,
                        payload: &payload[..n],
                    },
                )
            }
            Step::Data {
                seq,
                msgno,
                len,
                retransmitted,
            } => (
                seq.get(),
                DataPacket {
                    seq: live + seq.get(),
                    position: PacketPosition::Solo,
                    in_order: false,
                    key: DataKeyFlags::Clear,
                    retransmitted: *retransmitted,
                    msg_number: MsgNumber::new_truncate(u32::from(*msgno).max(1)),
                    timestamp: ts,
                    dest_socket: dest,
                    payload: &payload[..usize::from(*len) % 1457],
                },
            ),
        };
        in_window |= i64::from(seq_rel).abs() <= 2 * BUF_PKTS;
        let Ok(n) = packet.encode(&mut out) else {
            continue;
        };
        let from = h.addr(0);
        h.deliver(1, from, &out[..n]);
        st.pump(&mut h, EARLY);
    }

    // The hostile packets stop; the link stops losing: an honest stream
    // flows again (unless forged packets were taken into the window).
    h.drop_every = 0;
    st.honest = 0;
    st.run(&mut h, Duration::from_secs(3), HONEST);
    if in_window {
        return;
    }
    assert!(
        !h.events[1]
            .iter()
            .any(|e| matches!(e, Event::Broken { .. })),
        "the connection broke: {:?}",
        h.events
    );
    assert!(
        st.honest >= 5 * MSG_LEN,
        "only {} bytes of the honest stream were delivered in 3 s after the hostile packets stopped",
        st.honest
    );
});
