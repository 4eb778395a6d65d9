use super::types::c_atoi;
use super::*;
use crate::handshake::{TransType, SRT_VERSION};
use proptest::prelude::*;
use std::time::Duration;
use OptionValue::{Bool, Int, Int64, Str};

fn lin(onoff: bool, secs: i32) -> OptionValue {
    OptionValue::Linger { onoff, secs }
}

fn s(v: &str) -> OptionValue {
    Str(v.as_bytes().to_vec())
}

/// `srt_getsockopt` on a fresh libsrt 1.5 socket (socketconfig.h, core.cpp getOpt).
fn libsrt_live_defaults() -> Vec<(SockOpt, OptionValue)> {
    vec![
        (SockOpt::Mss, Int(1500)),
        (SockOpt::SndSyn, Bool(true)),
        (SockOpt::RcvSyn, Bool(true)),
        (SockOpt::Fc, Int(25600)),
        (SockOpt::SndBuf, Int(8192 * 1472)),
        (SockOpt::RcvBuf, Int(8192 * 1472)),
        (SockOpt::Linger, lin(false, 0)),
        (SockOpt::UdpSndBuf, Int(65536)),
        (SockOpt::UdpRcvBuf, Int(8192 * 1500)),
        (SockOpt::Rendezvous, Bool(false)),
        (SockOpt::SndTimeo, Int(-1)),
        (SockOpt::RcvTimeo, Int(-1)),
        (SockOpt::ReuseAddr, Bool(true)),
        (SockOpt::MaxBw, Int64(-1)),
        (SockOpt::Sender, Bool(false)),
        (SockOpt::TsbpdMode, Bool(true)),
        (SockOpt::Latency, Int(120)),
        (SockOpt::InputBw, Int64(0)),
        (SockOpt::OheadBw, Int(25)),
        (SockOpt::PbKeyLen, Int(0)),
        (SockOpt::IpTtl, Int(-1)),
        (SockOpt::IpTos, Int(-1)),
        (SockOpt::TlPktDrop, Bool(true)),
        (SockOpt::SndDropDelay, Int(0)),
        (SockOpt::NakReport, Bool(true)),
        (SockOpt::Version, Int(SRT_VERSION.0 as i32)),
        (SockOpt::ConnTimeo, Int(3000)),
        (SockOpt::DriftTracer, Bool(true)),
        (SockOpt::MinInputBw, Int64(0)),
        (SockOpt::LossMaxTtl, Int(0)),
        (SockOpt::RcvLatency, Int(120)),
        (SockOpt::PeerLatency, Int(0)),
        (SockOpt::MinVersion, Int(0x010000)),
        (SockOpt::StreamId, s("")),
        (SockOpt::Congestion, s("live")),
        (SockOpt::MessageApi, Bool(true)),
        (SockOpt::PayloadSize, Int(1316)),
        (SockOpt::KmRefreshRate, Int(0)),
        (SockOpt::KmPreAnnounce, Int(0)),
        (SockOpt::EnforcedEncryption, Bool(true)),
        (SockOpt::Ipv6Only, Int(-1)),
        (SockOpt::PeerIdleTimeo, Int(5000)),
        (SockOpt::BindToDevice, s("")),
        (SockOpt::GroupConnect, Int(0)),
        (SockOpt::GroupMinStableTimeo, Int(60)),
        (SockOpt::PacketFilter, s("")),
        (SockOpt::RetransmitAlgo, Int(1)),
        (SockOpt::CryptoMode, Int(0)),
        (SockOpt::MaxRexmitBw, Int64(-1)),
    ]
}

/// What `SRTO_TRANSTYPE = SRTT_FILE` changes (socketconfig.cpp).
fn libsrt_file_changes() -> Vec<(SockOpt, OptionValue)> {
    vec![
        (SockOpt::TsbpdMode, Bool(false)),
        (SockOpt::Latency, Int(0)),
        (SockOpt::RcvLatency, Int(0)),
        (SockOpt::PeerLatency, Int(0)),
        (SockOpt::TlPktDrop, Bool(false)),
        (SockOpt::SndDropDelay, Int(-1)),
        (SockOpt::MessageApi, Bool(false)),
        (SockOpt::NakReport, Bool(false)),
        (SockOpt::RetransmitAlgo, Int(0)),
        (SockOpt::PayloadSize, Int(0)),
        (SockOpt::Linger, lin(true, 180)),
        (SockOpt::Congestion, s("file")),
    ]
}

#[test]
fn defaults_equal_libsrt() {
    let o = SocketOptions::live();
    assert_eq!(o, SocketOptions::default());
    let table = libsrt_live_defaults();
    for (opt, want) in &table {
        assert_eq!(o.get(*opt).as_ref(), Ok(want), "{opt}");
    }
    // Every readable, non-state option is in the table.
    let readable = SockOpt::ALL.iter().filter(|o| o.get_is_config()).count();
    assert_eq!(readable, table.len());
    assert_eq!(o.passphrase, None);
    assert_eq!(o.transtype, TransType::Live);
    assert_eq!(o.flight_capacity(), 8192);
    assert_eq!(o.max_payload_size(), 1456);
    assert_eq!(o.effective_km_refresh_rate(), 0x0100_0000);
    assert_eq!(o.effective_km_preannounce(), 0x1_0000);
    assert_eq!(o.effective_pbkeylen(), 16);
    assert_eq!(o.validate(), Ok(()));
    assert!(o.warnings().is_empty());
}

impl SockOpt {
    fn get_is_config(self) -> bool {
        !matches!(self.binding(), Binding::ReadOnly)
            && !matches!(self, SockOpt::Passphrase | SockOpt::TransType)
            || self == SockOpt::Version
    }
}

#[test]
fn file_preset_equals_libsrt_transtype_file() {
    let live = SocketOptions::live();
    let file = SocketOptions::file();
    let changes = libsrt_file_changes();
    for (opt, want) in libsrt_live_defaults() {
        let want = changes
            .iter()
            .find(|(o, _)| *o == opt)
            .map_or(want, |(_, v)| v.clone());
        assert_eq!(file.get(opt), Ok(want), "{opt}");
    }
    assert_eq!(file.transtype, TransType::File);
    assert_eq!(file.linger, Some(Duration::from_secs(180)));
    assert_eq!(file.snddropdelay, None);
    assert_eq!(file.effective_payload_size(), 1456);
    assert_eq!(file.validate(), Ok(()));
    assert!(file.warnings().is_empty());

    // Through set(): the same as the constructor, and back.
    let mut o = live.clone();
    o.set(SockOpt::TransType, Int(1)).unwrap();
    assert_eq!(o, file);
    o.set(SockOpt::TransType, Int(0)).unwrap();
    assert_eq!(o, live);
}

