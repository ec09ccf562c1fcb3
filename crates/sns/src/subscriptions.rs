//! Subscriptions: Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions,
//! ListSubscriptionsByTopic, GetSubscriptionAttributes and SetSubscriptionAttributes.
//!
//! A subscription is kept under its topic's key and its ID (`<topic key>:<id>`); its ARN is
//! the topic's with `:<id>`. Rampart delivers to `http` endpoints by POST and to `email` and
//! `email-json` into the outbox; an `http` endpoint must be on loopback unless the operator
//! allowed any (`--sns-endpoints any`). The confirmation token is a secret: 64 random bytes,
//! kept as its SHA-256 digest, compared in constant time, valid for 3 days as AWS's.

use std::collections::BTreeMap;

use aws_lc_rs::digest;
use rampart_service::paging::{self, PageSize};
use rampart_service::{Caller, Env, Federation, PrincipalKind, Value};
use rampart_store::{ReadTx, StoreError, WriteTx, get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::delivery::{self, DeliveryRecord};
use crate::delivery_policy;
use crate::error::SnsError;
use crate::messages::{self, Links};
use crate::names::{self, TopicName};
use crate::records::{self, TopicRecord};
use crate::signing;
use crate::{EndpointScope, SnsSettings};

pub(crate) const SUBSCRIPTIONS: &str = "sns/subscriptions";

/// The lists answer 100 subscriptions a page, as AWS does.
const PAGE: PageSize = PageSize::new(100, 100);
/// How long a confirmation token is valid: 3 days, as AWS's.
const TOKEN_LIFETIME: time::Duration = time::Duration::days(3);
/// What Subscribe answers while a subscription awaits confirmation.
const PENDING: &str = "pending confirmation";

/// Whether a subscription is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Status {
    PendingConfirmation,
    Confirmed,
    /// Unsubscribed: neither listed nor delivered to, and restored by the token of its
    /// UnsubscribeConfirmation while that is valid (AWS's "to cancel this operation and
    /// restore the subscription, visit the SubscribeURL").
    Deleted,
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubscriptionRecord {
    pub(crate) id: String,
    pub(crate) topic: String,
    pub(crate) account: String,
    pub(crate) region: String,
    /// The subscriber's account.
    pub(crate) owner: String,
    pub(crate) protocol: String,
    pub(crate) endpoint: String,
    pub(crate) status: Status,
    /// The SHA-256 digest of the confirmation token (hex).
    pub(crate) token_digest: String,
    /// When the token stops confirming (seconds since the epoch).
    pub(crate) token_expires: i64,
    pub(crate) raw_message_delivery: bool,
    pub(crate) filter_policy: Option<String>,
    pub(crate) filter_policy_scope: Option<String>,
    pub(crate) delivery_policy: Option<String>,
    pub(crate) confirmation_was_authenticated: bool,
}

impl SubscriptionRecord {
    pub(crate) fn topic_name(&self) -> TopicName {
        TopicName {
            region: self.region.clone(),
            account: self.account.clone(),
            name: self.topic.clone(),
        }
    }

    pub(crate) fn arn(&self) -> String {
        format!("{}:{}", self.topic_name().arn(), self.id)
    }

    fn key(&self) -> String {
        format!("{}:{}", self.topic_name().key(), self.id)
    }

    /// The ARN as the lists show it: `PendingConfirmation` until confirmed.
    fn shown_arn(&self) -> String {
        match self.status {
            Status::Confirmed => self.arn(),
            Status::PendingConfirmation | Status::Deleted => "PendingConfirmation".to_owned(),
        }
    }
}

/// A topic's subscriptions by state, as GetTopicAttributes counts them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) confirmed: usize,
    pub(crate) pending: usize,
    pub(crate) deleted: usize,
}

/// The prefix of every subscription of `topic`.
pub(crate) fn under_topic(topic: &TopicName) -> String {
    format!("{}:", topic.key())
}

fn scan_all(
    tx: &mut (impl ReadTx + ?Sized),
    prefix: &str,
) -> Result<Vec<SubscriptionRecord>, StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = tx.scan(SUBSCRIPTIONS, prefix, after.as_deref(), 1000)?;
        let done = batch.len() < 1000;
        for (key, bytes) in &batch {
            out.push(records::decode(SUBSCRIPTIONS, key, bytes)?);
        }
        after = batch.last().map(|(key, _)| key.clone());
        if done {
            return Ok(out);
        }
    }
}

