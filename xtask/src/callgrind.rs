//! Counting instructions with valgrind's callgrind, for `bench live
//! --callgrind` and `bench capi --callgrind`.
//!
//! CPU time on a shared machine scatters by several percent from run to
//! run; the instructions a process executes in user space do not (the same
//! binary and input give the same count within a fraction of a percent,
//! whatever else the machine runs). A tool runs under
//! `valgrind --tool=callgrind`; its counters are zeroed when the stream
//! starts and dumped when it ends (`callgrind_control -z` / `-d`, or the
//! program's own `CALLGRIND_ZERO_STATS` / `CALLGRIND_DUMP_STATS_AT`), so
//! start-up, connection set-up and teardown are left out. The dump
//! (`<out>.1`) is read with `callgrind_annotate`, which also gives the share
//! of the engine (`srt-proto`'s code, inlined or not). System calls' kernel
//! work is not counted.

use crate::util::{self, Failure};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Fails unless valgrind, `callgrind_control` and `callgrind_annotate` are
/// installed.
pub(crate) fn require() -> Result<(), Failure> {
    for tool in ["valgrind", "callgrind_control", "callgrind_annotate"] {
        // callgrind_annotate 3.19 prints its version on stderr and exits 255.
        let runs = Command::new(tool)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success() || String::from_utf8_lossy(&o.stderr).contains(tool));
        if !runs {
            return Err(Failure::Failed(format!(
                "{tool} is not installed (apt-get install valgrind)"
            )));
        }
    }
    Ok(())
}

/// `program` under callgrind, its profile written to `out` (and the
/// stream's dump to [`dump_path`]`(out)`).
pub(crate) fn command(program: impl AsRef<std::ffi::OsStr>, out: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(program);
    cmd
}

/// Where the first dump of a profile written to `out` goes.
pub(crate) fn dump_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// Zeroes the counters of the callgrind process `pid`.
pub(crate) fn zero(pid: i32) -> Result<(), Failure> {
    control(pid, "-z")
}

/// Makes the callgrind process `pid` write its counters ([`dump_path`]).
pub(crate) fn dump(pid: i32) -> Result<(), Failure> {
    control(pid, "-d")
}

fn control(pid: i32, flag: &str) -> Result<(), Failure> {
    let mut cmd = Command::new("callgrind_control");
    cmd.arg(flag).arg(pid.to_string());
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::Failed(format!("callgrind_control: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "`{}` failed: {}",
            util::display(&cmd),
            String::from_utf8_lossy(&out.stdout).trim()
        )))
    }
}

/// The instructions of one profile.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Count {
    /// All instructions executed in user space, every thread.
    pub(crate) total: u64,
    /// Those in `srt-proto`'s code (its functions and what was inlined
    /// from its files into others).
    pub(crate) engine: u64,
}

/// Reads the dump of the profile written to `out` (waiting up to 10 s for
/// it to appear complete).
pub(crate) fn read(out: &Path) -> Result<Count, Failure> {
    let path = dump_path(out);
    let start = std::time::Instant::now();
    // The dump is complete once its `totals:` line is written.
    while !std::fs::read_to_string(&path).is_ok_and(|s| s.contains("\ntotals:")) {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            return Err(Failure::Failed(format!(
                "no complete callgrind dump at {}",
                path.display()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut cmd = Command::new("callgrind_annotate");
    cmd.args(["--inclusive=no", "--threshold=100", "--auto=no"])
        .arg(&path);
    let text = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::Failed(format!("callgrind_annotate: {e}")))?;
    if !text.status.success() {
        return Err(Failure::Failed(format!(
            "`{}` failed: {}",
            util::display(&cmd),
            String::from_utf8_lossy(&text.stderr).trim()
        )));
    }
    parse_annotate(&String::from_utf8_lossy(&text.stdout)).ok_or_else(|| {
        Failure::Failed(format!(
            "`{}` printed no PROGRAM TOTALS",
            util::display(&cmd)
        ))
    })
}

/// The totals and the engine's share from `callgrind_annotate
/// --inclusive=no` output (lines `1,234 (5.6%)  file:function [object]`).
fn parse_annotate(text: &str) -> Option<Count> {
    let mut count = Count::default();
    let mut total = None;
    for line in text.lines() {
        let line = line.trim_start();
        let Some((number, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(n) = number.replace(',', "").parse::<u64>() else {
            continue;
        };
        if rest.contains("PROGRAM TOTALS") {
            total = Some(n);
        } else if is_engine(rest) {
            count.engine += n;
        }
    }
    count.total = total?;
    Some(count)
}

/// Whether a `file:function` entry is `srt-proto`'s code.
fn is_engine(entry: &str) -> bool {
    entry.contains("/srt-proto/src/")
        || entry.contains(":srt_proto::")
        || entry.contains(":<srt_proto::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotate_output_gives_totals_and_the_engine_share() {
        let text = "\
--------------------------------------------------------------------------------
27,417,277 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
 4,269,654 (15.57%)  /w/srt-proto/src/endpoint/timers.rs:srt_proto::endpoint::timers::Schedule::refresh [/w/srt-transmit]
 1,000,000 ( 3.00%)  /w/srt-proto/src/endpoint.rs:srt_tools::transmit::LiveSender::offer [/w/srt-transmit]
   868,404 ( 3.17%)  /rustc/x/library/core/src/ptr/mod.rs:srt_proto::buffer::send::SendBuffer::push [/w/srt-transmit]
       500 ( 0.00%)  /rustc/x/library/core/src/ptr/mod.rs:<srt_proto::packet::Packet as core::clone::Clone>::clone [/w/srt-transmit]
 2,544,912 ( 9.28%)  ./string/memmove-vec-unaligned-erms.S:__memcpy_avx_unaligned_erms [/usr/lib/libc.so.6]
 1,080,412 ( 3.94%)  /w/srt-mio/src/driver.rs:srt_mio::driver::Driver::flush [/w/srt-transmit]
";
        let count = parse_annotate(text).expect("totals");
        assert_eq!(count.total, 27_417_277);
        assert_eq!(count.engine, 4_269_654 + 1_000_000 + 868_404 + 500);
        assert_eq!(parse_annotate("nothing here"), None);
    }

    #[test]
    fn the_dump_is_the_profile_name_with_one() {
        assert_eq!(
            dump_path(Path::new("/tmp/x/snd.cg")),
            PathBuf::from("/tmp/x/snd.cg.1")
        );
    }
}
