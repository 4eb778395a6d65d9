//! FEC sender and receiver against each other, against the wire layout,
//! and against a reference decoder (iterative XOR peeling over the matrix).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::config::{ArqLevel, FecConfig, FecLayout};
use super::fec::{FecReceiver, FecSender, RecvVerdict, FEC_HEADER_LEN};
use crate::packet::{DataKeyFlags, DataPacket, PacketPosition, SocketId};
use crate::seq::{MsgNumber, SeqNumber, Timestamp};

fn cfg(cols: u32, rows: i32, layout: FecLayout, arq: ArqLevel) -> FecConfig {
    FecConfig {
        cols,
        rows: rows.unsigned_abs(),
        cols_only: rows < 0,
        layout,
        arq,
    }
}

/// One packet on the wire, owned.
#[derive(Clone, Debug)]
struct Wire {
    seq: SeqNumber,
    fec: bool,
    ts: u32,
    key: DataKeyFlags,
    payload: Vec<u8>,
    /// Data packets: their index in the stream.
    index: usize,
}

impl Wire {
    fn packet(&self) -> DataPacket<'_> {
        DataPacket {
            seq: self.seq,
            position: PacketPosition::Solo,
            in_order: false,
            key: self.key,
            retransmitted: false,
            msg_number: if self.fec {
                MsgNumber::FILTER
            } else {
                MsgNumber::new_truncate(self.index as u32 + 1)
            },
            timestamp: Timestamp::from_u32(self.ts),
            dest_socket: SocketId(7),
            payload: &self.payload,
        }
    }
}

/// Deterministic data packet `i`: varying length, content, timestamp, key.
fn data(isn: SeqNumber, i: usize, payload_size: usize) -> Wire {
    let len = 1 + (i * 37 + 11) % payload_size;
    Wire {
        seq: isn + i as i32,
        fec: false,
        ts: 1_000_000u32.wrapping_add((i as u32).wrapping_mul(2731)) ^ (i as u32) << 20,
        key: [DataKeyFlags::Clear, DataKeyFlags::Even, DataKeyFlags::Odd][i % 3],
        payload: (0..len).map(|b| (b * 7 + i * 13) as u8).collect(),
        index: i,
    }
}

/// What the sender puts on the wire for `n` data packets.
fn send(cfg: FecConfig, isn: SeqNumber, n: usize, payload_size: usize) -> Vec<Wire> {
    let mut tx = FecSender::new(cfg, isn, payload_size).unwrap();
    let mut buf = vec![0u8; tx.control_len()];
    let mut wire = Vec::new();
    for i in 0..n {
        let d = data(isn, i, payload_size);
        tx.feed(&d.packet()).unwrap();
        let seq = d.seq;
        wire.push(d);
        while let Some(ctl) = tx.pack_control(seq, &mut buf).unwrap() {
            let p = ctl.packet(&buf, DataKeyFlags::Clear, SocketId(7));
            wire.push(Wire {
                seq: p.seq,
                fec: true,
                ts: p.timestamp.as_u32(),
                key: p.key,
                payload: p.payload.to_vec(),
                index: usize::MAX,
            });
        }
    }
    wire
}

/// Reference geometry, written as libsrt's `ConfigureColumns` loop walks it:
/// every group as the list of its members' stream indices, keyed by
/// (is_row, index of its last member).
fn reference_groups(cfg: &FecConfig, n: usize) -> BTreeMap<(bool, usize), Vec<usize>> {
    let (cols, rows) = (cfg.cols as usize, cfg.rows as usize);
    let mut groups = BTreeMap::new();
    for r in 0..n / cols {
        let members: Vec<usize> = (r * cols..(r + 1) * cols).collect();
        groups.insert((true, *members.last().unwrap()), members);
    }
    if rows > 1 {
        let matrix = cols * rows;
        for series in 0..=n / matrix {
            let mut offset = 0usize;
            for col in 0..cols {
                let base = series * matrix
                    + match cfg.layout {
                        FecLayout::Even => col,
                        FecLayout::Staircase => offset,
                    };
                let members: Vec<usize> = (0..rows).map(|j| base + j * cols).collect();
                if *members.last().unwrap() < n {
                    groups.insert((false, *members.last().unwrap()), members);
                }
                if col % rows == rows - 1 {
                    offset = col + 1;
                } else {
                    offset += 1 + cols;
                }
            }
        }
    }
    groups
}