#[test]
fn transtype_resets_only_its_options() {
    let mut o = SocketOptions::live()
        .latency_ms(500)
        .unwrap()
        .stream_id("abc")
        .unwrap()
        .fc(1000)
        .unwrap();
    o.set(SockOpt::TransType, Int(0)).unwrap();
    assert_eq!(o.rcvlatency, LIVE_DEF_LATENCY); // reset by the preset
    assert_eq!(o.peerlatency, Duration::ZERO);
    assert_eq!(o.streamid.as_str(), Some("abc")); // untouched
    assert_eq!(o.fc, 1000);
    assert!(matches!(
        o.set(SockOpt::TransType, Int(2)),
        Err(OptionError::InvalidParam { .. })
    ));
}

/// Names and numbers as in libsrt 1.5 srt.h.
const SRT_H: &[(&str, i32)] = &[
    ("SRTO_MSS", 0),
    ("SRTO_SNDSYN", 1),
    ("SRTO_RCVSYN", 2),
    ("SRTO_ISN", 3),
    ("SRTO_FC", 4),
    ("SRTO_SNDBUF", 5),
    ("SRTO_RCVBUF", 6),
    ("SRTO_LINGER", 7),
    ("SRTO_UDP_SNDBUF", 8),
    ("SRTO_UDP_RCVBUF", 9),
    ("SRTO_RENDEZVOUS", 12),
    ("SRTO_SNDTIMEO", 13),
    ("SRTO_RCVTIMEO", 14),
    ("SRTO_REUSEADDR", 15),
    ("SRTO_MAXBW", 16),
    ("SRTO_STATE", 17),
    ("SRTO_EVENT", 18),
    ("SRTO_SNDDATA", 19),
    ("SRTO_RCVDATA", 20),
    ("SRTO_SENDER", 21),
    ("SRTO_TSBPDMODE", 22),
    ("SRTO_LATENCY", 23),
    ("SRTO_INPUTBW", 24),
    ("SRTO_OHEADBW", 25),
    ("SRTO_PASSPHRASE", 26),
    ("SRTO_PBKEYLEN", 27),
    ("SRTO_KMSTATE", 28),
    ("SRTO_IPTTL", 29),
    ("SRTO_IPTOS", 30),
    ("SRTO_TLPKTDROP", 31),
    ("SRTO_SNDDROPDELAY", 32),
    ("SRTO_NAKREPORT", 33),
    ("SRTO_VERSION", 34),
    ("SRTO_PEERVERSION", 35),
    ("SRTO_CONNTIMEO", 36),
    ("SRTO_DRIFTTRACER", 37),
    ("SRTO_MININPUTBW", 38),
    ("SRTO_SNDKMSTATE", 40),
    ("SRTO_RCVKMSTATE", 41),
    ("SRTO_LOSSMAXTTL", 42),
    ("SRTO_RCVLATENCY", 43),
    ("SRTO_PEERLATENCY", 44),
    ("SRTO_MINVERSION", 45),
    ("SRTO_STREAMID", 46),
    ("SRTO_CONGESTION", 47),
    ("SRTO_MESSAGEAPI", 48),
    ("SRTO_PAYLOADSIZE", 49),
    ("SRTO_TRANSTYPE", 50),
    ("SRTO_KMREFRESHRATE", 51),
    ("SRTO_KMPREANNOUNCE", 52),
    ("SRTO_ENFORCEDENCRYPTION", 53),
    ("SRTO_IPV6ONLY", 54),
    ("SRTO_PEERIDLETIMEO", 55),
    ("SRTO_BINDTODEVICE", 56),
    ("SRTO_GROUPCONNECT", 57),
    ("SRTO_GROUPMINSTABLETIMEO", 58),
    ("SRTO_GROUPTYPE", 59),
    ("SRTO_PACKETFILTER", 60),
    ("SRTO_RETRANSMITALGO", 61),
    ("SRTO_CRYPTOMODE", 62),
    ("SRTO_MAXREXMITBW", 63),
];

#[test]
fn every_code_of_srt_h_round_trips() {
    assert_eq!(SockOpt::ALL.len(), SRT_H.len());
    for (&(name, code), &opt) in SRT_H.iter().zip(SockOpt::ALL) {
        assert_eq!(opt.name(), name);
        assert_eq!(opt.code(), code, "{name}");
        assert_eq!(SockOpt::from_code(code), Some(opt));
        assert_eq!(SockOpt::from_name(name), Some(opt));
        let key = name.trim_start_matches("SRTO_").to_ascii_lowercase();
        assert_eq!(opt.uri_key(), key);
        assert_eq!(SockOpt::from_name(&key), Some(opt));
        assert_eq!(opt.to_string(), name);
    }
    for gap in [-1, 10, 11, 39, 64, i32::MIN, i32::MAX] {
        assert_eq!(SockOpt::from_code(gap), None);
    }
    assert_eq!(SockOpt::from_name("SRTO_NOPE"), None);
    assert_eq!(SockOpt::from_name("Latency"), Some(SockOpt::Latency));
}

