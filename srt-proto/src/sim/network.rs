//! A virtual-time network of [`Endpoint`]s joined by [`Link`]s.
//!
//! Time only moves when the simulation says so: each step jumps to the
//! earliest moment anything is due (an endpoint timer or a datagram's
//! arrival). Every random choice comes from the network's seed, so a run is
//! a pure function of the seed and what the test does; a failure can be
//! replayed from its seed ([`run_seeds`] prints it).
//!
//! ```
//! use srt_proto::sim::{link::LinkConfig, Network};
//! use srt_proto::{Event, SocketOptions};
//! use std::time::Duration;
//!
//! let mut net = Network::new(7, LinkConfig { loss: 0.1, delay: Duration::from_millis(10), ..LinkConfig::default() });
//! let server = net.add_endpoint("127.0.0.1:9000".parse().unwrap());
//! let client = net.add_endpoint("127.0.0.1:5000".parse().unwrap());
//! net.endpoint(server).listen(&SocketOptions::default(), 5).unwrap();
//! let now = net.now();
//! let id = net.endpoint(client).connect(now, "127.0.0.1:9000".parse().unwrap(), &SocketOptions::default()).unwrap();
//! let ok = net.run_until(Duration::from_secs(5), |net| {
//!     net.events(client).contains(&Event::Connected { socket: id })
//! });
//! assert!(ok);
//! ```

use super::hostile::{Observed, PathView};
use super::link::{Link, LinkConfig, LinkStats};
use crate::connection::Event;
use crate::endpoint::{Endpoint, EndpointConfig};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// An endpoint's index in a [`Network`].
pub type NodeId = usize;

struct Node {
    endpoint: Endpoint,
    events: Vec<Event>,
}

/// Endpoints, the links between them, and a virtual clock.
pub struct Network {
    seed: u64,
    epoch: Instant,
    now: Instant,
    nodes: Vec<Node>,
    by_addr: BTreeMap<SocketAddr, NodeId>,
    links: BTreeMap<(SocketAddr, SocketAddr), Link>,
    default_link: LinkConfig,
    link_configs: BTreeMap<(SocketAddr, SocketAddr), LinkConfig>,
    digest: Sha1,
    datagrams: u64,
    buf: Vec<u8>,
    tamper: Option<Box<Tamper>>,
    /// Crafted datagrams waiting for their time ([`Network::inject`]), in
    /// the order they were scheduled.
    injections: Vec<Injection>,
    /// What went by on each path (from, to), recorded once anything was
    /// injected.
    observed: BTreeMap<(SocketAddr, SocketAddr), Observed>,
    /// Crafted datagrams delivered so far.
    injected: u64,
}

/// A crafting function of [`Network::inject`].
pub type Craft = dyn FnOnce(&PathView) -> Option<Vec<u8>>;

struct Injection {
    at: Instant,
    from: SocketAddr,
    to: SocketAddr,
    craft: Box<Craft>,
}

/// A function that may alter a datagram in flight, given its source and
/// destination ([`Network::set_tamper`]).
pub type Tamper = dyn FnMut(SocketAddr, SocketAddr, &mut Vec<u8>);

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("seed", &self.seed)
            .field("elapsed", &self.elapsed())
            .field("nodes", &self.by_addr.keys().collect::<Vec<_>>())
            .field("datagrams", &self.datagrams)
            .finish()
    }
}

