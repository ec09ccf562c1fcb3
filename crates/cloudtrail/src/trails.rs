//! Trails: CreateTrail, UpdateTrail, DeleteTrail, GetTrail, DescribeTrails, ListTrails,
//! GetTrailStatus, StartLogging, StopLogging, PutEventSelectors, GetEventSelectors (tags are
//! tags.rs').

use rampart_service::{AwsError, Env, Resource, Value, aws_timestamp};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::encryption::check_key;
use crate::error::CloudTrailError;

/// Where trails are kept: `<account>/<name>`.
pub const TRAILS_NS: &str = "cloudtrail/trails";
/// Where the deliverer keeps each trail's progress: `<account>/<name>`, tagged with the
/// trail's [`TrailRecord::trail_id`] (read and written through [`delivery_state`] and
/// [`save_delivery_state`]).
pub const DELIVERY_NS: &str = "cloudtrail/delivery";

/// AWS's quota: five trails per region per account.
const MAX_TRAILS_PER_REGION: usize = 5;
/// AWS's quota on event selectors per trail.
const MAX_EVENT_SELECTORS: usize = 5;

/// A trail, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailRecord {
    /// The trail's name.
    pub name: String,
    /// The owning account.
    pub account_id: String,
    /// The region the trail was created in.
    pub home_region: String,
    /// The bucket log files go to (a directory standing for it, in Rampart).
    pub s3_bucket_name: String,
    /// The key prefix inside the bucket.
    pub s3_key_prefix: Option<String>,
    /// The SNS topic notified of deliveries (recorded; Rampart has no SNS).
    pub sns_topic_name: Option<String>,
    /// Whether events of global services (IAM, STS) are delivered.
    pub include_global_service_events: bool,
    /// Whether events of every region are delivered.
    pub is_multi_region_trail: bool,
    /// Whether digest files are written.
    pub log_file_validation_enabled: bool,
    /// The CloudWatch Logs group events are delivered to, as given (`…:log-group:<name>:*`).
    pub cloud_watch_logs_log_group_arn: Option<String>,
    /// The role CloudTrail delivers to CloudWatch Logs as, as given.
    pub cloud_watch_logs_role_arn: Option<String>,
    /// The CloudWatch Logs delivery the two above set up, as checked (cloudwatch_logs.rs).
    #[serde(default)]
    pub cloud_watch_logs: Option<crate::cloudwatch_logs::LogsTarget>,
    /// Whether the trail is logging.
    pub is_logging: bool,
    /// When logging last started (Unix seconds).
    pub start_logging_time: Option<i64>,
    /// When logging last stopped (Unix seconds).
    pub stop_logging_time: Option<i64>,
    /// Basic event selectors, as given.
    pub event_selectors: Option<Value>,
    /// Advanced event selectors, as given.
    pub advanced_event_selectors: Option<Value>,
    /// The trail's tags, `{"Key", "Value"}` objects (tags.rs).
    #[serde(default)]
    pub tags: Vec<Value>,
    /// The ARN of the KMS key that encrypts the log files, if any (encryption.rs).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// The Insights the trail asks for (insights.rs); empty when Insights are off.
    #[serde(default)]
    pub insight_selectors: Vec<crate::insights::InsightSelector>,
    /// Which trail of its name this is: random, made by CreateTrail. A trail deleted and made
    /// again has another, so the new one never takes on the old one's delivery state. Empty
    /// for trails made before it was kept.
    #[serde(default)]
    pub trail_id: String,
}

impl TrailRecord {
    /// The trail's ARN.
    pub fn arn(&self) -> String {
        trail_arn(&self.home_region, &self.account_id, &self.name)
    }

    /// The store key of the trail (also of its delivery progress).
    pub fn key(&self) -> String {
        format!("{}/{}", self.account_id, self.name)
    }

