//! Data transmission: `srt_send`, `srt_sendmsg`, `srt_sendmsg2`,
//! `srt_recv`, `srt_recvmsg`, `srt_recvmsg2`, `srt_sendfile`,
//! `srt_recvfile`, the statistics `srt_bstats` and `srt_bistats`, and
//! `srt_getsndbuffer`.

use crate::api::groups::{member_to_c, write_group_data};
use crate::api::library::monotonic_us;
use crate::api::msgctrl::srt_msgctrl_default;
use crate::api::sockets::context;
use crate::error::{set_last_error, SrtErrno, SrtError};
use crate::guard::api_call;
use crate::types::{SRTSOCKET, SRT_ERROR, SRT_MSGCTRL, SRT_TRACEBSTATS};
use libc::{c_char, c_int};
use srt_mio::{Context, MsgCtrl, MsgNumber, OptionValue, SockOpt};
use std::ffi::CStr;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The `len` bytes at `buf`; `SRT_EINVPARAM` for a NULL `buf` with a
/// positive length; a length of 0 or less is empty.
///
/// # Safety
/// `buf` is NULL or points to `len` readable bytes.
unsafe fn in_buf<'a>(buf: *const c_char, len: c_int) -> Result<&'a [u8], SrtError> {
    match usize::try_from(len) {
        Ok(0) | Err(_) => Ok(&[]),
        Ok(_) if buf.is_null() => Err(SrtErrno::EINVPARAM.into()),
        // SAFETY: the caller's contract.
        Ok(n) => Ok(unsafe { std::slice::from_raw_parts(buf.cast(), n) }),
    }
}

/// As [`in_buf`], writable.
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes.
unsafe fn out_buf<'a>(buf: *mut c_char, len: c_int) -> Result<&'a mut [u8], SrtError> {
    match usize::try_from(len) {
        Ok(0) | Err(_) => Ok(&mut []),
        Ok(_) if buf.is_null() => Err(SrtErrno::EINVPARAM.into()),
        // SAFETY: the caller's contract.
        Ok(n) => Ok(unsafe { std::slice::from_raw_parts_mut(buf.cast(), n) }),
    }
}

/// An instant of `srt_time_now`'s clock (µs), as an `Instant`.
fn instant_of(us: i64) -> Instant {
    let now = Instant::now();
    let ahead = us - monotonic_us();
    if ahead >= 0 {
        now + Duration::from_micros(ahead as u64)
    } else {
        now.checked_sub(Duration::from_micros(ahead.unsigned_abs()))
            .unwrap_or(now)
    }
}

/// An `Instant` in `srt_time_now`'s clock (µs).
fn us_of(t: Instant) -> i64 {
    let now = Instant::now();
    let base = monotonic_us();
    match t.checked_duration_since(now) {
        Some(ahead) => base + ahead.as_micros() as i64,
        None => base - now.duration_since(t).as_micros() as i64,
    }
}

/// Sends `data` with libsrt's message controls and writes back into `m`
/// what libsrt's `sendmsg2` does: the source time, the first packet's
/// sequence number and the message number (untouched if nothing was
/// queued). A forced `msgno` other than -1 must be 1 ..= 2²⁶−1
/// (`SRT_EINVPARAM`).
fn send(u: SRTSOCKET, data: &[u8], m: &mut SRT_MSGCTRL) -> Result<c_int, SrtError> {
    let msgno = match m.msgno {
        -1 => None,
        n => Some(
            u32::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .and_then(MsgNumber::new)
                .ok_or_else(|| SrtError::new(SrtErrno::EINVPARAM))?,
        ),
    };
    let ctrl = MsgCtrl {
        srctime: (m.srctime != 0).then(|| instant_of(m.srctime)),
        ttl: u64::try_from(m.msgttl).ok().map(Duration::from_millis),
        in_order: m.inorder != 0,
        msgno,
    };
    let ctx = context()?;
    let sent = ctx.sendmsg(u, data, &ctrl)?;
    if let (Some(seq), Some(msgno)) = (sent.first_seq, sent.msgno) {
        m.srctime = us_of(sent.origin);
        m.pktseq = seq.as_u32() as i32;
        m.msgno = msgno.as_u32() as i32;
    }
    if srt_mio::group::is_group(u) {
        // As libsrt's group send: the members if the array holds them
        // all (else `grpdata` becomes NULL), and their count.
        // (Without an array, only the count: nothing allocated per message.)
        let count = ctx.group_size(u).unwrap_or(0);
        if m.grpdata_size < count {
            m.grpdata = std::ptr::null_mut();
        }
        if !m.grpdata.is_null() {
            let members = ctx.group_data(u).unwrap_or_default();
            for (i, d) in members.iter().take(m.grpdata_size).enumerate() {
                // SAFETY: the caller's array holds `grpdata_size` elements (at most that many written).
                unsafe { m.grpdata.add(i).write(member_to_c(d)) };
            }
        }
        m.grpdata_size = count;
    }
    Ok(sent.len as c_int)
}