/// SplitMix64: a stable way to derive seeds from seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable number for an address (no randomly keyed hasher).
fn addr_key(addr: SocketAddr) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    };
    for b in ip.iter().chain(&addr.port().to_be_bytes()) {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Network {
    /// A network whose links all behave as `default_link` unless set otherwise.
    pub fn new(seed: u64, default_link: LinkConfig) -> Self {
        // The one clock read of a simulation: an origin for virtual time.
        // Nothing depends on its value, only on differences from it.
        let epoch = Instant::now();
        Network {
            seed,
            epoch,
            now: epoch,
            nodes: Vec::new(),
            by_addr: BTreeMap::new(),
            links: BTreeMap::new(),
            default_link,
            link_configs: BTreeMap::new(),
            digest: Sha1::new(),
            datagrams: 0,
            buf: vec![0; 65_536],
            tamper: None,
            injections: Vec::new(),
            observed: BTreeMap::new(),
            injected: 0,
        }
    }

    /// The seed of this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual now.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time since the network started.
    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// Adds an endpoint at `addr`, seeded from the network's seed.
    pub fn add_endpoint(&mut self, addr: SocketAddr) -> NodeId {
        let config = EndpointConfig::seeded(mix(self.seed ^ mix(addr_key(addr))));
        self.add_endpoint_with(addr, config)
    }

    /// Adds an endpoint at `addr` with its own configuration.
    pub fn add_endpoint_with(&mut self, addr: SocketAddr, config: EndpointConfig) -> NodeId {
        assert!(!self.by_addr.contains_key(&addr), "{addr} is taken");
        let id = self.nodes.len();
        self.nodes.push(Node {
            endpoint: Endpoint::new(config, addr, self.now),
            events: Vec::new(),
        });
        self.by_addr.insert(addr, id);
        id
    }

    /// The endpoint of node `node`, if there is one.
    pub fn try_endpoint(&mut self, node: NodeId) -> Option<&mut Endpoint> {
        self.nodes.get_mut(node).map(|n| &mut n.endpoint)
    }

    /// The endpoint of node `node`, to call `connect`, `listen`, `close`...
    pub fn endpoint(&mut self, node: NodeId) -> &mut Endpoint {
        &mut self.nodes[node].endpoint
    }

    /// Sets the link from `from` to `to` (one direction).
    pub fn set_link(&mut self, from: SocketAddr, to: SocketAddr, config: LinkConfig) {
        self.links.remove(&(from, to));
        self.link_configs.insert((from, to), config);
    }

    /// Sets the links between `a` and `b`, both directions.
    pub fn set_links_between(&mut self, a: SocketAddr, b: SocketAddr, config: LinkConfig) {
        self.set_link(a, b, config.clone());
        self.set_link(b, a, config);
    }

    /// Lets `tamper` see, and change, every datagram as a link delivers it
    /// (after loss, delay and the rest of the link model; before the
    /// receiving endpoint handles it): an attacker on the path, for tests
    /// of what an endpoint does with corrupted or forged packets. It may
    /// truncate or extend the datagram too. Replaces any earlier hook.
    pub fn set_tamper(
        &mut self,
        tamper: impl FnMut(SocketAddr, SocketAddr, &mut Vec<u8>) + 'static,
    ) {
        self.tamper = Some(Box::new(tamper));
    }

    /// Removes the hook of [`Network::set_tamper`].
    pub fn clear_tamper(&mut self) {
        self.tamper = None;
    }

    /// The hostile-peer mode: at `after` from now, `craft` builds a datagram
    /// that `to` then receives as if `from` had sent it (the peer's own
    /// address: a forged source, or a peer gone bad), past every link.
    /// `craft` sees what went by between the two so far ([`PathView`]: the
    /// victim's socket ID, the sequence numbers it sent...) and may decline
    /// (`None`). The [`hostile`](super::hostile) module crafts the packets.
    /// From the first call on, the network records each path's traffic.
    pub fn inject(
        &mut self,
        after: Duration,
        from: SocketAddr,
        to: SocketAddr,
        craft: impl FnOnce(&PathView) -> Option<Vec<u8>> + 'static,
    ) {
        self.injections.push(Injection {
            at: self.now + after,
            from,
            to,
            craft: Box::new(craft),
        });
    }

    /// What the network saw go by between `from` and `to` (both
    /// directions) since the first [`Network::inject`].
    pub fn path_view(&self, from: SocketAddr, to: SocketAddr) -> PathView {
        PathView {
            forward: self.observed.get(&(from, to)).copied().unwrap_or_default(),
            reverse: self.observed.get(&(to, from)).copied().unwrap_or_default(),
        }
    }

    /// How many crafted datagrams [`Network::inject`] delivered so far.
    pub fn injected(&self) -> u64 {
        self.injected
    }

    /// What the link from `from` to `to` did so far.
    pub fn link_stats(&self, from: SocketAddr, to: SocketAddr) -> Option<LinkStats> {
        self.links.get(&(from, to)).map(Link::stats)
    }

    /// Every event node `node` has raised so far.
    pub fn events(&self, node: NodeId) -> &[Event] {
        &self.nodes[node].events
    }

    /// Takes the events node `node` raised so far.
    pub fn take_events(&mut self, node: NodeId) -> Vec<Event> {
        std::mem::take(&mut self.nodes[node].events)
    }

    /// A digest of every datagram sent so far, with its time, source and
    /// destination: equal digests mean identical runs.
    pub fn transmit_digest(&self) -> [u8; 20] {
        self.digest.clone().finalize().into()
    }

    /// How many datagrams the endpoints sent.
    pub fn datagrams_sent(&self) -> u64 {
        self.datagrams
    }

    fn link(&mut self, from: SocketAddr, to: SocketAddr) -> &mut Link {
        let seed = mix(self.seed ^ mix(addr_key(from)) ^ mix(addr_key(to).rotate_left(17)));
        let config = self
            .link_configs
            .get(&(from, to))
            .unwrap_or(&self.default_link)
            .clone();
        self.links
            .entry((from, to))
            .or_insert_with(|| Link::new(config, seed))
    }

    /// Sends what every endpoint has to send and collects their events.
    fn flush(&mut self) {
        let now = self.now;
        let since = (now - self.epoch).as_micros() as u64;
        for i in 0..self.nodes.len() {
            let from = self.nodes[i].endpoint.local_addr();
            loop {
                let mut buf = std::mem::take(&mut self.buf);
                let sent = self.nodes[i].endpoint.poll_transmit(now, &mut buf);
                if let Some(t) = sent {
                    let bytes = &buf[..t.size];
                    self.digest.update(since.to_be_bytes());
                    self.digest.update(addr_key(from).to_be_bytes());
                    self.digest.update(addr_key(t.destination).to_be_bytes());
                    self.digest.update((bytes.len() as u32).to_be_bytes());
                    self.digest.update(bytes);
                    self.datagrams += 1;
                    if !self.injections.is_empty() || !self.observed.is_empty() {
                        self.observed
                            .entry((from, t.destination))
                            .or_default()
                            .record(bytes);
                    }
                    self.link(from, t.destination).send(now, bytes);
                }
                self.buf = buf;
                if sent.is_none() {
                    break;
                }
            }
            let node = &mut self.nodes[i];
            while let Some(e) = node.endpoint.poll_event() {
                node.events.push(e);
            }
        }
    }

    /// The next moment anything is due, if anything is.
    fn next_due(&self) -> Option<Instant> {
        let timers = self.nodes.iter().filter_map(|n| n.endpoint.poll_timeout());
        let arrivals = self.links.values().filter_map(Link::next_delivery);
        let injections = self.injections.iter().map(|i| i.at);
        timers.chain(arrivals).chain(injections).min()
    }

    /// Advances to the next due moment (not past `limit`) and processes it;
    /// returns false when nothing is due before `limit`.
    pub fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let Some(next) = self.next_due().filter(|t| *t <= limit) else {
            self.now = self.now.max(limit);
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        let keys: Vec<(SocketAddr, SocketAddr)> = self.links.keys().copied().collect();
        for (from, to) in keys {
            while let Some(mut datagram) = self
                .links
                .get_mut(&(from, to))
                .and_then(|l| l.poll_delivery(now))
            {
                if let Some(tamper) = &mut self.tamper {
                    tamper(from, to, &mut datagram);
                }
                if let Some(&node) = self.by_addr.get(&to) {
                    self.nodes[node]
                        .endpoint
                        .handle_datagram(now, from, &datagram);
                }
                if let Some(link) = self.links.get_mut(&(from, to)) {
                    link.recycle(datagram);
                }
            }
        }
        self.deliver_injections(now);
        for node in &mut self.nodes {
            if node.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                node.endpoint.handle_timeout(now);
            }
        }
        self.flush();
        true
    }

    /// Delivers the crafted datagrams due at `now`, in the order scheduled.
    fn deliver_injections(&mut self, now: Instant) {
        while let Some(i) = self.injections.iter().position(|i| i.at <= now) {
            let injection = self.injections.remove(i);
            let view = self.path_view(injection.from, injection.to);
            let Some(datagram) = (injection.craft)(&view) else {
                continue;
            };
            self.injected += 1;
            if let Some(&node) = self.by_addr.get(&injection.to) {
                self.nodes[node]
                    .endpoint
                    .handle_datagram(now, injection.from, &datagram);
            }
        }
    }

    /// Adds endpoints at `client` and `server`, the server listening with
    /// `backlog` and `opts`, the client calling it with `opts`, and runs
    /// until the caller is connected and the listener has accepted, at most
    /// `timeout` of virtual time.
    pub fn connect_pair(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        opts: &crate::SocketOptions,
        backlog: usize,
        timeout: Duration,
    ) -> Result<ConnectedPair, PairError> {
        let server_node = self.add_endpoint(server);
        let client_node = self.add_endpoint(client);
        self.endpoint(server_node)
            .listen(opts, backlog)
            .map_err(PairError::Listen)?;
        let now = self.now;
        let caller = self
            .endpoint(client_node)
            .connect(now, server, opts)
            .map_err(PairError::Connect)?;
        let outcome = |n: &Network| {
            n.events(client_node).iter().find_map(|e| match e {
                Event::Connected { socket } if *socket == caller => Some(Ok(())),
                Event::ConnectFailed { socket, reason } if *socket == caller => {
                    Some(Err(PairError::Refused(*reason)))
                }
                _ => None,
            })
        };
        self.run_until(timeout, |n| outcome(n).is_some());
        outcome(self).unwrap_or(Err(PairError::TimedOut))?;
        let accepted = self
            .endpoint(server_node)
            .accept()
            .ok_or(PairError::NotAccepted)?;
        Ok(ConnectedPair {
            client: client_node,
            caller,
            server: server_node,
            accepted,
        })
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let limit = self.now + duration;
        while self.step(limit) {}
    }

    /// Runs until `done` holds (checked after every step) or `limit` of
    /// virtual time passes; returns whether `done` held.
    ///
    /// `done` gets the network mutably: it may act as an application would
    /// between steps (send, receive, close), and what it does goes out at
    /// the next step. A sender that keeps its socket busy:
    ///
    /// ```
    /// use srt_proto::sim::{link::LinkConfig, Network};
    /// use srt_proto::{MsgCtrl, SocketOptions};
    /// use std::time::Duration;
    ///
    /// let mut net = Network::new(1, LinkConfig::default());
    /// let opts = SocketOptions::live();
    /// let (client, server) = ("127.0.0.1:5000".parse().unwrap(), "127.0.0.1:9000".parse().unwrap());
    /// let pair = net.connect_pair(client, server, &opts, 5, Duration::from_secs(3)).unwrap();
    /// let (mut sent, mut received, mut buf) = (0u32, 0u32, [0u8; 1500]);
    /// let done = net.run_until(Duration::from_secs(10), |net| {
    ///     let now = net.now();
    ///     if sent < 100 {
    ///         let msg = sent.to_be_bytes();
    ///         if net.endpoint(pair.client).send(now, pair.caller, &msg, &MsgCtrl::default()).is_ok() {
    ///             sent += 1;
    ///         }
    ///     }
    ///     while let Ok(Some(_)) = net.endpoint(pair.server).recv(now, pair.accepted, &mut buf) {
    ///         received += 1;
    ///     }
    ///     received == 100
    /// });
    /// assert!(done, "sent {sent}, received {received}");
    /// ```
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&mut Network) -> bool,
    ) -> bool {
        let end = self.now + limit;
        self.flush();
        loop {
            if done(self) {
                return true;
            }
            if !self.step(end) {
                return done(self);
            }
        }
    }
}

