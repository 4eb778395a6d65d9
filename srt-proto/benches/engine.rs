//! What one packet costs the engine: one connection between a sender and a
//! receiver endpoint in memory (no sockets; datagrams move between them
//! directly, the clock is injected), live mode at SRTO_MAXBW −1 and file
//! mode, without loss, with 1% loss, and with AES-128-CTR and AES-128-GCM
//! (see `common/pair.rs`).
//!
//! Criterion times whole turns (both sides and the harness) in the
//! thread's CPU time, not the wall clock: the machine is shared, and time
//! spent waiting for a core is no cost of the engine. Besides, each case
//! prints the packets per second through the pair on one core (CPU time,
//! harness included) and the nanoseconds per packet on each side (that
//! time split by the wall time of each side's calls, timed per turn), the
//! median of seven runs, and the allocations per packet in steady state
//! (counted over a separate run; 0 expected).

#[path = "common/pair.rs"]
mod pair;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pair::{thread_cpu_time, Case, Losses, Pair};
use std::time::Duration;

/// Turns per criterion iteration (50 ms of simulated time).
const TURNS: usize = 200;

/// Times `ROUNDS` runs of `turns` turns of `pair` in CPU time and prints
/// the figures of the median run: packets per second on one core (harness
/// included), split between the sides by the wall time of each side's
/// calls, timed per turn (turns taking over five times the median, which
/// lost the core to another process, left out), as ns per packet per side,
/// with the losses of that run (not totals since the pair connected).
fn report(pair: &mut Pair, turns: usize) {
    const ROUNDS: usize = 7;
    let mut runs = [(0.0, 0.0, 0, Losses::default()); ROUNDS];
    pair.samples = Vec::with_capacity(turns);
    let mut totals = Vec::with_capacity(turns);
    for run in &mut runs {
        pair.samples.clear();
        let start = pair.packets();
        let losses = pair.losses();
        let cpu = thread_cpu_time();
        for _ in 0..turns {
            pair.turn(true);
        }
        let per_packet = (thread_cpu_time() - cpu).as_nanos() as f64;
        let losses = pair.losses().since(losses);
        let packets = (pair.packets() - start).max(1);
        let per_packet = per_packet / packets as f64;
        totals.clear();
        totals.extend(pair.samples.iter().map(|(s, r)| *s + *r));
        totals.sort_unstable();
        let limit = 5 * totals[totals.len() / 2];
        let (mut snd, mut rcv) = (0.0, 0.0);
        for (s, r) in pair.samples.iter().filter(|(s, r)| *s + *r <= limit) {
            snd += s.as_secs_f64();
            rcv += r.as_secs_f64();
        }
        let share = snd / (snd + rcv);
        *run = (
            per_packet * share,
            per_packet * (1.0 - share),
            packets,
            losses,
        );
    }
    runs.sort_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)));
    let (snd, rcv, packets, losses) = runs[ROUNDS / 2];
    let seconds = (pair.case.tick() * turns as u32).as_secs_f64();
    // Allocations over another run of the same length.
    let before = pair.packets();
    let counts = allocation_counter::measure(|| {
        for _ in 0..turns {
            pair.turn(false);
        }
    });
    let allocs = counts.count_total as f64 / (pair.packets() - before).max(1) as f64;
    println!(
        "engine/{:<16} {:>10.0} pkts/s on one core   sender {:>6.0} ns/pkt   receiver {:>6.0} ns/pkt   {:.3} allocs/pkt   (one run: {} pkts in {seconds} sim-s, link lost {}, receiver lost {} = {:.0}/sim-s, dropped {})",
        pair.case.name,
        1e9 / (snd + rcv),
        snd,
        rcv,
        allocs,
        packets,
        losses.link,
        losses.lost,
        losses.lost as f64 / seconds,
        losses.dropped,
    );
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    for case in Case::ALL {
        if !c_filter_matches(case.name) {
            continue;
        }
        let mut pair = Pair::new(case);
        // Packets per iteration, from a run of the same length.
        let before = pair.packets();
        for _ in 0..TURNS {
            pair.turn(false);
        }
        let per_iter = pair.packets() - before;
        g.throughput(Throughput::Elements(per_iter));
        g.bench_function(case.name, |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu_time();
                for _ in 0..iters {
                    for _ in 0..TURNS {
                        pair.turn(false);
                    }
                }
                thread_cpu_time() - start
            })
        });
        report(&mut pair, 20 * TURNS);
    }
    g.finish();
}

/// Whether the command line's filter (if any) selects `engine/<name>`, so
/// that the side report runs only for the cases criterion runs. The filter
/// is taken as a substring, with `^` and `$` anchors understood.
fn c_filter_matches(name: &str) -> bool {
    /// Criterion's flags that take a value.
    const WITH_VALUE: [&str; 12] = [
        "--profile-time",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--output-format",
        "--color",
        "--plotting-backend",
        "--noise-threshold",
        "--nresamples",
    ];
    let full = format!("engine/{name}");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args.iter().enumerate().find(|(i, a)| {
        !a.starts_with('-') && (*i == 0 || !WITH_VALUE.contains(&args[i - 1].as_str()))
    });
    let Some((_, f)) = filter else {
        return true;
    };
    match (f.strip_prefix('^'), f.strip_suffix('$')) {
        (Some(p), _) if p.ends_with('$') => full == p[..p.len() - 1],
        (Some(p), _) => full.starts_with(p),
        (None, Some(s)) => full.ends_with(s),
        (None, None) => full.contains(f.as_str()),
    }
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, engine);
}
criterion_main!(group::benches);
