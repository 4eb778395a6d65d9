#!/usr/bin/env bash
# Re-record every SRT test vector in testvectors/data from scratch.
#
# Needs root (capture on lo), srt-tools 1.5.1 (srt-live-transmit,
# srt-file-transmit), tshark/dumpcap and python3. Only 127.0.0.1 is used.
# Usage: testvectors/record.sh [scenario ...]   (default: all scenarios)
# KEEP_WORK=1 keeps the raw captures and tool logs in /tmp/srt-testvectors.*
# See testvectors/README.md for what each scenario contains.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="$HERE/data"
SCRIPTS="$HERE/scripts"
WORK="$(mktemp -d /tmp/srt-testvectors.XXXXXX)"
PASS="0123456789abcdef"
SID='#!::r=abcde,m=publish'
mkdir -p "$DATA"

PIDS=()
CAP_PID=""

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
    local p
    for p in "${PIDS[@]}" $CAP_PID; do
        kill -INT "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# bg NAME CMD...: start a background process, logging to $WORK/NAME.log.
bg() {
    local name="$1"
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    PIDS+=("$!")
    LAST_PID=$!
}

# stop PID...: SIGINT (srt-live-transmit then sends SHUTDOWN), wait for exit.
stop() {
    local p i
    for p in "$@"; do
        kill -INT "$p" 2>/dev/null || true
        for i in $(seq 1 30); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}

# cap_start NAME "PORT..." : capture UDP on lo for these ports (raw, pcap).
cap_start() {
    local name="$1" ports="$2" filter="" p i
    for p in $ports; do
        filter="${filter:+$filter or }udp port $p"
    done
    dumpcap -q -i lo -f "$filter" -P -w "$WORK/$name.raw.pcap" 2>"$WORK/$name.dumpcap.log" &
    CAP_PID=$!
    for i in $(seq 1 50); do
        grep -q "Capturing on" "$WORK/$name.dumpcap.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.3
}

cap_stop() {
    sleep 0.3
    kill -TERM "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    CAP_PID=""
}

# finish NAME PORTS [postfilter options]: reduce the raw capture and store it.
finish() {
    local name="$1" ports="$2"
    shift 2
    python3 "$SCRIPTS/postfilter.py" "$WORK/$name.raw.pcap" "$DATA/$name" "$ports" "$@"
}

SENDER="$SCRIPTS/sender.py"
LISTEN_OPTS="-q -a no -t 30"

# ---------------------------------------------------------------- scenarios

# Live caller -> listener, no encryption, stream ID; bursts (light ACKs),
# a 1.5 s idle period (KEEPALIVE), SHUTDOWN from the caller at the end.
rec_live_plain() {
    local n=live_plain port=9000 in=5000
    log "$n"
    cap_start $n $port
    bg $n-listener srt-live-transmit $LISTEN_OPTS "srt://127.0.0.1:$port?mode=listener" file://con
    local l=$LAST_PID
    sleep 0.3
    bg $n-caller srt-live-transmit $LISTEN_OPTS "udp://127.0.0.1:$in?rcvbuf=4194304" \
        "srt://127.0.0.1:$port?streamid=$SID"
    local c=$LAST_PID
    sleep 0.5
    python3 "$SENDER" $in 400 100 50 200 1500
    sleep 0.5
    stop $c
    sleep 0.3
    stop $l
    cap_stop
    python3 "$SCRIPTS/checkstream.py" "$WORK/$n-listener.out" 400
    finish $n $port --head 20
}

