//! srt-transmit's URI parser: `Uri::parse` on arbitrary text, and
//! `Medium::from_uri` on URIs built from parts (scheme, host, port, path,
//! query keys drawn from the real option keys with arbitrary values).
//! Checks: no panic; parsing is deterministic; what parses has a lower-case
//! scheme and lower-case query keys; every error has a message. Host
//! names that are not IP literals are replaced by 127.0.0.1 before
//! `from_uri`, so that the target never resolves a name.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use srt_proto::options::SockOpt;
use srt_tools::uri::{Medium, Uri};

#[derive(Arbitrary, Debug)]
enum Scheme {
    Srt,
    Udp,
    File,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Key {
    /// The URI key of the option with this code (mod 80).
    Option(u8),
    Mode,
    Adapter,
    Port,
    Multicast,
    Ttl,
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Input {
    Text(String),
    Parts {
        scheme: Scheme,
        host: String,
        port: Option<String>,
        path: String,
        query: Vec<(Key, Option<String>)>,
    },
}

fn check(text: &str) {
    let parsed = Uri::parse(text);
    assert_eq!(parsed, Uri::parse(text), "parsing is not deterministic");
    let mut uri = match parsed {
        Ok(u) => u,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(uri.scheme, uri.scheme.to_ascii_lowercase());
    for (k, _) in &uri.query {
        assert_eq!(*k, k.to_ascii_lowercase());
    }
    let host = uri.host.trim_start_matches('[').trim_end_matches(']');
    if !uri.host.is_empty() && host.parse::<std::net::IpAddr>().is_err() {
        uri.host = "127.0.0.1".into();
    }
    if let Err(e) = Medium::from_uri(&uri) {
        assert!(!e.to_string().is_empty());
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Text(t) => {
            if !t.contains("://") || t.len() > 4096 {
                // Still parse it, but never interpret a name to resolve.
                let _ = Uri::parse(&t);
                return;
            }
            check(&t);
        }
        Input::Parts {
            scheme,
            host,
            port,
            path,
            query,
        } => {
            let scheme = match scheme {
                Scheme::Srt => "srt".to_owned(),
                Scheme::Udp => "udp".to_owned(),
                Scheme::File => "file".to_owned(),
                Scheme::Other(s) => s,
            };
            let mut text = format!("{scheme}://{host}");
            if let Some(p) = port {
                text.push(':');
                text.push_str(&p);
            }
            text.push_str(&path);
            for (i, (key, value)) in query.iter().take(32).enumerate() {
                text.push(if i == 0 { '?' } else { '&' });
                let key = match key {
                    Key::Option(c) => SockOpt::from_code(i32::from(*c % 80))
                        .map_or("latency", |o| o.uri_key())
                        .to_owned(),
                    Key::Mode => "mode".into(),
                    Key::Adapter => "adapter".into(),
                    Key::Port => "port".into(),
                    Key::Multicast => "multicast".into(),
                    Key::Ttl => "ttl".into(),
                    Key::Any(s) => s.clone(),
                };
                text.push_str(&key);
                if let Some(v) = value {
                    text.push('=');
                    text.push_str(v);
                }
            }
            check(&text);
        }
    }
});