    /// Whether the trail delivers `event` (a CloudTrail record): it must be the trail's
    /// account's, in a region the trail covers, and chosen by its event selectors.
    pub fn selects(&self, event: &Value) -> bool {
        let text = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or_default();
        if text("recipientAccountId") != self.account_id {
            return false;
        }
        let global = matches!(
            text("eventSource"),
            "iam.amazonaws.com" | "sts.amazonaws.com"
        ) && text("awsRegion") == "us-east-1";
        let region_ok = if global {
            self.include_global_service_events
        } else {
            self.is_multi_region_trail || text("awsRegion") == self.home_region
        };
        if !region_ok {
            return false;
        }
        let read_only = event
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match (&self.event_selectors, &self.advanced_event_selectors) {
            (Some(Value::Array(selectors)), _) => selectors.iter().any(|selector| {
                let includes = selector
                    .get("IncludeManagementEvents")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                let kind = selector.get("ReadWriteType").and_then(Value::as_str);
                let kind_ok = match kind {
                    Some("ReadOnly") => read_only,
                    Some("WriteOnly") => !read_only,
                    _ => true,
                };
                let excluded = selector
                    .get("ExcludeManagementEventSources")
                    .and_then(Value::as_array)
                    .is_some_and(|sources| {
                        sources
                            .iter()
                            .any(|s| s.as_str() == Some(text("eventSource")))
                    });
                includes && kind_ok && !excluded
            }),
            (_, Some(Value::Array(selectors))) => selectors.iter().any(|selector| {
                let fields = selector
                    .get("FieldSelectors")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                fields
                    .iter()
                    .all(|field| advanced_field_matches(field, event))
            }),
            _ => true,
        }
    }
}

/// One advanced field selector on a management event: `eventCategory`, `readOnly`,
/// `eventSource` and `eventName` with Equals / NotEquals / StartsWith / NotStartsWith.
fn advanced_field_matches(field: &Value, event: &Value) -> bool {
    let name = field
        .get("Field")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let actual = match name {
        "eventCategory" => "Management".to_owned(),
        "readOnly" => event
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string(),
        "eventSource" | "eventName" => event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        // Data-event fields select nothing among management events.
        _ => return false,
    };
    let values = |key: &str| -> Vec<String> {
        field
            .get(key)
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let equals = values("Equals");
    let starts = values("StartsWith");
    let positive_ok = (equals.is_empty() && starts.is_empty())
        || equals.contains(&actual)
        || starts.iter().any(|p| actual.starts_with(p.as_str()));
    let negative_ok = !values("NotEquals").contains(&actual)
        && !values("NotStartsWith")
            .iter()
            .any(|p| actual.starts_with(p.as_str()));
    positive_ok && negative_ok
}

/// A trail's delivery progress, kept by the deliverer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryState {
    /// The [`TrailRecord::trail_id`] of the trail whose progress this is.
    #[serde(default)]
    pub trail_id: String,
    /// The last journal sequence number already delivered (or skipped) for the trail.
    pub position: u64,
    /// A delivery under way: the range it covers, redone identically after a crash.
    pub pending: Option<(u64, u64)>,
    /// When a log file was last delivered (Unix seconds).
    pub latest_delivery_time: Option<i64>,
    /// When a digest file was last delivered (Unix seconds).
    pub latest_digest_time: Option<i64>,
    /// Each region's last digest, which that region's next digest chains to (AWS keeps one
    /// chain per region a trail logs).
    #[serde(default)]
    pub digest_chains: std::collections::BTreeMap<String, DigestLink>,
    /// A digest round under way: its end time (Unix seconds). Set before any digest is
    /// written, so a round cut by a crash is redone with the same time, names and bytes.
    #[serde(default)]
    pub pending_digest: Option<i64>,
    /// When delivery was last attempted (Unix seconds).
    #[serde(default)]
    pub latest_delivery_attempt_time: Option<i64>,
    /// When a delivery attempt last succeeded (Unix seconds).
    #[serde(default)]
    pub latest_delivery_attempt_succeeded: Option<i64>,
    /// Why the last attempt failed, as S3 would say (`KMS.DisabledException`); cleared when
    /// an attempt succeeds.
    #[serde(default)]
    pub latest_delivery_error: Option<String>,
    /// Log files delivered since the last digest: (key, SHA-256 hex, first and last event
    /// times in Unix seconds). Each file's region is in its key.
    #[serde(default)]
    pub undigested: Vec<(String, String, i64, i64)>,
    /// When the current digest period began (Unix seconds).
    pub digest_period_start: Option<i64>,
}

/// A region's last digest: what the next digest of the region names as its previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestLink {
    /// Its object key.
    pub key: String,
    /// Its signature (hex).
    pub signature: String,
    /// SHA-256 (hex) of its uncompressed content.
    pub hash: String,
}