/// Receives into `buf` and fills `m` as libsrt's `recvmsg2`: source time,
/// first packet's sequence number, message number.
fn recv(u: SRTSOCKET, buf: &mut [u8], m: &mut SRT_MSGCTRL) -> Result<c_int, SrtError> {
    let ctx = context()?;
    let info = ctx.recvmsg(u, buf)?;
    if info.len > 0 {
        m.srctime = info.origin.map_or(0, us_of);
        m.pktseq = info.seq.as_u32() as i32;
        m.msgno = info.msgno.as_u32() as i32;
    }
    if srt_mio::group::is_group(u) {
        // As libsrt's `fillGroupData`: no array, no data (size 0); an
        // array too small is NULL with the member count (and the error
        // `srt_group_data` would give is left as the last error).
        let (grpdata, mut size) = (m.grpdata, m.grpdata_size);
        m.grpdata = std::ptr::null_mut();
        m.grpdata_size = 0;
        if !grpdata.is_null() {
            let members = ctx.group_data(u).unwrap_or_default();
            // SAFETY: the caller's array holds `grpdata_size` elements.
            let filled = unsafe { write_group_data(&members, grpdata, &mut size) };
            m.grpdata_size = size;
            match filled {
                Ok(_) => m.grpdata = grpdata,
                Err(e) => set_last_error(e),
            }
        }
    }
    Ok(info.len as c_int)
}

/// `srt_send`: sends one message (message API) or bytes (stream API);
/// returns the length sent.
///
/// # Safety
/// `buf` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_send(u: SRTSOCKET, buf: *const c_char, len: c_int) -> c_int {
    api_call(SRT_ERROR, || {
        let mut m = srt_msgctrl_default.0;
        // SAFETY: the caller's contract.
        send(u, unsafe { in_buf(buf, len) }?, &mut m)
    })
}

/// `srt_sendmsg`: sends one message with a time-to-live in ms (-1: none)
/// and in-order delivery.
///
/// # Safety
/// As [`srt_send`].
#[no_mangle]
pub unsafe extern "C" fn srt_sendmsg(
    u: SRTSOCKET,
    buf: *const c_char,
    len: c_int,
    ttl: c_int,
    inorder: c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        let mut m = SRT_MSGCTRL {
            msgttl: ttl,
            inorder: c_int::from(inorder != 0),
            ..srt_msgctrl_default.0
        };
        // SAFETY: the caller's contract.
        send(u, unsafe { in_buf(buf, len) }?, &mut m)
    })
}

/// `srt_sendmsg2`: sends with the controls of `*mctrl` (NULL: defaults)
/// and writes back the source time, the first packet's sequence number
/// and the message number, as libsrt.
///
/// # Safety
/// As [`srt_send`]; `mctrl` is NULL or a valid `SRT_MSGCTRL`.
#[no_mangle]
pub unsafe extern "C" fn srt_sendmsg2(
    u: SRTSOCKET,
    buf: *const c_char,
    len: c_int,
    mctrl: *mut SRT_MSGCTRL,
) -> c_int {
    api_call(SRT_ERROR, || {
        let mut default = srt_msgctrl_default.0;
        // SAFETY: the caller passes NULL or a valid, writable SRT_MSGCTRL.
        let m = unsafe { mctrl.as_mut() }.unwrap_or(&mut default);
        // SAFETY: the caller's contract.
        send(u, unsafe { in_buf(buf, len) }?, m)
    })
}

/// `srt_recv`: receives one message or the bytes available; returns the
/// length.
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn srt_recv(u: SRTSOCKET, buf: *mut c_char, len: c_int) -> c_int {
    let mut m = srt_msgctrl_default.0;
    api_call(SRT_ERROR, || {
        // SAFETY: the caller's contract.
        recv(u, unsafe { out_buf(buf, len) }?, &mut m)
    })
}

