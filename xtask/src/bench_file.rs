//! `cargo xtask bench file [--mib N] [--runs R]`: file transfer over
//! loopback, our `srt-transmit` beside libsrt's `srt-file-transmit`, in the
//! same run.
//!
//! Each pair (libsrt → libsrt, ours → ours, and the two mixed ones) moves
//! the same generated file `R` times; a run is timed from the sender's
//! start to the receiver's exit (the receiver is started first and is
//! listening), and the CPU time (user + system) of each process comes from
//! `wait4`'s rusage. The output must be byte-identical to the input. The
//! table shows the median of each measure per pair, then the ratios
//! ours/libsrt (libsrt → libsrt against ours → ours).

use crate::util::{self, Failure};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIBSRT: &str = "srt-file-transmit";

/// Who runs one end of a transfer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Ours,
    Libsrt,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Libsrt => "libsrt",
        }
    }
}

/// One measured transfer.
#[derive(Clone, Copy, Debug)]
struct Run {
    wall: Duration,
    sender_cpu: Duration,
    receiver_cpu: Duration,
    sender_rss_kib: i64,
    receiver_rss_kib: i64,
}

struct Options {
    mib: u64,
    runs: usize,
}

fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut o = Options { mib: 256, runs: 3 };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mib" => o.mib = util::positive(it.next(), "--mib")?,
            "--runs" => o.runs = util::positive(it.next(), "--runs")? as usize,
            other => return Err(Failure::Usage(format!("bench file: unknown flag {other}"))),
        }
    }
    Ok(o)
}

/// Checks that libsrt's tool `libsrt` is installed and builds our
/// `srt-transmit` in release; returns the path of ours. With
/// `SRT_TRANSMIT` set, that binary is ours instead (nothing is built): to
/// compare two builds, each against libsrt, in one session.
pub(crate) fn build_tools(libsrt: &str) -> Result<PathBuf, Failure> {
    if !util::succeeds_quietly(Command::new(libsrt).arg("-version")) {
        return Err(Failure::Failed(format!(
            "{libsrt} is not installed (apt-get install srt-tools, or run `cargo xtask ci` once)"
        )));
    }
    if let Some(path) = std::env::var_os("SRT_TRANSMIT") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(Failure::Usage(format!(
                "SRT_TRANSMIT={} is not a file",
                path.display()
            )));
        }
        println!("ours: {} (SRT_TRANSMIT)", path.display());
        return Ok(path);
    }
    util::run(util::cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "srt-tools",
        "--bin",
        "srt-transmit",
    ]))?;
    Ok(target_dir().join("release").join("srt-transmit"))
}

