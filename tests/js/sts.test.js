// STS with the AWS SDK for JavaScript v3: awsQuery requests, XML responses, and a session
// token signed into a request.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
} from "@aws-sdk/client-sts";

import { ACCOUNT_ID, Rampart, newUser, policy, rejection, uniqueName } from "./rampart.js";

let rampart;
before(async () => {
  rampart = await Rampart.start();
});
after(async () => {
  await rampart?.stop();
});

test("GetCallerIdentity names the root user", async () => {
  const me = await rampart.client(STSClient).send(new GetCallerIdentityCommand({}));
  assert.equal(me.Account, ACCOUNT_ID);
  assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT_ID}:root`);
  assert.equal(me.UserId, ACCOUNT_ID);
  assert.match(me.$metadata.requestId, /^[0-9a-f-]{36}$/);
});

test("a wrong secret is SignatureDoesNotMatch", async () => {
  const sts = rampart.client(STSClient, {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "x".repeat(40),
  });
  const error = await rejection(sts.send(new GetCallerIdentityCommand({})));
  assert.ok(error instanceof STSServiceException);
  assert.equal(error.name, "SignatureDoesNotMatch");
  assert.equal(error.$metadata.httpStatusCode, 403);
});

test("AssumeRole returns a session that signs the next call", async () => {
  const iam = rampart.client(IAMClient);
  const roleName = uniqueName("js-role");
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: policy({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
        Action: "sts:AssumeRole",
      }),
    }),
  );
  const user = await newUser(
    iam,
    policy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: Role.Arn }),
  );

  const assumed = await rampart.client(STSClient, user.credentials).send(
    new AssumeRoleCommand({
      RoleArn: Role.Arn,
      RoleSessionName: "js-session",
      DurationSeconds: 900,
    }),
  );
  const sessionArn = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/js-session`;
  assert.equal(assumed.AssumedRoleUser.Arn, sessionArn);
  assert.equal(assumed.AssumedRoleUser.AssumedRoleId, `${Role.RoleId}:js-session`);
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = assumed.Credentials;
  assert.match(AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
  assert.ok(SecretAccessKey.length >= 40);
  assert.ok(SessionToken.length > 0);
  assert.ok(Expiration instanceof Date);
  const minutesLeft = (Expiration.getTime() - Date.now()) / 60_000;
  assert.ok(minutesLeft > 13 && minutesLeft <= 15, `expires in ${minutesLeft} minutes`);

  const session = rampart.client(STSClient, {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
  });
  const me = await session.send(new GetCallerIdentityCommand({}));
  assert.equal(me.Arn, sessionArn);
  assert.equal(me.UserId, `${Role.RoleId}:js-session`);
  assert.equal(me.Account, ACCOUNT_ID);
});

test("AssumeRole without permission is AccessDenied", async () => {
  const iam = rampart.client(IAMClient);
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: uniqueName("js-role"),
      AssumeRolePolicyDocument: policy({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
        Action: "sts:AssumeRole",
      }),
    }),
  );
  const user = await newUser(iam);
  const error = await rejection(
    rampart
      .client(STSClient, user.credentials)
      .send(new AssumeRoleCommand({ RoleArn: Role.Arn, RoleSessionName: "denied" })),
  );
  assert.ok(error instanceof STSServiceException);
  assert.equal(error.name, "AccessDenied");
  assert.equal(error.$metadata.httpStatusCode, 403);
  assert.ok(
    error.message.includes(`${user.arn} is not authorized to perform: sts:AssumeRole`),
    error.message,
  );
});