#[test]
fn bindings_match_libsrt_flags() {
    use SockOpt as O;
    let prebind = [
        O::Mss,
        O::SndBuf,
        O::RcvBuf,
        O::UdpSndBuf,
        O::UdpRcvBuf,
        O::ReuseAddr,
        O::IpTtl,
        O::IpTos,
        O::TransType,
        O::Ipv6Only,
        O::BindToDevice,
    ];
    let pre = [
        O::Fc,
        O::Rendezvous,
        O::Sender,
        O::TsbpdMode,
        O::Latency,
        O::Passphrase,
        O::PbKeyLen,
        O::TlPktDrop,
        O::NakReport,
        O::ConnTimeo,
        O::RcvLatency,
        O::PeerLatency,
        O::MinVersion,
        O::StreamId,
        O::Congestion,
        O::MessageApi,
        O::PayloadSize,
        O::KmRefreshRate,
        O::KmPreAnnounce,
        O::EnforcedEncryption,
        O::PeerIdleTimeo,
        O::GroupConnect,
        O::GroupMinStableTimeo,
        O::PacketFilter,
        O::RetransmitAlgo,
        O::CryptoMode,
    ];
    let read_only = [
        O::Isn,
        O::State,
        O::Event,
        O::SndData,
        O::RcvData,
        O::KmState,
        O::Version,
        O::PeerVersion,
        O::SndKmState,
        O::RcvKmState,
        O::GroupType,
    ];
    for &opt in SockOpt::ALL {
        let want = if prebind.contains(&opt) {
            Binding::PreBind
        } else if pre.contains(&opt) {
            Binding::Pre
        } else if read_only.contains(&opt) {
            Binding::ReadOnly
        } else {
            Binding::Post
        };
        assert_eq!(opt.binding(), want, "{opt}");
        assert_eq!(opt.is_settable(), want != Binding::ReadOnly);
    }
    // libsrt's srt_post_opt_list plus the options with no flag.
    let post: Vec<_> = SockOpt::ALL
        .iter()
        .filter(|o| o.binding() == Binding::Post)
        .collect();
    assert_eq!(
        post,
        [
            &O::SndSyn,
            &O::RcvSyn,
            &O::Linger,
            &O::SndTimeo,
            &O::RcvTimeo,
            &O::MaxBw,
            &O::InputBw,
            &O::OheadBw,
            &O::SndDropDelay,
            &O::DriftTracer,
            &O::MinInputBw,
            &O::LossMaxTtl,
            &O::MaxRexmitBw,
        ]
    );
}

#[test]
fn option_types() {
    use SockOpt as O;
    for &opt in SockOpt::ALL {
        let want = match opt {
            O::SndSyn
            | O::RcvSyn
            | O::Rendezvous
            | O::ReuseAddr
            | O::Sender
            | O::TsbpdMode
            | O::TlPktDrop
            | O::NakReport
            | O::DriftTracer
            | O::MessageApi
            | O::EnforcedEncryption => OptType::Bool,
            O::MaxBw | O::InputBw | O::MinInputBw | O::MaxRexmitBw => OptType::Int64,
            O::Passphrase | O::StreamId | O::Congestion | O::PacketFilter | O::BindToDevice => {
                OptType::String
            }
            O::Linger => OptType::Linger,
            _ => OptType::Int32,
        };
        assert_eq!(opt.opt_type(), want, "{opt}");
        // get() answers in the declared type.
        if let Ok(v) = SocketOptions::live().get(opt) {
            let ty = match v {
                Bool(_) => OptType::Bool,
                Int(_) => OptType::Int32,
                Int64(_) => OptType::Int64,
                Str(_) => OptType::String,
                OptionValue::Linger { .. } => OptType::Linger,
            };
            assert_eq!(ty, want, "{opt}");
        }
    }
}

/// A valid, non-default value for every settable, readable option.
fn samples() -> Vec<(SockOpt, OptionValue)> {
    vec![
        (SockOpt::Mss, Int(1400)),
        (SockOpt::SndSyn, Bool(false)),
        (SockOpt::RcvSyn, Bool(false)),
        (SockOpt::Fc, Int(32)),
        (SockOpt::SndBuf, Int(100 * 1472)),
        (SockOpt::RcvBuf, Int(64 * 1472)),
        (SockOpt::Linger, lin(true, 7)),
        (SockOpt::UdpSndBuf, Int(1 << 20)),
        (SockOpt::UdpRcvBuf, Int(1 << 21)),
        (SockOpt::Rendezvous, Bool(true)),
        (SockOpt::SndTimeo, Int(250)),
        (SockOpt::RcvTimeo, Int(0)),
        (SockOpt::ReuseAddr, Bool(false)),
        (SockOpt::MaxBw, Int64(10_000_000)),
        (SockOpt::Sender, Bool(true)),
        (SockOpt::TsbpdMode, Bool(false)),
        (SockOpt::Latency, Int(300)),
        (SockOpt::InputBw, Int64(1_000_000)),
        (SockOpt::OheadBw, Int(100)),
        (SockOpt::PbKeyLen, Int(32)),
        (SockOpt::IpTtl, Int(64)),
        (SockOpt::IpTos, Int(0xB8)),
        (SockOpt::TlPktDrop, Bool(false)),
        (SockOpt::SndDropDelay, Int(-1)),
        (SockOpt::NakReport, Bool(false)),
        (SockOpt::ConnTimeo, Int(10_000)),
        (SockOpt::DriftTracer, Bool(false)),
        (SockOpt::MinInputBw, Int64(5000)),
        (SockOpt::LossMaxTtl, Int(10)),
        (SockOpt::RcvLatency, Int(80)),
        (SockOpt::PeerLatency, Int(90)),
        (SockOpt::MinVersion, Int(0x010300)),
        (SockOpt::StreamId, s("#!::r=live/cam1,m=publish")),
        (SockOpt::Congestion, s("file")),
        (SockOpt::MessageApi, Bool(false)),
        (SockOpt::PayloadSize, Int(1000)),
        (SockOpt::KmRefreshRate, Int(2000)),
        (SockOpt::KmPreAnnounce, Int(500)),
        (SockOpt::EnforcedEncryption, Bool(false)),
        (SockOpt::Ipv6Only, Int(1)),
        (SockOpt::PeerIdleTimeo, Int(8000)),
        (SockOpt::BindToDevice, s("eth0")),
        (SockOpt::GroupConnect, Int(1)),
        (SockOpt::GroupMinStableTimeo, Int(100)),
        (SockOpt::PacketFilter, s("fec,cols:10,rows:5")),
        (SockOpt::RetransmitAlgo, Int(0)),
        (SockOpt::CryptoMode, Int(1)),
        (SockOpt::MaxRexmitBw, Int64(2_000_000)),
    ]
}