/// `trail`'s delivery progress: the stored one if it is this trail's, else none yet (a state
/// left by a deleted trail of the same name is no one's).
pub fn delivery_state(
    tx: &mut (impl ReadTx + ?Sized),
    trail: &TrailRecord,
) -> Result<DeliveryState, StoreError> {
    let stored: Option<DeliveryState> = get_json(tx, DELIVERY_NS, &trail.key())?;
    Ok(stored
        .filter(|state| state.trail_id == trail.trail_id)
        .unwrap_or_else(|| DeliveryState {
            trail_id: trail.trail_id.clone(),
            ..DeliveryState::default()
        }))
}

/// Stores `state` as `trail`'s delivery progress if `trail` still exists as the same trail
/// (neither deleted nor deleted and made again); whether it did. The deliverer works from a
/// snapshot of the trails: checking in the write's own transaction is what keeps a round
/// that outlives its trail from writing the state back.
pub fn save_delivery_state(
    tx: &mut (impl WriteTx + ?Sized),
    trail: &TrailRecord,
    state: &DeliveryState,
) -> Result<bool, StoreError> {
    let current: Option<TrailRecord> = get_json(tx, TRAILS_NS, &trail.key())?;
    if current.is_none_or(|current| current.trail_id != trail.trail_id) {
        return Ok(false);
    }
    let state = DeliveryState {
        trail_id: trail.trail_id.clone(),
        ..state.clone()
    };
    put_json(tx, DELIVERY_NS, &trail.key(), &state)?;
    Ok(true)
}

/// `arn:aws:cloudtrail:<region>:<account>:trail/<name>`.
pub fn trail_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

/// Every trail of every account (for the deliverer).
pub fn all_trails(tx: &mut dyn ReadTx) -> Result<Vec<TrailRecord>, rampart_store::StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page: Vec<(String, TrailRecord)> = scan_json(tx, TRAILS_NS, "", after.as_deref(), 100)?;
        let Some((last, _)) = page.last() else {
            return Ok(out);
        };
        after = Some(last.clone());
        out.extend(page.into_iter().map(|(_, trail)| trail));
    }
}

fn account_trails(tx: &mut dyn ReadTx, account: &str) -> Result<Vec<TrailRecord>, CloudTrailError> {
    let prefix = format!("{account}/");
    let page: Vec<(String, TrailRecord)> = scan_json(tx, TRAILS_NS, &prefix, None, 1000)?;
    Ok(page.into_iter().map(|(_, trail)| trail).collect())
}

/// Resolves a `Name` / `TrailName` parameter (a name or a trail ARN) to the trail's name in
/// the caller's account.
fn name_of(env: &Env<'_>, name_or_arn: &str) -> Result<String, CloudTrailError> {
    if let Some(rest) = name_or_arn.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let (Some(service), Some(account), Some(resource)) =
            (parts.get(1), parts.get(3), parts.get(4))
        else {
            return Err(invalid_arn(name_or_arn));
        };
        let Some(name) = resource.strip_prefix("trail/") else {
            return Err(invalid_arn(name_or_arn));
        };
        if *service != "cloudtrail" || name.is_empty() {
            return Err(invalid_arn(name_or_arn));
        }
        if *account != env.caller.account_id {
            return Err(not_found(env, name_or_arn));
        }
        return Ok(name.to_owned());
    }
    validate_name(name_or_arn)?;
    Ok(name_or_arn.to_owned())
}

pub(crate) fn invalid_arn(arn: &str) -> CloudTrailError {
    CloudTrailError::ArnInvalid(format!(
        "Invalid trail ARN: {arn}. ARNs must be of the form \
         arn:aws:cloudtrail:<region>:<account>:trail/<trailname>."
    ))
}

fn not_found(env: &Env<'_>, name_or_arn: &str) -> CloudTrailError {
    let arn = if name_or_arn.starts_with("arn:") {
        name_or_arn.to_owned()
    } else {
        trail_arn(env.region, &env.caller.account_id, name_or_arn)
    };
    CloudTrailError::TrailNotFound(format!(
        "Unknown trail: {arn} for the user: {}",
        env.caller.account_id
    ))
}

