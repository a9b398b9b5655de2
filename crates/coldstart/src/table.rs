//! Summaries over rounds and the Markdown table the harness prints (and `docs/benchmarks.md` keeps).

use crate::process::{FunctionAnswer, Run};
use std::time::Duration;

/// One function's runs, summarised.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The function (or the floor's description).
    pub name: String,
    /// Where its event came from: `events/<name>.json` or "built in".
    pub event: String,
    /// How many processes were measured.
    pub rounds: usize,
    /// Median over rounds of exec to the first poll: the function's own start-up.
    pub init: Duration,
    /// Median over rounds of exec to the first answer: what a request meeting a cold start waits.
    pub cold: Duration,
    /// Median over rounds of the first invocation's time spent waiting on Alma and DynamoDB.
    pub cold_upstream: Duration,
    /// Median over rounds of the calls the first invocation made to Alma and DynamoDB.
    pub cold_upstream_calls: u64,
    /// Median over rounds of (cold - upstream): the start-up and first-request work of the function itself.
    pub cold_own: Duration,
    /// Median warm invocation, event handed to answer posted, over every round's invocations.
    pub warm_p50: Duration,
    /// 99th percentile of the same.
    pub warm_p99: Duration,
    /// Median warm invocation less its time upstream: the function's own work per request.
    pub warm_own_p50: Duration,
    /// The highest `VmHWM` any round reached, in KiB (Lambda bills by memory size).
    pub peak_rss_kib: u64,
    /// The last round's first answer, shown so that a function failing fast cannot pass as fast.
    pub answer: FunctionAnswer,
}

impl Summary {
    /// Medians over the rounds for the one-per-process figures; warm figures pool every round's invocations;
    /// memory is the highest any round reached.
    pub fn of(name: &str, event: &str, runs: &[Run]) -> Option<Summary> {
        let last = runs.last()?;
        let per_run = |f: &dyn Fn(&Run) -> Duration| percentile(runs.iter().map(f).collect(), 50.0);
        let warm: Vec<Duration> = runs.iter().flat_map(|r| r.warm.iter().copied()).collect();
        let warm_own: Vec<Duration> = runs.iter().flat_map(|r| r.warm_own.iter().copied()).collect();
        let mut calls: Vec<u64> = runs.iter().map(|r| r.cold_upstream.calls).collect();
        calls.sort_unstable();
        Some(Summary {
            name: name.to_owned(),
            event: event.to_owned(),
            rounds: runs.len(),
            init: per_run(&|r| r.init),
            cold: per_run(&|r| r.cold),
            cold_upstream: per_run(&|r| r.cold_upstream.time),
            cold_upstream_calls: calls[calls.len() / 2],
            cold_own: per_run(&|r| r.cold.saturating_sub(r.cold_upstream.time)),
            warm_p50: percentile(warm.clone(), 50.0),
            warm_p99: percentile(warm, 99.0),
            warm_own_p50: percentile(warm_own, 50.0),
            peak_rss_kib: runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0),
            answer: last.answer.clone(),
        })
    }
}

/// Nearest-rank percentile (`p` in 0..=100); zero for no samples.
pub fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn ratio(value: Duration, floor: Duration) -> String {
    if floor.is_zero() { "-".to_owned() } else { format!("{:.2}x", value.as_secs_f64() / floor.as_secs_f64()) }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// The table: the floor first, then each function with its ratios to the floor.
pub fn markdown(floor: &Summary, functions: &[Summary]) -> String {
    let mut out = String::from(
        "| function | answer | init ms | init / floor | cold ms | upstream ms (calls) | cold own ms | cold own / floor \
         | warm p50 µs | warm p99 µs | warm own p50 µs | peak RSS MiB | RSS / floor |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for s in std::iter::once(floor).chain(functions) {
        let name = if std::ptr::eq(s, floor) { format!("*floor* ({})", s.name) } else { s.name.clone() };
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {:.2}x |\n",
            s.answer,
            ms(s.init),
            ratio(s.init, floor.init),
            ms(s.cold),
            ms(s.cold_upstream),
            s.cold_upstream_calls,
            ms(s.cold_own),
            ratio(s.cold_own, floor.cold_own),
            us(s.warm_p50),
            us(s.warm_p99),
            us(s.warm_own_p50),
            mib(s.peak_rss_kib),
            s.peak_rss_kib as f64 / floor.peak_rss_kib.max(1) as f64,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(samples.clone(), 50.0), Duration::from_micros(50));
        assert_eq!(percentile(samples.clone(), 99.0), Duration::from_micros(99));
        assert_eq!(percentile(samples, 100.0), Duration::from_micros(100));
        assert_eq!(percentile(vec![Duration::from_millis(3)], 99.0), Duration::from_millis(3));
        assert_eq!(percentile(Vec::new(), 50.0), Duration::ZERO);
    }
}
