//! The identities policies apply to (users, groups, roles), seen alike by the families that
//! attach managed policies and keep inline policies on them.

use std::collections::BTreeMap;

use rampart_store::{ReadTx, WriteTx};

use crate::IamError;
use crate::records::{self, GroupRecord, RoleRecord, UserRecord};

/// Which kind of identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntityKind {
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
    /// An IAM role.
    Role,
}

impl EntityKind {
    /// The lower-case word AWS's messages use ("The user policy with name …").
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
        }
    }

    /// IAM's quota of managed policies attached to one entity of this kind, and its name in
    /// the LimitExceeded message.
    pub(crate) fn attachment_quota(self) -> (usize, &'static str) {
        match self {
            Self::User => (10, "PoliciesPerUser"),
            Self::Group => (10, "PoliciesPerGroup"),
            Self::Role => (10, "PoliciesPerRole"),
        }
    }

    /// IAM's quota on the aggregate size of one entity's inline policies (characters,
    /// whitespace excluded).
    pub(crate) fn inline_size_quota(self) -> usize {
        match self {
            Self::User => 2048,
            Self::Group => 5120,
            Self::Role => 10240,
        }
    }
}

/// A user, group or role record.
#[derive(Debug, Clone)]
pub(crate) enum Entity {
    /// A user.
    User(Box<UserRecord>),
    /// A group.
    Group(Box<GroupRecord>),
    /// A role.
    Role(Box<RoleRecord>),
}

impl Entity {
    /// The entity `name` of `kind`, or AWS's NoSuchEntity for it.
    pub(crate) fn load(
        tx: &mut (impl ReadTx + ?Sized),
        kind: EntityKind,
        account_id: &str,
        name: &str,
    ) -> Result<Self, IamError> {
        Ok(match kind {
            EntityKind::User => Self::User(Box::new(records::user(tx, account_id, name)?)),
            EntityKind::Group => Self::Group(Box::new(records::group(tx, account_id, name)?)),
            EntityKind::Role => Self::Role(Box::new(records::role(tx, account_id, name)?)),
        })
    }

    /// Stores it.
    pub(crate) fn store(&self, tx: &mut (impl WriteTx + ?Sized)) -> Result<(), IamError> {
        match self {
            Self::User(user) => records::put_user(tx, user),
            Self::Group(group) => records::put_group(tx, group),
            Self::Role(role) => records::put_role(tx, role),
        }
    }

    /// Its name, as given at creation.
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::User(user) => &user.user_name,
            Self::Group(group) => &group.group_name,
            Self::Role(role) => &role.role_name,
        }
    }

    /// The ARNs of its attached managed policies, in attachment order.
    pub(crate) fn attached_policies(&mut self) -> &mut Vec<String> {
        match self {
            Self::User(user) => &mut user.attached_policies,
            Self::Group(group) => &mut group.attached_policies,
            Self::Role(role) => &mut role.attached_policies,
        }
    }

    /// Its inline policies: name → document.
    pub(crate) fn inline_policies(&mut self) -> &mut BTreeMap<String, String> {
        match self {
            Self::User(user) => &mut user.inline_policies,
            Self::Group(group) => &mut group.inline_policies,
            Self::Role(role) => &mut role.inline_policies,
        }
    }
}
