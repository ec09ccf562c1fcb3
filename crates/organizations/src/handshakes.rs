//! Handshakes: InviteAccountToOrganization, EnableAllFeatures, AcceptHandshake,
//! DeclineHandshake, CancelHandshake, DescribeHandshake, ListHandshakesForAccount,
//! ListHandshakesForOrganization.
//!
//! An invitation is a handshake from the organization to an existing standalone account.
//! It stays `OPEN` for 15 days: the invited account accepts (and joins at the root, as
//! `INVITED`) or declines it, the management account may cancel it, and past its expiry it
//! is `EXPIRED`. Only the two parties see it.
//!
//! EnableAllFeatures starts an `ENABLE_ALL_FEATURES` handshake of the management account and
//! sends an `APPROVE_ALL_FEATURES` handshake to every invited member (created accounts need
//! not approve). The first stays `REQUESTED` until every member has approved, then is `OPEN`
//! for the management account to accept, which switches the organization to all features.

use rampart_service::{AwsError, Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::OrganizationsError;
use crate::accounts::MAX_ACCOUNTS;
use crate::attachments::default_attachments;
use crate::error::{HandshakeConstraint, InvalidInput};
use crate::ids;
use crate::paging;
use crate::records::{self, ACTIVE, AccountRecord, OrganizationRecord, Tag, managed_organization};
use crate::tags;

/// Namespace of handshakes, keyed by handshake ID.
const HANDSHAKES: &str = "organizations.handshake";

/// How long an invitation stays open, as AWS keeps it.
const INVITATION_LIFETIME: Duration = Duration::days(15);
/// How long a request to enable all features stays open.
const ALL_FEATURES_LIFETIME: Duration = Duration::days(90);

const INVITE: &str = "INVITE";
const ENABLE_ALL_FEATURES: &str = "ENABLE_ALL_FEATURES";
const APPROVE_ALL_FEATURES: &str = "APPROVE_ALL_FEATURES";

const REQUESTED: &str = "REQUESTED";
const OPEN: &str = "OPEN";
const ACCEPTED: &str = "ACCEPTED";
const DECLINED: &str = "DECLINED";
const CANCELED: &str = "CANCELED";
const EXPIRED: &str = "EXPIRED";

pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "InviteAccountToOrganization",
            "organizations:InviteAccountToOrganization",
            invite_account_to_organization,
        )
        .partial("targets are accounts by ID (Rampart keeps no email addresses of standalone accounts); an invited account joins with a placeholder email and name"),
        Operation::write(
            "EnableAllFeatures",
            "organizations:EnableAllFeatures",
            enable_all_features,
        ),
        response_operation(
            "AcceptHandshake",
            "organizations:AcceptHandshake",
            Response::Accept,
        ),
        response_operation(
            "DeclineHandshake",
            "organizations:DeclineHandshake",
            Response::Decline,
        ),
        response_operation(
            "CancelHandshake",
            "organizations:CancelHandshake",
            Response::Cancel,
        ),
        Operation::read(
            "DescribeHandshake",
            "organizations:DescribeHandshake",
            describe_handshake,
        )
        .resources(handshake_resource),
        Operation::read(
            "ListHandshakesForAccount",
            "organizations:ListHandshakesForAccount",
            list_handshakes_for_account,
        ),
        Operation::read(
            "ListHandshakesForOrganization",
            "organizations:ListHandshakesForOrganization",
            list_handshakes_for_organization,
        ),
    ]
}

fn response_operation(name: &'static str, action: &'static str, response: Response) -> Operation {
    Operation::write(
        name,
        action,
        move |env: &Env<'_>, tx: &mut dyn WriteTx, input: HandshakeIdInput| {
            respond(env, tx, &input.handshake_id, response)
        },
    )
    .resources(handshake_resource)
}

