// A real rampart process for each test file, driven by the AWS SDK for JavaScript v3.
//
// RAMPART_BIN names the binary (scripts/test builds it and sets it), as for the Python suite.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";

import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";

export const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
export const SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const ACCOUNT_ID = "444455556666";
export const REGION = "us-east-1";

const LISTENING = "rampart listening on ";
/** How long a debug build may take to open its data directory and listen. */
const START_TIMEOUT_MS = 60_000;

// The SDK warns once per process that its releases after January 2027 need Node 22. The
// versions here are pinned in package-lock.json, so the warning is about a future upgrade,
// not about these tests; it is noise in every test file's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export class Rampart {
  /** Starts `rampart serve` on an ephemeral loopback port with a fresh data directory. */
  static async start() {
    const bin = process.env.RAMPART_BIN;
    if (!bin) {
      throw new Error("RAMPART_BIN must name the rampart binary");
    }
    const dataDir = mkdtempSync(join(tmpdir(), "rampart-js-"));
    const child = spawn(
      bin,
      [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dataDir,
        "--account-id",
        ACCOUNT_ID,
      ],
      {
        env: {
          ...process.env,
          RAMPART_ROOT_ACCESS_KEY_ID: ACCESS_KEY_ID,
          RAMPART_ROOT_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
          RAMPART_LOG: "warn",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    // Every stdout line is read, so a chatty server never blocks on a full pipe.
    const lines = createInterface({ input: child.stdout });
    let timer;
    try {
      const endpoint = await new Promise((resolve, reject) => {
        lines.on("line", (line) => {
          if (line.startsWith(LISTENING)) {
            resolve(line.slice(LISTENING.length).trim());
          }
        });
        child.once("error", reject);
        child.once("exit", (code, signal) =>
          reject(new Error(`rampart exited before serving (${code ?? signal})`)),
        );
        timer = setTimeout(
          () => reject(new Error(`rampart did not serve within ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
      });
      return new Rampart(child, dataDir, endpoint);
    } catch (error) {
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  constructor(child, dataDir, endpoint) {
    this.child = child;
    this.dataDir = dataDir;
    this.endpoint = endpoint;
  }

  /**
   * A client of `Client` (such as `IAMClient`) signing with `credentials`, the root user's
   * by default. One attempt: a retry would hide the error a test asserts.
   */
  client(Client, credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }) {
    return new Client({
      endpoint: this.endpoint,
      region: REGION,
      credentials,
      maxAttempts: 1,
    });
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, "exit");
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A name no earlier test used, such as `js-user-1a2b3c4d`. */
export function uniqueName(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A policy document of `statements`. */
export function policy(...statements) {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * A new IAM user with an access key and, if given, an inline policy; returns its name, ARN
 * and credentials for a client.
 */
export async function newUser(iam, inlinePolicy) {
  const userName = uniqueName("js-user");
  const { User } = await iam.send(new CreateUserCommand({ UserName: userName }));
  if (inlinePolicy) {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: "inline",
        PolicyDocument: inlinePolicy,
      }),
    );
  }
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  return {
    userName,
    arn: User.Arn,
    credentials: {
      accessKeyId: AccessKey.AccessKeyId,
      secretAccessKey: AccessKey.SecretAccessKey,
    },
  };
}

/** The rejection of `promise`; fails when it resolves. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("the call succeeded where an error was expected");
}