#[test]
fn set_get_round_trip_for_every_settable_option() {
    let samples = samples();
    for &opt in SockOpt::ALL {
        if !opt.is_settable() || matches!(opt, SockOpt::Passphrase | SockOpt::TransType) {
            continue;
        }
        let (_, v) = samples
            .iter()
            .find(|(o, _)| *o == opt)
            .unwrap_or_else(|| panic!("no sample for {opt}"));
        let mut o = SocketOptions::live();
        assert_ne!(o.get(opt).as_ref(), Ok(v), "{opt}: sample is the default");
        o.set(opt, v.clone())
            .unwrap_or_else(|e| panic!("{opt}: {e}"));
        assert_eq!(o.get(opt).as_ref(), Ok(v), "{opt}");
        assert_eq!(o.validate(), Ok(()), "{opt}");
    }
    // All of them on one socket, in order.
    let mut o = SocketOptions::live();
    for (opt, v) in &samples {
        o.set(*opt, v.clone())
            .unwrap_or_else(|e| panic!("{opt}: {e}"));
    }
    assert_eq!(o.validate(), Ok(()));
}

#[test]
fn write_only_options() {
    let mut o = SocketOptions::live();
    o.set(SockOpt::Passphrase, s("0123456789")).unwrap();
    assert_eq!(
        o.passphrase.as_ref().map(Passphrase::as_bytes),
        Some(&b"0123456789"[..])
    );
    let e = o.get(SockOpt::Passphrase).unwrap_err();
    assert_eq!(e, OptionError::InvalidOp(SockOpt::Passphrase));
    assert_eq!(e.srt_errno(), 5000);
    assert_eq!(
        o.get(SockOpt::TransType),
        Err(OptionError::InvalidOp(SockOpt::TransType))
    );
    // 80 bytes is the maximum libsrt's setter takes (HAICRYPT_SECRET_MAX_SZ).
    o.set(SockOpt::Passphrase, Str(vec![b'x'; 80])).unwrap();
    // Empty clears.
    o.set(SockOpt::Passphrase, Str(vec![])).unwrap();
    assert_eq!(o.passphrase, None);
}

#[test]
fn state_options_are_left_to_the_connection() {
    for opt in [
        SockOpt::Isn,
        SockOpt::State,
        SockOpt::Event,
        SockOpt::SndData,
        SockOpt::RcvData,
        SockOpt::KmState,
        SockOpt::PeerVersion,
        SockOpt::SndKmState,
        SockOpt::RcvKmState,
        SockOpt::GroupType,
    ] {
        let o = SocketOptions::live();
        assert_eq!(o.get(opt), Err(OptionError::RuntimeState(opt)));
        let mut o = o;
        let e = o.set(opt, Int(1)).unwrap_err();
        assert_eq!(e.srt_errno(), errno::SRT_EINVPARAM, "{opt}");
    }
    let mut o = SocketOptions::live();
    assert_eq!(
        o.set(SockOpt::Version, Int(0x010600))
            .unwrap_err()
            .srt_errno(),
        5003
    );
}

#[test]
fn invalid_values_are_rejected_with_einvparam_and_change_nothing() {
    use SockOpt as O;
    let cases: Vec<(SockOpt, OptionValue)> = vec![
        (O::Mss, Int(75)),
        (O::Mss, Int(-1)),
        (O::Fc, Int(31)),
        (O::SndBuf, Int(0)),
        (O::RcvBuf, Int(-5)),
        (O::SndTimeo, Int(-2)),
        (O::RcvTimeo, Int(-2)),
        (O::MaxBw, Int64(-2)),
        (O::MaxRexmitBw, Int64(-2)),
        (O::Latency, Int(-1)),
        (O::RcvLatency, Int(-1)),
        (O::PeerLatency, Int(-1)),
        (O::InputBw, Int64(-1)),
        (O::MinInputBw, Int64(-1)),
        (O::OheadBw, Int(4)),
        (O::OheadBw, Int(101)),
        (O::Passphrase, s("short")),
        (O::Passphrase, Str(vec![b'x'; 9])),
        (O::Passphrase, Str(vec![b'x'; 81])),
        (O::PbKeyLen, Int(8)),
        (O::PbKeyLen, Int(17)),
        (O::IpTtl, Int(0)),
        (O::IpTtl, Int(256)),
        (O::IpTtl, Int(-2)),
        (O::SndDropDelay, Int(-2)),
        (O::ConnTimeo, Int(-1)),
        (O::PeerIdleTimeo, Int(-1)),
        (O::StreamId, Str(vec![b'a'; 513])),
        (O::Congestion, s("cubic")),
        (O::Congestion, s("live\0")),
        (O::PayloadSize, Int(-1)),
        (O::PayloadSize, Int(1457)),
        (O::TransType, Int(-1)),
        (O::KmRefreshRate, Int(-1)),
        (O::KmPreAnnounce, Int(-1)),
        (O::KmPreAnnounce, Int(0x80_0000)), // > (2^24 - 1) / 2
        (O::BindToDevice, s("sixteen-chars-xx")),
        (O::GroupMinStableTimeo, Int(59)),
        (O::GroupMinStableTimeo, Int(5001)),
        (O::PacketFilter, s("")),
        (O::PacketFilter, s("xor,cols:2")),
        (O::RetransmitAlgo, Int(2)),
        (O::RetransmitAlgo, Int(-1)),
        (O::CryptoMode, Int(3)),
        (O::CryptoMode, Int(-1)),
        // Wrong types.
        (O::Latency, Bool(true)),
        (O::Latency, Int64(i64::MAX)),
        (O::TsbpdMode, Int64(1)),
        (O::StreamId, Int(1)),
        (O::Linger, Int(1)),
        (O::MaxBw, s("1")),
    ];
    for (opt, v) in cases {
        let mut o = SocketOptions::live();
        let e = o.set(opt, v.clone()).unwrap_err();
        assert!(
            matches!(e, OptionError::InvalidParam { opt: o, .. } if o == opt),
            "{opt} {v:?}: {e:?}"
        );
        assert_eq!(e.srt_errno(), 5003);
        assert_eq!(o, SocketOptions::live(), "{opt} {v:?} changed the options");
    }
}

