//! Encoding and decoding a data packet allocate nothing.

use srt_proto::packet::{DataKeyFlags, DataPacket, Packet, PacketPosition, SocketId};
use srt_proto::seq::{MsgNumber, SeqNumber, Timestamp};

#[test]
fn data_packet_codec_does_not_allocate() {
    let payload = [0x47u8; 1316];
    let mut buf = [0u8; 1500];
    let packet = Packet::Data(DataPacket {
        seq: SeqNumber::new_truncate(7),
        position: PacketPosition::Solo,
        in_order: false,
        key: DataKeyFlags::Even,
        retransmitted: true,
        msg_number: MsgNumber::new_truncate(3),
        timestamp: Timestamp::from_u32(123),
        dest_socket: SocketId(9),
        payload: &payload,
    });
    let mut total = 0;
    let counts = allocation_counter::measure(|| {
        for _ in 0..1000 {
            let n = packet.encode(&mut buf).unwrap();
            let back = Packet::decode(&buf[..n]).unwrap();
            total += back.encoded_len();
        }
    });
    assert_eq!(total, 1000 * (16 + 1316));
    assert_eq!(counts.count_total, 0, "allocations: {counts:?}");
    // The counter does see allocations when there are some.
    let seen = allocation_counter::measure(|| {
        std::hint::black_box(vec![0u8; 64]);
    });
    assert!(seen.count_total > 0);
}