/// Every subscription of `topic`.
pub(crate) fn of_topic(
    tx: &mut (impl ReadTx + ?Sized),
    topic: &TopicName,
) -> Result<Vec<SubscriptionRecord>, StoreError> {
    scan_all(tx, &under_topic(topic))
}

/// Counts `topic`'s subscriptions.
/// Counts `topic`'s subscriptions at `now`: the deleted ones while they can be restored.
pub(crate) fn counts(
    tx: &mut (impl ReadTx + ?Sized),
    topic: &TopicName,
    now: time::OffsetDateTime,
) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for record in of_topic(tx, topic)? {
        match record.status {
            Status::Confirmed => counts.confirmed += 1,
            Status::PendingConfirmation => counts.pending += 1,
            Status::Deleted if record.token_expires >= now.unix_timestamp() => counts.deleted += 1,
            Status::Deleted => {}
        }
    }
    Ok(counts)
}

/// Removes every subscription of `topic`.
pub(crate) fn delete_all_of(
    tx: &mut (impl WriteTx + ?Sized),
    topic: &TopicName,
) -> Result<(), StoreError> {
    for record in of_topic(tx, topic)? {
        tx.delete(SUBSCRIPTIONS, &record.key())?;
    }
    Ok(())
}

/// The subscription an ARN names, or `Invalid parameter: SubscriptionArn`.
fn parse_subscription_arn(arn: &str) -> Result<(TopicName, String), SnsError> {
    let invalid = || SnsError::invalid("Invalid parameter: SubscriptionArn");
    let (topic, id) = arn.rsplit_once(':').ok_or_else(invalid)?;
    let topic = names::parse_topic_arn(topic).ok_or_else(invalid)?;
    let uuid_like = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !uuid_like {
        return Err(invalid());
    }
    Ok((topic, id.to_owned()))
}

fn existing(tx: &mut (impl ReadTx + ?Sized), arn: &str) -> Result<SubscriptionRecord, SnsError> {
    let (topic, id) = parse_subscription_arn(arn)?;
    get_json::<SubscriptionRecord>(tx, SUBSCRIPTIONS, &format!("{}:{id}", topic.key()))?
        .filter(|record| record.status != Status::Deleted)
        .ok_or_else(|| SnsError::NotFound("Subscription does not exist".to_owned()))
}