/// Iterative peeling: a group whose FEC packet arrived and that misses one
/// member yields it, until nothing changes. Returns the rebuilt indices.
fn reference_decode(
    groups: &BTreeMap<(bool, usize), Vec<usize>>,
    received: &BTreeSet<usize>,
    fec_received: &BTreeSet<(bool, usize)>,
) -> BTreeSet<usize> {
    let mut known = received.clone();
    loop {
        let mut progress = false;
        for key in fec_received {
            let Some(members) = groups.get(key) else {
                continue;
            };
            let missing: Vec<usize> = members
                .iter()
                .copied()
                .filter(|m| !known.contains(m))
                .collect();
            if missing.len() == 1 {
                known.insert(missing[0]);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    known.difference(received).copied().collect()
}

struct Outcome {
    rebuilt: BTreeMap<usize, Vec<u8>>,
    reported: BTreeSet<usize>,
    received: BTreeSet<usize>,
    fec_received: BTreeSet<(bool, usize)>,
}

/// Feeds the wire minus the `lost` packets to a receiver; checks every
/// rebuilt packet against the original.
fn receive(cfg: FecConfig, isn: SeqNumber, wire: &[Wire], lost: &dyn Fn(usize) -> bool) -> Outcome {
    let mut rx = FecReceiver::new(cfg, isn, 1456).unwrap();
    let originals: BTreeMap<usize, &Wire> = wire
        .iter()
        .filter(|w| !w.fec)
        .map(|w| (w.index, w))
        .collect();
    let mut out = Outcome {
        rebuilt: BTreeMap::new(),
        reported: BTreeSet::new(),
        received: BTreeSet::new(),
        fec_received: BTreeSet::new(),
    };
    let idx = |s: SeqNumber| s.offset_from(isn) as usize;
    let (mut nfec, mut nsupply, mut nloss) = (0, 0, 0);
    for (w_i, w) in wire.iter().enumerate() {
        if lost(w_i) {
            continue;
        }
        let verdict = rx.receive(&w.packet());
        if w.fec {
            nfec += 1;
            assert_eq!(verdict, RecvVerdict::Consumed);
            out.fec_received.insert((w.payload[0] == 0xFF, idx(w.seq)));
        } else {
            assert_eq!(verdict, RecvVerdict::Deliver);
            out.received.insert(w.index);
        }
        let mut last = None;
        for r in rx.rebuilt() {
            let i = idx(r.seq);
            assert!(last < Some(i), "rebuilt packets sorted");
            last = Some(i);
            let orig = originals[&i];
            assert_eq!(r.payload(), &orig.payload[..], "payload of {i}");
            assert_eq!(r.timestamp.as_u32(), orig.ts, "timestamp of {i}");
            assert_eq!(r.key, orig.key, "key of {i}");
            let p = r.packet(SocketId(7));
            assert!(p.retransmitted && p.position == PacketPosition::Solo);
            assert_eq!(p.msg_number, MsgNumber::FIRST);
            assert!(
                out.rebuilt.insert(i, r.payload().to_vec()).is_none(),
                "{i} rebuilt twice"
            );
            nsupply += 1;
        }
        for range in rx.irrecoverable() {
            for s in range.iter() {
                assert!(out.reported.insert(idx(s)), "{s} reported twice");
                nloss += 1;
            }
        }
    }
    let st = rx.stats();
    assert_eq!(
        (st.filter_extra, st.filter_supply, st.filter_loss),
        (nfec, nsupply, nloss)
    );
    assert_eq!(st.malformed, 0);
    out
}

// --- wire layout --------------------------------------------------------

#[test]
fn row_packet_layout() {
    let c = cfg(3, 1, FecLayout::Staircase, ArqLevel::OnRequest);
    let isn = SeqNumber::new(1000).unwrap();
    let wire = send(c, isn, 3, 16);
    assert_eq!(wire.len(), 4);
    let f = &wire[3];
    assert!(f.fec);
    // Sequence number of the last data packet: no number of its own.
    assert_eq!(f.seq, isn + 2);
    assert_eq!(f.payload.len(), FEC_HEADER_LEN + 16);
    assert_eq!(f.payload[0], 0xFF, "row index is -1");
    let d = &wire[..3];
    assert_eq!(f.payload[1], 1 ^ 2, "key flags XOR: Clear 0, Even 1, Odd 2");
    let len = d.iter().fold(0u16, |a, w| a ^ w.payload.len() as u16);
    assert_eq!(
        &f.payload[2..4],
        &len.to_be_bytes(),
        "length XOR, big-endian"
    );
    let mut x = [0u8; 16];
    for w in d {
        for (a, b) in x.iter_mut().zip(&w.payload) {
            *a ^= b;
        }
    }
    assert_eq!(&f.payload[4..], &x, "payload XOR, zero-padded");
    assert_eq!(f.ts, d.iter().fold(0, |a, w| a ^ w.ts), "timestamp XOR");
    let p = f.packet();
    assert_eq!(p.msg_number, MsgNumber::FILTER);
    // Encodes as a normal data packet.
    let mut buf = [0u8; 64];
    let n = p.encode(&mut buf).unwrap();
    let back = DataPacket::decode(&buf[..n]).unwrap();
    assert_eq!(back.msg_number, MsgNumber::FILTER);
    assert_eq!(back.payload, &f.payload[..]);
}

/// (index of the data packet after which, is_row, column index) for one matrix.
fn fec_positions(c: FecConfig, n: usize) -> Vec<(usize, Option<u8>)> {
    let isn = SeqNumber::new(5).unwrap();
    send(c, isn, n, 8)
        .iter()
        .filter(|w| w.fec)
        .map(|w| {
            let i = w.seq.offset_from(isn) as usize;
            (i, (w.payload[0] != 0xFF).then_some(w.payload[0]))
        })
        .collect()
}

#[test]
fn even_layout_columns_close_in_the_last_row_before_the_row() {
    let got = fec_positions(cfg(3, 2, FecLayout::Even, ArqLevel::OnRequest), 6);
    // Row 0 closes after 2; columns 0..2 close after 3, 4, 5; row 1 after 5,
    // the column's packet first.
    assert_eq!(
        got,
        vec![
            (2, None),
            (3, Some(0)),
            (4, Some(1)),
            (5, Some(2)),
            (5, None)
        ]
    );
}

#[test]
fn staircase_column_bases() {
    // cols 5, rows 5: columns start at 0, 6, 12, 18, 24; they end 20 later.
    let got = fec_positions(cfg(5, 5, FecLayout::Staircase, ArqLevel::OnRequest), 45);
    let cols: Vec<_> = got.iter().filter(|g| g.1.is_some()).copied().collect();
    assert_eq!(
        cols,
        vec![
            (20, Some(0)),
            (26, Some(1)),
            (32, Some(2)),
            (38, Some(3)),
            (44, Some(4))
        ]
    );
    // cols 10, rows 5: 0, 11, 22, 33, 44, then 5, 16, 27, 38, 49 (the next stair).
    let got = fec_positions(cfg(10, 5, FecLayout::Staircase, ArqLevel::OnRequest), 90);
    let cols: Vec<_> = got
        .iter()
        .filter(|g| g.1.is_some())
        .map(|g| (g.0 - 40, g.1.unwrap()))
        .collect();
    assert_eq!(
        cols,
        vec![
            (0, 0),
            (5, 5),
            (11, 1),
            (16, 6),
            (22, 2),
            (27, 7),
            (33, 3),
            (38, 8),
            (44, 4),
            (49, 9)
        ]
    );
    // The next matrix's columns are one matrix later.
    let got = fec_positions(cfg(2, 3, FecLayout::Staircase, ArqLevel::OnRequest), 20);
    let cols: Vec<_> = got.iter().filter(|g| g.1.is_some()).copied().collect();
    assert_eq!(
        cols,
        vec![
            (4, Some(0)),
            (7, Some(1)),
            (10, Some(0)),
            (13, Some(1)),
            (16, Some(0)),
            (19, Some(1))
        ]
    );
}

#[test]
fn negative_rows_send_columns_only_and_rows_one_rows_only() {
    let got = fec_positions(cfg(3, -2, FecLayout::Even, ArqLevel::OnRequest), 12);
    assert!(got.iter().all(|g| g.1.is_some()));
    assert_eq!(got.len(), 6);
    let got = fec_positions(cfg(3, 1, FecLayout::Even, ArqLevel::OnRequest), 12);
    assert_eq!(got, vec![(2, None), (5, None), (8, None), (11, None)]);
}

#[test]
fn sender_refuses_bad_sizes() {
    let c = cfg(3, 1, FecLayout::Even, ArqLevel::OnRequest);
    let isn = SeqNumber::new(0).unwrap();
    assert!(FecSender::new(c, isn, 0).is_err());
    assert!(FecSender::new(c, isn, 1453).is_err());
    let mut tx = FecSender::new(c, isn, 8).unwrap();
    assert!(tx.feed(&data(isn, 0, 100).packet()).is_err());
    assert!(tx.pack_control(isn, &mut [0u8; 11]).is_err());
    assert!(FecReceiver::new(c, isn, 1457).is_err());
    // Hand-built configurations outside libsrt's ranges (a zero would divide by zero).
    for bad in [
        FecConfig { cols: 0, ..c },
        FecConfig { cols: 1, ..c },
        FecConfig { rows: 0, ..c },
        FecConfig {
            rows: 1,
            cols_only: true,
            ..c
        },
        FecConfig { cols: 256, ..c },
        FecConfig { rows: 1000, ..c },
    ] {
        assert!(FecSender::new(bad, isn, 8).is_err(), "{bad:?}");
        assert!(FecReceiver::new(bad, isn, 8).is_err(), "{bad:?}");
    }
}

// --- receiver -----------------------------------------------------------

#[test]
fn rebuilds_a_lost_packet_across_the_sequence_wrap() {
    let c = cfg(4, 1, FecLayout::Even, ArqLevel::OnRequest);
    let isn = SeqNumber::MAX - 2;
    let wire = send(c, isn, 8, 100);
    let out = receive(c, isn, &wire, &|i| i == 2 || i == 5);
    assert_eq!(out.rebuilt.keys().copied().collect::<Vec<_>>(), vec![2, 4]);
}

#[test]
fn rebuilds_through_rows_and_columns_in_turn() {
    // 4 × 3, even: 5 and 6 share row 1, 5 and 9 share column 1. Column 2
    // rebuilds 6, then row 1 rebuilds 5, then column 1 rebuilds 9.
    let c = cfg(4, 3, FecLayout::Even, ArqLevel::OnRequest);
    let isn = SeqNumber::new(3).unwrap();
    let wire = send(c, isn, 12, 64);
    let lost: BTreeSet<usize> = wire
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.fec && [5, 6, 9].contains(&w.index))
        .map(|(i, _)| i)
        .collect();
    let out = receive(c, isn, &wire, &|i| lost.contains(&i));
    assert_eq!(
        out.rebuilt.keys().copied().collect::<Vec<_>>(),
        vec![5, 6, 9]
    );
    assert!(out.reported.is_empty());
}

#[test]
fn arq_onreq_reports_what_fec_cannot_rebuild_never_and_always_do_not() {
    for (arq, expect) in [
        (ArqLevel::OnRequest, true),
        (ArqLevel::Never, false),
        (ArqLevel::Always, false),
    ] {
        for c in [
            cfg(4, 1, FecLayout::Even, arq),
            cfg(4, 3, FecLayout::Even, arq),
            cfg(4, 3, FecLayout::Staircase, arq),
        ] {
            let isn = SeqNumber::new(77).unwrap();
            let wire = send(c, isn, 200, 50);
            // Rows 1 and 2 whole (beyond any repair), and one packet in row 5.
            let lost_idx: BTreeSet<usize> = (4..=11).chain([21]).collect();
            let lost_wire: BTreeSet<usize> = wire
                .iter()
                .enumerate()
                .filter(|(_, w)| !w.fec && lost_idx.contains(&w.index))
                .map(|(i, _)| i)
                .collect();
            let out = receive(c, isn, &wire, &|i| lost_wire.contains(&i));
            assert!(out.rebuilt.contains_key(&21), "{c:?}");
            let unrebuilt: BTreeSet<usize> = lost_idx
                .iter()
                .copied()
                .filter(|i| !out.rebuilt.contains_key(i))
                .collect();
            assert!(!unrebuilt.is_empty(), "{c:?}");
            if expect {
                assert!(
                    unrebuilt.is_subset(&out.reported),
                    "{c:?}: {unrebuilt:?} {:?}",
                    out.reported
                );
                assert!(out.reported.is_subset(&lost_idx), "{c:?}");
            } else {
                assert!(out.reported.is_empty(), "{c:?}");
            }
        }
    }
}

#[test]
fn malformed_fec_packets_are_dropped_and_counted() {
    let c = cfg(4, 2, FecLayout::Even, ArqLevel::OnRequest);
    let isn = SeqNumber::new(10).unwrap();
    let mut rx = FecReceiver::new(c, isn, 100).unwrap();
    let mk = |seq: i32, payload: Vec<u8>| Wire {
        seq: isn + seq,
        fec: true,
        ts: 0,
        key: DataKeyFlags::Clear,
        payload,
        index: usize::MAX,
    };
    for w in [
        mk(3, vec![]),
        mk(3, vec![0xFF, 0, 0]),
        mk(3, vec![0xFF; 200]),  // longer than the capacity
        mk(3, vec![9, 0, 0, 0]), // column 9 of 4
        mk(3, vec![2, 0, 0, 0]), // column 2, but packet 3 is in column 3
        mk(3, vec![0x80, 0, 0, 0]),
    ] {
        assert_eq!(
            rx.receive(&w.packet()),
            RecvVerdict::Malformed,
            "{:?}",
            w.payload
        );
    }
    assert_eq!(rx.stats().malformed, 6);
    assert_eq!(rx.stats().filter_extra, 6);
    // A column packet where there are no columns.
    let mut rx =
        FecReceiver::new(cfg(4, 1, FecLayout::Even, ArqLevel::OnRequest), isn, 100).unwrap();
    assert_eq!(
        rx.receive(&mk(3, vec![3, 0, 0, 0]).packet()),
        RecvVerdict::Malformed
    );
    // A forged FEC packet whose XOR gives an impossible length rebuilds nothing.
    let mut rx =
        FecReceiver::new(cfg(2, 1, FecLayout::Even, ArqLevel::OnRequest), isn, 100).unwrap();
    rx.receive(&data(isn, 0, 50).packet());
    let mut forged = vec![0xFF, 0, 0xFF, 0xFF];
    forged.extend([0; 20]);
    assert_eq!(rx.receive(&mk(1, forged).packet()), RecvVerdict::Consumed);
    assert!(rx.rebuilt().is_empty());
    assert_eq!(rx.stats().unusable, 1);
}

#[test]
fn large_jump_moves_the_window_and_reports_within_bounds() {
    let c = cfg(5, 4, FecLayout::Staircase, ArqLevel::OnRequest);
    let isn = SeqNumber::new(0).unwrap();
    let mut rx = FecReceiver::new(c, isn, 100).unwrap();
    for i in 0..10 {
        rx.receive(&data(isn, i, 50).packet());
    }
    // A packet a billion ahead (within the 2^30 compare window).
    let far = Wire {
        seq: isn + 1_000_000_000,
        ..data(isn, 0, 50)
    };
    assert_eq!(rx.receive(&far.packet()), RecvVerdict::Deliver);
    // The missing cells of the window it left (4 matrices of 20), then all
    // it jumped over as one range: the work is bounded whatever the jump,
    // and nothing at or after the packet's own matrix is reported.
    let ranges = rx.irrecoverable();
    assert!(ranges.len() <= 80, "{}", ranges.len());
    let reported: u32 = ranges.iter().map(|r| r.len()).sum();
    assert!(
        reported > 999_999_900 && reported < 1_000_000_000,
        "{reported}"
    );
    let last = ranges.last().unwrap().last;
    assert!(last.offset_from(isn) < 1_000_000_000 && last.offset_from(isn) >= 999_999_980);
    // Old packets now pass through untouched; the stream continues after the jump.
    assert_eq!(
        rx.receive(&data(isn, 11, 50).packet()),
        RecvVerdict::Deliver
    );
    let next = Wire {
        seq: isn + 1_000_000_001,
        ..data(isn, 1, 50)
    };
    assert_eq!(rx.receive(&next.packet()), RecvVerdict::Deliver);
}

#[test]
fn duplicates_and_old_packets_pass_through() {
    let c = cfg(3, 1, FecLayout::Even, ArqLevel::OnRequest);
    let isn = SeqNumber::new(100).unwrap();
    let wire = send(c, isn, 3, 20);
    let mut rx = FecReceiver::new(c, isn, 100).unwrap();
    rx.receive(&wire[0].packet());
    rx.receive(&wire[2].packet());
    assert_eq!(rx.receive(&wire[3].packet()), RecvVerdict::Consumed);
    assert_eq!(rx.rebuilt().len(), 1);
    // The retransmission of the rebuilt packet, and a duplicate FEC packet.
    assert_eq!(rx.receive(&wire[1].packet()), RecvVerdict::Deliver);
    assert!(rx.rebuilt().is_empty());
    assert_eq!(rx.receive(&wire[3].packet()), RecvVerdict::Consumed);
    assert!(rx.rebuilt().is_empty());
    let old = Wire {
        seq: isn - 5,
        ..wire[0].clone()
    };
    assert_eq!(rx.receive(&old.packet()), RecvVerdict::Deliver);
}

#[test]
fn no_allocation_per_packet_in_steady_state() {
    let c = cfg(10, 5, FecLayout::Staircase, ArqLevel::OnRequest);
    let isn = SeqNumber::new(1).unwrap();
    let mut tx = FecSender::new(c, isn, 1316).unwrap();
    let mut rx = FecReceiver::new(c, isn, 1456).unwrap();
    let payload = vec![0x5Au8; 1316];
    let mut buf = vec![0u8; tx.control_len()];
    let mut run = |from: usize, to: usize, tx: &mut FecSender, rx: &mut FecReceiver| {
        let mut rebuilt = 0;
        for i in from..to {
            let p = DataPacket {
                seq: isn + i as i32,
                position: PacketPosition::Solo,
                in_order: false,
                key: DataKeyFlags::Clear,
                retransmitted: false,
                msg_number: MsgNumber::FIRST,
                timestamp: Timestamp::from_u32(i as u32 * 100),
                dest_socket: SocketId(1),
                payload: &payload[..1000 + i % 300],
            };
            tx.feed(&p).unwrap();
            if i % 13 != 4 {
                rx.receive(&p);
                rebuilt += rx.rebuilt().len();
            }
            while let Some(ctl) = tx.pack_control(p.seq, &mut buf).unwrap() {
                rx.receive(&ctl.packet(&buf, DataKeyFlags::Clear, SocketId(1)));
                rebuilt += rx.rebuilt().len();
            }
        }
        rebuilt
    };
    // Warm up: the rebuilt-packet pool and the loss list reach their size.
    assert!(run(0, 2000, &mut tx, &mut rx) > 0);
    let mut rebuilt = 0;
    let info = allocation_counter::measure(|| {
        rebuilt = run(2000, 6000, &mut tx, &mut rx);
    });
    assert!(rebuilt > 200, "{rebuilt}");
    assert_eq!(info.count_total, 0);
}

// --- property tests -----------------------------------------------------

fn arb_cfg() -> impl Strategy<Value = FecConfig> {
    (
        2u32..=6,
        prop_oneof![Just(1i32), 2i32..=5, -4i32..=-2],
        prop_oneof![Just(FecLayout::Even), Just(FecLayout::Staircase)],
    )
        .prop_map(|(c, r, l)| cfg(c, r, l, ArqLevel::OnRequest))
}

fn arb_isn() -> impl Strategy<Value = SeqNumber> {
    prop_oneof![
        Just(SeqNumber::MAX - 7),
        any::<u32>().prop_map(SeqNumber::new_truncate)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every loss pattern: the receiver rebuilds exactly what peeling over
    /// the matrix can, byte for byte. The stream (2 matrices with rows, 3
    /// with staircase columns, 12 rows without columns) fits the receiver's
    /// window, so nothing is given up before it could be rebuilt.
    #[test]
    fn rebuilds_exactly_what_the_reference_decoder_can(
        c in arb_cfg(),
        isn in arb_isn(),
        loss_pct in 0u32..45,
        seed in any::<u64>(),
    ) {
        let n = match (c.has_columns(), c.layout) {
            (false, _) => 12 * c.cols as usize,
            (true, FecLayout::Even) => 2 * c.matrix_size() as usize,
            (true, FecLayout::Staircase) => 3 * c.matrix_size() as usize,
        };
        let wire = send(c, isn, n, 40);
        let mut rng = seed;
        let lost: Vec<bool> = wire.iter().map(|_| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 33) % 100) < u64::from(loss_pct)
        }).collect();
        let out = receive(c, isn, &wire, &|i| lost[i]);
        let groups = reference_groups(&c, n);
        // The sender sent exactly the reference's groups (columns-only: no rows).
        let sent: BTreeSet<(bool, usize)> = wire.iter().filter(|w| w.fec)
            .map(|w| (w.payload[0] == 0xFF, w.seq.offset_from(isn) as usize)).collect();
        let expected_groups: BTreeSet<(bool, usize)> = groups.keys()
            .filter(|(row, _)| !(*row && c.cols_only)).copied().collect();
        prop_assert_eq!(&sent, &expected_groups);
        let want = reference_decode(&groups, &out.received, &out.fec_received);
        let got: BTreeSet<usize> = out.rebuilt.keys().copied().collect();
        prop_assert_eq!(got, want);
    }

    /// `arq:onreq`, any length: after a loss-free tail, every lost packet was
    /// rebuilt or reported, and nothing received was reported.
    #[test]
    fn onreq_reports_every_loss_fec_did_not_repair(
        c in arb_cfg(),
        isn in arb_isn(),
        loss_pct in 0u32..40,
        seed in any::<u64>(),
        matrices in 1usize..6,
    ) {
        let lossy = matrices * c.matrix_size() as usize;
        let n = lossy + 6 * c.matrix_size() as usize;
        let wire = send(c, isn, n, 24);
        let mut rng = seed;
        let lost: Vec<bool> = wire.iter().map(|w| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let idx = if w.fec { w.seq.offset_from(isn) as usize } else { w.index };
            idx < lossy && ((rng >> 33) % 100) < u64::from(loss_pct)
        }).collect();
        let out = receive(c, isn, &wire, &|i| lost[i]);
        let lost_data: BTreeSet<usize> = (0..n).filter(|i| !out.received.contains(i)).collect();
        for i in &lost_data {
            prop_assert!(out.rebuilt.contains_key(i) || out.reported.contains(i), "{} lost, neither rebuilt nor reported", i);
        }
        prop_assert!(out.reported.is_subset(&lost_data));
    }

    /// The sender under any sequence numbering (jumps, repeats, going
    /// back): no panic, every FEC packet full-size.
    #[test]
    fn sender_survives_any_numbering(
        c in arb_cfg(),
        steps in proptest::collection::vec((-3000i32..3000, 0usize..=40), 1..300),
    ) {
        let isn = SeqNumber::MAX - 100;
        let mut tx = FecSender::new(c, isn, 40).unwrap();
        let mut buf = vec![0u8; tx.control_len()];
        let mut seq = isn;
        let payload = [0xA5u8; 40];
        for (jump, len) in steps {
            seq = seq + jump;
            let mut d = data(isn, 0, 40);
            d.seq = seq;
            d.payload = payload[..len].to_vec();
            tx.feed(&d.packet()).unwrap();
            let mut n = 0;
            while let Some(ctl) = tx.pack_control(seq, &mut buf).unwrap() {
                prop_assert_eq!(ctl.len, 44);
                prop_assert_eq!(ctl.seq, seq);
                n += 1;
                prop_assert!(n <= 2, "at most a column and a row per packet");
            }
        }
    }

    /// Hostile input: arbitrary packets never panic, and what comes out is
    /// bounded by the window.
    #[test]
    fn hostile_input_is_bounded(
        c in arb_cfg(),
        arq in prop_oneof![Just(ArqLevel::OnRequest), Just(ArqLevel::Never), Just(ArqLevel::Always)],
        pkts in proptest::collection::vec(
            (any::<bool>(), -200i32..400, any::<u32>(), proptest::collection::vec(any::<u8>(), 0..80), 0u8..3),
            1..200),
    ) {
        let c = FecConfig { arq, ..c };
        let isn = SeqNumber::new(1000).unwrap();
        let mut rx = FecReceiver::new(c, isn, 64).unwrap();
        let bound = 4 * (c.cols + c.rows) as usize;
        for (fec, off, ts, payload, key) in pkts {
            let w = Wire {
                seq: isn + off,
                fec,
                ts,
                key: [DataKeyFlags::Clear, DataKeyFlags::Even, DataKeyFlags::Odd][key as usize],
                payload,
                index: 0,
            };
            rx.receive(&w.packet());
            prop_assert!(rx.rebuilt().len() <= bound);
            prop_assert!(rx.rebuilt().iter().all(|r| r.payload().len() <= 64));
            // At most the cells of the window left, each once, plus one
            // range for what was jumped over, all before the packet.
            let ranges = rx.irrecoverable();
            prop_assert!(ranges.len() <= 4 * c.matrix_size() as usize + 1);
            prop_assert!(ranges.iter().all(|r| r.last.offset_from(w.seq) < 0 && r.first.offset_from(isn) >= 0));
            prop_assert!(arq == ArqLevel::OnRequest || ranges.is_empty());
        }
    }
}