#[test]
fn boundary_values_are_accepted() {
    use SockOpt as O;
    for (opt, v) in [
        (O::Mss, Int(76)),
        (O::Fc, Int(32)),
        (O::SndBuf, Int(1)),
        (O::SndTimeo, Int(-1)),
        (O::MaxBw, Int64(-1)),
        (O::MaxBw, Int64(0)),
        (O::Latency, Int(0)),
        (O::OheadBw, Int(5)),
        (O::Passphrase, Str(vec![b'p'; 10])),
        (O::PbKeyLen, Int(16)),
        (O::PbKeyLen, Int(24)),
        (O::IpTtl, Int(255)),
        (O::IpTtl, Int(-1)),
        (O::StreamId, Str(vec![b'a'; 512])),
        (O::Congestion, s("vod")),
        (O::PayloadSize, Int(1456)),
        (O::PayloadSize, Int(0)),
        (O::BindToDevice, s("fifteen-chars-x")),
        (O::GroupMinStableTimeo, Int(60)),
        (O::GroupMinStableTimeo, Int(5000)),
        (O::TsbpdMode, Int(0)), // C int for a bool
        (O::InputBw, Int(7)),   // int for an int64
        (O::Fc, Int64(64)),     // int64 that fits an int
    ] {
        let mut o = SocketOptions::live();
        o.set(opt, v.clone())
            .unwrap_or_else(|e| panic!("{opt} {v:?}: {e}"));
        assert_eq!(o.validate(), Ok(()), "{opt}");
    }
    let mut o = SocketOptions::live();
    o.set(O::Congestion, s("vod")).unwrap();
    assert_eq!(o.get(O::Congestion), Ok(s("file")));
    o.set(O::SndBuf, Int(1)).unwrap();
    assert_eq!(o.sndbuf_pkts, 0); // libsrt: 1 / 1472
}

#[test]
fn check_settable_phases() {
    use SockOpt as O;
    use SocketPhase as P;
    let ok = Ok(());
    for phase in [
        P::Fresh,
        P::Bound,
        P::Connecting,
        P::Connected,
        P::Listening,
    ] {
        let bound = phase != P::Fresh;
        let busy = matches!(phase, P::Connecting | P::Connected | P::Listening);
        let pb = SocketOptions::check_settable(O::Mss, phase);
        assert_eq!(
            pb,
            if bound {
                Err(OptionError::BoundSocket(O::Mss))
            } else {
                ok.clone()
            }
        );
        let pre = SocketOptions::check_settable(O::Latency, phase);
        assert_eq!(
            pre,
            if busy {
                Err(OptionError::ConnectedSocket(O::Latency))
            } else {
                ok.clone()
            }
        );
        assert_eq!(SocketOptions::check_settable(O::MaxBw, phase), ok);
        assert_eq!(SocketOptions::check_settable(O::RcvSyn, phase), ok);
        let ro = SocketOptions::check_settable(O::Isn, phase).unwrap_err();
        assert_eq!(ro.srt_errno(), 5003);
        // libsrt flags SRTO_VERSION "pre".
        let v = SocketOptions::check_settable(O::Version, phase).unwrap_err();
        assert_eq!(v.srt_errno(), if busy { 5002 } else { 5003 });
    }
    for &opt in SockOpt::ALL {
        assert_eq!(
            SocketOptions::check_settable(opt, P::Broken),
            Err(OptionError::ConnectionLost)
        );
    }
    assert_eq!(OptionError::BoundSocket(O::Mss).srt_errno(), 5001);
    assert_eq!(OptionError::ConnectedSocket(O::Fc).srt_errno(), 5002);
    assert_eq!(OptionError::ConnectionLost.srt_errno(), 2001);

    let mut o = SocketOptions::live();
    assert_eq!(
        o.set_in_phase(P::Connected, O::Latency, Int(10)),
        Err(OptionError::ConnectedSocket(O::Latency))
    );
    assert_eq!(o.rcvlatency, LIVE_DEF_LATENCY);
    o.set_in_phase(P::Connected, O::MaxBw, Int64(1000)).unwrap();
    assert_eq!(o.maxbw, 1000);
}

#[test]
fn buffers_convert_bytes_to_packets_like_libsrt() {
    let mut o = SocketOptions::live();
    // RcvBufferSizeOptionToValue: at least 32 packets...
    o.set(SockOpt::RcvBuf, Int(1000)).unwrap();
    assert_eq!(o.rcvbuf_pkts, 32);
    assert_eq!(o.get(SockOpt::RcvBuf), Ok(Int(32 * 1472)));
    o.set(SockOpt::RcvBuf, Int(32 * 1472 + 1)).unwrap();
    assert_eq!(o.rcvbuf_pkts, 32);
    o.set(SockOpt::RcvBuf, Int(100 * 1472 + 5)).unwrap();
    assert_eq!(o.rcvbuf_pkts, 100);
    // ... and at most FC at the time of setting.
    o.set(SockOpt::Fc, Int(50)).unwrap();
    o.set(SockOpt::RcvBuf, Int(100 * 1472)).unwrap();
    assert_eq!(o.rcvbuf_pkts, 50);
    assert_eq!(o.flight_capacity(), 50);

    // The conversion uses the MSS of the moment: order matters.
    let mut a = SocketOptions::live();
    a.set(SockOpt::Mss, Int(1028)).unwrap();
    a.set(SockOpt::SndBuf, Int(100_000)).unwrap();
    assert_eq!(a.sndbuf_pkts, 100);
    assert_eq!(a.get(SockOpt::SndBuf), Ok(Int(100_000)));
    let mut b = SocketOptions::live();
    b.set(SockOpt::SndBuf, Int(100_000)).unwrap();
    b.set(SockOpt::Mss, Int(1028)).unwrap();
    assert_eq!(b.sndbuf_pkts, 67);
    assert_eq!(b.get(SockOpt::SndBuf), Ok(Int(67 * 1000)));
}

#[test]
fn mss_and_udp_buffers_bound_each_other() {
    let mut o = SocketOptions::live();
    o.set(SockOpt::UdpSndBuf, Int(10)).unwrap();
    assert_eq!(o.driver.udp_sndbuf, 1500); // never below the MSS
    o.set(SockOpt::Mss, Int(9000)).unwrap();
    assert_eq!(o.mss, 1500); // never above a UDP buffer
    o.set(SockOpt::UdpSndBuf, Int(65536)).unwrap();
    o.set(SockOpt::Mss, Int(9000)).unwrap();
    assert_eq!(o.mss, 9000);
    assert_eq!(o.warnings(), vec![OptionWarning::MssAboveMtu]);
    assert_eq!(o.validate(), Ok(()));
}