# Live, AES (pbkeylen 16 or 32), passphrase on both sides.
rec_live_aes() {
    local bits=$1 keylen=$(($1 / 8)) port=$2 in=$3
    local n=live_aes$bits
    log "$n"
    cap_start $n $port
    bg $n-listener srt-live-transmit $LISTEN_OPTS \
        "srt://127.0.0.1:$port?mode=listener&passphrase=$PASS&pbkeylen=$keylen" file://con
    local l=$LAST_PID
    sleep 0.3
    bg $n-caller srt-live-transmit $LISTEN_OPTS "udp://127.0.0.1:$in?rcvbuf=4194304" \
        "srt://127.0.0.1:$port?passphrase=$PASS&pbkeylen=$keylen"
    local c=$LAST_PID
    sleep 0.5
    python3 "$SENDER" $in 100 20 20
    sleep 0.5
    stop $c
    sleep 0.3
    stop $l
    cap_stop
    python3 "$SCRIPTS/checkstream.py" "$WORK/$n-listener.out" 100
    finish $n $port --head 20
}

# Key refresh: new key announced with EXT KMREQ (KK=3), data switches even->odd.
rec_live_keyrefresh() {
    local n=live_keyrefresh port=9030 in=5030
    local km="passphrase=$PASS&pbkeylen=16&kmrefreshrate=2000&kmpreannounce=500"
    log "$n"
    cap_start $n $port
    bg $n-listener srt-live-transmit $LISTEN_OPTS "srt://127.0.0.1:$port?mode=listener&$km" file://con
    local l=$LAST_PID
    sleep 0.3
    bg $n-caller srt-live-transmit $LISTEN_OPTS "udp://127.0.0.1:$in?rcvbuf=4194304" \
        "srt://127.0.0.1:$port?$km"
    local c=$LAST_PID
    sleep 0.5
    python3 "$SENDER" $in 2600 50 10
    sleep 0.5
    stop $c
    sleep 0.3
    stop $l
    cap_stop
    python3 "$SCRIPTS/checkstream.py" "$WORK/$n-listener.out" 2600
    finish $n $port --head 5 --kk-switch 3
}

# Rendezvous, both sides on 127.0.0.1 (ports 9040 and 9041); optional passphrase.
rec_rendezvous() {
    local n=$1 extra=$2 a=$3 b=$4 in=$5
    log "$n"
    cap_start $n "$a $b"
    bg $n-b srt-live-transmit $LISTEN_OPTS \
        "srt://127.0.0.1:$a?mode=rendezvous&adapter=127.0.0.1&port=$b$extra" file://con
    local pb=$LAST_PID
    bg $n-a srt-live-transmit $LISTEN_OPTS "udp://127.0.0.1:$in?rcvbuf=4194304" \
        "srt://127.0.0.1:$b?mode=rendezvous&adapter=127.0.0.1&port=$a$extra"
    local pa=$LAST_PID
    sleep 1
    python3 "$SENDER" $in 50 10 20
    sleep 0.5
    stop $pa
    sleep 0.3
    stop $pb
    cap_stop
    python3 "$SCRIPTS/checkstream.py" "$WORK/$n-b.out" 50
    finish $n "$a,$b" --head 20
}

# File transfer with srt-file-transmit (transtype=file).
rec_file() {
    local n=$1 port=$2 extra=$3 chunk=$4
    log "$n"
    mkdir -p "$WORK/$n-in" "$WORK/$n-out"
    python3 "$SCRIPTS/mkfile.py" "$WORK/$n-in/vector.bin" 100000
    cap_start $n $port
    bg $n-listener srt-file-transmit -q -c "$chunk" "srt://127.0.0.1:$port?mode=listener$extra" \
        "file://$WORK/$n-out/out.bin"
    local l=$LAST_PID
    sleep 0.3
    bg $n-caller srt-file-transmit -q -c "$chunk" "file://$WORK/$n-in/vector.bin" \
        "srt://127.0.0.1:$port?${extra#&}"
    local c=$LAST_PID
    local i
    for i in $(seq 1 50); do
        kill -0 $c 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.5
    stop $c
    stop $l
    cap_stop
    cmp "$WORK/$n-in/vector.bin" "$WORK/$n-out/vector.bin" || log "WARNING: $n: file differs"
    finish $n $port --head 20 --tail 5
}