// --- against libsrt's own packets ---------------------------------------

/// The captures in `testdata/` (libsrt 1.5.1's srt-live-transmit through a
/// relay, no loss): filter configuration and packets in wire order.
fn libsrt_captures() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    [
        (
            "fec,cols:4,rows:3,layout:staircase",
            include_str!("testdata/libsrt_fec_4x3_staircase.txt"),
        ),
        (
            "fec,cols:5,rows:-2,layout:even",
            include_str!("testdata/libsrt_fec_5xm2_even.txt"),
        ),
        (
            "fec,cols:3,rows:1",
            include_str!("testdata/libsrt_fec_3x1.txt"),
        ),
    ]
    .into_iter()
    .map(|(cfg, text)| {
        let pkts = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (len, hex) = l.split_once(' ').unwrap();
                let mut b: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect();
                b.resize(len.parse().unwrap(), 0);
                b
            })
            .collect();
        (cfg, pkts)
    })
    .collect()
}

/// Our sender, fed libsrt's data packets, makes libsrt's FEC packets byte
/// for byte, at the same places in the stream: staircase with rows and
/// columns, even with columns only, rows only.
#[test]
fn sender_matches_libsrt_fec_packets() {
    for (text, capture) in libsrt_captures() {
        let pkts: Vec<DataPacket<'_>> = capture
            .iter()
            .map(|b| DataPacket::decode(b).unwrap())
            .collect();
        let c = FecConfig::parse(text).unwrap();
        let isn = pkts[0].seq;
        let fec_len = pkts
            .iter()
            .find(|p| p.msg_number == MsgNumber::FILTER)
            .unwrap()
            .payload
            .len();
        let mut tx = FecSender::new(c, isn, fec_len - FEC_HEADER_LEN).unwrap();
        let mut buf = vec![0u8; tx.control_len()];
        let mut ours: Vec<(SeqNumber, u32, Vec<u8>)> = Vec::new();
        let mut theirs = Vec::new();
        let (mut rows, mut cols) = (0, 0);
        for p in &pkts {
            if p.msg_number == MsgNumber::FILTER {
                assert_eq!(p.position, PacketPosition::Solo);
                assert!(!p.in_order && !p.retransmitted);
                if p.payload[0] == 0xFF {
                    rows += 1;
                } else {
                    cols += 1;
                }
                theirs.push((p.seq, p.timestamp.as_u32(), p.payload.to_vec()));
                continue;
            }
            // Every FEC packet due before this data packet was already sent.
            assert_eq!(ours, theirs, "{text}: before data packet {}", p.seq);
            tx.feed(p).unwrap();
            while let Some(ctl) = tx.pack_control(p.seq, &mut buf).unwrap() {
                ours.push((ctl.seq, ctl.timestamp.as_u32(), buf[..ctl.len].to_vec()));
            }
        }
        assert_eq!(rows > 0, !c.cols_only, "{text}");
        assert_eq!(cols > 0, c.has_columns(), "{text}");
        assert!(rows + cols >= 20, "{text}: {rows} rows, {cols} columns");
        assert_eq!(ours, theirs, "{text}");
    }
}

