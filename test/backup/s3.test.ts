/**
 * Backups through a real S3-compatible server (s3rver, started here on a free port in a temp
 * folder, stopped after): backup → upload → download → restore gives every row back on all three
 * backends; `verify latest` and `prune` work on a bucket prefix; the command line never prints
 * the secret key, neither on success nor when the server rejects it. A file larger than one part
 * goes up as a multipart upload (one PutObject takes at most 5 GiB).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backup, pruneBackups, restore, verifyBackup } from "../../src/backup/commands.js";
import { backupFileName } from "../../src/backup/names.js";
import { openStorage } from "../../src/backup/storage.js";
import { failure } from "../runtime/project.js";
import { freePort } from "../support/ports.js";
import { allRows, backends, backupProject, seed } from "./support.js";

const exec = promisify(execFile);
const CLI = resolve("src/cli/main.ts");
const TSX = resolve("node_modules/.bin/tsx");

const ACCESS_KEY = "RETORTTESTKEY";
const SECRET = `retort-secret-${Math.random().toString(36).slice(2)}-do-not-print`;
const list = await backends();
const project = backupProject();

let endpoint: string;
let server: { close(): Promise<unknown> } | undefined;
const saved: Record<string, string | undefined> = {};
const created: string[] = [];

beforeAll(async () => {
  const require = createRequire(import.meta.url);
  type S3Event = { Records: Array<{ eventName: string; s3: { object: { key: string } } }> };
  const S3rver = require("s3rver") as new (options: Record<string, unknown>) => { run(): Promise<unknown>; close(): Promise<unknown>; on(name: "event", listener: (event: S3Event) => void): void };
  // s3rver checks signatures against its accounts: give its test account our key pair.
  (require("s3rver/lib/models/account") as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } }).DUMMY_ACCOUNT.createKeyPair(ACCESS_KEY, SECRET);
  const port = await freePort();
  const s3rver = new S3rver({ port, address: "127.0.0.1", silent: true, directory: mkdtempSync(join(tmpdir(), "retort-s3rver-")), configureBuckets: [{ name: "backups" }] });
  // How each object was stored: "ObjectCreated:Put" for one PutObject, ":Post" for a completed multipart upload.
  s3rver.on("event", (event) => created.push(...event.Records.map((r) => `${r.eventName} ${r.s3.object.key}`)));
  await s3rver.run();
  server = s3rver;
  endpoint = `http://127.0.0.1:${port}`;
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"]) saved[name] = process.env[name];
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: "eu-west-1" });
  delete process.env.AWS_ENDPOINT_URL;
});

afterAll(async () => {
  await server?.close();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  for (const b of list) await b.cleanup();
});

describe.each(list.map((b) => [b.name, b] as const))("%s through object storage", (name, backend) => {
  it("uploads, restores every row from the bucket, and passes the drill from `latest`", async () => {
    const source = await backend.fresh();
    await seed(project, source, 30);
    const prefix = `s3://backups/${name}/nightly`;
    const taken = await backup({ url: source, to: prefix, endpoint, root: project.root });
    expect(taken.file).toBeUndefined(); // only --to: no local copy left behind
    expect(taken.uploaded).toBe(`s3://backups/${name}/nightly/${taken.manifest.file}`);
    const objects = await (await openStorage(prefix, { endpoint })).list();
    expect(objects.sort()).toEqual([taken.manifest.file, `${taken.manifest.file}.manifest.json`].sort());

    const target = await backend.fresh();
    await restore({ source: taken.uploaded!, url: target, endpoint, root: project.root, environment: "development", config: project.config });
    expect(await allRows(target)).toEqual(await allRows(source));
    expect(((await allRows(target)).users as unknown[]).length).toBe(30);

    const verdict = await verifyBackup({ source: "latest", location: prefix, endpoint, root: project.root, config: project.config, ...(name === "postgres" ? { url: source } : {}) });
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verdict.backup).toContain(taken.manifest.file);
  });
});

describe("object storage", () => {
  it("prunes a bucket prefix with the same rules as a folder", async () => {
    const storage = await openStorage("s3://backups/prune", { endpoint });
    const file = join(mkdtempSync(join(tmpdir(), "retort-s3-")), "x");
    writeFileSync(file, "dump");
    const times = ["2026-04-01T01:00:00Z", "2026-04-02T01:00:00Z", "2026-04-02T02:00:00Z", "2026-04-03T01:00:00Z"];
    const names = times.map((t) => backupFileName("app", ["r1"], new Date(t), "sqlite-file"));
    for (const n of names) {
      await storage.put(n, file);
      await storage.put(`${n}.manifest.json`, file);
    }
    await storage.put("README.txt", file);
    const result = await pruneBackups({ root: project.root, location: "s3://backups/prune", endpoint, keepDaily: 2 });
    expect(result.kept.map((k) => k.file)).toEqual([names[3], names[2]]);
    expect((await storage.list()).sort()).toEqual([names[2]!, `${names[2]}.manifest.json`, names[3]!, `${names[3]}.manifest.json`, "README.txt"].sort());
  });

  it("a missing backup and a missing bucket are named errors", async () => {
    const missing = await failure(restore({ source: "s3://backups/none/app--base--20260101T000000Z.sqlite", url: `sqlite:${join(mkdtempSync(join(tmpdir(), "r-")), "a.db")}`, endpoint, root: project.root, environment: "development", config: project.config }));
    expect(missing.code).toBe("RETORT_BACKUP_NOT_FOUND");
    const bucket = await failure(pruneBackups({ root: project.root, location: "s3://no-such-bucket/x", endpoint, keepDaily: 1 }));
    expect(bucket.code).toBe("RETORT_STORAGE_FAILED");
    expect(bucket.message).toContain("s3://no-such-bucket/x/");
    expect(`${bucket.message} ${bucket.hint} ${JSON.stringify(bucket.details)}`).not.toContain(SECRET);
  });
});

describe("the command line", () => {
  async function retort(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string }> {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/DATABASE_URL$|^NODE_ENV$|^RETORT_|^AWS_/.test(k)));
    try {
      const { stdout, stderr } = await exec(TSX, [CLI, ...args], { cwd, env: { ...clean, ...env }, timeout: 120_000 });
      return { code: 0, out: stdout + stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  }

  it("backs up to the bucket and verifies it, and never prints the secret key (also when the server rejects it)", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "retort-s3-cli-"));
    const url = `sqlite:${join(cwd, "app.db")}`;
    await seed(project, url, 3);
    const env = { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: endpoint };
    const up = await retort(cwd, env, "backup", "--url", url, "--to", "s3://backups/cli");
    expect(up.out).toContain("uploaded to s3://backups/cli/app--");
    expect(up.code).toBe(0);
    expect(existsSync(join(cwd, "backups"))).toBe(false);
    const json = await retort(cwd, env, "--json", "backup", "verify", "latest", "--to", "s3://backups/cli", "--endpoint", endpoint);
    expect(json.out).toContain("\"ok\": true");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out.slice(0, json.out.lastIndexOf("}") + 1))).toMatchObject({ ok: true });
    // s3rver checks the key id, not V4 signatures: an unknown key id is the rejected credential here.
    const wrong = { ...env, AWS_ACCESS_KEY_ID: "UNKNOWNKEY" };
    const rejected = await retort(cwd, wrong, "backup", "--url", url, "--to", "s3://backups/cli");
    expect(rejected.code).toBe(1);
    expect(rejected.out).toContain("RETORT_STORAGE_FAILED: Could not upload");
    expect(rejected.out).toContain("InvalidAccessKeyId");
    expect(rejected.out).toContain("AWS_SECRET_ACCESS_KEY"); // the hint names the variable, never its value
    const rejectedJson = await retort(cwd, wrong, "--json", "backup", "prune", "--keep-daily", "1", "--to", "s3://backups/cli");
    expect(rejectedJson.out).toContain('"code": "RETORT_STORAGE_FAILED"');
    expect(rejectedJson.code).toBe(1);
    for (const run of [up, json, rejected, rejectedJson]) expect(run.out).not.toContain(SECRET);
  });
});

describe("uploads larger than one part", () => {
  it("go up in parts and come back byte for byte; one part's worth goes up whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-s3-parts-"));
    const mib = 1024 * 1024;
    // Three parts at S3's minimum part size: 5 MiB, 5 MiB and the rest.
    const large = join(dir, "large.dump");
    writeFileSync(large, randomBytes(12 * mib + 123));
    const small = join(dir, "small.dump");
    writeFileSync(small, randomBytes(5 * mib));
    const storage = await openStorage("s3://backups/parts", { endpoint, partSize: 5 * mib });
    await storage.put("large.dump", large);
    await storage.put("small.dump", small);
    expect((await storage.list()).sort()).toEqual(["large.dump", "small.dump"]);
    expect(created.filter((event) => event.includes("parts/"))).toEqual(["ObjectCreated:Post parts/large.dump", "ObjectCreated:Put parts/small.dump"]);
    const scratch = mkdtempSync(join(tmpdir(), "retort-s3-parts-back-"));
    expect(readFileSync(await storage.fetch("large.dump", scratch)).equals(readFileSync(large))).toBe(true);
    expect(readFileSync(await storage.fetch("small.dump", scratch)).equals(readFileSync(small))).toBe(true);
  });
});