/// The handshake a request names, when it concerns the caller's account (its ARN holds the
/// organization and the handshake's type); `*` otherwise, as nothing can be named.
fn handshake_resource(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &serde_json::Value,
) -> Result<Vec<rampart_service::Resource>, AwsError> {
    let found = match input.get("HandshakeId").and_then(serde_json::Value::as_str) {
        Some(id) => visible(env, tx, id).ok(),
        None => None,
    };
    Ok(vec![
        found.map_or_else(rampart_service::Resource::any, |h| {
            rampart_service::Resource::named(h.arn)
        }),
    ])
}

/// A handshake as Rampart keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HandshakeRecord {
    id: String,
    arn: String,
    organization_id: String,
    management_account_id: String,
    management_account_email: String,
    feature_set: String,
    /// `INVITE`, `ENABLE_ALL_FEATURES` or `APPROVE_ALL_FEATURES`.
    #[serde(default = "invite_action")]
    action: String,
    /// The account party: the invited or approving account, or for `ENABLE_ALL_FEATURES`
    /// the management account.
    account_id: String,
    /// For `APPROVE_ALL_FEATURES`: the `ENABLE_ALL_FEATURES` handshake it answers.
    #[serde(default)]
    parent_id: Option<String>,
    /// `REQUESTED`, `OPEN`, `ACCEPTED`, `DECLINED` or `CANCELED`; `EXPIRED` is read off the
    /// dates.
    state: String,
    requested_timestamp: String,
    expiration_timestamp: String,
    notes: Option<String>,
    /// Tags the account gets when it joins.
    tags: Vec<Tag>,
}

fn invite_action() -> String {
    INVITE.to_owned()
}

impl HandshakeRecord {
    /// The state at `now`: a pending handshake past its expiry has expired.
    fn state_at(&self, now: OffsetDateTime) -> &str {
        let expired =
            OffsetDateTime::parse(&self.expiration_timestamp, &Rfc3339).is_ok_and(|at| at <= now);
        if (self.state == OPEN || self.state == REQUESTED) && expired {
            EXPIRED
        } else {
            &self.state
        }
    }

    /// Whether it still waits for an answer.
    fn is_pending(&self, now: OffsetDateTime) -> bool {
        matches!(self.state_at(now), OPEN | REQUESTED)
    }

    /// Whether `account` is one of its parties (the organization by its management account).
    fn concerns(&self, account: &str) -> bool {
        self.account_id == account || self.management_account_id == account
    }
}

/// `HandshakeParty`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Party {
    id: String,
    #[serde(rename = "Type")]
    kind: String,
}

/// `HandshakeResource`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Resource {
    value: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource>,
}

fn resource(kind: &'static str, value: &str) -> Resource {
    Resource {
        value: value.to_owned(),
        kind,
        resources: Vec::new(),
    }
}

/// `Handshake`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Handshake {
    id: String,
    arn: String,
    parties: Vec<Party>,
    state: String,
    requested_timestamp: String,
    expiration_timestamp: String,
    action: String,
    resources: Vec<Resource>,
}

impl Handshake {
    fn of(record: &HandshakeRecord, now: OffsetDateTime) -> Self {
        let party = |id: &str, kind: &str| Party {
            id: id.to_owned(),
            kind: kind.to_owned(),
        };
        let mut resources = vec![Resource {
            value: record.organization_id.clone(),
            kind: "ORGANIZATION",
            resources: vec![
                resource("MASTER_EMAIL", &record.management_account_email),
                resource("MASTER_NAME", crate::organization::MANAGEMENT_ACCOUNT_NAME),
                resource("ORGANIZATION_FEATURE_SET", &record.feature_set),
            ],
        }];
        if record.action == INVITE {
            resources.push(resource("ACCOUNT", &record.account_id));
        }
        if let Some(parent) = &record.parent_id {
            resources.push(resource("PARENT_HANDSHAKE", parent));
        }
        if let Some(notes) = &record.notes {
            resources.push(resource("NOTES", notes));
        }
        Handshake {
            id: record.id.clone(),
            arn: record.arn.clone(),
            parties: vec![
                party(&record.organization_id, "ORGANIZATION"),
                party(&record.account_id, "ACCOUNT"),
            ],
            state: record.state_at(now).to_owned(),
            requested_timestamp: record.requested_timestamp.clone(),
            expiration_timestamp: record.expiration_timestamp.clone(),
            action: record.action.clone(),
            resources,
        }
    }
}