/// `srt_recvmsg`: as [`srt_recv`].
///
/// # Safety
/// As [`srt_recv`].
#[no_mangle]
pub unsafe extern "C" fn srt_recvmsg(u: SRTSOCKET, buf: *mut c_char, len: c_int) -> c_int {
    // SAFETY: the caller's contract is srt_recv's.
    unsafe { srt_recv(u, buf, len) }
}

/// `srt_recvmsg2`: receives and fills `*mctrl` (if not NULL) with the
/// message's source time, first sequence number and message number.
///
/// # Safety
/// As [`srt_recv`]; `mctrl` is NULL or a valid `SRT_MSGCTRL`.
#[no_mangle]
pub unsafe extern "C" fn srt_recvmsg2(
    u: SRTSOCKET,
    buf: *mut c_char,
    len: c_int,
    mctrl: *mut SRT_MSGCTRL,
) -> c_int {
    api_call(SRT_ERROR, || {
        let mut ignored = srt_msgctrl_default.0;
        // SAFETY: the caller passes NULL or a valid SRT_MSGCTRL.
        let m = unsafe { mctrl.as_mut() }.unwrap_or(&mut ignored);
        // SAFETY: the caller's contract.
        recv(u, unsafe { out_buf(buf, len) }?, m)
    })
}

/// The block size libsrt's file calls use when given 0 or less.
const FILE_BLOCK: usize = 364_000;

/// Checks that `u` may use the file API: a connected socket in file
/// mode with the stream API (`SRT_EINVALBUFFERAPI` otherwise).
fn check_file_api(ctx: &Context, u: SRTSOCKET) -> Result<(), SrtError> {
    let live = ctx.get_option(u, SockOpt::Congestion)? == OptionValue::Str(b"live".to_vec());
    let msgapi = ctx.get_option(u, SockOpt::MessageApi)? == OptionValue::Bool(true);
    match ctx.state(u) {
        srt_mio::SockStatus::Connected if live || msgapi => Err(SrtErrno::EINVALBUFFERAPI.into()),
        srt_mio::SockStatus::Connected => Ok(()),
        srt_mio::SockStatus::Broken => Err(SrtErrno::ECONNLOST.into()),
        _ => Err(SrtErrno::ENOCONN.into()),
    }
}