/// Our receiver rebuilds libsrt's packets from libsrt's FEC packets.
#[test]
fn receiver_rebuilds_from_libsrt_fec_packets() {
    for (text, capture) in libsrt_captures() {
        let pkts: Vec<DataPacket<'_>> = capture
            .iter()
            .map(|b| DataPacket::decode(b).unwrap())
            .collect();
        let c = FecConfig::parse(text).unwrap();
        let isn = pkts[0].seq;
        let mut rx = FecReceiver::new(c, isn, 1456).unwrap();
        let originals: BTreeMap<u32, &DataPacket<'_>> = pkts
            .iter()
            .filter(|p| p.msg_number != MsgNumber::FILTER)
            .map(|p| (p.seq.as_u32(), p))
            .collect();
        let mut dropped = BTreeSet::new();
        let mut rebuilt = BTreeSet::new();
        for (i, p) in pkts.iter().enumerate() {
            if p.msg_number != MsgNumber::FILTER && i % 7 == 2 {
                dropped.insert(p.seq.as_u32());
                continue;
            }
            assert_ne!(rx.receive(p), RecvVerdict::Malformed, "{text}");
            for r in rx.rebuilt() {
                let o = originals[&r.seq.as_u32()];
                assert_eq!(
                    (r.payload(), r.timestamp, r.key),
                    (o.payload, o.timestamp, o.key)
                );
                rebuilt.insert(r.seq.as_u32());
            }
        }
        assert!(rebuilt.is_subset(&dropped), "{text}");
        assert!(
            rebuilt.len() * 2 >= dropped.len(),
            "{text}: {} of {}",
            rebuilt.len(),
            dropped.len()
        );
    }
}
