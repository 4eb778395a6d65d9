//! Every connection gets fresh, secret keys (issue 13): two callers
//! connect with a passphrase through a recording forwarder; what it saw,
//! opened with the passphrase as an observer who knows it could, shows
//! different salts and session keys. (srt-tokio used to re-key each
//! caller by hand after connecting; the endpoint now does it for every
//! connection from OS entropy.)

use srt_proto::sim::capture::UdpTap;
use srt_tokio::SrtSocket;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::timeout;

const PASS: &str = "srt-tokio keys are fresh";
const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_get_different_salts_and_keys() {
    let mut listener = SrtSocket::builder()
        .passphrase(PASS)
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let tap = UdpTap::start(listener.local_addr()).unwrap();
    let server = tokio::spawn(async move {
        let mut accepted = Vec::new();
        for _ in 0..2 {
            accepted.push(listener.next().await.unwrap().accept().unwrap());
        }
        accepted
    });
    let mut callers = Vec::new();
    for _ in 0..2 {
        let call = SrtSocket::builder().passphrase(PASS).call(tap.addr());
        callers.push(timeout(LIMIT, call).await.unwrap().unwrap());
    }
    let accepted = timeout(LIMIT, server).await.unwrap().unwrap();
    let opened = tap.capture().opened_keys(PASS.as_bytes()).unwrap();
    assert_eq!(opened.len(), 2, "one key material request per connection");
    let salts: BTreeSet<&Vec<u8>> = opened.iter().map(|o| &o.salt).collect();
    let keys: BTreeSet<&Vec<u8>> = opened.iter().flat_map(|o| &o.keys).collect();
    assert_eq!(salts.len(), 2, "salts repeat: {opened:x?}");
    assert_eq!(keys.len(), 2, "keys repeat: {opened:x?}");
    drop((callers, accepted));
}