/// CloudTrail's naming rules for trails.
fn validate_name(name: &str) -> Result<(), CloudTrailError> {
    let invalid = |m: &str| Err(CloudTrailError::InvalidTrailName(m.to_owned()));
    if name.len() < 3 {
        return invalid("Trail name too short. Minimum allowed length: 3 characters.");
    }
    if name.len() > 128 {
        return invalid("Trail name too long. Maximum allowed length: 128 characters.");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return invalid(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, \
             periods (.), hyphens (-), and underscores (_).",
        );
    }
    let first = name.chars().next().unwrap_or('.');
    let last = name.chars().last().unwrap_or('.');
    if !first.is_ascii_alphanumeric() {
        return invalid("Trail name must starts with a letter or number.");
    }
    if !last.is_ascii_alphanumeric() {
        return invalid("Trail name must ends with a letter or number.");
    }
    let bytes = name.as_bytes();
    if bytes
        .windows(2)
        .any(|w| matches!(w, [a, b] if !a.is_ascii_alphanumeric() && !b.is_ascii_alphanumeric()))
    {
        return invalid("Trail name cannot have adjacent periods, underscores or dashes.");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return invalid("Trail name must not be in IP address format.");
    }
    Ok(())
}

/// S3's bucket naming rules.
fn validate_bucket(bucket: &str) -> Result<(), CloudTrailError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(CloudTrailError::InvalidS3BucketName(format!(
            "Bucket name is not valid: {bucket}"
        )))
    }
}

fn validate_prefix(prefix: &str) -> Result<(), CloudTrailError> {
    // The prefix becomes a directory path under the bucket: no escaping it.
    if prefix.len() > 200 || prefix.split('/').any(|part| part == ".." || part == ".") {
        return Err(CloudTrailError::InvalidS3Prefix(format!(
            "Prefix is not valid: {prefix}"
        )));
    }
    Ok(())
}

pub(crate) fn load(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    name_or_arn: &str,
) -> Result<TrailRecord, CloudTrailError> {
    let name = name_of(env, name_or_arn)?;
    get_json(tx, TRAILS_NS, &format!("{}/{name}", env.caller.account_id))?
        .ok_or_else(|| not_found(env, name_or_arn))
}

/// The resources a trail operation names, for the authorize step.
pub(crate) fn trail_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Vec<Resource>, AwsError> {
    let name = input
        .get("Name")
        .or_else(|| input.get("TrailName"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(vec![trail_named(env, tx, name)?])
}

/// The trail `name_or_arn` names, with its tags when it is one of the caller's. A name that
/// is not a trail's is authorized as named; the handler then answers its own error.
pub(crate) fn trail_named(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    name_or_arn: &str,
) -> Result<Resource, AwsError> {
    let arn = if name_or_arn.starts_with("arn:") {
        name_or_arn.to_owned()
    } else {
        trail_arn(env.region, &env.caller.account_id, name_or_arn)
    };
    Ok(match load(env, tx, name_or_arn) {
        Ok(trail) => Resource::named(arn).with_tags(trail.tags.iter().filter_map(|tag| {
            let key = tag.get("Key")?.as_str()?;
            let value = tag.get("Value").and_then(Value::as_str).unwrap_or_default();
            Some((key.to_owned(), value.to_owned()))
        })),
        Err(CloudTrailError::Store(e)) => return Err(CloudTrailError::Store(e).into()),
        Err(_) => Resource::named(arn),
    })
}

/// CreateTrail's and UpdateTrail's input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailInput {
    name: String,
    s3_bucket_name: Option<String>,
    s3_key_prefix: Option<String>,
    sns_topic_name: Option<String>,
    include_global_service_events: Option<bool>,
    is_multi_region_trail: Option<bool>,
    enable_log_file_validation: Option<bool>,
    cloud_watch_logs_log_group_arn: Option<String>,
    cloud_watch_logs_role_arn: Option<String>,
    kms_key_id: Option<String>,
    is_organization_trail: Option<bool>,
    tags_list: Option<Vec<crate::tags::Tag>>,
}

/// CreateTrail's and UpdateTrail's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailOutput {
    name: String,
    #[serde(rename = "S3BucketName")]
    s3_bucket_name: String,
    #[serde(rename = "S3KeyPrefix", skip_serializing_if = "Option::is_none")]
    s3_key_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sns_topic_name: Option<String>,
    #[serde(rename = "SnsTopicARN", skip_serializing_if = "Option::is_none")]
    sns_topic_arn: Option<String>,
    include_global_service_events: bool,
    is_multi_region_trail: bool,
    #[serde(rename = "TrailARN")]
    trail_arn: String,
    log_file_validation_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_watch_logs_log_group_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_watch_logs_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    is_organization_trail: bool,
}