/// A connection made by [`Network::connect_pair`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectedPair {
    /// The caller's node.
    pub client: NodeId,
    /// The caller's socket.
    pub caller: crate::packet::SocketId,
    /// The listener's node.
    pub server: NodeId,
    /// The socket the listener accepted.
    pub accepted: crate::packet::SocketId,
}

/// Why [`Network::connect_pair`] made no pair.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairError {
    /// The server endpoint refused to listen.
    #[error("listen: {0}")]
    Listen(crate::EndpointError),
    /// The client endpoint refused to connect.
    #[error("connect: {0}")]
    Connect(crate::EndpointError),
    /// The listener refused the caller, or the handshake failed.
    #[error("connection refused: {0:?}")]
    Refused(crate::RejectReason),
    /// The caller was not connected within the timeout.
    #[error("not connected within the timeout")]
    TimedOut,
    /// The caller connected but the listener queued no connection.
    #[error("the listener accepted nothing")]
    NotAccepted,
}

/// Runs `test` once per seed; a failure panics with the seed that failed,
/// so it can be replayed alone.
pub fn run_seeds(seeds: impl IntoIterator<Item = u64>, test: impl Fn(u64)) {
    for seed in seeds {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(seed)));
        if let Err(cause) = result {
            let msg = cause
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| cause.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("simulation failed with seed {seed}: {msg}");
        }
    }
}
