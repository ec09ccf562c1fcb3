// CloudTrail with the AWS SDK for JavaScript v3, which names its operations
// `CloudTrail_20131101.<Operation>` where botocore sends
// `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>`; and LookupEvents
// finding the calls this SDK made, with its user agent.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CloudTrailClient,
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  LookupEventsCommand,
  TrailNotFoundException,
} from "@aws-sdk/client-cloudtrail";
import { GetUserCommand, IAMClient } from "@aws-sdk/client-iam";

import { ACCOUNT_ID, REGION, Rampart, rejection, uniqueName } from "./rampart.js";

let rampart;
let cloudtrail;
/** The `X-Amz-Target` of every request the CloudTrail client sent. */
const targets = [];

before(async () => {
  rampart = await Rampart.start();
  cloudtrail = rampart.client(CloudTrailClient);
  cloudtrail.middlewareStack.add(
    (next) => async (args) => {
      targets.push(args.request.headers["x-amz-target"]);
      return next(args);
    },
    { step: "finalizeRequest", name: "recordTarget" },
  );
});
after(async () => {
  await rampart?.stop();
});

/** The event of the call whose request ID is `requestId`, by event name. */
async function eventOf(eventName, requestId) {
  const { Events } = await cloudtrail.send(
    new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: eventName }],
      MaxResults: 50,
    }),
  );
  const event = Events.find((e) => JSON.parse(e.CloudTrailEvent).requestID === requestId);
  assert.ok(event, `no ${eventName} event for request ${requestId}`);
  return { event, record: JSON.parse(event.CloudTrailEvent) };
}

test("CreateTrail and DescribeTrails, sent with the SDK's target prefix", async () => {
  const name = uniqueName("js-trail");
  const created = await cloudtrail.send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: "audit-logs",
      S3KeyPrefix: "js",
      EnableLogFileValidation: true,
      TagsList: [{ Key: "team", Value: "sdk" }],
    }),
  );
  assert.equal(targets.at(-1), "CloudTrail_20131101.CreateTrail");
  const arn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT_ID}:trail/${name}`;
  assert.equal(created.Name, name);
  assert.equal(created.TrailARN, arn);
  assert.equal(created.S3BucketName, "audit-logs");
  assert.equal(created.S3KeyPrefix, "js");
  assert.equal(created.LogFileValidationEnabled, true);
  assert.equal(created.IsMultiRegionTrail, false);

  const { trailList } = await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: [name] }));
  assert.equal(targets.at(-1), "CloudTrail_20131101.DescribeTrails");
  assert.equal(trailList.length, 1);
  const [trail] = trailList;
  assert.equal(trail.Name, name);
  assert.equal(trail.TrailARN, arn);
  assert.equal(trail.HomeRegion, REGION);
  assert.equal(trail.S3KeyPrefix, "js");
  assert.equal(trail.LogFileValidationEnabled, true);

  const status = await cloudtrail.send(new GetTrailStatusCommand({ Name: name }));
  assert.equal(status.IsLogging, false);
});

test("an unknown trail is TrailNotFoundException", async () => {
  const error = await rejection(cloudtrail.send(new GetTrailStatusCommand({ Name: "js-none" })));
  assert.ok(error instanceof TrailNotFoundException, `got ${error.name}`);
  assert.equal(error.$metadata.httpStatusCode, 400);
});

test("LookupEvents finds the calls this SDK made", async () => {
  const name = uniqueName("js-trail");
  const created = await cloudtrail.send(
    new CreateTrailCommand({ Name: name, S3BucketName: "audit-logs" }),
  );
  const { event, record } = await eventOf("CreateTrail", created.$metadata.requestId);
  assert.equal(event.EventSource, "cloudtrail.amazonaws.com");
  assert.equal(event.Username, "root");
  assert.equal(event.ReadOnly, "false");
  assert.ok(event.EventTime instanceof Date);
  assert.equal(record.eventName, "CreateTrail");
  assert.equal(record.awsRegion, REGION);
  assert.equal(record.recipientAccountId, ACCOUNT_ID);
  assert.deepEqual(record.resources, [
    {
      ARN: `arn:aws:cloudtrail:${REGION}:${ACCOUNT_ID}:trail/${name}`,
      accountId: ACCOUNT_ID,
      type: "AWS::CloudTrail::Trail",
    },
  ]);
  assert.match(record.userAgent, /aws-sdk-js\/3\./);
  // Members as CloudTrail names them (issue 19).
  assert.deepEqual(record.requestParameters, { name, s3BucketName: "audit-logs" });
  assert.equal(record.responseElements.trailARN, created.TrailARN);

  // A failed call of another service is recorded too, with its error code.
  const iam = rampart.client(IAMClient);
  const error = await rejection(iam.send(new GetUserCommand({ UserName: "js-nobody" })));
  const failed = await eventOf("GetUser", error.$metadata.requestId);
  assert.equal(failed.event.EventSource, "iam.amazonaws.com");
  // Which of the wire code and the exception name AWS records for IAM is not settled here;
  // either names the error.
  assert.match(failed.record.errorCode, /^NoSuchEntity(Exception)?$/);
  assert.equal(failed.record.errorMessage, "The user with name js-nobody cannot be found.");
  assert.equal(failed.record.userIdentity.arn, `arn:aws:iam::${ACCOUNT_ID}:root`);
});
