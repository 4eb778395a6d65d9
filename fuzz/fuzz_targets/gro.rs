//! srt-udp's splitting of received buffers into datagrams (GRO):
//! `GroCursor` over up to eight buffers of any received length (within the
//! 64 KiB buffer) and any stride. Checks: no panic; the datagrams of each
//! buffer tile its bytes exactly, in order, none empty, none longer than
//! the stride; `has_next` agrees with `next` at every point; the count is
//! bounded by the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use srt_udp::GroCursor;

const RECV_BUF: usize = 65_536;

fuzz_target!(|pairs: Vec<(u16, u16)>| {
    let runs: Vec<(usize, usize)> = pairs
        .iter()
        .take(8)
        .map(|&(len, stride)| (usize::from(len).min(RECV_BUF), usize::from(stride)))
        .collect();
    let mut at = GroCursor::default();
    let mut expect = (0usize, 0usize); // (buffer, offset) the next datagram must start at
    let mut count = 0usize;
    loop {
        let has = at.has_next(&runs);
        let Some((k, range)) = at.next(&runs) else {
            assert!(!has, "has_next said yes, next found nothing");
            break;
        };
        assert!(has, "has_next said no, next found a datagram");
        count += 1;
        assert!(count <= RECV_BUF * 8, "more datagrams than bytes");
        // Buffers before k must be used up exactly.
        while expect.0 < k {
            assert_eq!(
                expect.1, runs[expect.0].0,
                "buffer {} not used up",
                expect.0
            );
            expect = (expect.0 + 1, 0);
        }
        assert_eq!((k, range.start), expect, "a gap or an overlap");
        let (len, stride) = runs[k];
        assert!(
            range.start < range.end && range.end <= len,
            "{range:?} in {len}"
        );
        if stride > 0 {
            assert!(
                range.len() <= stride,
                "{range:?} longer than stride {stride}"
            );
            if range.end < len {
                assert_eq!(range.len(), stride, "only the last datagram may be short");
            }
        }
        expect = (k, range.end);
    }
    // Every remaining buffer is used up.
    while expect.0 < runs.len() {
        assert_eq!(
            expect.1, runs[expect.0].0,
            "buffer {} not used up",
            expect.0
        );
        expect = (expect.0 + 1, 0);
    }
});
