//! Per-packet CPU cost of the builtin FEC filter (`fec,cols:10,rows:5`,
//! staircase, 1316-byte payloads): the sender's feed + FEC packing, the
//! receiver without loss, and the receiver with 1 packet in 20 lost (and
//! rebuilt). One iteration = one data packet plus its share of FEC packets.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::filter::{ArqLevel, FecConfig, FecLayout, FecReceiver, FecSender};
use srt_proto::packet::{DataKeyFlags, DataPacket, PacketPosition, SocketId};
use srt_proto::seq::{MsgNumber, SeqNumber, Timestamp};

const CFG: FecConfig = FecConfig {
    cols: 10,
    rows: 5,
    cols_only: false,
    layout: FecLayout::Staircase,
    arq: ArqLevel::OnRequest,
};

fn data(seq: SeqNumber, payload: &[u8]) -> DataPacket<'_> {
    DataPacket {
        seq,
        position: PacketPosition::Solo,
        in_order: false,
        key: DataKeyFlags::Clear,
        retransmitted: false,
        msg_number: MsgNumber::FIRST,
        timestamp: Timestamp::from_u32(seq.as_u32()),
        dest_socket: SocketId(1),
        payload,
    }
}

/// The wire traffic (data and FEC payloads) for `n` data packets.
fn record(n: usize, payload: &[u8]) -> Vec<(SeqNumber, bool, Vec<u8>)> {
    let isn = SeqNumber::new(1).unwrap();
    let mut tx = FecSender::new(CFG, isn, payload.len()).unwrap();
    let mut buf = vec![0u8; tx.control_len()];
    let mut wire = Vec::new();
    for i in 0..n {
        let p = data(isn + i as i32, payload);
        tx.feed(&p).unwrap();
        wire.push((p.seq, false, payload.to_vec()));
        while let Some(ctl) = tx.pack_control(p.seq, &mut buf).unwrap() {
            wire.push((ctl.seq, true, buf[..ctl.len].to_vec()));
        }
    }
    wire
}

fn bench(c: &mut Criterion) {
    let payload = [0x47u8; 1316];
    let mut g = c.benchmark_group("fec_10x5_1316");
    g.throughput(Throughput::Elements(1));

    // A yardstick measured in the same run: encoding the data packet itself.
    let mut out = [0u8; 1500];
    let reference = data(SeqNumber::new(1).unwrap(), &payload);
    g.bench_function("reference_encode_data_packet", |b| {
        b.iter(|| black_box(&reference).encode(black_box(&mut out)).unwrap())
    });

    let isn = SeqNumber::new(1).unwrap();
    let mut tx = FecSender::new(CFG, isn, payload.len()).unwrap();
    let mut buf = vec![0u8; tx.control_len()];
    let mut seq = isn;
    g.bench_function("send", |b| {
        b.iter(|| {
            let p = data(seq, &payload);
            tx.feed(black_box(&p)).unwrap();
            while let Some(ctl) = tx.pack_control(seq, black_box(&mut buf)).unwrap() {
                black_box(ctl);
            }
            seq = seq.next();
        })
    });

    // Receiving: FEC packets are tied to the sequence numbers they were made
    // for, so replay one long recording (40 matrices) and restart the
    // receiver per lap (one ~90 KB allocation per 2000 packets, amortised).
    let laps = 50 * 40;
    let wire = record(laps, &payload);
    for (name, lost_every) in [("receive_no_loss", usize::MAX), ("receive_5pct_loss", 20)] {
        let mut rx = FecReceiver::new(CFG, isn, 1456).unwrap();
        let mut i = 0usize;
        let mut data_i = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                // Feed up to and including the next data packet, and the FEC
                // packets before it.
                loop {
                    if i == wire.len() {
                        i = 0;
                        data_i = 0;
                        rx = FecReceiver::new(CFG, isn, 1456).unwrap();
                    }
                    let (s, fec, ref p) = wire[i];
                    i += 1;
                    let mut pkt = data(s, p);
                    if fec {
                        pkt.msg_number = MsgNumber::FILTER;
                        black_box(rx.receive(&pkt));
                        black_box(rx.rebuilt().len());
                        continue;
                    }
                    data_i += 1;
                    if data_i % lost_every != 7 {
                        black_box(rx.receive(&pkt));
                        black_box(rx.rebuilt().len());
                    }
                    break;
                }
            })
        });
    }
    g.finish();
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
use group::benches;
criterion_main!(benches);
