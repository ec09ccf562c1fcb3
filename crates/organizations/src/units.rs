//! The tree: ListRoots; organizational units (CreateOrganizationalUnit,
//! UpdateOrganizationalUnit, DeleteOrganizationalUnit, DescribeOrganizationalUnit,
//! ListOrganizationalUnitsForParent); ListChildren and ListParents.

use rampart_service::{Env, Operation};
use rampart_store::{ReadTx, WriteTx};
use serde::{Deserialize, Serialize};

use crate::OrganizationsError;
use crate::attachments::{Root, default_attachments};
use crate::error::Constraint;
use crate::ids::{self, IdKind};
use crate::organization::Empty;
use crate::paging;
use crate::records::{
    self, MAX_UNIT_DEPTH, OrganizationRecord, Tag, UnitRecord, managed_organization,
};
use crate::resources::authorization_targets;
use crate::tags;

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::read("ListRoots", "organizations:ListRoots", list_roots),
        Operation::write(
            "CreateOrganizationalUnit",
            "organizations:CreateOrganizationalUnit",
            create_organizational_unit,
        )
        .authorization_targets(authorization_targets),
        Operation::write(
            "UpdateOrganizationalUnit",
            "organizations:UpdateOrganizationalUnit",
            update_organizational_unit,
        )
        .authorization_targets(authorization_targets),
        Operation::write(
            "DeleteOrganizationalUnit",
            "organizations:DeleteOrganizationalUnit",
            delete_organizational_unit,
        )
        .authorization_targets(authorization_targets),
        Operation::read(
            "DescribeOrganizationalUnit",
            "organizations:DescribeOrganizationalUnit",
            describe_organizational_unit,
        )
        .authorization_targets(authorization_targets),
        Operation::read(
            "ListOrganizationalUnitsForParent",
            "organizations:ListOrganizationalUnitsForParent",
            list_organizational_units_for_parent,
        )
        .authorization_targets(authorization_targets),
        Operation::read("ListChildren", "organizations:ListChildren", list_children)
            .authorization_targets(authorization_targets),
        Operation::read("ListParents", "organizations:ListParents", list_parents)
            .authorization_targets(authorization_targets),
    ]
}

/// The most OUs an organization may have, as AWS allows.
const MAX_UNITS: usize = 2000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PagingInput {
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRootsOutput {
    roots: Vec<Root>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_roots(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: PagingInput,
) -> Result<ListRootsOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let page = paging::page(
        vec![org],
        |o| o.root.id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ListRootsOutput {
        roots: page.items.iter().map(Root::of).collect(),
        next_token: page.next,
    })
}

/// `OrganizationalUnit`, as AWS describes it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrganizationalUnit {
    id: String,
    arn: String,
    name: String,
    path: String,
}

