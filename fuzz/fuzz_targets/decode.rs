//! Decode arbitrary bytes as an SRT packet; whatever decodes must survive an
//! encode/decode round trip unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use srt_proto::packet::Packet;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::decode(data) else {
        return;
    };
    let mut buf = vec![0u8; 65536];
    let len = packet
        .encode(&mut buf)
        .unwrap_or_else(|e| panic!("decoded packet does not encode: {e:?}\n{packet:?}"));
    let again = Packet::decode(&buf[..len])
        .unwrap_or_else(|e| panic!("re-encoded packet does not decode: {e:?}\n{packet:?}"));
    assert_eq!(packet, again, "encode/decode round trip changed the packet");
});
