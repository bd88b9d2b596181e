/**
 * Where backups are kept: a local folder, or a bucket prefix on any S3-compatible object store
 * (AWS S3, Cloudflare R2, Backblaze B2, MinIO…) through `@aws-sdk/client-s3`, an optional peer
 * dependency loaded only when an s3:// location is used.
 *
 * Credentials come from the SDK's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 * profiles, roles) and are never read, stored or printed here. The endpoint is --endpoint, else
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; a custom endpoint uses path-style addressing
 * (bucket in the path), which every S3-compatible server accepts.
 */
import { copyFileSync, createReadStream, createWriteStream, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";
import { makeDirectory } from "../env/make-directory.js";

export interface Storage {
  /** For messages: the folder, or s3://bucket/prefix. */
  readonly where: string;
  readonly remote: boolean;
  /** Where `name` is (or would be) kept: a path, or s3://bucket/prefix/name. */
  address(name: string): string;
  /** Names of the files directly at this location. */
  list(): Promise<string[]>;
  /** Put a local file here under `name`. */
  put(name: string, localFile: string): Promise<void>;
  /** A local path holding `name`: the file itself for a folder, a download into `scratchDir` for a bucket. */
  fetch(name: string, scratchDir: string): Promise<string>;
  remove(name: string): Promise<void>;
}

export interface StorageOptions {
  /** S3 endpoint URL (R2, B2, MinIO, a test server). */
  endpoint?: string;
  /** Bytes per part of a multipart upload, used for files larger than one part (default 64 MiB; S3's minimum is 5 MiB). */
  partSize?: number;
}

/**
 * One PutObject takes at most 5 GiB, so a larger backup goes up in parts. 64 MiB parts reach
 * 640 GiB within S3's 10,000 parts; beyond that the part grows so the count stays within it.
 */
const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
const MAX_PARTS = 10_000;

export function isRemoteLocation(location: string): boolean {
  return location.startsWith("s3://");
}

export async function openStorage(location: string, options: StorageOptions = {}): Promise<Storage> {
  if (isRemoteLocation(location)) return s3Storage(location, options);
  return localStorage(resolve(location));
}

function localStorage(dir: string): Storage {
  return {
    where: dir,
    remote: false,
    address: (name) => join(dir, name),
    async list() {
      if (!existsSync(dir)) return [];
      return readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name);
    },
    async put(name, localFile) {
      makeDirectory(dir);
      const target = join(dir, name);
      if (resolve(localFile) !== target) copyFileSync(localFile, target);
    },
    async fetch(name) {
      const file = join(dir, name);
      if (!existsSync(file)) throw notFound(name, dir);
      return file;
    },
    async remove(name) {
      rmSync(join(dir, name), { force: true });
    },
  };
}

function notFound(name: string, where: string): RetortError {
  return new RetortError("RETORT_BACKUP_NOT_FOUND", `No file ${name} in ${where}.`, {
    hint: "List the backups there (ls, or your object store's console) and pass one of their names, or `latest`.",
    details: { name, where },
  });
}

/** s3://bucket/some/prefix → bucket and "some/prefix/" (empty for the bucket's root). */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!match || !match[1]) {
    throw new RetortError("RETORT_USAGE", `"${location}" is not an s3:// location.`, { hint: "Write it as s3://bucket or s3://bucket/prefix." });
  }
  const prefix = match[2]!.replace(/\/+$/, "");
  return { bucket: match[1], prefix: prefix ? `${prefix}/` : "" };
}

type S3Module = typeof import("@aws-sdk/client-s3");

async function loadS3(): Promise<S3Module> {
  try {
    return await import("@aws-sdk/client-s3");
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const missing = (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && message.includes("@aws-sdk/client-s3");
    if (!missing) throw error;
    throw new RetortError("RETORT_DRIVER_MISSING", 'An s3:// location needs the "@aws-sdk/client-s3" package, which is not installed.', {
      hint: "Run `npm install @aws-sdk/client-s3` in your project (it is an optional peer dependency of retort-db).",
      details: { package: "@aws-sdk/client-s3" },
    });
  }
}

/** An SDK failure as a RetortError: what, where, the service's own words; never a credential. */
function storageFailure(action: string, where: string, error: unknown): RetortError {
  const e = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const credentials = /credential/i.test(`${e.name} ${e.message}`) || e.name === "InvalidAccessKeyId" || e.name === "SignatureDoesNotMatch" || status === 403;
  return new RetortError("RETORT_STORAGE_FAILED", `Could not ${action} ${where}: ${e.name ?? "Error"}${e.message ? `: ${e.message}` : ""}${status ? ` (HTTP ${status})` : ""}.`, {
    hint: credentials
      ? "Check the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or your AWS profile), AWS_REGION, and that they may use this bucket."
      : "Check the bucket name, the endpoint (--endpoint or AWS_ENDPOINT_URL) and that the object store is reachable.",
    details: { action, where, error: e.name, ...(status ? { status } : {}) },
  });
}

async function s3Storage(location: string, options: StorageOptions): Promise<Storage> {
  const { bucket, prefix } = parseS3Location(location);
  const sdk = await loadS3();
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client = new sdk.S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Checksums only where the API requires them: several S3-compatible servers reject the newer default trailers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const where = `s3://${bucket}/${prefix}${endpoint ? ` (endpoint ${redactUrl(endpoint)})` : ""}`;
  const call = async <T>(action: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof RetortError) throw error;
      throw storageFailure(action, where, error);
    }
  };
  return {
    where,
    remote: true,
    address: (name) => `s3://${bucket}/${prefix}${name}`,
    list: () =>
      call("list", async () => {
        const names: string[] = [];
        let token: string | undefined;
        do {
          const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: "/", ...(token ? { ContinuationToken: token } : {}) }));
          for (const object of page.Contents ?? []) if (object.Key) names.push(object.Key.slice(prefix.length));
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return names;
      }),
    put: (name, localFile) =>
      call(`upload ${name} to`, async () => {
        const size = statSync(localFile).size;
        const partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, Math.ceil(size / MAX_PARTS));
        const key = prefix + name;
        if (size <= partSize) {
          await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(localFile), ContentLength: size }));
          return;
        }
        const { UploadId } = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        try {
          const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
          for (let start = 0, number = 1; start < size; start += partSize, number++) {
            const length = Math.min(partSize, size - start);
            const body = createReadStream(localFile, { start, end: start + length - 1 });
            const { ETag } = await client.send(new sdk.UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: number, Body: body, ContentLength: length }));
            parts.push({ ETag, PartNumber: number });
          }
          await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
        } catch (error) {
          // Parts left behind are stored (and billed) until aborted; the object never appears.
          await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
          throw error;
        }
      }),
    fetch: (name, scratchDir) =>
      call(`download ${name} from`, async () => {
        let object;
        try {
          object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: prefix + name }));
        } catch (error) {
          if ((error as { name?: string }).name === "NoSuchKey") throw notFound(name, where);
          throw error;
        }
        const file = join(scratchDir, basename(name));
        await pipeline(object.Body as Readable, createWriteStream(file));
        return file;
      }),
    remove: (name) =>
      call(`delete ${name} from`, async () => {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: prefix + name }));
      }),
  };
}
