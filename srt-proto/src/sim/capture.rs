//! What an observer of the wire learns: the cleartext fields of the
//! handshakes, and, with the passphrase, the salts and session keys of the
//! key material messages. Tests of every driver use it to show that the
//! keys are fresh per connection and not derivable from public values.
//!
//! [`Capture`] decodes recorded datagrams (from [`Network::set_tamper`] in
//! a simulation, or from a [`UdpTap`] between a real caller and listener).
//! [`UdpTap`] is the only part of this crate that opens sockets and starts
//! threads: a recording UDP forwarder on loopback for driver tests.
//!
//! [`Network::set_tamper`]: super::Network::set_tamper

use crate::crypto::{derive_kek, open_key_material, CryptoError};
use crate::packet::{ControlBody, Handshake, HsExtension, KeyMaterial, Packet};
use std::collections::hash_map::{Entry, HashMap};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// A handshake seen on the wire, with its packet header's public fields.
#[derive(Clone, Debug)]
pub struct SeenHandshake {
    /// The packet's timestamp (µs since the sender's start).
    pub timestamp: u32,
    /// The destination socket ID of the packet.
    pub dest_socket: u32,
    /// The handshake (ISN, socket ID, SYN cookie, extensions...).
    pub handshake: Handshake,
}

/// The secrets of one key material message, opened with the passphrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedKeys {
    /// The salt (sent in clear).
    pub salt: Vec<u8>,
    /// The session keys it announced (even first), unwrapped.
    pub keys: Vec<Vec<u8>>,
}

/// Datagrams recorded on the wire, in order.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    datagrams: Vec<Vec<u8>>,
}

impl Capture {
    /// An empty capture.
    pub fn new() -> Self {
        Capture::default()
    }

    /// Records one datagram.
    pub fn push(&mut self, datagram: &[u8]) {
        self.datagrams.push(datagram.to_vec());
    }

    /// The datagrams recorded, in order.
    pub fn datagrams(&self) -> &[Vec<u8>] {
        &self.datagrams
    }