impl TrailOutput {
    fn of(trail: &TrailRecord) -> Self {
        Self {
            name: trail.name.clone(),
            s3_bucket_name: trail.s3_bucket_name.clone(),
            s3_key_prefix: trail.s3_key_prefix.clone(),
            sns_topic_name: trail.sns_topic_name.clone(),
            sns_topic_arn: trail.sns_topic_name.as_ref().map(|topic| {
                format!(
                    "arn:aws:sns:{}:{}:{topic}",
                    trail.home_region, trail.account_id
                )
            }),
            include_global_service_events: trail.include_global_service_events,
            is_multi_region_trail: trail.is_multi_region_trail,
            trail_arn: trail.arn(),
            log_file_validation_enabled: trail.log_file_validation_enabled,
            cloud_watch_logs_log_group_arn: trail.cloud_watch_logs_log_group_arn.clone(),
            cloud_watch_logs_role_arn: trail.cloud_watch_logs_role_arn.clone(),
            kms_key_id: trail.kms_key_id.clone(),
            is_organization_trail: false,
        }
    }
}

fn check_common(input: &TrailInput) -> Result<(), CloudTrailError> {
    if input.is_organization_trail == Some(true) {
        return Err(CloudTrailError::OrganizationsNotInUse(
            "This operation can only be performed by the management account of an \
             organization in AWS Organizations, which Rampart does not serve yet."
                .to_owned(),
        ));
    }
    if let Some(bucket) = &input.s3_bucket_name {
        validate_bucket(bucket)?;
    }
    if let Some(prefix) = &input.s3_key_prefix {
        validate_prefix(prefix)?;
    }
    if input.is_multi_region_trail == Some(true)
        && input.include_global_service_events == Some(false)
    {
        return Err(CloudTrailError::InvalidParameterCombination(
            "Multi-Region trail must include global service events.".to_owned(),
        ));
    }
    Ok(())
}

/// CreateTrail.
pub(crate) fn create_trail(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TrailInput,
) -> Result<TrailOutput, CloudTrailError> {
    validate_name(&input.name)?;
    check_common(&input)?;
    let account = env.caller.account_id.clone();
    let key = format!("{account}/{}", input.name);
    if get_json::<TrailRecord>(tx, TRAILS_NS, &key)?.is_some() {
        return Err(CloudTrailError::TrailAlreadyExists(format!(
            "Trail {} already exists for customer: {account}",
            input.name
        )));
    }
    let in_region = account_trails(tx, &account)?
        .iter()
        .filter(|t| t.home_region == env.region)
        .count();
    if in_region >= MAX_TRAILS_PER_REGION {
        return Err(CloudTrailError::MaximumNumberOfTrailsExceeded(format!(
            "User: {account} already has {MAX_TRAILS_PER_REGION} trails in {}.",
            env.region
        )));
    }
    let mut trail = TrailRecord {
        name: input.name,
        account_id: account,
        home_region: env.region.to_owned(),
        s3_bucket_name: input.s3_bucket_name.unwrap_or_default(),
        s3_key_prefix: input.s3_key_prefix.filter(|p| !p.is_empty()),
        sns_topic_name: input.sns_topic_name.filter(|t| !t.is_empty()),
        include_global_service_events: input.include_global_service_events.unwrap_or(true),
        is_multi_region_trail: input.is_multi_region_trail.unwrap_or(false),
        log_file_validation_enabled: input.enable_log_file_validation.unwrap_or(false),
        cloud_watch_logs_log_group_arn: input
            .cloud_watch_logs_log_group_arn
            .filter(|g| !g.is_empty()),
        cloud_watch_logs_role_arn: input.cloud_watch_logs_role_arn.filter(|r| !r.is_empty()),
        cloud_watch_logs: None,
        // AWS creates trails stopped; StartLogging turns them on.
        is_logging: false,
        start_logging_time: None,
        stop_logging_time: None,
        event_selectors: None,
        advanced_event_selectors: None,
        tags: Vec::new(),
        kms_key_id: None,
        insight_selectors: Vec::new(),
        trail_id: data_encoding::HEXLOWER.encode(&env.random(16)),
    };
    if let Some(tags) = &input.tags_list {
        let tags = crate::tags::with_tags(&[], tags)?;
        crate::tags::store_tags(&mut trail, &tags);
    }
    if let Some(key_id) = input.kms_key_id.filter(|k| !k.is_empty()) {
        trail.kms_key_id = Some(check_key(env, tx, &trail.arn(), &key_id)?);
    }
    trail.cloud_watch_logs = crate::cloudwatch_logs::check(
        env,
        tx,
        &trail,
        trail.cloud_watch_logs_log_group_arn.as_deref(),
        trail.cloud_watch_logs_role_arn.as_deref(),
    )?;
    put_json(tx, TRAILS_NS, &key, &trail)?;
    // A state a deleted trail of this name left (see `save_delivery_state`) is no one's.
    tx.delete(DELIVERY_NS, &key)?;
    tx.delete(crate::cloudwatch_logs::LOGS_DELIVERY_NS, &key)?;
    Ok(TrailOutput::of(&trail))
}

