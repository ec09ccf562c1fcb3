// KMS with the AWS SDK for JavaScript v3: awsJson 1.1 (`TrentService.<Operation>`), binary
// members as base64 both ways, and errors decoded from `__type`.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { IAMClient } from "@aws-sdk/client-iam";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  InvalidCiphertextException,
  KMSClient,
  KMSServiceException,
  ListResourceTagsCommand,
  NotFoundException,
} from "@aws-sdk/client-kms";

import { ACCOUNT_ID, REGION, Rampart, newUser, policy, rejection } from "./rampart.js";

const CONTEXT = { purpose: "js-sdk", tenant: "t-1" };

let rampart;
let kms;
let key;
before(async () => {
  rampart = await Rampart.start();
  kms = rampart.client(KMSClient);
  ({ KeyMetadata: key } = await kms.send(
    new CreateKeyCommand({
      Description: "js sdk key",
      Tags: [{ TagKey: "team", TagValue: "sdk" }],
    }),
  ));
});
after(async () => {
  await rampart?.stop();
});

test("CreateKey returns the key's metadata", async () => {
  assert.match(key.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(key.Arn, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${key.KeyId}`);
  assert.equal(key.AWSAccountId, ACCOUNT_ID);
  assert.equal(key.Description, "js sdk key");
  assert.equal(key.KeyState, "Enabled");
  assert.equal(key.Enabled, true);
  assert.equal(key.KeyUsage, "ENCRYPT_DECRYPT");
  assert.equal(key.KeySpec, "SYMMETRIC_DEFAULT");
  assert.deepEqual(key.EncryptionAlgorithms, ["SYMMETRIC_DEFAULT"]);
  assert.ok(key.CreationDate instanceof Date);
  const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
  assert.deepEqual(Tags, [{ TagKey: "team", TagValue: "sdk" }]);
});

test("Encrypt and Decrypt round-trip every byte value", async () => {
  const plaintext = Uint8Array.from({ length: 256 }, (_, i) => i);
  const encrypted = await kms.send(
    new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: CONTEXT }),
  );
  assert.equal(encrypted.KeyId, key.Arn);
  assert.equal(encrypted.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
  assert.ok(encrypted.CiphertextBlob instanceof Uint8Array);
  assert.ok(encrypted.CiphertextBlob.length > plaintext.length);

  const decrypted = await kms.send(
    new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: CONTEXT }),
  );
  assert.equal(decrypted.KeyId, key.Arn);
  assert.deepEqual(Buffer.from(decrypted.Plaintext), Buffer.from(plaintext));

  // The encryption context is bound to the ciphertext.
  const error = await rejection(
    kms.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: { ...CONTEXT, tenant: "t-2" },
      }),
    ),
  );
  assert.ok(error instanceof InvalidCiphertextException, `got ${error.name}`);
  assert.equal(error.$metadata.httpStatusCode, 400);
});

test("a key that does not exist is NotFoundException", async () => {
  const missing = "11111111-2222-3333-4444-555555555555";
  const error = await rejection(
    kms.send(new EncryptCommand({ KeyId: missing, Plaintext: Uint8Array.of(1) })),
  );
  assert.ok(error instanceof NotFoundException, `got ${error.name}`);
  assert.match(error.message, new RegExp(missing));
});

test("a user without permission is AccessDeniedException", async () => {
  const iam = rampart.client(IAMClient);
  const user = await newUser(iam);
  const error = await rejection(
    rampart
      .client(KMSClient, user.credentials)
      .send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Uint8Array.of(1, 2, 3) })),
  );
  // KMS's model declares no AccessDeniedException shape: the SDK decodes `__type` into a
  // service exception of that name.
  assert.ok(error instanceof KMSServiceException);
  assert.equal(error.name, "AccessDeniedException");
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.ok(
    error.message.startsWith(
      `User: ${user.arn} is not authorized to perform: kms:Encrypt on resource: ${key.Arn}`,
    ),
    error.message,
  );

  // A user whose identity policy allows it encrypts (the default key policy delegates to IAM).
  const allowed = await newUser(
    iam,
    policy({ Effect: "Allow", Action: "kms:Encrypt", Resource: key.Arn }),
  );
  const encrypted = await rampart
    .client(KMSClient, allowed.credentials)
    .send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Uint8Array.of(1, 2, 3) }));
  assert.equal(encrypted.KeyId, key.Arn);
});