/// `cargo xtask bench file [--mib N] [--runs R]`.
pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let opts = parse(args)?;
    let ours = build_tools(LIBSRT)?;
    let dir = target_dir().join("bench-file");
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["in", "out"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(io_failure(&dir))?;
    }
    let len = opts.mib << 20;
    let input = dir.join("in").join("data.bin");
    let t = Instant::now();
    write_input(&input, len).map_err(io_failure(&input))?;
    println!(
        "generated {} MiB in {:.2} s: {}",
        opts.mib,
        t.elapsed().as_secs_f64(),
        input.display()
    );

    let bench = Bench {
        ours,
        dir: dir.clone(),
        input,
        len,
    };
    let pairs = [
        (Tool::Libsrt, Tool::Libsrt),
        (Tool::Ours, Tool::Ours),
        (Tool::Ours, Tool::Libsrt),
        (Tool::Libsrt, Tool::Ours),
    ];
    // Interleave the pairs so that a slow moment of the machine does not
    // fall on one of them only.
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); pairs.len()];
    let mut failures = Vec::new();
    for round in 0..opts.runs {
        for (k, &(snd, rcv)) in pairs.iter().enumerate() {
            let label = format!("run {}: {:>6} -> {:<6}", round + 1, snd.name(), rcv.name());
            match bench.transfer(snd, rcv) {
                Ok(r) => {
                    println!(
                        "  {label} {:>8.1} Mbit/s  cpu sender {:.3} s receiver {:.3} s",
                        mbps(len, r.wall),
                        r.sender_cpu.as_secs_f64(),
                        r.receiver_cpu.as_secs_f64()
                    );
                    runs[k].push(r);
                }
                Err(Failure::Failed(msg)) => {
                    println!("  {label} FAILED: {msg}");
                    failures.push(format!("{label}: {msg}"));
                }
                Err(usage) => return Err(usage),
            }
        }
    }
    let results: Vec<_> = pairs
        .iter()
        .zip(&runs)
        .filter(|(_, r)| !r.is_empty())
        .map(|(pair, r)| (*pair, median(r)))
        .collect();
    report(len, opts.runs, &results);
    let sysctl = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
            .map_or_else(|_| "?".into(), |v| v.trim().to_owned())
    };
    println!(
        "UDP buffers: net.core.rmem_max = {}, wmem_max = {} bytes; libsrt asks for 12 MB (receive) \
         and 64 KiB (send) and gets at most these; srt-transmit asks for 12 MB each, past the \
         limits when it may (root)",
        sysctl("rmem_max"),
        sysctl("wmem_max")
    );
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} of {} transfers failed (logs in {}):\n{}",
            failures.len(),
            opts.runs * pairs.len(),
            dir.display(),
            failures.join("\n")
        )))
    }
}

/// The median of each measure on its own (wall time, each CPU time, each
/// peak RSS), so that one disturbed run moves none of them.
fn median(runs: &[Run]) -> Run {
    fn mid<T: Ord + Copy>(runs: &[Run], f: impl Fn(&Run) -> T) -> T {
        let mut v: Vec<T> = runs.iter().map(f).collect();
        v.sort_unstable();
        v[v.len() / 2]
    }
    Run {
        wall: mid(runs, |r| r.wall),
        sender_cpu: mid(runs, |r| r.sender_cpu),
        receiver_cpu: mid(runs, |r| r.receiver_cpu),
        sender_rss_kib: mid(runs, |r| r.sender_rss_kib),
        receiver_rss_kib: mid(runs, |r| r.receiver_rss_kib),
    }
}

fn mbps(len: u64, d: Duration) -> f64 {
    len as f64 * 8.0 / d.as_secs_f64() / 1e6
}

/// CPU seconds per GiB moved.
fn per_gib(cpu: Duration, len: u64) -> f64 {
    cpu.as_secs_f64() * (1u64 << 30) as f64 / len as f64
}

fn report(len: u64, runs: usize, results: &[((Tool, Tool), Run)]) {
    println!(
        "\nfile transfer over loopback, {} MiB, medians of {runs} run(s) (of those that succeeded)\n",
        len >> 20
    );
    println!(
        "{:<18} {:>10} {:>8} {:>14} {:>14} {:>14} {:>10} {:>10}",
        "sender -> receiver",
        "Mbit/s",
        "wall s",
        "snd CPU s/GiB",
        "rcv CPU s/GiB",
        "sum CPU s/GiB",
        "snd RSS MB",
        "rcv RSS MB"
    );
    for ((snd, rcv), r) in results {
        let s = per_gib(r.sender_cpu, len);
        let c = per_gib(r.receiver_cpu, len);
        println!(
            "{:<18} {:>10.1} {:>8.3} {:>14.3} {:>14.3} {:>14.3} {:>10.1} {:>10.1}",
            format!("{} -> {}", snd.name(), rcv.name()),
            mbps(len, r.wall),
            r.wall.as_secs_f64(),
            s,
            c,
            s + c,
            r.sender_rss_kib as f64 / 1024.0,
            r.receiver_rss_kib as f64 / 1024.0,
        );
    }
    let find = |t: Tool| {
        results
            .iter()
            .find(|((s, r), _)| *s == t && *r == t)
            .map(|(_, run)| *run)
    };
    if let (Some(o), Some(l)) = (find(Tool::Ours), find(Tool::Libsrt)) {
        let cpu = |r: Run| per_gib(r.sender_cpu + r.receiver_cpu, len);
        println!(
            "\nours/libsrt: throughput {:.2}x, CPU per GiB {:.2}x (sender {:.2}x, receiver {:.2}x)",
            l.wall.as_secs_f64() / o.wall.as_secs_f64(),
            cpu(o) / cpu(l),
            o.sender_cpu.as_secs_f64() / l.sender_cpu.as_secs_f64(),
            o.receiver_cpu.as_secs_f64() / l.receiver_cpu.as_secs_f64(),
        );
        println!("(throughput: higher is better; CPU: lower is better)");
    }
}