#[test]
fn km_refresh_and_preannounce_rules() {
    let mut o = SocketOptions::live();
    // Refresh alone: preannounce follows at (refresh - 1) / 2.
    o.set(SockOpt::KmRefreshRate, Int(2000)).unwrap();
    assert_eq!(o.kmpreannounce, 999);
    o.set(SockOpt::KmPreAnnounce, Int(500)).unwrap();
    assert_eq!(o.kmpreannounce, 500);
    assert!(o.set(SockOpt::KmPreAnnounce, Int(1000)).is_err());
    // 0 means libsrt's setter default 0x1000, too big for refresh 2000.
    assert!(o.set(SockOpt::KmPreAnnounce, Int(0)).is_err());
    // A smaller refresh lowers a preannounce that no longer fits.
    o.set(SockOpt::KmRefreshRate, Int(101)).unwrap();
    assert_eq!(o.kmpreannounce, 50);
    // A larger one keeps it.
    o.set(SockOpt::KmRefreshRate, Int(100_000)).unwrap();
    assert_eq!(o.kmpreannounce, 50);

    // Preannounce first, against the default refresh.
    let mut o = SocketOptions::live();
    o.set(SockOpt::KmPreAnnounce, Int(0x7F_FFFF)).unwrap();
    assert!(o.set(SockOpt::KmPreAnnounce, Int(0x80_0000)).is_err());
    // Refresh back to 0 with a preannounce set: the default refresh applies.
    o.set(SockOpt::KmRefreshRate, Int(0)).unwrap();
    assert_eq!(o.kmpreannounce, 0x7F_FFFF);
    assert_eq!(o.validate(), Ok(()));

    // Both 0 stays 0: runtime defaults 2^24 / 0x10000.
    let mut o = SocketOptions::live();
    o.set(SockOpt::KmRefreshRate, Int(0)).unwrap();
    assert_eq!((o.kmrefreshrate, o.kmpreannounce), (0, 0));

    // Directly written fields are caught by validate().
    let mut o = SocketOptions::live();
    o.kmrefreshrate = 100;
    o.kmpreannounce = 60;
    assert!(matches!(
        o.validate(),
        Err(OptionError::InvalidParam {
            opt: SockOpt::KmPreAnnounce,
            ..
        })
    ));
}

#[test]
fn payload_size_with_filter_and_gcm() {
    let mut o = SocketOptions::live().payload_size(1456).unwrap();
    // A filter shrinks the payload size to fit its 4-byte header.
    o.set(SockOpt::PacketFilter, s("fec,cols:4")).unwrap();
    assert_eq!(o.payloadsize, 1452);
    assert!(o.set(SockOpt::PayloadSize, Int(1453)).is_err());
    o.set(SockOpt::PayloadSize, Int(1452)).unwrap();

    // AES-GCM: the 16-byte tag must fit.
    let mut o = SocketOptions::live()
        .crypto_mode(CryptoMode::AesGcm)
        .unwrap();
    assert!(o.set(SockOpt::PayloadSize, Int(1441)).is_err());
    o.set(SockOpt::PayloadSize, Int(1440)).unwrap();
    // GCM and TSBPD guard each other...
    assert!(o.set(SockOpt::TsbpdMode, Bool(false)).is_err());
    let mut f = SocketOptions::file();
    assert!(f.set(SockOpt::CryptoMode, Int(2)).is_err());
    // ...but SRTO_TRANSTYPE bypasses both, as in libsrt.
    o.set(SockOpt::TransType, Int(1)).unwrap();
    assert!(!o.tsbpdmode);
    assert_eq!(o.warnings(), vec![OptionWarning::GcmWithoutTsbpd]);
    let mut g = SocketOptions::live().payload_size(1456).unwrap();
    g.set(SockOpt::CryptoMode, Int(2)).unwrap();
    assert_eq!(g.warnings(), vec![OptionWarning::GcmPayloadTooLarge]);
}

#[test]
fn packet_filter_syntax() {
    for good in [
        "fec",
        "fec,cols:10",
        "fec,cols:10,rows:5",
        "fec,cols:10,rows:-2,layout:even,arq:never",
        "fec,layout:staircase,arq:always,cols:2,rows:1",
        "fec,cols:",
        "fec,arq:onreq",
        "fec,cols:10abc", // atoi
    ] {
        let f = PacketFilterConfig::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(f.as_str(), good);
    }
    for bad in [
        "",
        "FEC",
        "fec,",
        "fec,,cols:2",
        "fec,cols",
        "fec,cols:2:3",
        "fec,cols:1",
        "fec,cols:x",
        "fec,rows:0",
        "fec,rows:-1",
        "fec,layout:odd",
        "fec,arq:sometimes",
        "fec,cols:10,extra:1",
        "fec,cols:10,rows:10,layout:staircase,arq:onreq,cols:10,rows:100000",
    ] {
        assert!(PacketFilterConfig::parse(bad).is_err(), "{bad}");
    }
    assert!(PacketFilterConfig::parse([0xFFu8, 0xFE]).is_err());
    assert_eq!(c_atoi("  -12x"), -12);
    assert_eq!(c_atoi("+7"), 7);
    assert_eq!(c_atoi(""), 0);
}

#[test]
fn linger_and_timeouts() {
    let mut o = SocketOptions::file();
    o.set(SockOpt::Linger, lin(false, 30)).unwrap();
    assert_eq!(o.linger, None);
    assert_eq!(o.get(SockOpt::Linger), Ok(lin(false, 0)));
    o.set(SockOpt::Linger, lin(true, -3)).unwrap();
    assert_eq!(o.linger, Some(Duration::ZERO));
    o.set(SockOpt::RcvTimeo, Int(-1)).unwrap();
    assert_eq!(o.driver.rcvtimeo, None);
    o.set(SockOpt::SndDropDelay, Int(0)).unwrap();
    assert_eq!(o.snddropdelay, Some(Duration::ZERO));
    assert_eq!(o.effective_conn_timeout(), Duration::from_secs(3));
    o.rendezvous = true;
    assert_eq!(o.effective_conn_timeout(), Duration::from_secs(30));
}

