//! Handshakes: InviteAccountToOrganization, AcceptHandshake, DeclineHandshake,
//! CancelHandshake, DescribeHandshake, ListHandshakesForAccount,
//! ListHandshakesForOrganization.
//!
//! An invitation is a handshake from the organization to an existing standalone account.
//! It stays `OPEN` for 15 days: the invited account accepts (and joins at the root, as
//! `INVITED`) or declines it, the management account may cancel it, and past its expiry it
//! is `EXPIRED`. Only the two parties see it.

use rampart_service::{Env, Operation, aws_timestamp};
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
        ),
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
    /// The invited account.
    account_id: String,
    /// `OPEN`, `ACCEPTED`, `DECLINED` or `CANCELED`; `EXPIRED` is read off the dates.
    state: String,
    requested_timestamp: String,
    expiration_timestamp: String,
    notes: Option<String>,
    /// Tags the account gets when it joins.
    tags: Vec<Tag>,
}

impl HandshakeRecord {
    /// The state at `now`: an open handshake past its expiry has expired.
    fn state_at(&self, now: OffsetDateTime) -> &str {
        let expired =
            OffsetDateTime::parse(&self.expiration_timestamp, &Rfc3339).is_ok_and(|at| at <= now);
        if self.state == OPEN && expired {
            EXPIRED
        } else {
            &self.state
        }
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
    action: &'static str,
    resources: Vec<Resource>,
}

impl Handshake {
    fn of(record: &HandshakeRecord, now: OffsetDateTime) -> Self {
        let party = |id: &str, kind: &str| Party {
            id: id.to_owned(),
            kind: kind.to_owned(),
        };
        let mut resources = vec![
            Resource {
                value: record.organization_id.clone(),
                kind: "ORGANIZATION",
                resources: vec![
                    resource("MASTER_EMAIL", &record.management_account_email),
                    resource("MASTER_NAME", crate::organization::MANAGEMENT_ACCOUNT_NAME),
                    resource("ORGANIZATION_FEATURE_SET", &record.feature_set),
                ],
            },
            resource("ACCOUNT", &record.account_id),
        ];
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
            action: "INVITE",
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
    let open: Vec<HandshakeRecord> = all(tx)?
        .into_iter()
        .filter(|h| h.organization_id == org.id && h.state_at(env.now) == OPEN)
        .collect();
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
        account_id: account,
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
    if state != OPEN {
        return Err(OrganizationsError::InvalidHandshakeTransition);
    }
    if response == Response::Accept {
        join(env, tx, &record)?;
    }
    record.state = response.state().to_owned();
    put_json(tx, HANDSHAKES, &record.id, &record)?;
    Ok(HandshakeOutput {
        handshake: Handshake::of(&record, env.now),
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
    // Invitations have no parent handshake.
    let matches_filter = filter.action_type.as_deref().is_none_or(|a| a == "INVITE")
        && filter.parent_handshake_id.is_none();
    let recent = |h: &HandshakeRecord| {
        h.state_at(env.now) == OPEN
            || OffsetDateTime::parse(&h.requested_timestamp, &Rfc3339)
                .is_ok_and(|at| env.now - at <= Duration::days(30) + INVITATION_LIFETIME)
    };
    let records: Vec<HandshakeRecord> = all(tx)?
        .into_iter()
        .filter(|h| matches_filter && include(h) && recent(h))
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
        next_token: page.next_token,
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
        let t = TestEnv::in_account(MANAGEMENT);
        t.write(|env, tx| {
            crate::organization::create_organization(
                env,
                tx,
                serde_json::from_value(serde_json::json!({"FeatureSet": "ALL"})).unwrap(),
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
}
