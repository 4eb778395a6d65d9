//! Encode and decode speed of a 1316-byte live data packet and a full ACK.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use srt_proto::packet::{
    Ack, AckInfo, ControlBody, ControlPacket, DataKeyFlags, DataPacket, Packet, PacketPosition,
    SocketId,
};
use srt_proto::seq::{MsgNumber, SeqNumber, Timestamp};

fn data_packet(payload: &[u8]) -> Packet<'_> {
    Packet::Data(DataPacket {
        seq: SeqNumber::new_truncate(0x1234_5678),
        position: PacketPosition::Solo,
        in_order: false,
        key: DataKeyFlags::Clear,
        retransmitted: false,
        msg_number: MsgNumber::new_truncate(42),
        timestamp: Timestamp::from_u32(1_000_000),
        dest_socket: SocketId(0x0102_0304),
        payload,
    })
}

fn full_ack() -> Packet<'static> {
    Packet::Control(ControlPacket {
        timestamp: Timestamp::from_u32(1_000_000),
        dest_socket: SocketId(0x0102_0304),
        body: ControlBody::Ack(Ack {
            ack_number: 17,
            ack_seq: SeqNumber::new_truncate(0x1234_5678),
            info: AckInfo::Full {
                rtt: 20_000,
                rtt_var: 5_000,
                buffer_available: 8000,
                packet_recv_rate: 950,
                link_capacity: 100_000,
                recv_rate: 1_250_000,
            },
        }),
    })
}

fn bench(c: &mut Criterion) {
    let payload = [0x47u8; 1316];
    let mut buf = [0u8; 1500];

    let mut g = c.benchmark_group("data_1316");
    g.throughput(Throughput::Elements(1));
    let packet = data_packet(&payload);
    g.bench_function("encode", |b| {
        b.iter(|| black_box(&packet).encode(black_box(&mut buf)).unwrap())
    });
    let n = packet.encode(&mut buf).unwrap();
    let wire = buf[..n].to_vec();
    g.bench_function("decode", |b| {
        b.iter(|| Packet::decode(black_box(&wire)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("ack_full");
    g.throughput(Throughput::Elements(1));
    let ack = full_ack();
    g.bench_function("encode", |b| {
        b.iter(|| black_box(&ack).encode(black_box(&mut buf)).unwrap())
    });
    let n = ack.encode(&mut buf).unwrap();
    let wire = buf[..n].to_vec();
    g.bench_function("decode", |b| {
        b.iter(|| Packet::decode(black_box(&wire)).unwrap())
    });
    g.finish();
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
use group::benches;
criterion_main!(benches);