#[test]
fn latency_sets_both_and_reads_receive() {
    let mut o = SocketOptions::live();
    o.set(SockOpt::PeerLatency, Int(50)).unwrap();
    o.set(SockOpt::Latency, Int(200)).unwrap();
    assert_eq!(o.rcvlatency, Duration::from_millis(200));
    assert_eq!(o.peerlatency, Duration::from_millis(200));
    o.set(SockOpt::RcvLatency, Int(70)).unwrap();
    assert_eq!(o.get(SockOpt::Latency), Ok(Int(70)));
    assert_eq!(o.get(SockOpt::PeerLatency), Ok(Int(200)));
}

#[test]
fn builder() {
    let o = SocketOptions::live()
        .latency(Duration::from_millis(250))
        .unwrap()
        .stream_id("#!::r=a")
        .unwrap()
        .passphrase("correct horse battery")
        .unwrap()
        .pbkeylen(24)
        .unwrap()
        .max_bw(0)
        .unwrap()
        .conn_timeout(Duration::from_secs(1))
        .unwrap()
        .linger(Some(Duration::from_millis(2500)))
        .message_api(true);
    assert_eq!(o.rcvlatency, Duration::from_millis(250));
    assert_eq!(o.peerlatency, Duration::from_millis(250));
    assert_eq!(o.streamid.as_str(), Some("#!::r=a"));
    assert_eq!(o.pbkeylen, 24);
    assert_eq!(o.linger, Some(Duration::from_secs(2)));
    assert_eq!(o.validate(), Ok(()));
    assert!(SocketOptions::live().stream_id([b'x'; 513]).is_err());
    assert!(SocketOptions::live().passphrase("too short").is_err());
    assert!(SocketOptions::live().pbkeylen(20).is_err());
    assert!(SocketOptions::live()
        .latency(Duration::from_secs(1 << 40))
        .is_err());
    assert!(SocketOptions::live().packet_filter("fec,cols:1").is_err());
    assert!(SocketOptions::live().mss(75).is_err());
    assert!(SocketOptions::live().fc(31).is_err());
    assert!(SocketOptions::live().km_preannounce(u32::MAX).is_err());
    assert!(SocketOptions::live().km_refresh_rate(1000).is_ok());
    assert_eq!(
        SocketOptions::live()
            .latency_ms(200)
            .unwrap()
            .get(SockOpt::Latency),
        Ok(Int(200))
    );
}

