//! What `GET /metrics` reports, in Prometheus' text format (OpenMetrics): counters the
//! program moves as it works, gauges read at each scrape, and the process's own figures.
//! Labels carry names and outcomes only, never an id, a person or a secret.

use crate::store::CacheReads;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InteractionLabels {
    pub command: String,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SwitchLabels {
    pub backend: &'static str,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Every metric; shared (`Arc`) by the parts that move them.
pub struct Metrics {
    registry: Registry,
    interactions: Family<InteractionLabels, Counter>,
    interaction_seconds: Histogram,
    switches: Family<SwitchLabels, Counter>,
    connections: Family<StateLabels, Gauge>,
    reminders_sent: Family<KindLabels, Counter>,
    reminder_lag: Gauge<f64, AtomicU64>,
    celigo_requests: Family<StatusLabels, Counter>,
    token_refresh: Family<OutcomeLabels, Counter>,
}

/// Without a store's cache to report (a command-line sync, benchmarks).
impl Default for Metrics {
    fn default() -> Self {
        Self::new(Arc::default())
    }
}

impl Metrics {
    /// `cache_reads`: the store's, reported as `cutover_cached_reads_total`.
    pub fn new(cache_reads: Arc<CacheReads>) -> Self {
        let mut registry = Registry::default();
        let interactions = Family::<InteractionLabels, Counter>::default();
        registry.register(
            "cutover_interactions",
            "Chat requests answered, by command and outcome",
            interactions.clone(),
        );
        // 1 ms to about 8 s: a fixed answer to a deferred integrator.io call.
        let interaction_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register(
            "cutover_interaction_seconds",
            "Time the chat core took to answer a request",
            interaction_seconds.clone(),
        );
        let switches = Family::<SwitchLabels, Counter>::default();
        registry.register(
            "cutover_switch",
            "Switch attempts that ended, by backend and outcome",
            switches.clone(),
        );
        let connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "cutover_connections",
            "Zoom connections in the inventory, by state",
            connections.clone(),
        );
        let reminders_sent = Family::<KindLabels, Counter>::default();
        registry.register(
            "cutover_reminders_sent",
            "Reminder posts sent, by kind",
            reminders_sent.clone(),
        );
        let reminder_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "cutover_reminder_lag_seconds",
            "Seconds since the reminders scheduler last finished a round",
            reminder_lag.clone(),
        );
        let celigo_requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "cutover_celigo_requests",
            "Requests to integrator.io, by HTTP status (or error)",
            celigo_requests.clone(),
        );
        let token_refresh = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "cutover_token_refresh",
            "Zoom token refreshes, by outcome",
            token_refresh.clone(),
        );
        registry.register_collector(Box::new(ProcessMetrics));
        registry.register_collector(Box::new(CachedReads(cache_reads)));
        Self {
            registry,
            interactions,
            interaction_seconds,
            switches,
            connections,
            reminders_sent,
            reminder_lag,
            celigo_requests,
            token_refresh,
        }
    }

    pub fn interaction(&self, command: String, outcome: &'static str, took: Duration) {
        self.interactions
            .get_or_create(&InteractionLabels { command, outcome })
            .inc();
        self.interaction_seconds.observe(took.as_secs_f64());
    }

    pub fn switch_ended(&self, backend: &'static str, outcome: &'static str) {
        self.switches
            .get_or_create(&SwitchLabels { backend, outcome })
            .inc();
    }

    pub fn reminder_sent(&self, kind: &'static str) {
        self.reminders_sent
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// `status`: the HTTP status code, or `error` when no answer came.
    pub fn celigo_request(&self, status: Option<u16>) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        self.celigo_requests
            .get_or_create(&StatusLabels { status })
            .inc();
    }

    pub fn token_refreshed(&self, outcome: &'static str) {
        self.token_refresh
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The text a scrape gets, with the gauges read just before.
    pub fn render(
        &self,
        connections: &[(&'static str, i64)],
        reminder_lag_seconds: Option<i64>,
    ) -> String {
        for (state, count) in connections {
            self.connections
                .get_or_create(&StateLabels { state })
                .set(*count);
        }
        // No round yet: no lag to report, so 0 rather than a made-up age.
        self.reminder_lag
            .set(reminder_lag_seconds.unwrap_or(0) as f64);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// `cutover_cached_reads_total{outcome}`: reads answered from the store's cache (`hit`)
/// or from the database (`miss`).
#[derive(Debug)]
struct CachedReads(Arc<CacheReads>);

impl Collector for CachedReads {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let reads = &self.0;
        let mut family = encoder.encode_descriptor(
            "cutover_cached_reads",
            "Reads of deadlines, counts and listing pages, from the cache or the database",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (outcome, count) in [("hit", reads.hits()), ("miss", reads.misses())] {
            let labels = [("outcome", outcome)];
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// The standard process metrics (CPU, memory, files, threads, start time), read from
/// /proc at each scrape; absent where /proc cannot be read.
#[derive(Debug)]
struct ProcessMetrics;

impl Collector for ProcessMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(me) = procfs::process::Process::myself() else {
            return Ok(());
        };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second() as f64;
            let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                cpu.metric_type(),
            )?)?;
            let gauges = [
                (
                    "process_resident_memory_bytes",
                    "Resident memory size in bytes",
                    (stat.rss * procfs::page_size()) as i64,
                ),
                (
                    "process_virtual_memory_bytes",
                    "Virtual memory size in bytes",
                    stat.vsize as i64,
                ),
                (
                    "process_threads",
                    "Number of OS threads in the process",
                    stat.num_threads,
                ),
            ];
            for (name, help, value) in gauges {
                let gauge = ConstGauge::new(value);
                gauge.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    gauge.metric_type(),
                )?)?;
            }
            if let Ok(boot) = procfs::boot_time_secs() {
                let start = ConstGauge::new(boot as f64 + stat.starttime as f64 / ticks);
                start.encode(encoder.encode_descriptor(
                    "process_start_time_seconds",
                    "Start time of the process since the Unix epoch in seconds",
                    None,
                    start.metric_type(),
                )?)?;
            }
        }
        if let Ok(open) = me.fd_count() {
            let gauge = ConstGauge::new(open as i64);
            gauge.encode(encoder.encode_descriptor(
                "process_open_fds",
                "Number of open file descriptors",
                None,
                gauge.metric_type(),
            )?)?;
        }
        if let Ok(limits) = me.limits() {
            if let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit {
                let gauge = ConstGauge::new(max as i64);
                gauge.encode(encoder.encode_descriptor(
                    "process_max_fds",
                    "Maximum number of open file descriptors",
                    None,
                    gauge.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}