/// UpdateTrail.
pub(crate) fn update_trail(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: TrailInput,
) -> Result<TrailOutput, CloudTrailError> {
    check_common(&input)?;
    let mut trail = load(env, tx, &input.name)?;
    if let Some(bucket) = input.s3_bucket_name {
        trail.s3_bucket_name = bucket;
    }
    if let Some(prefix) = input.s3_key_prefix {
        trail.s3_key_prefix = Some(prefix).filter(|p| !p.is_empty());
    }
    if let Some(topic) = input.sns_topic_name {
        trail.sns_topic_name = Some(topic).filter(|t| !t.is_empty());
    }
    if let Some(global) = input.include_global_service_events {
        trail.include_global_service_events = global;
    }
    if let Some(multi) = input.is_multi_region_trail {
        trail.is_multi_region_trail = multi;
    }
    if trail.is_multi_region_trail && !trail.include_global_service_events {
        return Err(CloudTrailError::InvalidParameterCombination(
            "Multi-Region trail must include global service events.".to_owned(),
        ));
    }
    if let Some(validation) = input.enable_log_file_validation {
        trail.log_file_validation_enabled = validation;
    }
    let logs_changed =
        input.cloud_watch_logs_log_group_arn.is_some() || input.cloud_watch_logs_role_arn.is_some();
    if let Some(group) = input.cloud_watch_logs_log_group_arn {
        trail.cloud_watch_logs_log_group_arn = Some(group).filter(|g| !g.is_empty());
    }
    if let Some(role) = input.cloud_watch_logs_role_arn {
        trail.cloud_watch_logs_role_arn = Some(role).filter(|r| !r.is_empty());
    }
    // Checked again whenever either is given, as CloudTrail checks them; clearing both stops
    // delivery.
    if logs_changed {
        trail.cloud_watch_logs = crate::cloudwatch_logs::check(
            env,
            tx,
            &trail,
            trail.cloud_watch_logs_log_group_arn.as_deref(),
            trail.cloud_watch_logs_role_arn.as_deref(),
        )?;
    }
    // An empty KmsKeyId turns encryption off; files already delivered stay as they are.
    if let Some(key_id) = input.kms_key_id {
        trail.kms_key_id = match key_id.as_str() {
            "" => None,
            key_id => Some(check_key(env, tx, &trail.arn(), key_id)?),
        };
    }
    put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    Ok(TrailOutput::of(&trail))
}

/// An input naming one trail by `Name`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct NameInput {
    name: String,
}

/// An empty output.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// DeleteTrail.
pub(crate) fn delete_trail(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: NameInput,
) -> Result<Empty, CloudTrailError> {
    let trail = load(env, tx, &input.name)?;
    tx.delete(TRAILS_NS, &trail.key())?;
    tx.delete(DELIVERY_NS, &trail.key())?;
    tx.delete(crate::cloudwatch_logs::LOGS_DELIVERY_NS, &trail.key())?;
    Ok(Empty {})
}