/// The output of the operations on one handshake.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HandshakeOutput {
    handshake: Handshake,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InviteInput {
    target: Party,
    notes: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

fn invite_account_to_organization(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: InviteInput,
) -> Result<HandshakeOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    tags::check_new(&input.tags)?;
    let account = input.target.id;
    let is_account_id = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if input.target.kind != "ACCOUNT" || !is_account_id {
        return Err(OrganizationsError::InvalidInput(
            InvalidInput::InvalidPartyTypeTarget,
        ));
    }
    if rampart_iam::account::get(tx, &account)?.is_none() {
        return Err(OrganizationsError::InvalidInput(
            InvalidInput::InvalidPartyTypeTarget,
        ));
    }
    if records::account(tx, &account)?.is_some() {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::AlreadyInAnOrganization,
        ));
    }
    let pending: Vec<HandshakeRecord> = all(tx)?
        .into_iter()
        .filter(|h| h.organization_id == org.id && h.is_pending(env.now))
        .collect();
    if pending.iter().any(|h| h.action == ENABLE_ALL_FEATURES) {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::InviteDisabledDuringEnableAllFeatures,
        ));
    }
    let open: Vec<&HandshakeRecord> = pending.iter().filter(|h| h.action == INVITE).collect();
    if open.iter().any(|h| h.account_id == account) {
        return Err(OrganizationsError::DuplicateHandshake);
    }
    if records::accounts(tx, &org.id)?.len() + open.len() >= MAX_ACCOUNTS {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::AccountNumberLimit,
        ));
    }
    let id = ids::handshake_id(env);
    let record = HandshakeRecord {
        arn: ids::handshake_arn(&org.management_account_id, &org.id, "invite", &id),
        id,
        organization_id: org.id.clone(),
        management_account_id: org.management_account_id.clone(),
        management_account_email: org.management_account_email.clone(),
        feature_set: org.feature_set.clone(),
        action: INVITE.to_owned(),
        account_id: account,
        parent_id: None,
        state: OPEN.to_owned(),
        requested_timestamp: aws_timestamp(env.now),
        expiration_timestamp: aws_timestamp(env.now + INVITATION_LIFETIME),
        notes: input.notes,
        tags: input.tags,
    };
    put_json(tx, HANDSHAKES, &record.id, &record)?;
    Ok(HandshakeOutput {
        handshake: Handshake::of(&record, env.now),
    })
}

/// What a party does with a handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Response {
    /// The invited account joins.
    Accept,
    /// The invited account says no.
    Decline,
    /// The organization withdraws the invitation.
    Cancel,
}

