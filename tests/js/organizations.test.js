// Organizations with the AWS SDK for JavaScript v3: awsJson 1.1
// (`AWSOrganizationsV20161128.<Operation>`), nested structures and lists decoded, and the
// service's modeled exceptions. The tests run in file order on one organization.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  AlreadyInOrganizationException,
  AWSOrganizationsNotInUseException,
  CreateOrganizationCommand,
  CreateOrganizationalUnitCommand,
  DescribeOrganizationCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";

import { ACCOUNT_ID, Rampart, rejection } from "./rampart.js";

let rampart;
let organizations;
/** The organization CreateOrganization returned. */
let organization;

before(async () => {
  rampart = await Rampart.start();
  organizations = rampart.client(OrganizationsClient);
});
after(async () => {
  await rampart?.stop();
});

test("DescribeOrganization before one exists is AWSOrganizationsNotInUseException", async () => {
  const error = await rejection(organizations.send(new DescribeOrganizationCommand({})));
  assert.ok(error instanceof AWSOrganizationsNotInUseException, `got ${error.name}`);
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.equal(error.message, "Your account is not a member of an organization.");
});

test("CreateOrganization makes this account the management account", async () => {
  ({ Organization: organization } = await organizations.send(
    new CreateOrganizationCommand({ FeatureSet: "ALL" }),
  ));
  assert.match(organization.Id, /^o-[a-z0-9]{10,32}$/);
  assert.equal(
    organization.Arn,
    `arn:aws:organizations::${ACCOUNT_ID}:organization/${organization.Id}`,
  );
  assert.equal(organization.FeatureSet, "ALL");
  assert.equal(organization.MasterAccountId, ACCOUNT_ID);
  assert.equal(
    organization.MasterAccountArn,
    `arn:aws:organizations::${ACCOUNT_ID}:account/${organization.Id}/${ACCOUNT_ID}`,
  );

  const error = await rejection(
    organizations.send(new CreateOrganizationCommand({ FeatureSet: "ALL" })),
  );
  assert.ok(error instanceof AlreadyInOrganizationException, `got ${error.name}`);
});

test("DescribeOrganization returns the organization created", async () => {
  const { Organization } = await organizations.send(new DescribeOrganizationCommand({}));
  assert.equal(Organization.Id, organization.Id);
  assert.equal(Organization.Arn, organization.Arn);
  assert.equal(Organization.MasterAccountId, ACCOUNT_ID);
  assert.equal(Organization.FeatureSet, "ALL");
});

test("ListRoots returns the one root, and an OU made under it is listed", async () => {
  const { Roots } = await organizations.send(new ListRootsCommand({}));
  assert.equal(Roots.length, 1);
  const [root] = Roots;
  assert.match(root.Id, /^r-[0-9a-z]{4,32}$/);
  assert.equal(root.Name, "Root");
  assert.equal(
    root.Arn,
    `arn:aws:organizations::${ACCOUNT_ID}:root/${organization.Id}/${root.Id}`,
  );
  assert.ok(Array.isArray(root.PolicyTypes));

  const { OrganizationalUnit } = await organizations.send(
    new CreateOrganizationalUnitCommand({ ParentId: root.Id, Name: "js-sandbox" }),
  );
  assert.match(OrganizationalUnit.Id, new RegExp(`^ou-${root.Id.slice(2)}-[a-z0-9]{8,32}$`));
  const { OrganizationalUnits } = await organizations.send(
    new ListOrganizationalUnitsForParentCommand({ ParentId: root.Id }),
  );
  assert.deepEqual(
    OrganizationalUnits.map((ou) => [ou.Id, ou.Name]),
    [[OrganizationalUnit.Id, "js-sandbox"]],
  );
});
