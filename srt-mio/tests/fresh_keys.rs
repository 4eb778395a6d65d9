//! Every connection gets fresh, secret keys (issue 13): the driver keys each
//! endpoint's generator with OS entropy, so two connections made the same
//! way announce different salts and session keys. A recording forwarder
//! sits between the callers and the listener; what it saw is opened with
//! the passphrase, as an observer who knows it could.

use srt_mio::{Context, SockStatus, SrtSocket};
use srt_proto::options::{OptionValue, SockOpt};
use srt_proto::sim::capture::UdpTap;
use std::collections::BTreeSet;
use std::net::SocketAddr;

const PASS: &str = "srt-mio keys are fresh";

fn secure_socket(ctx: &Context) -> SrtSocket {
    let u = ctx.create_socket().unwrap();
    ctx.set_option(u, SockOpt::Passphrase, OptionValue::Str(PASS.into()))
        .unwrap();
    u
}

#[test]
fn two_connections_get_different_salts_and_keys() {
    let ctx = Context::new().unwrap();
    let l = secure_socket(&ctx);
    ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
    ctx.listen(l, 4).unwrap();
    let server: SocketAddr = ctx.local_addr(l).unwrap();
    let tap = UdpTap::start(server).unwrap();
    // Two callers of one context, and one of a second context (as a
    // second process would be).
    let other = Context::new().unwrap();
    let mut keep = Vec::new();
    for c in [&ctx, &ctx, &other] {
        let u = secure_socket(c);
        c.connect(u, tap.addr()).unwrap();
        assert_eq!(c.state(u), SockStatus::Connected);
        keep.push(ctx.accept(l).unwrap().0);
    }
    let opened = tap.capture().opened_keys(PASS.as_bytes()).unwrap();
    assert_eq!(opened.len(), 3, "one key material request per connection");
    let salts: BTreeSet<&Vec<u8>> = opened.iter().map(|o| &o.salt).collect();
    let keys: BTreeSet<&Vec<u8>> = opened.iter().flat_map(|o| &o.keys).collect();
    assert_eq!(salts.len(), 3, "salts repeat: {opened:x?}");
    assert_eq!(keys.len(), 3, "keys repeat: {opened:x?}");
    assert!(keys.iter().all(|k| k.len() == 16));
}