impl Response {
    fn state(self) -> &'static str {
        match self {
            Self::Accept => ACCEPTED,
            Self::Decline => DECLINED,
            Self::Cancel => CANCELED,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HandshakeIdInput {
    handshake_id: String,
}

/// The handshake `id`, if the caller's account is one of its parties: others are told it
/// does not exist.
fn visible(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    id: &str,
) -> Result<HandshakeRecord, OrganizationsError> {
    get_json::<HandshakeRecord>(tx, HANDSHAKES, id)?
        .filter(|h| h.concerns(&env.caller.account_id))
        .ok_or(OrganizationsError::HandshakeNotFound)
}

fn respond(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    id: &str,
    response: Response,
) -> Result<HandshakeOutput, OrganizationsError> {
    let mut record = visible(env, tx, id)?;
    // The invited account accepts or declines; the organization cancels.
    let responder = match response {
        Response::Accept | Response::Decline => &record.account_id,
        Response::Cancel => &record.management_account_id,
    };
    if *responder != env.caller.account_id {
        return Err(OrganizationsError::AccessDenied);
    }
    let state = record.state_at(env.now);
    if state == response.state() {
        return Err(OrganizationsError::HandshakeAlreadyInState);
    }
    // A request to enable all features is accepted once every member approved (OPEN), or
    // cancelled; its children are answered by the members.
    let answerable = match (record.action.as_str(), response) {
        (ENABLE_ALL_FEATURES, Response::Decline) => false,
        (ENABLE_ALL_FEATURES, Response::Cancel) => matches!(state, OPEN | REQUESTED),
        _ => state == OPEN,
    };
    if !answerable {
        return Err(OrganizationsError::InvalidHandshakeTransition);
    }
    record.state = response.state().to_owned();
    put_json(tx, HANDSHAKES, &record.id, &record)?;
    match (record.action.as_str(), response) {
        (INVITE, Response::Accept) => join(env, tx, &record)?,
        (APPROVE_ALL_FEATURES, Response::Accept) => approved(env, tx, &record)?,
        (ENABLE_ALL_FEATURES, Response::Accept) => {
            let mut org = records::organization(tx, &record.organization_id)?
                .ok_or(OrganizationsError::InvalidHandshakeTransition)?;
            org.feature_set = "ALL".to_owned();
            records::put_organization(tx, &org)?;
        }
        (ENABLE_ALL_FEATURES, Response::Cancel) => {
            for mut child in children(env, tx, &record.id)? {
                child.state = CANCELED.to_owned();
                put_json(tx, HANDSHAKES, &child.id, &child)?;
            }
        }
        _ => {}
    }
    Ok(HandshakeOutput {
        handshake: Handshake::of(&record, env.now),
    })
}

/// The pending `APPROVE_ALL_FEATURES` handshakes of the request `parent`.
fn children(
    env: &Env<'_>,
    tx: &mut (impl ReadTx + ?Sized),
    parent: &str,
) -> Result<Vec<HandshakeRecord>, OrganizationsError> {
    Ok(all(tx)?
        .into_iter()
        .filter(|h| h.parent_id.as_deref() == Some(parent) && h.is_pending(env.now))
        .collect())
}

/// A member approved: once no approval is pending, the request is OPEN for the management
/// account to accept.
fn approved(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    child: &HandshakeRecord,
) -> Result<(), OrganizationsError> {
    let Some(parent_id) = &child.parent_id else {
        return Ok(());
    };
    if !children(env, tx, parent_id)?.is_empty() {
        return Ok(());
    }
    if let Some(mut parent) = get_json::<HandshakeRecord>(tx, HANDSHAKES, parent_id)?
        && parent.state_at(env.now) == REQUESTED
    {
        parent.state = OPEN.to_owned();
        put_json(tx, HANDSHAKES, &parent.id, &parent)?;
    }
    Ok(())
}

/// EnableAllFeatures: the request, and one approval handshake per invited member.
fn enable_all_features(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    _input: crate::organization::NoInput,
) -> Result<HandshakeOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    if org.feature_set == "ALL" {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::OrganizationAlreadyHasAllFeatures,
        ));
    }
    let pending = all(tx)?.into_iter().any(|h| {
        h.organization_id == org.id && h.action == ENABLE_ALL_FEATURES && h.is_pending(env.now)
    });
    if pending {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::OrganizationAlreadyPendingAllFeaturesMigration,
        ));
    }
    let approvers: Vec<String> = records::accounts(tx, &org.id)?
        .into_iter()
        .filter(|a| a.joined_method == "INVITED" && a.id != org.management_account_id)
        .map(|a| a.id)
        .collect();
    let handshake = |action: &str, account: &str, parent: Option<&str>, state: &str| {
        let id = ids::handshake_id(env);
        HandshakeRecord {
            arn: ids::handshake_arn(
                &org.management_account_id,
                &org.id,
                &action.to_ascii_lowercase(),
                &id,
            ),
            id,
            organization_id: org.id.clone(),
            management_account_id: org.management_account_id.clone(),
            management_account_email: org.management_account_email.clone(),
            feature_set: org.feature_set.clone(),
            action: action.to_owned(),
            account_id: account.to_owned(),
            parent_id: parent.map(str::to_owned),
            state: state.to_owned(),
            requested_timestamp: aws_timestamp(env.now),
            expiration_timestamp: aws_timestamp(env.now + ALL_FEATURES_LIFETIME),
            notes: None,
            tags: Vec::new(),
        }
    };
    let request = handshake(
        ENABLE_ALL_FEATURES,
        &org.management_account_id,
        None,
        if approvers.is_empty() {
            OPEN
        } else {
            REQUESTED
        },
    );
    put_json(tx, HANDSHAKES, &request.id, &request)?;
    for account in &approvers {
        let approval = handshake(APPROVE_ALL_FEATURES, account, Some(&request.id), OPEN);
        put_json(tx, HANDSHAKES, &approval.id, &approval)?;
    }
    Ok(HandshakeOutput {
        handshake: Handshake::of(&request, env.now),
    })
}