struct Bench {
    ours: PathBuf,
    dir: PathBuf,
    input: PathBuf,
    len: u64,
}

impl Bench {
    /// One transfer of the input file from `snd` to `rcv`, verified.
    fn transfer(&self, snd: Tool, rcv: Tool) -> Result<Run, Failure> {
        let port = free_port()?;
        let name = format!("{}-{}", snd.name(), rcv.name());
        let out_dir = self.dir.join("out").join(&name);
        let _ = std::fs::remove_dir_all(&out_dir);
        std::fs::create_dir_all(&out_dir).map_err(io_failure(&out_dir))?;
        // libsrt's listener writes <directory>/<stream ID>.
        let output = out_dir.join("data.bin");
        let ours = self.ours.as_os_str();
        let (program, args) = match rcv {
            Tool::Ours => (
                ours,
                vec![
                    "--stats-ms=1000".to_owned(),
                    format!("srt://127.0.0.1:{port}?mode=listener&transtype=file"),
                    format!("file://{}", output.display()),
                ],
            ),
            Tool::Libsrt => (
                LIBSRT.as_ref(),
                vec![
                    format!("srt://127.0.0.1:{port}?mode=listener"),
                    format!("file://{}/", out_dir.display()),
                ],
            ),
        };
        let mut receiver = Command::new(program);
        receiver.args(args);
        let (program, args) = match snd {
            Tool::Ours => (
                ours,
                vec![
                    "--stats-ms=1000".to_owned(),
                    format!("file://{}", self.input.display()),
                    format!("srt://127.0.0.1:{port}?transtype=file&streamid=data.bin"),
                ],
            ),
            Tool::Libsrt => (
                LIBSRT.as_ref(),
                vec![
                    format!("file://{}", self.input.display()),
                    format!("srt://127.0.0.1:{port}?streamid=data.bin"),
                ],
            ),
        };
        let mut sender = Command::new(program);
        sender.args(args);
        let log = |who: &str| self.dir.join(format!("{name}.{who}.log"));
        let rcv_pid = spawn(&mut receiver, &log("receiver"))?;
        // Wait until the receiver listens, so the caller's first handshake
        // is answered (a lost one costs libsrt 250 ms).
        let ready = Instant::now();
        while !udp_port_bound(port) {
            if ready.elapsed() > Duration::from_secs(5) {
                kill(rcv_pid);
                return Err(Failure::Failed(format!(
                    "{name}: the receiver did not bind port {port}: {}",
                    read_log(&log("receiver"))
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let start = Instant::now();
        let snd_pid = spawn(&mut sender, &log("sender"))?;
        // Loopback moves well over 1 Gbit/s: 20 s plus 1 s per 16 MiB is a hang.
        let limit = Duration::from_secs(20 + (self.len >> 24));
        let mut snd_end = None;
        let mut rcv_end = None;
        while snd_end.is_none() || rcv_end.is_none() {
            for (pid, end) in [(snd_pid, &mut snd_end), (rcv_pid, &mut rcv_end)] {
                if end.is_none() {
                    if let Some(exit) = reap(pid) {
                        *end = Some((start.elapsed(), exit));
                    }
                }
            }
            if start.elapsed() > limit {
                for (pid, end) in [(snd_pid, &snd_end), (rcv_pid, &rcv_end)] {
                    if end.is_none() {
                        kill(pid);
                        let _ = reap_blocking(pid);
                    }
                }
                return Err(Failure::Failed(format!(
                    "{name}: not done after {limit:?}; sender: {} receiver: {}",
                    read_log(&log("sender")),
                    read_log(&log("receiver"))
                )));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        let (_, snd_exit) = snd_end.expect("reaped");
        let (rcv_wall, rcv_exit) = rcv_end.expect("reaped");
        for (who, exit) in [("sender", &snd_exit), ("receiver", &rcv_exit)] {
            if exit.status != 0 {
                return Err(Failure::Failed(format!(
                    "{name}: the {who} failed ({}): {}",
                    exit.status,
                    read_log(&log(who))
                )));
            }
        }
        same_content(&self.input, &output).map_err(|e| {
            Failure::Failed(format!(
                "{name}: output differs from input: {e}; sender: {} receiver: {}",
                read_log(&log("sender")),
                read_log(&log("receiver"))
            ))
        })?;
        let _ = std::fs::remove_dir_all(&out_dir);
        Ok(Run {
            wall: rcv_wall,
            sender_cpu: snd_exit.cpu,
            receiver_cpu: rcv_exit.cpu,
            sender_rss_kib: snd_exit.maxrss_kib,
            receiver_rss_kib: rcv_exit.maxrss_kib,
        })
    }
}

/// The cargo target directory (`$CARGO_TARGET_DIR` or `<root>/target`).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| util::root().join("target"))
}

/// Turns an I/O error on `path` into a [`Failure::Failed`] naming it.
pub(crate) fn io_failure(path: &Path) -> impl FnOnce(std::io::Error) -> Failure + '_ {
    move |e| Failure::Failed(format!("{}: {e}", path.display()))
}

/// Starts `cmd` with its output in `log`; returns its pid. The `Child` is
/// dropped: the process is reaped with `wait4`, which gives its rusage.
pub(crate) fn spawn(cmd: &mut Command, log: &Path) -> Result<i32, Failure> {
    let line = util::display(cmd);
    let out = File::create(log).map_err(io_failure(log))?;
    let err = out.try_clone().map_err(io_failure(log))?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Failure::Failed(format!("cannot start `{line}`: {e}")))?;
    i32::try_from(child.id()).map_err(|_| Failure::Failed("pid out of range".into()))
}

/// The trimmed content of a log file (empty if unreadable).
pub(crate) fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A free UDP port on 127.0.0.1 (bound and released).
pub(crate) fn free_port() -> Result<u16, Failure> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::Failed(format!("no free UDP port: {e}")))
}

/// Whether some UDP socket is bound to `port` (from /proc/net/udp{,6}).
pub(crate) fn udp_port_bound(port: u16) -> bool {
    let suffix = format!(":{port:04X}");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|table| {
            table.lines().skip(1).any(|line| {
                // sl local_address rem_address ...; local_address is HEXIP:HEXPORT.
                line.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| local.ends_with(&suffix))
            })
        })
    })
}