/// Refuses a caller outside both the subscription's account and its topic's: the actions on
/// subscriptions name no resource an IAM policy could limit (the reference lists none), so
/// AWS lets only those two accounts act on one.
fn check_owner(env: &Env<'_>, record: &SubscriptionRecord, action: &str) -> Result<(), SnsError> {
    let account = &env.caller.account_id;
    if *account == record.owner || *account == record.account {
        return Ok(());
    }
    Err(SnsError::Authorization(format!(
        "User: {} is not authorized to perform: SNS:{action} on resource: {}",
        env.caller.arn,
        record.arn()
    )))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_digest(token: &str) -> String {
    hex(digest::digest(&digest::SHA256, token.as_bytes()).as_ref())
}

/// A new identifier in UUID form (random, version 4).
pub(crate) fn new_id(env: &Env<'_>) -> String {
    let mut bytes = [0u8; 16];
    env.entropy.fill(&mut bytes);
    let [
        b0,
        b1,
        b2,
        b3,
        b4,
        b5,
        b6,
        b7,
        b8,
        b9,
        b10,
        b11,
        b12,
        b13,
        b14,
        b15,
    ] = bytes;
    // Version 4 and the RFC 4122 variant.
    let (b6, b8) = ((b6 & 0x0f) | 0x40, (b8 & 0x3f) | 0x80);
    format!(
        "{}-{}-{}-{}-{}",
        hex(&[b0, b1, b2, b3]),
        hex(&[b4, b5]),
        hex(&[b6, b7]),
        hex(&[b8, b9]),
        hex(&[b10, b11, b12, b13, b14, b15])
    )
}

/// Refuses an endpoint Rampart does not deliver to, or may not (the loopback guard).
fn check_endpoint(settings: &SnsSettings, protocol: &str, endpoint: &str) -> Result<(), SnsError> {
    match protocol {
        "http" => {
            let url = url::Url::parse(endpoint)
                .ok()
                .filter(|u| u.scheme() == "http" && u.host().is_some())
                .ok_or_else(|| {
                    SnsError::invalid(
                        "Invalid parameter: Endpoint must match the specified protocol",
                    )
                })?;
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if !loopback && settings.endpoints == EndpointScope::Loopback {
                return Err(SnsError::invalid(
                    "Invalid parameter: Endpoint Reason: Rampart delivers to loopback endpoints only; start the server with --sns-endpoints any (RAMPART_SNS_ENDPOINTS=any) to allow others",
                ));
            }
            Ok(())
        }
        "https" => Err(SnsError::invalid(
            "Invalid parameter: Protocol Reason: Rampart does not deliver to https endpoints yet; use http on loopback",
        )),
        "email" | "email-json" => {
            let valid = endpoint.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !endpoint.contains(char::is_whitespace)
            });
            if valid {
                Ok(())
            } else {
                Err(SnsError::invalid("Invalid parameter: Email address"))
            }
        }
        "sqs" | "lambda" | "sms" | "application" | "firehose" => Err(SnsError::invalid(format!(
            "Invalid parameter: Protocol Reason: Rampart does not deliver to {protocol} endpoints"
        ))),
        other => Err(SnsError::invalid(format!(
            "Invalid parameter: Amazon SNS does not support this protocol string: {other}"
        ))),
    }
}