/// The invited account joins the organization at its root.
fn join(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    handshake: &HandshakeRecord,
) -> Result<(), OrganizationsError> {
    if records::account(tx, &handshake.account_id)?.is_some() {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::AlreadyInAnOrganization,
        ));
    }
    let org: OrganizationRecord = records::organization(tx, &handshake.organization_id)?
        .ok_or(OrganizationsError::InvalidHandshakeTransition)?;
    if records::accounts(tx, &org.id)?.len() >= MAX_ACCOUNTS {
        return Err(OrganizationsError::HandshakeConstraintViolation(
            HandshakeConstraint::AccountNumberLimit,
        ));
    }
    let account = &handshake.account_id;
    records::put_account(
        tx,
        &AccountRecord {
            organization_id: org.id.clone(),
            arn: ids::account_arn(&org.management_account_id, &org.id, account),
            id: account.clone(),
            // Rampart keeps no contact details of standalone accounts.
            email: format!("account@{account}.rampart.invalid"),
            name: account.clone(),
            state: ACTIVE.to_owned(),
            joined_method: "INVITED".to_owned(),
            joined_timestamp: aws_timestamp(env.now),
            parent_id: org.root.id.clone(),
            attached: default_attachments(&org),
            tags: handshake.tags.clone(),
            closed_timestamp: None,
        },
    )?;
    Ok(())
}

fn describe_handshake(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: HandshakeIdInput,
) -> Result<HandshakeOutput, OrganizationsError> {
    let record = visible(env, tx, &input.handshake_id)?;
    Ok(HandshakeOutput {
        handshake: Handshake::of(&record, env.now),
    })
}

