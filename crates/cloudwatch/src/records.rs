//! How CloudWatch's metrics are kept, in two namespaces of the store's documents:
//!
//! - `cloudwatch/metrics`, `<account>:<region>:<namespace as a JSON string>:<metric id>` →
//!   [`MetricRecord`]: every metric ever put, for ListMetrics (the namespace is JSON-quoted so
//!   that a namespace filter is an exact key prefix whatever characters it holds);
//! - `cloudwatch/datapoints`, `<account>:<region>:<metric id>:<start second, 12 digits>` →
//!   [`Bucket`]: what was put for the metric in one minute (standard resolution) or one second
//!   (high resolution), per unit, aggregated as CloudWatch aggregates: sample count, sum,
//!   minimum, maximum, and the values themselves (with their counts) for percentiles.
//!
//! The metric id is the SHA-256 of the metric's identity (namespace, name, dimensions sorted
//! by name), hex-encoded: identities are chosen by callers and can be long.
//! Retention is not applied yet: AWS keeps 1-second data 3 hours, 1-minute data 15 days, and
//! coarser aggregates longer.

use std::collections::BTreeMap;

use rampart_service::Env;
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) const METRICS: &str = "cloudwatch/metrics";
pub(crate) const DATAPOINTS: &str = "cloudwatch/datapoints";

/// The most distinct values a bucket keeps for percentiles; beyond it the bucket's
/// percentiles are not answered (as for data put as statistic sets).
const MAX_DISTINCT_VALUES: usize = 10_000;

/// A dimension, as the API names its members.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Dimension {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// What names a metric: its namespace, name and dimensions (sorted by name: their order in a
/// request does not make another metric).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetricIdentity {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) dimensions: Vec<Dimension>,
}

impl MetricIdentity {
    pub(crate) fn new(namespace: &str, name: &str, mut dimensions: Vec<Dimension>) -> Self {
        dimensions.sort();
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions,
        }
    }

    /// The hex SHA-256 of the identity's canonical JSON.
    pub(crate) fn id(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        data_encoding::HEXLOWER.encode(&Sha256::digest(&canonical))
    }
}

/// A metric, as ListMetrics finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetricRecord {
    pub(crate) metric: MetricIdentity,
    /// When data was last put for it (epoch seconds), for `RecentlyActive`.
    pub(crate) last_put: i64,
}

/// The aggregate of one unit's data in one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub(crate) struct Aggregate {
    #[serde(rename = "n")]
    pub(crate) sample_count: f64,
    #[serde(rename = "s")]
    pub(crate) sum: f64,
    #[serde(rename = "lo")]
    pub(crate) minimum: f64,
    #[serde(rename = "hi")]
    pub(crate) maximum: f64,
    /// (value, count), sorted by value; complete only while `exact`.
    #[serde(rename = "v", default)]
    pub(crate) values: Vec<(f64, f64)>,
    /// Whether `values` holds every sample (not so once a statistic set was put, or too many
    /// distinct values).
    #[serde(rename = "x")]
    pub(crate) exact: bool,
}

impl Aggregate {
    fn empty() -> Self {
        Self {
            exact: true,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            ..Self::default()
        }
    }

    /// Adds `count` samples of `value`.
    pub(crate) fn add_value(&mut self, value: f64, count: f64) {
        self.sample_count += count;
        self.sum += value * count;
        self.minimum = self.minimum.min(value);
        self.maximum = self.maximum.max(value);
        if !self.exact {
            return;
        }
        match self.values.binary_search_by(|(v, _)| v.total_cmp(&value)) {
            Ok(at) => {
                if let Some((_, c)) = self.values.get_mut(at) {
                    *c += count;
                }
            }
            Err(_) if self.values.len() >= MAX_DISTINCT_VALUES => {
                self.exact = false;
                self.values = Vec::new();
            }
            Err(at) => self.values.insert(at, (value, count)),
        }
    }

    /// Adds a statistic set: its samples are not known one by one.
    pub(crate) fn add_set(&mut self, count: f64, sum: f64, minimum: f64, maximum: f64) {
        self.sample_count += count;
        self.sum += sum;
        self.minimum = self.minimum.min(minimum);
        self.maximum = self.maximum.max(maximum);
        self.exact = false;
        self.values = Vec::new();
    }

    /// Folds `other` into this aggregate (a longer period from shorter buckets).
    pub(crate) fn merge(&mut self, other: &Aggregate) {
        if other.exact && self.exact {
            for (value, count) in &other.values {
                self.add_value(*value, *count);
            }
            return;
        }
        self.add_set(other.sample_count, other.sum, other.minimum, other.maximum);
    }

