// IAM with the AWS SDK for JavaScript v3: awsQuery lists and maps (tags) encoded, XML lists,
// dates and pagination decoded, and a modeled error decoded as the SDK's exception class.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CreateUserCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  ListUsersCommand,
  NoSuchEntityException,
} from "@aws-sdk/client-iam";

import { ACCOUNT_ID, Rampart, rejection, uniqueName } from "./rampart.js";

const PATH = "/js/team/";
const TAGS = [
  { Key: "team", Value: "sdk" },
  { Key: "cost-center", Value: "12 34/ü" },
];

let rampart;
let iam;
before(async () => {
  rampart = await Rampart.start();
  iam = rampart.client(IAMClient);
});
after(async () => {
  await rampart?.stop();
});

test("CreateUser with a path and tags, then GetUser reads them back", async () => {
  const userName = uniqueName("js-user");
  const started = Date.now();
  const { User: created } = await iam.send(
    new CreateUserCommand({ UserName: userName, Path: PATH, Tags: TAGS }),
  );
  assert.equal(created.UserName, userName);
  assert.equal(created.Path, PATH);
  assert.equal(created.Arn, `arn:aws:iam::${ACCOUNT_ID}:user${PATH}${userName}`);
  assert.match(created.UserId, /^AIDA[A-Z0-9]{17}$/);
  assert.ok(created.CreateDate instanceof Date);
  assert.ok(Math.abs(created.CreateDate.getTime() - started) < 60_000);
  assert.deepEqual(created.Tags, TAGS);

  const { User: read } = await iam.send(new GetUserCommand({ UserName: userName }));
  assert.equal(read.UserId, created.UserId);
  assert.equal(read.Arn, created.Arn);
  assert.equal(read.Path, PATH);
  assert.equal(read.CreateDate.getTime(), created.CreateDate.getTime());
  assert.deepEqual(read.Tags, TAGS);
});

test("ListUsers filters by path prefix and pages with Marker", async () => {
  const prefix = `/js/${uniqueName("list")}/`;
  const names = [uniqueName("a"), uniqueName("b"), uniqueName("c")].sort();
  for (const name of names) {
    await iam.send(new CreateUserCommand({ UserName: name, Path: prefix }));
  }
  await iam.send(new CreateUserCommand({ UserName: uniqueName("outside"), Path: "/other/" }));

  const all = await iam.send(new ListUsersCommand({ PathPrefix: prefix }));
  assert.deepEqual(all.Users.map((u) => u.UserName).sort(), names);
  assert.ok(all.Users.every((u) => u.Path === prefix));
  assert.equal(all.IsTruncated, false);

  const first = await iam.send(new ListUsersCommand({ PathPrefix: prefix, MaxItems: 2 }));
  assert.equal(first.Users.length, 2);
  assert.equal(first.IsTruncated, true);
  assert.ok(first.Marker);
  const rest = await iam.send(
    new ListUsersCommand({ PathPrefix: prefix, MaxItems: 2, Marker: first.Marker }),
  );
  assert.equal(rest.IsTruncated, false);
  assert.deepEqual(
    [...first.Users, ...rest.Users].map((u) => u.UserName).sort(),
    names,
  );
});

test("GetUser of a missing user is NoSuchEntityException", async () => {
  const error = await rejection(iam.send(new GetUserCommand({ UserName: "js-nobody" })));
  assert.ok(error instanceof NoSuchEntityException, `got ${error.name}`);
  assert.equal(error.name, "NoSuchEntityException");
  assert.equal(error.message, "The user with name js-nobody cannot be found.");
  assert.equal(error.$metadata.httpStatusCode, 404);
  assert.equal(error.$fault, "client");
});

test("invalid input is a ValidationError naming the member", async () => {
  const error = await rejection(
    iam.send(new CreateUserCommand({ UserName: "bad name", Path: PATH })),
  );
  assert.ok(error instanceof IAMServiceException);
  assert.equal(error.name, "ValidationError");
  assert.match(error.message, /userName/);
  assert.equal(error.$metadata.httpStatusCode, 400);
});