/// The `Trail` shape of GetTrail and DescribeTrails.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailShape {
    #[serde(flatten)]
    base: TrailOutput,
    home_region: String,
    has_custom_event_selectors: bool,
    has_insight_selectors: bool,
}

impl TrailShape {
    fn of(trail: &TrailRecord) -> Self {
        Self {
            base: TrailOutput::of(trail),
            home_region: trail.home_region.clone(),
            has_custom_event_selectors: trail.event_selectors.is_some()
                || trail.advanced_event_selectors.is_some(),
            has_insight_selectors: !trail.insight_selectors.is_empty(),
        }
    }
}

/// GetTrail's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetTrailOutput {
    trail: TrailShape,
}

/// GetTrail.
pub(crate) fn get_trail(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: NameInput,
) -> Result<GetTrailOutput, CloudTrailError> {
    let trail = load(env, tx, &input.name)?;
    Ok(GetTrailOutput {
        trail: TrailShape::of(&trail),
    })
}

/// DescribeTrails' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeTrailsInput {
    trail_name_list: Option<Vec<String>>,
    include_shadow_trails: Option<bool>,
}

/// DescribeTrails' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeTrailsOutput {
    trail_list: Vec<TrailShape>,
}

/// The trails a region shows: its own, and (as shadow trails) other regions' multi-region
/// trails when asked.
fn visible(env: &Env<'_>, trail: &TrailRecord, shadows: bool) -> bool {
    trail.home_region == env.region || (shadows && trail.is_multi_region_trail)
}

/// DescribeTrails.
pub(crate) fn describe_trails(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: DescribeTrailsInput,
) -> Result<DescribeTrailsOutput, CloudTrailError> {
    let shadows = input.include_shadow_trails.unwrap_or(true);
    let trails = account_trails(tx, &env.caller.account_id)?;
    let wanted = match input.trail_name_list.filter(|l| !l.is_empty()) {
        Some(names) => {
            let names = names
                .iter()
                .map(|n| name_of(env, n))
                .collect::<Result<Vec<_>, _>>()?;
            trails
                .into_iter()
                .filter(|t| names.contains(&t.name))
                .collect::<Vec<_>>()
        }
        None => trails,
    };
    Ok(DescribeTrailsOutput {
        trail_list: wanted
            .iter()
            .filter(|t| visible(env, t, shadows))
            .map(TrailShape::of)
            .collect(),
    })
}

/// ListTrails' input (a single page always holds every trail: at most five per region).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTrailsInput {
    #[serde(rename = "NextToken")]
    _next_token: Option<String>,
}

/// ListTrails' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTrailsOutput {
    trails: Vec<TrailInfo>,
}

/// One entry of ListTrails.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailInfo {
    #[serde(rename = "TrailARN")]
    trail_arn: String,
    name: String,
    home_region: String,
}

/// ListTrails: every trail of the account, whatever its region, as AWS lists them.
pub(crate) fn list_trails(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: ListTrailsInput,
) -> Result<ListTrailsOutput, CloudTrailError> {
    let trails = account_trails(tx, &env.caller.account_id)?;
    Ok(ListTrailsOutput {
        trails: trails
            .iter()
            .map(|t| TrailInfo {
                trail_arn: t.arn(),
                name: t.name.clone(),
                home_region: t.home_region.clone(),
            })
            .collect(),
    })
}

/// GetTrailStatus' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailStatusOutput {
    is_logging: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_logging_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_logging_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_digest_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_logging_started: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_logging_stopped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_delivery_attempt_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_delivery_attempt_succeeded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_cloud_watch_logs_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_cloud_watch_logs_delivery_time: Option<String>,
}

fn timestamp(seconds: Option<i64>) -> Option<String> {
    seconds
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map(aws_timestamp)
}