# Loss through relay.py (mode nak or dropreq); capture between relay and listener.
rec_lossy() {
    local n=$1 mode=$2 port=$3 relay=$4 in=$5 count=$6
    log "$n"
    cap_start $n $port
    bg $n-listener srt-live-transmit $LISTEN_OPTS "srt://127.0.0.1:$port?mode=listener" file://con
    local l=$LAST_PID
    bg $n-relay python3 "$SCRIPTS/relay.py" $relay $port $mode
    local r=$LAST_PID
    sleep 0.3
    bg $n-caller srt-live-transmit $LISTEN_OPTS "udp://127.0.0.1:$in?rcvbuf=4194304" \
        "srt://127.0.0.1:$relay"
    local c=$LAST_PID
    sleep 0.5
    python3 "$SENDER" $in "$count" 10 5
    sleep 1
    stop $c
    sleep 0.3
    stop $l $r
    cap_stop
    if [ "$mode" = nak ]; then
        python3 "$SCRIPTS/checkstream.py" "$WORK/$n-listener.out" "$count"
        finish $n $port --head 20 --rexmit 10
    else
        finish $n $port --head 20
    fi
}

# A connection attempt the listener rejects.
rec_reject() {
    local n=$1 port=$2 in=$3 lopts=$4 copts=$5
    log "$n"
    cap_start $n $port
    bg $n-listener srt-live-transmit $LISTEN_OPTS "srt://127.0.0.1:$port?mode=listener$lopts" file://con
    local l=$LAST_PID
    sleep 0.3
    bg $n-caller srt-live-transmit -q -a no -t 3 "udp://127.0.0.1:$in" "srt://127.0.0.1:$port?$copts"
    local c=$LAST_PID
    local i
    for i in $(seq 1 40); do
        kill -0 $c 2>/dev/null || break
        sleep 0.1
    done
    stop $c
    stop $l
    cap_stop
    finish $n $port --head 0
}

run() {
    case "$1" in
    live_plain) rec_live_plain ;;
    live_aes128) rec_live_aes 128 9010 5010 ;;
    live_aes256) rec_live_aes 256 9020 5020 ;;
    live_keyrefresh) rec_live_keyrefresh ;;
    rendezvous_plain) rec_rendezvous rendezvous_plain "" 9040 9041 5040 ;;
    rendezvous_aes128) rec_rendezvous rendezvous_aes128 "&passphrase=$PASS&pbkeylen=16" 9042 9043 5042 ;;
    file_stream) rec_file file_stream 9050 "" 1456 ;;
    file_message) rec_file file_message 9055 "&messageapi=1" 4000 ;;
    live_nak) rec_lossy live_nak nak 9060 9061 5060 600 ;;
    live_dropreq) rec_lossy live_dropreq dropreq 9070 9071 5070 600 ;;
    reject_unsecure) rec_reject reject_unsecure 9080 5080 "" "passphrase=$PASS" ;;
    reject_badsecret) rec_reject reject_badsecret 9081 5081 "&passphrase=$PASS" "passphrase=fedcba9876543210" ;;
    reject_transtype) rec_reject reject_transtype 9082 5082 "" "transtype=file" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

ALL="live_plain live_aes128 live_aes256 live_keyrefresh rendezvous_plain rendezvous_aes128
file_stream file_message live_nak live_dropreq reject_unsecure reject_badsecret reject_transtype"
export SCRIPTS
for s in ${@:-$ALL}; do
    run "$s"
done
if python3 -c 'import cryptography' 2>/dev/null; then
    for v in live_aes128 live_aes256 live_keyrefresh rendezvous_aes128; do
        if [ -f "$DATA/$v.json" ]; then
            python3 "$SCRIPTS/decrypt_check.py" "$DATA/$v.json"
        fi
    done
fi
python3 "$SCRIPTS/summary.py"
if [ -n "${KEEP_WORK:-}" ]; then
    log "raw captures and logs kept in $WORK"
else
    rm -rf "$WORK"
fi
du -ch "$DATA"/* | tail -1 >&2