/// Sends, waiting for room even on a non-blocking socket (libsrt's
/// `sendfile` blocks).
fn send_all(ctx: &Context, u: SRTSOCKET, mut data: &[u8]) -> Result<(), SrtError> {
    while !data.is_empty() {
        match ctx.send(u, data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.code() == SrtErrno::EASYNCSND.0 => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The path of a file call (`SRT_EINVPARAM` if NULL).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
unsafe fn path_of<'a>(path: *const c_char) -> Result<&'a Path, SrtError> {
    if path.is_null() {
        return Err(SrtErrno::EINVPARAM.into());
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    Ok(Path::new(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes),
    ))
}

/// How a file call opens its file, and its errors for a failed open and seek.
type FileOpen = (fn(&Path) -> std::io::Result<File>, SrtErrno, SrtErrno);

/// What both file calls share: the checks of `path` and `offset`, the
/// file (`open`, `SRT_EINVPARAM` for NULLs, `open_error` if it cannot be
/// opened), the socket's file API check, the seek to `*offset`
/// (`seek_error`) and a buffer of `block` bytes; `transfer` moves the
/// data from there, advancing the offset it is given.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `offset` NULL or valid.
unsafe fn file_call(
    u: SRTSOCKET,
    path: *const c_char,
    offset: *mut i64,
    block: c_int,
    (open, open_error, seek_error): FileOpen,
    transfer: impl FnOnce(&Context, &mut File, &mut [u8], &mut dyn FnMut(i64)) -> Result<i64, SrtError>,
) -> i64 {
    api_call(i64::from(SRT_ERROR), || {
        if offset.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        // SAFETY: the caller's contract.
        let path = unsafe { path_of(path) }?;
        let mut file = open(path).map_err(|_| SrtError::new(open_error))?;
        let ctx = context()?;
        check_file_api(&ctx, u)?;
        // SAFETY: `offset` is valid (checked not NULL).
        let start = unsafe { offset.read() };
        let start_u = u64::try_from(start).map_err(|_| SrtError::new(seek_error))?;
        file.seek(SeekFrom::Start(start_u))
            .map_err(|_| SrtError::new(seek_error))?;
        let block = usize::try_from(block)
            .ok()
            .filter(|&b| b > 0)
            .unwrap_or(FILE_BLOCK);
        let mut buf = vec![0u8; block];
        // SAFETY: `offset` is valid (checked not NULL).
        let mut advance = |done: i64| unsafe { offset.write(start + done) };
        transfer(&ctx, &mut file, &mut buf, &mut advance)
    })
}

/// `srt_sendfile`: sends `size` bytes (-1: to the end) of the file at
/// `path` from `*offset` in blocks of `block` bytes, advancing `*offset`;
/// returns the bytes sent. NULL `path` or `offset` is `SRT_EINVPARAM`, a
/// file that cannot be opened `SRT_ERDPERM`, a bad offset
/// `SRT_EINVRDOFF`; a size of 0 sends nothing.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `offset` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn srt_sendfile(
    u: SRTSOCKET,
    path: *const c_char,
    offset: *mut i64,
    size: i64,
    block: c_int,
) -> i64 {
    let how: FileOpen = (|p| File::open(p), SrtErrno::ERDPERM, SrtErrno::EINVRDOFF);
    // SAFETY: the caller's contract.
    unsafe {
        file_call(u, path, offset, block, how, |ctx, file, buf, advance| {
            if size <= 0 && size != -1 {
                return Ok(0);
            }
            let pos = file
                .stream_position()
                .map_err(|_| SrtError::new(SrtErrno::EINVRDOFF))?;
            let len = file
                .metadata()
                .map_err(|_| SrtError::new(SrtErrno::EINVRDOFF))?
                .len();
            if size == -1 && pos > len {
                // libsrt: an offset past the end of the file.
                return Err(SrtErrno::EINVRDOFF.into());
            }
            let mut left = if size == -1 {
                len.saturating_sub(pos)
            } else {
                size as u64
            };
            let mut sent = 0i64;
            while left > 0 {
                let want = left.min(buf.len() as u64) as usize;
                let n = file
                    .read(&mut buf[..want])
                    .map_err(|_| SrtError::new(SrtErrno::ERDPERM))?;
                if n == 0 {
                    break;
                }
                send_all(ctx, u, &buf[..n])?;
                sent += n as i64;
                left -= n as u64;
                advance(sent);
            }
            Ok(sent)
        })
    }
}

/// `srt_recvfile`: receives `size` bytes into the file at `path`
/// (created or truncated) from `*offset`, advancing `*offset`; returns the
/// bytes received. NULL `path` or `offset` is `SRT_EINVPARAM`, a file that
/// cannot be created `SRT_EINVRDOFF` (libsrt's code for it).
///
/// # Safety
/// As [`srt_sendfile`].
#[no_mangle]
pub unsafe extern "C" fn srt_recvfile(
    u: SRTSOCKET,
    path: *const c_char,
    offset: *mut i64,
    size: i64,
    block: c_int,
) -> i64 {
    // libsrt reports a file it cannot create as MJ_FILESYSTEM with
    // MN_WRAVAIL, which is minor 1: SRT_EINVRDOFF.
    let how: FileOpen = (
        |p| File::create(p),
        SrtErrno::EINVRDOFF,
        SrtErrno::EINVWROFF,
    );
    // SAFETY: the caller's contract.
    unsafe {
        file_call(u, path, offset, block, how, |ctx, file, buf, advance| {
            let mut got = 0i64;
            while got < size {
                let want = ((size - got) as u64).min(buf.len() as u64) as usize;
                let n = match ctx.recv(u, &mut buf[..want]) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.code() == SrtErrno::EASYNCRCV.0 => {
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                file.write_all(&buf[..n])
                    .map_err(|_| SrtError::new(SrtErrno::EWRPERM))?;
                got += n as i64;
                advance(got);
            }
            Ok(got)
        })
    }
}

/// `srt_getsndbuffer`: what the send buffer holds: packets to `*blocks`
/// and payload bytes to `*bytes` (each if not NULL); returns the time
/// span of the buffered data in ms. -1 without setting an error for an
/// unknown socket or one with no connection (no send buffer), as libsrt.
///
/// # Safety
/// `blocks` and `bytes` are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn srt_getsndbuffer(
    u: SRTSOCKET,
    blocks: *mut libc::size_t,
    bytes: *mut libc::size_t,
) -> c_int {
    crate::guard::api_call_infallible(-1, || {
        // libsrt's getCurrBufSize: the current values, not the averages.
        let Ok(stats) = context().and_then(|ctx| Ok(ctx.stats_instant(u, false, true)?)) else {
            return -1;
        };
        let packets = stats.pkt_snd_buf.max(0);
        // byteSndBuf counts each packet's 44 header bytes too.
        let payload = i64::from(stats.byte_snd_buf) - 44 * i64::from(packets);
        // SAFETY: the caller passes NULL or valid pointers.
        unsafe {
            if let Some(b) = blocks.as_mut() {
                *b = packets as usize;
            }
            if let Some(b) = bytes.as_mut() {
                *b = payload.max(0) as usize;
            }
        }
        stats.ms_snd_buf.abs()
    })
}

/// `srt_bstats`: the socket's statistics; `clear` starts a new interval.
///
/// # Safety
/// `perf` is NULL or points to a writable `SRT_TRACEBSTATS`.
#[no_mangle]
pub unsafe extern "C" fn srt_bstats(
    u: SRTSOCKET,
    perf: *mut SRT_TRACEBSTATS,
    clear: c_int,
) -> c_int {
    // SAFETY: the caller's contract is srt_bistats'.
    unsafe { srt_bistats(u, perf, clear, 0) }
}

/// `srt_bistats`: as [`srt_bstats`]; with `instantaneous` non-zero the
/// buffer fields (`pktSndBuf`, `byteSndBuf`, `msSndBuf` and the receive
/// side's) are the current values, otherwise their moving averages, as
/// libsrt. A NULL `perf` is `SRT_EINVPARAM`.
///
/// # Safety
/// As [`srt_bstats`].
#[no_mangle]
pub unsafe extern "C" fn srt_bistats(
    u: SRTSOCKET,
    perf: *mut SRT_TRACEBSTATS,
    clear: c_int,
    instantaneous: c_int,
) -> c_int {
    api_call(SRT_ERROR, || {
        if perf.is_null() {
            return Err(SrtErrno::EINVPARAM.into());
        }
        let stats = context()?.stats_instant(u, clear != 0, instantaneous != 0)?;
        // SAFETY: `perf` is a writable SRT_TRACEBSTATS (checked not NULL).
        unsafe { perf.write(SRT_TRACEBSTATS::from(&stats)) };
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sockets::srt_create_socket;

    /// `srt_bistats(.., instantaneous = 1)` reports what the receive buffer
    /// holds exactly; `srt_bstats` its moving average, which never runs
    /// ahead of a buffer being filled.
    #[test]
    fn bistats_passes_instantaneous_through() {
        let (l, c) = (srt_create_socket(), srt_create_socket());
        let ctx = context().unwrap();
        // Nothing is delivered for 5 s and nothing is read.
        let latency = OptionValue::Int(5000);
        ctx.set_option(l, SockOpt::Latency, latency).unwrap();
        ctx.bind(l, "127.0.0.1:0".parse().unwrap()).unwrap();
        ctx.listen(l, 4).unwrap();
        ctx.connect(c, ctx.local_addr(l).unwrap()).unwrap();
        let (a, _) = ctx.accept(l).unwrap();
        let mut bytes = 0;
        for i in 0..20 {
            let msg = vec![i as u8; 100 + i];
            ctx.sendmsg(c, &msg, &MsgCtrl::default()).unwrap();
            bytes += msg.len() as i32;
        }
        let bistats = |instantaneous| {
            let mut perf = SRT_TRACEBSTATS::default();
            // SAFETY: `perf` is a writable SRT_TRACEBSTATS.
            assert_eq!(unsafe { srt_bistats(a, &mut perf, 0, instantaneous) }, 0);
            perf
        };
        let start = Instant::now();
        while bistats(1).pkt_rcv_buf < 20 {
            assert!(start.elapsed() < Duration::from_secs(3), "not received");
            std::thread::sleep(Duration::from_millis(1));
        }
        let (now, avg) = (bistats(1), bistats(0));
        assert_eq!((now.pkt_rcv_buf, now.byte_rcv_buf), (20, bytes));
        assert!(now.ms_rcv_buf >= 1);
        assert!(avg.pkt_rcv_buf <= 20 && avg.byte_rcv_buf <= bytes);
        let mut perf = SRT_TRACEBSTATS::default();
        // SAFETY: as above.
        assert_eq!(unsafe { srt_bstats(a, &mut perf, 0) }, 0);
        assert!(perf.pkt_rcv_buf <= 20);
        for u in [a, c, l] {
            ctx.close(u).unwrap();
        }
    }
}