/// The same deterministic pseudo-random content for every run.
fn write_input(path: &Path, len: u64) -> std::io::Result<()> {
    let mut f = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut left = len;
    let mut block = vec![0u8; 1 << 16];
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            chunk.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.flush()
}

/// Compares two files byte by byte.
fn same_content(a: &Path, b: &Path) -> Result<(), String> {
    let open = |p: &Path| File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (la, lb) = (
        fa.metadata().map_err(|e| e.to_string())?.len(),
        fb.metadata().map_err(|e| e.to_string())?.len(),
    );
    if la != lb {
        return Err(format!("{lb} bytes instead of {la}"));
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut at = 0u64;
    loop {
        let n = fa.read(&mut ba).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        fb.read_exact(&mut bb[..n]).map_err(|e| e.to_string())?;
        if ba[..n] != bb[..n] {
            let k = ba[..n].iter().zip(&bb[..n]).position(|(x, y)| x != y);
            return Err(format!(
                "first difference at byte {}",
                at + k.unwrap_or(0) as u64
            ));
        }
        at += n as u64;
    }
}

/// How a reaped process ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exit {
    /// The raw wait status (0: exited with 0).
    pub(crate) status: i32,
    /// User + system CPU time.
    pub(crate) cpu: Duration,
    /// Peak resident set, KiB.
    pub(crate) maxrss_kib: i64,
    /// Context switches, voluntary and involuntary, of all its threads.
    pub(crate) switches: i64,
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// `wait4(pid, WNOHANG)`: the process's exit and rusage if it has ended.
#[allow(unsafe_code)]
fn wait4(pid: i32, flags: i32) -> Option<Exit> {
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; all-zero is a
    // valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers point to live, writable locals of the right
    // types for the duration of the call.
    let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
    (r == pid).then(|| Exit {
        status,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        maxrss_kib: usage.ru_maxrss,
        switches: usage.ru_nvcsw + usage.ru_nivcsw,
    })
}

/// The exit and rusage of `pid` if it has ended (does not block).
pub(crate) fn reap(pid: i32) -> Option<Exit> {
    wait4(pid, libc::WNOHANG)
}

/// Waits for `pid` to end; its exit and rusage.
pub(crate) fn reap_blocking(pid: i32) -> Option<Exit> {
    wait4(pid, 0)
}

/// Sends SIGKILL to `pid`.
pub(crate) fn kill(pid: i32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::args;

    fn run(wall_ms: u64, cpu_ms: u64) -> Run {
        Run {
            wall: Duration::from_millis(wall_ms),
            sender_cpu: Duration::from_millis(cpu_ms),
            receiver_cpu: Duration::from_millis(cpu_ms * 2),
            sender_rss_kib: 1,
            receiver_rss_kib: 2,
        }
    }

    #[test]
    fn medians_are_taken_per_measure() {
        let m = median(&[run(900, 10), run(100, 30), run(500, 20)]);
        assert_eq!(m.wall, Duration::from_millis(500));
        assert_eq!(m.sender_cpu, Duration::from_millis(20));
        assert_eq!(m.receiver_cpu, Duration::from_millis(40));
    }

    #[test]
    fn flags_are_parsed_and_checked() {
        let o = parse(&args(&["--mib", "8", "--runs", "2"])).unwrap();
        assert_eq!((o.mib, o.runs), (8, 2));
        let o = parse(&[]).unwrap();
        assert_eq!((o.mib, o.runs), (256, 3));
        assert!(parse(&args(&["--mib", "0"])).is_err());
        assert!(parse(&args(&["--mib"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
    }

    #[test]
    fn a_bound_port_is_seen() {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(udp_port_bound(s.local_addr().unwrap().port()));
    }

    #[test]
    fn content_comparison_finds_the_first_difference() {
        let dir = std::env::temp_dir().join(format!("bench-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        write_input(&a, 100_000).unwrap();
        std::fs::copy(&a, &b).unwrap();
        assert_eq!(same_content(&a, &b), Ok(()));
        let mut bytes = std::fs::read(&b).unwrap();
        bytes[77_777] ^= 1;
        std::fs::write(&b, &bytes).unwrap();
        assert_eq!(
            same_content(&a, &b),
            Err("first difference at byte 77777".into())
        );
        bytes.pop();
        std::fs::write(&b, &bytes).unwrap();
        assert!(same_content(&a, &b).unwrap_err().contains("99999 bytes"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