/// Subscription attributes a caller may set.
fn check_attribute(name: &str, value: &str) -> Result<(), SnsError> {
    match name {
        "RawMessageDelivery" if value == "true" || value == "false" => Ok(()),
        "RawMessageDelivery" => Err(SnsError::invalid(
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [".to_owned()
                + value
                + "]. Must be true or false.",
        )),
        "FilterPolicy" => crate::filter_policy::check(value),
        "FilterPolicyScope" if value == "MessageAttributes" => Ok(()),
        "FilterPolicyScope" if value == "MessageBody" => Err(SnsError::invalid(
            "Invalid parameter: FilterPolicyScope Reason: Rampart filters on MessageAttributes only",
        )),
        "FilterPolicyScope" => Err(SnsError::invalid(
            "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value. Must be MessageAttributes or MessageBody",
        )),
        "DeliveryPolicy" => delivery_policy::check(value),
        "RedrivePolicy" | "SubscriptionRoleArn" | "ReplayPolicy" => Err(SnsError::invalid(
            format!("Invalid parameter: {name} Reason: Rampart does not serve {name}"),
        )),
        _ => Err(SnsError::invalid("Invalid parameter: AttributeName")),
    }
}

fn apply(record: &mut SubscriptionRecord, name: &str, value: String) {
    let optional = (!value.is_empty()).then_some(value.clone());
    match name {
        "RawMessageDelivery" => record.raw_message_delivery = value == "true",
        "FilterPolicy" => record.filter_policy = optional,
        "FilterPolicyScope" => record.filter_policy_scope = optional,
        "DeliveryPolicy" => record.delivery_policy = optional,
        _ => {}
    }
}

/// The retry policy a delivery to `subscription` of `topic` follows.
pub(crate) fn retry_policy(
    topic: &TopicRecord,
    subscription: &SubscriptionRecord,
) -> delivery_policy::RetryPolicy {
    match &subscription.delivery_policy {
        Some(own) => delivery_policy::retry_policy(Some(own)),
        None => delivery_policy::retry_policy(topic.delivery_policy.as_deref()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SubscribeInput {
    topic_arn: String,
    protocol: String,
    endpoint: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    return_subscription_arn: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SubscriptionArnOutput {
    subscription_arn: String,
}

pub(crate) fn subscribe(
    settings: &SnsSettings,
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SubscribeInput,
) -> Result<SubscriptionArnOutput, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    let endpoint = input
        .endpoint
        .ok_or_else(|| SnsError::invalid("Invalid parameter: Endpoint"))?;
    check_endpoint(settings, &input.protocol, &endpoint)?;
    let attributes = input.attributes.unwrap_or_default();
    for (name, value) in &attributes {
        check_attribute(name, value)?;
    }
    let topic_record = records::existing_topic(tx, &topic)?;
    let answer = |record: &SubscriptionRecord| SubscriptionArnOutput {
        subscription_arn: if record.status == Status::Confirmed
            || input.return_subscription_arn == Some(true)
        {
            record.arn()
        } else {
            PENDING.to_owned()
        },
    };
    // The same endpoint on the same topic is the same subscription (AWS answers it again).
    let mut record = match of_topic(tx, &topic)?.into_iter().find(|s| {
        s.status != Status::Deleted && s.protocol == input.protocol && s.endpoint == endpoint
    }) {
        Some(found) if found.status == Status::Confirmed => return Ok(answer(&found)),
        Some(found) => found,
        None => SubscriptionRecord {
            id: new_id(env),
            topic: topic.name.clone(),
            account: topic.account.clone(),
            region: topic.region.clone(),
            owner: env.caller.account_id.clone(),
            protocol: input.protocol.clone(),
            endpoint: endpoint.clone(),
            status: Status::PendingConfirmation,
            token_digest: String::new(),
            token_expires: 0,
            raw_message_delivery: false,
            filter_policy: None,
            filter_policy_scope: None,
            delivery_policy: None,
            confirmation_was_authenticated: false,
        },
    };
    for (name, value) in attributes {
        apply(&mut record, &name, value);
    }
    let token = hex(&env.random(64));
    record.token_digest = token_digest(&token);
    record.token_expires = (env.now + TOKEN_LIFETIME).unix_timestamp();
    put_json(tx, SUBSCRIPTIONS, &record.key(), &record)?;
    let key = signing::signing_key(env, tx)?;
    let links = Links {
        base_url: &settings.public_url,
        key: &key,
        signature_version: topic_record.signature_version.as_deref().unwrap_or("1"),
    };
    let message_id = new_id(env);
    let body = messages::confirmation(
        &links,
        "SubscriptionConfirmation",
        &message_id,
        &topic.arn(),
        &token,
        env.now,
    )?;
    let delivery = DeliveryRecord {
        id: message_id.clone(),
        protocol: record.protocol.clone(),
        endpoint: record.endpoint.clone(),
        headers: messages::headers(
            "SubscriptionConfirmation",
            &message_id,
            &topic.arn(),
            None,
            false,
        ),
        body: serde_json::to_string_pretty(&body).unwrap_or_default(),
        subject: Some("AWS Notification - Subscription Confirmation".to_owned()),
        attempts: 0,
        retry: retry_policy(&topic_record, &record),
    };
    delivery::enqueue(env, tx, &topic.account, &topic.region, &delivery)?;
    Ok(answer(&record))
}

/// The pending-or-confirmed subscription of `topic` whose token is `token`, while the token is
/// valid. Every candidate's digest is compared in constant time.
fn by_token(
    tx: &mut (impl ReadTx + ?Sized),
    topic: &TopicName,
    token: &str,
    now: time::OffsetDateTime,
) -> Result<SubscriptionRecord, SnsError> {
    let given = token_digest(token);
    let mut found = None;
    for record in of_topic(tx, topic)? {
        let same =
            rampart_crypto::constant_time_eq(given.as_bytes(), record.token_digest.as_bytes());
        if same && !record.token_digest.is_empty() && found.is_none() {
            found = Some(record);
        }
    }
    found
        .filter(|r| r.token_expires >= now.unix_timestamp())
        .ok_or_else(|| SnsError::invalid("Invalid token"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConfirmSubscriptionInput {
    topic_arn: String,
    token: String,
    authenticate_on_unsubscribe: Option<String>,
}

pub(crate) fn confirm_subscription(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: ConfirmSubscriptionInput,
) -> Result<SubscriptionArnOutput, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    records::existing_topic(tx, &topic)?;
    let mut record = by_token(tx, &topic, &input.token, env.now)?;
    record.status = Status::Confirmed;
    // Only a signed confirmation can ask that unsubscribing be signed too.
    if env.federation.is_none() && input.authenticate_on_unsubscribe.as_deref() == Some("true") {
        record.confirmation_was_authenticated = true;
    }
    put_json(tx, SUBSCRIPTIONS, &record.key(), &record)?;
    Ok(SubscriptionArnOutput {
        subscription_arn: record.arn(),
    })
}

/// Authenticates an unsigned ConfirmSubscription (the SubscribeURL a subscriber visits) by
/// its token alone, as AWS serves it: the caller is SNS acting for the topic's account.
pub(crate) fn authenticate_confirmation(
    now: time::OffsetDateTime,
    tx: &mut dyn ReadTx,
    input: &Value,
) -> Result<Federation, rampart_service::AwsError> {
    let topic_arn = input
        .get("TopicArn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let token = input
        .get("Token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let topic = names::topic_of(topic_arn)?;
    by_token(tx, &topic, token, now)?;
    Ok(Federation {
        caller: Caller {
            kind: PrincipalKind::AwsService,
            ..Caller::service("sns.amazonaws.com", &topic.account)
        },
        identity_provider: "sns.amazonaws.com".to_owned(),
        condition_keys: Vec::new(),
        claims: Value::Null,
    })
}

/// The account an unsigned ConfirmSubscription is addressed to: the topic's.
pub(crate) fn confirmation_addressee(input: &Value) -> Option<String> {
    let arn = input.get("TopicArn").and_then(Value::as_str)?;
    names::parse_topic_arn(arn).map(|t| t.account)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SubscriptionArnInput {
    subscription_arn: String,
}

/// Ends a subscription. An HTTP or email-json endpoint gets AWS's UnsubscribeConfirmation,
/// whose SubscribeURL restores the subscription for 3 days.
pub(crate) fn unsubscribe(
    settings: &SnsSettings,
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SubscriptionArnInput,
) -> Result<serde_json::Map<String, serde_json::Value>, SnsError> {
    let mut record = existing(tx, &input.subscription_arn)?;
    check_owner(env, &record, "Unsubscribe")?;
    let was_confirmed = record.status == Status::Confirmed;
    let token = hex(&env.random(64));
    record.status = Status::Deleted;
    record.token_digest = token_digest(&token);
    record.token_expires = (env.now + TOKEN_LIFETIME).unix_timestamp();
    put_json(tx, SUBSCRIPTIONS, &record.key(), &record)?;
    let Some(topic) = records::topic(tx, &record.topic_name())? else {
        return Ok(serde_json::Map::new());
    };
    if was_confirmed && (record.protocol == "http" || record.protocol == "email-json") {
        let key = signing::signing_key(env, tx)?;
        let links = Links {
            base_url: &settings.public_url,
            key: &key,
            signature_version: topic.signature_version.as_deref().unwrap_or("1"),
        };
        let message_id = new_id(env);
        let topic_arn = topic.arn();
        let body = messages::confirmation(
            &links,
            "UnsubscribeConfirmation",
            &message_id,
            &topic_arn,
            &token,
            env.now,
        )?;
        let delivery = DeliveryRecord {
            id: message_id.clone(),
            protocol: record.protocol.clone(),
            endpoint: record.endpoint.clone(),
            headers: messages::headers(
                "UnsubscribeConfirmation",
                &message_id,
                &topic_arn,
                Some(&record.arn()),
                false,
            ),
            body: serde_json::to_string_pretty(&body).unwrap_or_default(),
            subject: None,
            attempts: 0,
            retry: retry_policy(&topic, &record),
        };
        delivery::enqueue(env, tx, &topic.account, &topic.region, &delivery)?;
    }
    Ok(serde_json::Map::new())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Subscription {
    subscription_arn: String,
    owner: String,
    protocol: String,
    endpoint: String,
    topic_arn: String,
}

impl From<&SubscriptionRecord> for Subscription {
    fn from(record: &SubscriptionRecord) -> Self {
        Self {
            subscription_arn: record.shown_arn(),
            owner: record.owner.clone(),
            protocol: record.protocol.clone(),
            endpoint: record.endpoint.clone(),
            topic_arn: record.topic_name().arn(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSubscriptionsInput {
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSubscriptionsOutput {
    subscriptions: Vec<Subscription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The subscriptions of the caller's topics in the request's region, 100 a page.
pub(crate) fn list_subscriptions(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListSubscriptionsInput,
) -> Result<ListSubscriptionsOutput, SnsError> {
    let prefix = names::topics_prefix(&env.caller.account_id, env.region);
    page(tx, &prefix, input.next_token.as_deref())
}

fn page(
    tx: &mut dyn ReadTx,
    prefix: &str,
    token: Option<&str>,
) -> Result<ListSubscriptionsOutput, SnsError> {
    let page = paging::scan_page(
        tx,
        SUBSCRIPTIONS,
        prefix,
        token,
        PAGE.of(None),
        |_, key, bytes| -> Result<Option<Subscription>, SnsError> {
            let record: SubscriptionRecord = records::decode(SUBSCRIPTIONS, key, bytes)?;
            Ok((record.status != Status::Deleted).then(|| Subscription::from(&record)))
        },
    )?;
    Ok(ListSubscriptionsOutput {
        subscriptions: page.items,
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSubscriptionsByTopicInput {
    topic_arn: String,
    next_token: Option<String>,
}

pub(crate) fn list_subscriptions_by_topic(
    _env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListSubscriptionsByTopicInput,
) -> Result<ListSubscriptionsOutput, SnsError> {
    let topic = names::topic_of(&input.topic_arn)?;
    records::existing_topic(tx, &topic)?;
    page(tx, &under_topic(&topic), input.next_token.as_deref())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttributesOutput {
    attributes: BTreeMap<String, String>,
}

pub(crate) fn get_subscription_attributes(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: SubscriptionArnInput,
) -> Result<AttributesOutput, SnsError> {
    let record = existing(tx, &input.subscription_arn)?;
    check_owner(env, &record, "GetSubscriptionAttributes")?;
    let topic = records::existing_topic(tx, &record.topic_name())?;
    let mut attributes = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        attributes.insert(name.to_owned(), value);
    };
    set("SubscriptionArn", record.arn());
    set("TopicArn", record.topic_name().arn());
    set("Owner", record.owner.clone());
    set("Protocol", record.protocol.clone());
    set("Endpoint", record.endpoint.clone());
    set(
        "PendingConfirmation",
        (record.status == Status::PendingConfirmation).to_string(),
    );
    set(
        "ConfirmationWasAuthenticated",
        record.confirmation_was_authenticated.to_string(),
    );
    set(
        "RawMessageDelivery",
        record.raw_message_delivery.to_string(),
    );
    let effective = serde_json::json!({"healthyRetryPolicy": retry_policy(&topic, &record)});
    set("EffectiveDeliveryPolicy", effective.to_string());
    for (name, value) in [
        ("FilterPolicy", &record.filter_policy),
        ("FilterPolicyScope", &record.filter_policy_scope),
        ("DeliveryPolicy", &record.delivery_policy),
    ] {
        if let Some(value) = value {
            set(name, value.clone());
        }
    }
    if record.filter_policy.is_some() && record.filter_policy_scope.is_none() {
        set("FilterPolicyScope", "MessageAttributes".to_owned());
    }
    Ok(AttributesOutput { attributes })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SetSubscriptionAttributesInput {
    subscription_arn: String,
    attribute_name: String,
    attribute_value: Option<String>,
}

pub(crate) fn set_subscription_attributes(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: SetSubscriptionAttributesInput,
) -> Result<serde_json::Map<String, serde_json::Value>, SnsError> {
    let value = input.attribute_value.unwrap_or_default();
    if !value.is_empty() || input.attribute_name == "RawMessageDelivery" {
        check_attribute(&input.attribute_name, &value)?;
    } else if !["FilterPolicy", "FilterPolicyScope", "DeliveryPolicy"]
        .contains(&input.attribute_name.as_str())
    {
        return Err(SnsError::invalid("Invalid parameter: AttributeName"));
    }
    let mut record = existing(tx, &input.subscription_arn)?;
    check_owner(env, &record, "SetSubscriptionAttributes")?;
    apply(&mut record, &input.attribute_name, value);
    put_json(tx, SUBSCRIPTIONS, &record.key(), &record)?;
    Ok(serde_json::Map::new())
}