/// GetTrailStatus.
pub(crate) fn get_trail_status(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: NameInput,
) -> Result<TrailStatusOutput, CloudTrailError> {
    let trail = load(env, tx, &input.name)?;
    let delivery = delivery_state(tx, &trail)?;
    let logs = crate::cloudwatch_logs::logs_delivery_state(tx, &trail)?;
    Ok(TrailStatusOutput {
        latest_cloud_watch_logs_delivery_error: logs.latest_delivery_error,
        latest_cloud_watch_logs_delivery_time: timestamp(logs.latest_delivery_time),
        is_logging: trail.is_logging,
        latest_delivery_time: timestamp(delivery.latest_delivery_time),
        start_logging_time: timestamp(trail.start_logging_time),
        stop_logging_time: timestamp(trail.stop_logging_time),
        latest_digest_delivery_time: timestamp(delivery.latest_digest_time),
        time_logging_started: timestamp(trail.start_logging_time),
        time_logging_stopped: timestamp(trail.stop_logging_time),
        latest_delivery_error: delivery.latest_delivery_error,
        latest_delivery_attempt_time: timestamp(delivery.latest_delivery_attempt_time),
        latest_delivery_attempt_succeeded: timestamp(delivery.latest_delivery_attempt_succeeded),
    })
}

/// StartLogging.
pub(crate) fn start_logging(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: NameInput,
) -> Result<Empty, CloudTrailError> {
    let mut trail = load(env, tx, &input.name)?;
    if !trail.is_logging {
        trail.is_logging = true;
        trail.start_logging_time = Some(env.now.unix_timestamp());
        put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    }
    Ok(Empty {})
}

/// StopLogging (recorded in the trail itself: its event precedes the stop time).
pub(crate) fn stop_logging(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: NameInput,
) -> Result<Empty, CloudTrailError> {
    let mut trail = load(env, tx, &input.name)?;
    if trail.is_logging {
        trail.is_logging = false;
        trail.stop_logging_time = Some(env.now.unix_timestamp());
        put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    }
    Ok(Empty {})
}

/// PutEventSelectors' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutEventSelectorsInput {
    trail_name: String,
    event_selectors: Option<Value>,
    advanced_event_selectors: Option<Value>,
}

/// PutEventSelectors' and GetEventSelectors' output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EventSelectorsOutput {
    #[serde(rename = "TrailARN")]
    trail_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_selectors: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advanced_event_selectors: Option<Value>,
}

fn selector_count(value: Option<&Value>) -> usize {
    value.and_then(Value::as_array).map_or(0, Vec::len)
}

/// PutEventSelectors.
pub(crate) fn put_event_selectors(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: PutEventSelectorsInput,
) -> Result<EventSelectorsOutput, CloudTrailError> {
    let mut trail = load(env, tx, &input.trail_name)?;
    match (&input.event_selectors, &input.advanced_event_selectors) {
        (Some(_), Some(_)) => {
            return Err(CloudTrailError::InvalidParameterCombination(
                "You cannot use EventSelectors and AdvancedEventSelectors in the same request."
                    .to_owned(),
            ));
        }
        (None, None) => {
            return Err(CloudTrailError::InvalidParameterCombination(
                "You must specify either EventSelectors or AdvancedEventSelectors.".to_owned(),
            ));
        }
        _ => {}
    }
    if selector_count(input.event_selectors.as_ref()) > MAX_EVENT_SELECTORS {
        return Err(CloudTrailError::InvalidEventSelectors(format!(
            "You have exceeded the maximum number of event selectors ({MAX_EVENT_SELECTORS})."
        )));
    }
    trail.event_selectors = input.event_selectors;
    trail.advanced_event_selectors = input.advanced_event_selectors;
    put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    Ok(EventSelectorsOutput {
        trail_arn: trail.arn(),
        event_selectors: trail.event_selectors,
        advanced_event_selectors: trail.advanced_event_selectors,
    })
}

/// GetEventSelectors' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailNameInput {
    trail_name: String,
}

/// GetEventSelectors: a trail without selectors logs every management event, which AWS
/// reports as one default selector.
pub(crate) fn get_event_selectors(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: TrailNameInput,
) -> Result<EventSelectorsOutput, CloudTrailError> {
    let trail = load(env, tx, &input.trail_name)?;
    let event_selectors = match (&trail.event_selectors, &trail.advanced_event_selectors) {
        (None, None) => Some(serde_json::json!([{
            "ReadWriteType": "All",
            "IncludeManagementEvents": true,
            "DataResources": [],
            "ExcludeManagementEventSources": [],
        }])),
        (selectors, _) => selectors.clone(),
    };
    Ok(EventSelectorsOutput {
        trail_arn: trail.arn(),
        event_selectors,
        advanced_event_selectors: trail.advanced_event_selectors.clone(),
    })
}