fn all(tx: &mut (impl ReadTx + ?Sized)) -> Result<Vec<HandshakeRecord>, OrganizationsError> {
    Ok(scan_json(tx, HANDSHAKES, "", None, usize::MAX)?
        .into_iter()
        .map(|(_, h)| h)
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListHandshakesInput {
    filter: Option<HandshakeFilter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HandshakeFilter {
    action_type: Option<String>,
    parent_handshake_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListHandshakesOutput {
    handshakes: Vec<Handshake>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// A page of the handshakes `include` keeps, after the filter. Finished handshakes are
/// listed for 30 days after they were requested, as AWS keeps them in listings.
fn list(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListHandshakesInput,
    include: impl Fn(&HandshakeRecord) -> bool,
) -> Result<ListHandshakesOutput, OrganizationsError> {
    let filter = input.filter.unwrap_or(HandshakeFilter {
        action_type: None,
        parent_handshake_id: None,
    });
    let matches_filter = |h: &HandshakeRecord| {
        filter.action_type.as_deref().is_none_or(|a| a == h.action)
            && filter
                .parent_handshake_id
                .as_deref()
                .is_none_or(|p| h.parent_id.as_deref() == Some(p))
    };
    let recent = |h: &HandshakeRecord| {
        h.is_pending(env.now)
            || OffsetDateTime::parse(&h.requested_timestamp, &Rfc3339)
                .is_ok_and(|at| env.now - at <= Duration::days(30) + ALL_FEATURES_LIFETIME)
    };
    let records: Vec<HandshakeRecord> = all(tx)?
        .into_iter()
        .filter(|h| matches_filter(h) && include(h) && recent(h))
        .collect();
    let page = paging::page(
        records,
        |h| h.id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ListHandshakesOutput {
        handshakes: page
            .items
            .iter()
            .map(|h| Handshake::of(h, env.now))
            .collect(),
        next_token: page.next,
    })
}

/// The handshakes the caller's account was invited by; any account may call it.
fn list_handshakes_for_account(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListHandshakesInput,
) -> Result<ListHandshakesOutput, OrganizationsError> {
    let account = env.caller.account_id.clone();
    list(env, tx, input, |h| h.account_id == account)
}

/// The organization's invitations; its management account only.
fn list_handshakes_for_organization(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListHandshakesInput,
) -> Result<ListHandshakesOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    list(env, tx, input, |h| h.organization_id == org.id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use rampart_service::testing::TestEnv;

    use super::*;

    const MANAGEMENT: &str = "111122223333";

    /// An organization of MANAGEMENT and `guests` standalone accounts (`2000000000NN`).
    fn setting(guests: usize) -> (TestEnv, Vec<String>) {
        setting_with(guests, "ALL")
    }

    fn setting_with(guests: usize, feature_set: &str) -> (TestEnv, Vec<String>) {
        let t = TestEnv::in_account(MANAGEMENT);
        let input = serde_json::json!({"FeatureSet": feature_set});
        t.write(move |env, tx| {
            crate::organization::create_organization(
                env,
                tx,
                serde_json::from_value(input).unwrap(),
            )
        })
        .unwrap();
        let ids: Vec<String> = (0..guests).map(|i| format!("2000000000{i:02}")).collect();
        for id in &ids {
            let id = id.clone();
            t.write(move |env, tx| {
                rampart_iam::account::create_account(tx, Some(id), env.root_key, env.entropy, "now")
                    .map(|_| ())
                    .map_err(|e| OrganizationsError::NotImplemented(e.to_string()))
            })
            .unwrap();
        }
        (t, ids)
    }

    fn invite(t: &TestEnv, account: &str) -> Result<HandshakeOutput, OrganizationsError> {
        let input = InviteInput {
            target: Party {
                id: account.to_owned(),
                kind: "ACCOUNT".to_owned(),
            },
            notes: None,
            tags: Vec::new(),
        };
        t.write(move |env, tx| invite_account_to_organization(env, tx, input))
    }

    fn respond_as(
        t: &mut TestEnv,
        account: &str,
        id: &str,
        response: Response,
    ) -> Result<HandshakeOutput, OrganizationsError> {
        t.act_as(account);
        let id = id.to_owned();
        t.write(move |env, tx| respond(env, tx, &id, response))
    }

    #[test]
    fn an_invitation_expires_after_15_days() {
        let (mut t, guests) = setting(1);
        let handshake = invite(&t, &guests[0]).unwrap().handshake;
        t.now += Duration::days(15) + Duration::seconds(1);
        let e = respond_as(&mut t, &guests[0], &handshake.id, Response::Accept).unwrap_err();
        assert!(matches!(e, OrganizationsError::InvalidHandshakeTransition));
        let described = t
            .read(|env, tx| {
                describe_handshake(
                    env,
                    tx,
                    HandshakeIdInput {
                        handshake_id: handshake.id.clone(),
                    },
                )
            })
            .unwrap();
        assert_eq!(described.handshake.state, EXPIRED);
        // An expired invitation is no duplicate.
        t.act_as(MANAGEMENT);
        assert_eq!(invite(&t, &guests[0]).unwrap().handshake.state, OPEN);
    }

    #[test]
    fn open_invitations_count_toward_the_account_quota() {
        let (t, guests) = setting(MAX_ACCOUNTS);
        // The management account and nine open invitations fill the quota.
        for guest in &guests[..MAX_ACCOUNTS - 1] {
            invite(&t, guest).unwrap();
        }
        let e = invite(&t, &guests[MAX_ACCOUNTS - 1]).unwrap_err();
        assert!(matches!(
            e,
            OrganizationsError::HandshakeConstraintViolation(
                HandshakeConstraint::AccountNumberLimit
            )
        ));
    }

    fn enable(t: &TestEnv) -> Result<HandshakeOutput, OrganizationsError> {
        t.write(|env, tx| enable_all_features(env, tx, crate::organization::NoInput {}))
    }

    fn state_of(t: &TestEnv, id: &str) -> String {
        let id = id.to_owned();
        t.read(move |_, tx| get_json::<HandshakeRecord>(tx, HANDSHAKES, &id))
            .unwrap()
            .unwrap()
            .state
    }

    #[test]
    fn all_features_come_once_every_invited_member_approved_and_the_management_account_accepts() {
        let (mut t, guests) = setting_with(1, "CONSOLIDATED_BILLING");
        let invitation = invite(&t, &guests[0]).unwrap().handshake;
        respond_as(&mut t, &guests[0], &invitation.id, Response::Accept).unwrap();
        t.act_as(MANAGEMENT);
        let request = enable(&t).unwrap().handshake;
        assert_eq!(
            (request.action.as_str(), request.state.as_str()),
            (ENABLE_ALL_FEATURES, REQUESTED)
        );
        assert!(matches!(
            enable(&t).unwrap_err(),
            OrganizationsError::HandshakeConstraintViolation(
                HandshakeConstraint::OrganizationAlreadyPendingAllFeaturesMigration
            )
        ));
        let e = respond_as(&mut t, MANAGEMENT, &request.id, Response::Accept).unwrap_err();
        assert!(matches!(e, OrganizationsError::InvalidHandshakeTransition));

        let approval = t
            .read(|env, tx| children(env, tx, &request.id))
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(
            (approval.action.as_str(), approval.account_id.as_str()),
            (APPROVE_ALL_FEATURES, guests[0].as_str())
        );
        respond_as(&mut t, &guests[0], &approval.id, Response::Accept).unwrap();
        assert_eq!(state_of(&t, &request.id), OPEN);
        respond_as(&mut t, MANAGEMENT, &request.id, Response::Accept).unwrap();
        let org = t
            .read(|_, tx| {
                let member = records::account(tx, MANAGEMENT)?.unwrap();
                records::organization(tx, &member.organization_id)
            })
            .unwrap()
            .unwrap();
        assert_eq!(org.feature_set, "ALL");
        assert!(matches!(
            enable(&t).unwrap_err(),
            OrganizationsError::HandshakeConstraintViolation(
                HandshakeConstraint::OrganizationAlreadyHasAllFeatures
            )
        ));
    }

    #[test]
    fn no_invitation_while_all_features_are_pending_and_cancelling_withdraws_the_approvals() {
        let (mut t, guests) = setting_with(2, "CONSOLIDATED_BILLING");
        let invitation = invite(&t, &guests[0]).unwrap().handshake;
        respond_as(&mut t, &guests[0], &invitation.id, Response::Accept).unwrap();
        t.act_as(MANAGEMENT);
        let request = enable(&t).unwrap().handshake;
        assert!(matches!(
            invite(&t, &guests[1]).unwrap_err(),
            OrganizationsError::HandshakeConstraintViolation(
                HandshakeConstraint::InviteDisabledDuringEnableAllFeatures
            )
        ));
        let approval = t
            .read(|env, tx| children(env, tx, &request.id))
            .unwrap()
            .pop()
            .unwrap();
        respond_as(&mut t, MANAGEMENT, &request.id, Response::Cancel).unwrap();
        assert_eq!(state_of(&t, &approval.id), CANCELED);
        let e = respond_as(&mut t, &guests[0], &approval.id, Response::Accept).unwrap_err();
        assert!(matches!(e, OrganizationsError::InvalidHandshakeTransition));
        t.act_as(MANAGEMENT);
        invite(&t, &guests[1]).unwrap();
    }
}