impl OrganizationalUnit {
    fn of(
        tx: &mut (impl ReadTx + ?Sized),
        org: &OrganizationRecord,
        unit: &UnitRecord,
    ) -> Result<Self, OrganizationsError> {
        let path = format!(
            "{}{}/",
            records::path_below(tx, org, &unit.parent_id)?,
            unit.id
        );
        Ok(Self {
            id: unit.id.clone(),
            arn: unit.arn.clone(),
            name: unit.name.clone(),
            path,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UnitOutput {
    organizational_unit: OrganizationalUnit,
}

/// The root or OU `id`, or ParentNotFoundException.
fn require_parent(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<(), OrganizationsError> {
    if records::is_parent(tx, org, id)? {
        Ok(())
    } else {
        Err(OrganizationsError::ParentNotFound)
    }
}

/// The OU `id`, or OrganizationalUnitNotFoundException.
fn require_unit(
    tx: &mut (impl ReadTx + ?Sized),
    org: &OrganizationRecord,
    id: &str,
) -> Result<UnitRecord, OrganizationsError> {
    records::unit(tx, &org.id, id)?.ok_or(OrganizationsError::OrganizationalUnitNotFound)
}

/// Refuses a name another OU under the same parent has.
fn require_unique_name(
    siblings: &[UnitRecord],
    parent_id: &str,
    name: &str,
) -> Result<(), OrganizationsError> {
    if siblings
        .iter()
        .any(|u| u.parent_id == parent_id && u.name == name)
    {
        return Err(OrganizationsError::DuplicateOrganizationalUnit);
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateUnitInput {
    parent_id: String,
    name: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

pub(crate) fn create_organizational_unit(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: CreateUnitInput,
) -> Result<UnitOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    require_parent(tx, &org, &input.parent_id)?;
    tags::check_new(&input.tags)?;
    let all = records::units(tx, &org.id)?;
    require_unique_name(&all, &input.parent_id, &input.name)?;
    // The lineage holds the root and each OU above the new one: its length is the new OU's
    // depth below the root.
    if records::lineage(tx, &org, &input.parent_id)?.len() > MAX_UNIT_DEPTH {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::OuDepthLimit,
        ));
    }
    if all.len() >= MAX_UNITS {
        return Err(OrganizationsError::ConstraintViolation(
            Constraint::OuNumberLimit,
        ));
    }
    let id = loop {
        let candidate = ids::unit_id(env, &org.root.id);
        if records::unit(tx, &org.id, &candidate)?.is_none() {
            break candidate;
        }
    };
    let unit = UnitRecord {
        organization_id: org.id.clone(),
        arn: ids::unit_arn(&org.management_account_id, &org.id, &id),
        id,
        name: input.name,
        parent_id: input.parent_id,
        attached: default_attachments(&org),
        tags: input.tags,
    };
    records::put_unit(tx, &unit)?;
    Ok(UnitOutput {
        organizational_unit: OrganizationalUnit::of(tx, &org, &unit)?,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateUnitInput {
    organizational_unit_id: String,
    name: Option<String>,
}

pub(crate) fn update_organizational_unit(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UpdateUnitInput,
) -> Result<UnitOutput, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    let mut unit = require_unit(tx, &org, &input.organizational_unit_id)?;
    if let Some(name) = input.name
        && name != unit.name
    {
        let all = records::units(tx, &org.id)?;
        require_unique_name(&all, &unit.parent_id, &name)?;
        unit.name = name;
        records::put_unit(tx, &unit)?;
    }
    Ok(UnitOutput {
        organizational_unit: OrganizationalUnit::of(tx, &org, &unit)?,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UnitIdInput {
    organizational_unit_id: String,
}

pub(crate) fn delete_organizational_unit(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: UnitIdInput,
) -> Result<Empty, OrganizationsError> {
    let org = managed_organization(env, tx)?;
    let unit = require_unit(tx, &org, &input.organizational_unit_id)?;
    let has_units = records::units(tx, &org.id)?
        .iter()
        .any(|u| u.parent_id == unit.id);
    let has_accounts = records::accounts(tx, &org.id)?
        .iter()
        .any(|a| a.parent_id == unit.id);
    if has_units || has_accounts {
        return Err(OrganizationsError::OrganizationalUnitNotEmpty);
    }
    records::delete_unit(tx, &org.id, &unit.id)?;
    Ok(Empty {})
}

pub(crate) fn describe_organizational_unit(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: UnitIdInput,
) -> Result<UnitOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let unit = require_unit(tx, &org, &input.organizational_unit_id)?;
    Ok(UnitOutput {
        organizational_unit: OrganizationalUnit::of(tx, &org, &unit)?,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParentInput {
    parent_id: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UnitsOutput {
    organizational_units: Vec<OrganizationalUnit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_organizational_units_for_parent(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ParentInput,
) -> Result<UnitsOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    require_parent(tx, &org, &input.parent_id)?;
    let children: Vec<UnitRecord> = records::units(tx, &org.id)?
        .into_iter()
        .filter(|u| u.parent_id == input.parent_id)
        .collect();
    let page = paging::page(
        children,
        |u| u.id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    let mut units = Vec::with_capacity(page.items.len());
    for unit in &page.items {
        units.push(OrganizationalUnit::of(tx, &org, unit)?);
    }
    Ok(UnitsOutput {
        organizational_units: units,
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListChildrenInput {
    parent_id: String,
    child_type: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// `Child`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Child {
    id: String,
    #[serde(rename = "Type")]
    child_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListChildrenOutput {
    children: Vec<Child>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_children(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListChildrenInput,
) -> Result<ListChildrenOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    require_parent(tx, &org, &input.parent_id)?;
    let ids: Vec<String> = if input.child_type == "ACCOUNT" {
        records::accounts(tx, &org.id)?
            .into_iter()
            .filter(|a| a.parent_id == input.parent_id)
            .map(|a| a.id)
            .collect()
    } else {
        records::units(tx, &org.id)?
            .into_iter()
            .filter(|u| u.parent_id == input.parent_id)
            .map(|u| u.id)
            .collect()
    };
    let page = paging::page(
        ids,
        Clone::clone,
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ListChildrenOutput {
        children: page
            .items
            .into_iter()
            .map(|id| Child {
                id,
                child_type: input.child_type.clone(),
            })
            .collect(),
        next_token: page.next,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListParentsInput {
    child_id: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// `Parent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParentSummary {
    id: String,
    #[serde(rename = "Type")]
    parent_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListParentsOutput {
    parents: Vec<ParentSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub(crate) fn list_parents(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: ListParentsInput,
) -> Result<ListParentsOutput, OrganizationsError> {
    let org = crate::delegation::readable_organization(env, tx)?;
    let parent_id = match ids::kind_of(&input.child_id) {
        Some(IdKind::Unit) => records::unit(tx, &org.id, &input.child_id)?.map(|u| u.parent_id),
        Some(IdKind::Account) => records::account(tx, &input.child_id)?
            .filter(|a| a.organization_id == org.id)
            .map(|a| a.parent_id),
        _ => None,
    }
    .ok_or(OrganizationsError::ChildNotFound)?;
    let parent_type = if parent_id == org.root.id {
        "ROOT"
    } else {
        "ORGANIZATIONAL_UNIT"
    };
    let page = paging::page(
        vec![ParentSummary {
            id: parent_id,
            parent_type,
        }],
        |p| p.id.clone(),
        input.next_token.as_deref(),
        input.max_results,
    )?;
    Ok(ListParentsOutput {
        parents: page.items,
        next_token: page.next,
    })
}