    /// The statistic `stat` (`SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`, `pNN`),
    /// if this aggregate can answer it.
    pub(crate) fn statistic(&self, stat: &Statistic) -> Option<f64> {
        if self.sample_count <= 0.0 {
            return None;
        }
        match stat {
            Statistic::SampleCount => Some(self.sample_count),
            Statistic::Sum => Some(self.sum),
            Statistic::Average => Some(self.sum / self.sample_count),
            Statistic::Minimum => Some(self.minimum),
            Statistic::Maximum => Some(self.maximum),
            Statistic::Percentile(p) => self.percentile(*p),
        }
    }

    /// The nearest-rank percentile of the samples.
    fn percentile(&self, p: f64) -> Option<f64> {
        if !self.exact {
            return None;
        }
        let rank = (p / 100.0 * self.sample_count).ceil().max(1.0);
        let mut seen = 0.0;
        for (value, count) in &self.values {
            seen += count;
            if seen >= rank {
                return Some(*value);
            }
        }
        self.values.last().map(|(v, _)| *v)
    }
}

/// A statistic CloudWatch computes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// `pNN` or `pNN.NN`, 0 to 100.
    Percentile(f64),
}

impl Statistic {
    /// One of the five plain statistics, by its API name.
    pub(crate) fn plain(name: &str) -> Option<Self> {
        Some(match name {
            "SampleCount" => Self::SampleCount,
            "Average" => Self::Average,
            "Sum" => Self::Sum,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            _ => return None,
        })
    }

    /// A percentile, `p0` to `p100` with at most two decimals.
    pub(crate) fn percentile(name: &str) -> Option<Self> {
        let number = name.strip_prefix('p')?;
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || fraction.len() > 2 || !digits(whole) {
            return None;
        }
        if !digits(fraction) || (number.contains('.') && fraction.is_empty()) {
            return None;
        }
        let p: f64 = number.parse().ok()?;
        (0.0..=100.0).contains(&p).then_some(Self::Percentile(p))
    }
}

/// One bucket: each unit's aggregate (`None` is the unit when none was given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub(crate) struct Bucket {
    pub(crate) units: BTreeMap<String, Aggregate>,
}

impl Bucket {
    pub(crate) fn unit(&mut self, unit: &str) -> &mut Aggregate {
        self.units
            .entry(unit.to_owned())
            .or_insert_with(Aggregate::empty)
    }
}

fn scope(env: &Env<'_>) -> String {
    format!("{}:{}:", env.caller.account_id, env.region)
}

/// The key prefix of the caller's metrics, of one namespace when given.
pub(crate) fn metrics_prefix(env: &Env<'_>, namespace: Option<&str>) -> String {
    match namespace {
        Some(namespace) => format!("{}{}:", scope(env), quoted(namespace)),
        None => scope(env),
    }
}

fn quoted(namespace: &str) -> String {
    serde_json::to_string(namespace).unwrap_or_default()
}

fn metric_key(env: &Env<'_>, metric: &MetricIdentity, id: &str) -> String {
    format!("{}{id}", metrics_prefix(env, Some(&metric.namespace)))
}

fn datapoint_key(env: &Env<'_>, id: &str, second: i64) -> String {
    format!("{}{id}:{second:012}", scope(env))
}

/// Notes that data was put for `metric` at `now`.
pub(crate) fn touch_metric(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    metric: &MetricIdentity,
    id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let record = MetricRecord {
        metric: metric.clone(),
        last_put: now,
    };
    put_json(tx, METRICS, &metric_key(env, metric, id), &record)
}

pub(crate) fn bucket(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    id: &str,
    second: i64,
) -> Result<Option<Bucket>, StoreError> {
    get_json(tx, DATAPOINTS, &datapoint_key(env, id, second))
}

pub(crate) fn put_bucket(
    env: &Env<'_>,
    tx: &mut (impl WriteTx + ?Sized),
    id: &str,
    second: i64,
    bucket: &Bucket,
) -> Result<(), StoreError> {
    put_json(tx, DATAPOINTS, &datapoint_key(env, id, second), bucket)
}

/// The buckets of metric `id` that start in `[start, end)`, in time order.
pub(crate) fn buckets_between(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    id: &str,
    start: i64,
    end: i64,
) -> Result<Vec<(i64, Bucket)>, StoreError> {
    let prefix = format!("{}{id}:", scope(env));
    let mut after = (start > 0).then(|| datapoint_key(env, id, start - 1));
    let mut out = Vec::new();
    loop {
        let batch = tx.scan(DATAPOINTS, &prefix, after.as_deref(), 1000)?;
        let done = batch.len() < 1000;
        for (key, bytes) in &batch {
            let second: i64 = key
                .rsplit(':')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(i64::MAX);
            if second >= end {
                return Ok(out);
            }
            out.push((second, decode(DATAPOINTS, key, bytes)?));
        }
        match batch.last() {
            Some((key, _)) if !done => after = Some(key.clone()),
            _ => return Ok(out),
        }
    }
}

/// Decodes a document written by this crate.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    ns: &str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Internal(format!("{ns}/{key}: malformed record: {e}")))
}