#[test]
fn debug_hides_the_passphrase() {
    let o = SocketOptions::live().passphrase("super-secret-pw").unwrap();
    let dbg = format!("{o:?}");
    assert!(!dbg.contains("super-secret-pw"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
    assert!(!format!("{:?}", o.passphrase).contains("secret"));
}

#[test]
fn accepted_socket_inherits_all_but_stream_id() {
    let l = SocketOptions::live()
        .stream_id("x")
        .unwrap()
        .latency_ms(400)
        .unwrap();
    let a = l.for_accepted();
    assert!(a.streamid.is_empty());
    assert_eq!(a.rcvlatency, l.rcvlatency);
}

#[test]
fn connect_listen_bind_checks() {
    use SocketPhase as P;
    let o = SocketOptions::live();
    assert_eq!(o.validate_for_connect(P::Fresh), Ok(()));
    assert_eq!(o.validate_for_connect(P::Bound), Ok(()));
    assert_eq!(
        o.validate_for_connect(P::Connected)
            .unwrap_err()
            .srt_errno(),
        5002
    );
    assert_eq!(
        o.validate_for_connect(P::Listening)
            .unwrap_err()
            .srt_errno(),
        5002
    );
    assert_eq!(
        o.validate_for_connect(P::Broken).unwrap_err().srt_errno(),
        1005
    );
    assert_eq!(
        o.validate_for_listen(P::Fresh).unwrap_err().srt_errno(),
        5005
    );
    assert_eq!(o.validate_for_listen(P::Bound), Ok(()));
    assert_eq!(o.validate_for_listen(P::Listening), Ok(()));
    assert_eq!(
        o.validate_for_listen(P::Connecting)
            .unwrap_err()
            .srt_errno(),
        5002
    );

    let r = SocketOptions::live().rendezvous(true);
    assert_eq!(
        r.validate_for_connect(P::Fresh).unwrap_err().srt_errno(),
        5008
    );
    assert_eq!(r.validate_for_connect(P::Bound), Ok(()));
    assert_eq!(
        r.validate_for_listen(P::Bound).unwrap_err().srt_errno(),
        5007
    );

    assert_eq!(o.validate_for_bind(true).unwrap_err().srt_errno(), 5003);
    assert_eq!(o.validate_for_bind(false), Ok(()));
    let mut v6 = o.clone();
    v6.set(SockOpt::Ipv6Only, Int(0)).unwrap();
    assert_eq!(v6.validate_for_bind(true), Ok(()));

    // Fields written by hand are re-checked.
    let mut bad = SocketOptions::live();
    bad.oheadbw = 0;
    assert_eq!(
        bad.validate_for_connect(P::Fresh).unwrap_err().srt_errno(),
        5003
    );
    let mut bad = SocketOptions::live();
    bad.payloadsize = 1500;
    assert!(bad.validate().is_err());
    let mut bad = SocketOptions::live();
    bad.fc = 10;
    assert!(bad.validate().is_err());
    let mut bad = SocketOptions::live();
    bad.mss = 70_000; // above the UDP send buffer
    assert!(bad.validate().is_err());
}

#[test]
fn warnings_for_accepted_but_odd_combinations() {
    let o = SocketOptions::live().mss(1000).unwrap();
    assert_eq!(
        o.warnings(),
        vec![OptionWarning::PayloadExceedsMss {
            payloadsize: 1316,
            max: 956
        }]
    );
    let o = SocketOptions::live().message_api(false);
    assert_eq!(
        o.warnings(),
        vec![OptionWarning::LiveCongestionWithStreamApi]
    );
    let o = SocketOptions::live().latency_ms(70_000).unwrap();
    assert_eq!(o.warnings(), vec![OptionWarning::LatencyTruncated]);
    let mut o = SocketOptions::live();
    o.set(SockOpt::GroupMinStableTimeo, Int(3000)).unwrap();
    o.set(SockOpt::PeerIdleTimeo, Int(1000)).unwrap();
    assert_eq!(o.warnings(), vec![OptionWarning::GroupStableAboveIdle]);
}

#[test]
fn c_bytes_round_trip() {
    for &opt in SockOpt::ALL {
        let Ok(v) = SocketOptions::file().get(opt) else {
            continue;
        };
        let bytes = v.to_c_bytes();
        let back = opt.decode_c(&bytes).unwrap();
        assert_eq!(back, v, "{opt}");
    }
    // libsrt takes an int for a bool, and reads any other size as false.
    assert_eq!(
        SockOpt::TsbpdMode.decode_c(&7i32.to_ne_bytes()),
        Ok(Bool(true))
    );
    assert_eq!(SockOpt::TsbpdMode.decode_c(&[1, 0]), Ok(Bool(false)));
    assert_eq!(
        SockOpt::Latency.decode_c(&[1, 0]).unwrap_err().srt_errno(),
        5003
    );
    assert!(SockOpt::MaxBw.decode_c(&5i32.to_ne_bytes()).is_err());
    assert!(SockOpt::Linger.decode_c(&[0; 4]).is_err());
}

#[test]
fn errno_values_follow_srt_h() {
    // 1000 * MJ + MN (srt.h).
    assert_eq!(errno::SRT_EINVOP, 1000 * 5);
    assert_eq!(errno::SRT_EBOUNDSOCK, 1000 * 5 + 1);
    assert_eq!(errno::SRT_ECONNSOCK, 1000 * 5 + 2);
    assert_eq!(errno::SRT_EINVPARAM, 1000 * 5 + 3);
    assert_eq!(errno::SRT_EUNBOUNDSOCK, 1000 * 5 + 5);
    assert_eq!(errno::SRT_ERDVNOSERV, 1000 * 5 + 7);
    assert_eq!(errno::SRT_ERDVUNBOUND, 1000 * 5 + 8);
    assert_eq!(errno::SRT_ECONNLOST, 1000 * 2 + 1);
    assert_eq!(errno::SRT_ESCLOSED, 1000 + 5);
    assert_eq!(OptionError::RendezvousListen.srt_errno(), 5007);
    assert_eq!(OptionError::RuntimeState(SockOpt::Isn).srt_errno(), 5000);
    let e = OptionError::invalid(SockOpt::Fc, "x");
    assert_eq!(e.to_string(), "SRTO_FC: invalid value: x");
}

fn any_opt() -> impl Strategy<Value = SockOpt> {
    prop::sample::select(SockOpt::ALL.to_vec())
}

fn any_value() -> impl Strategy<Value = OptionValue> {
    prop_oneof![
        any::<bool>().prop_map(Bool),
        any::<i32>().prop_map(Int),
        (-3i32..2000).prop_map(Int),
        prop::sample::select(vec![
            0,
            1,
            2,
            16,
            24,
            32,
            59,
            60,
            75,
            76,
            1316,
            1440,
            1452,
            1456,
            1457,
            i32::MAX,
            i32::MIN,
            0x0100_0000,
            0x80_0000,
        ])
        .prop_map(Int),
        any::<i64>().prop_map(Int64),
        (-3i64..3).prop_map(Int64),
        prop::collection::vec(any::<u8>(), 0..600).prop_map(Str),
        prop::sample::select(vec![
            "live",
            "file",
            "vod",
            "fec",
            "fec,cols:10,rows:5",
            "fec,cols:2,arq:always,layout:even",
            "0123456789",
            "eth0",
        ])
        .prop_map(s),
        (any::<bool>(), any::<i32>()).prop_map(|(onoff, secs)| lin(onoff, secs)),
    ]
}

proptest! {
    #[test]
    fn set_never_panics_and_keeps_invariants(
        ops in prop::collection::vec((any_opt(), any_value()), 0..40)
    ) {
        let mut o = SocketOptions::live();
        for (opt, v) in ops {
            let before = o.clone();
            match o.set(opt, v.clone()) {
                Ok(()) => {
                    // What was set reads back (where libsrt stores it as given).
                    if let (Ok(got), true) = (o.get(opt), reads_back_exactly(opt, &v)) {
                        prop_assert_eq!(got, v, "{}", opt);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(&o, &before, "{} failed ({}) but changed the options", opt, e);
                    prop_assert!(e.srt_errno() == 5003);
                }
            }
            prop_assert_eq!(o.validate(), Ok(()), "after {}", opt);
            for &g in SockOpt::ALL {
                let _ = o.get(g);
            }
            let _ = o.warnings();
        }
    }

    #[test]
    fn decode_c_never_panics(opt in any_opt(), bytes in prop::collection::vec(any::<u8>(), 0..16)) {
        let _ = opt.decode_c(&bytes);
    }
}

/// Options whose getter returns exactly the int/bool/string that was set.
fn reads_back_exactly(opt: SockOpt, v: &OptionValue) -> bool {
    use SockOpt as O;
    let plain = matches!(
        opt,
        O::Fc
            | O::SndTimeo
            | O::RcvTimeo
            | O::MaxBw
            | O::Latency
            | O::RcvLatency
            | O::PeerLatency
            | O::InputBw
            | O::MinInputBw
            | O::OheadBw
            | O::PbKeyLen
            | O::IpTtl
            | O::IpTos
            | O::SndDropDelay
            | O::ConnTimeo
            | O::LossMaxTtl
            | O::MinVersion
            | O::StreamId
            | O::PeerIdleTimeo
            | O::BindToDevice
            | O::GroupMinStableTimeo
            | O::PacketFilter
            | O::RetransmitAlgo
            | O::CryptoMode
            | O::MaxRexmitBw
            | O::Ipv6Only
    );
    let typed = match v {
        Int(_) => opt.opt_type() == OptType::Int32,
        Int64(_) => opt.opt_type() == OptType::Int64,
        Str(_) => opt.opt_type() == OptType::String,
        Bool(_) => opt.opt_type() == OptType::Bool,
        OptionValue::Linger { .. } => false,
    };
    (plain && typed) || (opt.opt_type() == OptType::Bool && matches!(v, Bool(_)))
}