    /// Every handshake packet, in order.
    pub fn handshakes(&self) -> Vec<SeenHandshake> {
        self.datagrams
            .iter()
            .filter_map(|d| match Packet::decode(d) {
                Ok(Packet::Control(c)) => match c.body {
                    ControlBody::Handshake(handshake) => Some(SeenHandshake {
                        timestamp: c.timestamp.as_u32(),
                        dest_socket: c.dest_socket.0,
                        handshake,
                    }),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// Every distinct key material message sent as a request (a KMREQ
    /// in a handshake, or in-band for a key refresh), in order.
    pub fn key_material(&self) -> Vec<KeyMaterial> {
        let mut out: Vec<KeyMaterial> = Vec::new();
        for d in &self.datagrams {
            let Ok(Packet::Control(c)) = Packet::decode(d) else {
                continue;
            };
            let found: Vec<KeyMaterial> = match c.body {
                ControlBody::Handshake(hs) => hs
                    .extensions
                    .into_iter()
                    .filter_map(|e| match e {
                        HsExtension::KmReq(km) => Some(km),
                        _ => None,
                    })
                    .collect(),
                ControlBody::ExtKmReq(km) => vec![km],
                _ => Vec::new(),
            };
            for km in found {
                if !out.contains(&km) {
                    out.push(km);
                }
            }
        }
        out
    }

    /// The salt and session keys of every distinct key material request,
    /// opened as anyone who knows `passphrase` can.
    pub fn opened_keys(&self, passphrase: &[u8]) -> Result<Vec<OpenedKeys>, CryptoError> {
        self.key_material()
            .iter()
            .map(|km| open_with_passphrase(km, passphrase))
            .collect()
    }

    /// Every distinct session key announced (first keys and refreshed
    /// ones), opened with `passphrase`, in order of first appearance.
    pub fn session_keys(&self, passphrase: &[u8]) -> Result<Vec<Vec<u8>>, CryptoError> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for opened in self.opened_keys(passphrase)? {
            for k in opened.keys {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        Ok(keys)
    }
}

/// Opens `km` with the key-encrypting key derived from `passphrase`.
pub fn open_with_passphrase(
    km: &KeyMaterial,
    passphrase: &[u8],
) -> Result<OpenedKeys, CryptoError> {
    let kek = derive_kek(passphrase, &km.salt, usize::from(km.key_len))?;
    let sessions = open_key_material(&kek, km)?;
    let keys = [sessions.even, sessions.odd]
        .into_iter()
        .flatten()
        .map(|k| k.as_bytes().to_vec())
        .collect();
    Ok(OpenedKeys {
        salt: km.salt.to_vec(),
        keys,
    })
}

/// How long a tap thread waits for a datagram before checking whether
/// it should stop.
const TAP_POLL: Duration = Duration::from_millis(20);

/// A recording UDP forwarder on loopback, for driver tests: callers send
/// to [`UdpTap::addr`]; each caller's datagrams go to the server from a
/// socket of their own, and the server's answers come back to that caller.
/// Every datagram, both ways, is recorded in arrival order.
#[derive(Debug)]
pub struct UdpTap {
    addr: SocketAddr,
    log: Arc<Mutex<Capture>>,
    stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl UdpTap {
    /// Starts forwarding to `server` from a fresh port on its IP address.
    pub fn start(server: SocketAddr) -> io::Result<UdpTap> {
        let front = UdpSocket::bind(SocketAddr::new(server.ip(), 0))?;
        front.set_read_timeout(Some(TAP_POLL))?;
        let tap = UdpTap {
            addr: front.local_addr()?,
            log: Arc::default(),
            stop: Arc::default(),
            threads: Arc::default(),
        };
        let (log, stop, threads) = (tap.log.clone(), tap.stop.clone(), tap.threads.clone());
        let handle = std::thread::Builder::new()
            .name("udp-tap".into())
            .spawn(move || front_loop(&front, server, &log, &stop, &threads))?;
        tap.threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
        Ok(tap)
    }

    /// The address callers send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What was recorded so far.
    pub fn capture(&self) -> Capture {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for UdpTap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Records `datagram` in `log`.
fn record(log: &Mutex<Capture>, datagram: &[u8]) {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(datagram);
}

/// Callers to server: each new caller gets a socket towards the server and
/// a thread carrying the answers back.
fn front_loop(
    front: &UdpSocket,
    server: SocketAddr,
    log: &Arc<Mutex<Capture>>,
    stop: &Arc<AtomicBool>,
    threads: &Mutex<Vec<JoinHandle<()>>>,
) {
    let mut buf = vec![0u8; 65_536];
    let mut backs: HashMap<SocketAddr, UdpSocket> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, caller)) = front.recv_from(&mut buf) else {
            continue;
        };
        record(log, &buf[..n]);
        let back = match backs.entry(caller) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => match new_back(front, server, caller, log, stop, threads) {
                Ok(back) => v.insert(back),
                Err(_) => continue,
            },
        };
        let _ = back.send(&buf[..n]);
    }
}

/// A socket towards `server` for `caller`, and the thread that carries the
/// server's answers back to it through `front`.
fn new_back(
    front: &UdpSocket,
    server: SocketAddr,
    caller: SocketAddr,
    log: &Arc<Mutex<Capture>>,
    stop: &Arc<AtomicBool>,
    threads: &Mutex<Vec<JoinHandle<()>>>,
) -> io::Result<UdpSocket> {
    let back = UdpSocket::bind(SocketAddr::new(server.ip(), 0))?;
    back.connect(server)?;
    back.set_read_timeout(Some(TAP_POLL))?;
    let (rx, tx) = (back.try_clone()?, front.try_clone()?);
    let (log, stop) = (log.clone(), stop.clone());
    let handle = std::thread::Builder::new()
        .name("udp-tap-back".into())
        .spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(n) = rx.recv(&mut buf) {
                    record(&log, &buf[..n]);
                    let _ = tx.send_to(&buf[..n], caller);
                }
            }
        })?;
    threads
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(handle);
    Ok(back)
}
