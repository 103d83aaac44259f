#!/usr/bin/env node
// An independent signer and verifier of URI integrity signatures, version 1
// with the content digest extension (../SPEC.md), in plain Node with no
// dependencies: what a Node origin or a TypeScript worker would write. It is
// the second implementation the Go package is tested against, so it follows
// the spec, not the Go code.
//
// As a library:
//   import { signTarget, verifyTarget, verifyRequest, contentDigest } from "./sign.mjs";
//   const { target } = signTarget(key, "PUT", "/files/a", "x=1", { expiresAt, kid });
//   const code = verifyTarget([{ key, kid }], "PUT", target, nowSeconds); // null when valid
//   // A body bound by its Content-Digest (send the header with the request):
//   const digest = contentDigest(body);
//   const bound = signTarget(key, "PUT", "/session", "key=K", { expiresAt, contentDigest: digest });
//   const code2 = verifyRequest([{ key }], "PUT", bound.target, [digest], body, nowSeconds,
//     { requireContentDigest: ["PUT"] });
//
// As a command:
//   node sign.mjs --vectors FILE          check every case of a vectors file (uri-integrity-vectors.json
//                                         or content-digest-vectors.json); exit 1 on a mismatch
//   node sign.mjs --jsonl                 one JSON case per stdin line in, one JSON answer per line out
//   node sign.mjs --key HEX --method PUT --target '/files/a?x=1' [--lifetime 60] [--kid K]
//                                         print the signed target
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isUtf8 } from "node:buffer";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HEADER = "URI-INTEGRITY-V1";
export const DEFAULT_LEEWAY = 5; // seconds
export const DEFAULT_MAX_LIFETIME = 7 * 24 * 3600; // seconds

/** The reason a URL fails, as the spec's problem code. */
export class SignatureError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const malformed = (why) => new SignatureError("signature_malformed", why);

// Raw path and query text: allowed characters and well-formed escapes only.
const RAW_TEXT = /^(?:[A-Za-z0-9\-._~!$&'()*+,=:@/]|%[0-9A-Fa-f]{2})*$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const METHOD = /^[A-Za-z]{1,20}$/;
const EXPIRES_AT = /^[1-9][0-9]{0,9}$/;
const SIG = /^[0-9A-Fa-f]{64}$/;
const KID = /^[A-Za-z0-9\-_.]{1,64}$/;
// The content digest extension: the one algorithm, and the one accepted form
// of a Content-Digest field value (one member, no parameters, no spaces).
const DIGEST_ALG = "sha-256";
const CONTENT_DIGEST = /^sha-256=:([A-Za-z0-9+/]{43}=):$/;

/** The Content-Digest field value of a body (a Buffer or a string, hashed as UTF-8). */
export const contentDigest = (body) => `${DIGEST_ALG}=:${createHash("sha256").update(body).digest("base64")}:`;

/**
 * Decodes a Content-Digest field value into its 32 digest bytes, or returns
 * null when it is not exactly one sha-256 member in canonical form (base64
 * with padding and zero trailing bits: re-encoding gives the same text).
 */
export function parseContentDigest(value) {
  const m = CONTENT_DIGEST.exec(value);
  if (!m) return null;
  const bytes = Buffer.from(m[1], "base64");
  return bytes.length === 32 && bytes.toString("base64") === m[1] ? bytes : null;
}

/** Percent-decodes raw text (already checked against RAW_TEXT) to bytes. */
function decode(raw, plusIsSpace) {
  const out = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "%") {
      out.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === "+" && plusIsSpace) {
      out.push(0x20);
    } else {
      out.push(c.charCodeAt(0));
    }
  }
  const bytes = Buffer.from(out);
  if (!isUtf8(bytes)) throw malformed("decoded text is not UTF-8");
  return bytes;
}

/** The canonical encoding of bytes: unreserved as is, the rest %XX upper-case. */
export function encode(bytes) {
  let s = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    s += UNRESERVED.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return s;
}

/** Encodes a JavaScript string (as UTF-8) canonically, for building URLs. */
export const encodeText = (text) => encode(Buffer.from(text, "utf8"));

/**
 * Checks method, path and query against the syntax of the spec and returns
 * the string to sign and the raw values of sig, expires_at and kid
 * (undefined when absent). Throws a SignatureError when malformed.
 */
export function canonicalize(method, path, query) {
  if (!METHOD.test(method)) throw malformed("method");
  if (!path.startsWith("/")) throw malformed("not origin-form");
  if (!RAW_TEXT.test(path) || !RAW_TEXT.test(query)) throw malformed("character or escape");

  const segments = path.slice(1).split("/");
  const canonicalSegments = segments.map((seg, i) => {
    if (seg === "" && i < segments.length - 1) throw malformed("empty segment");
    const bytes = decode(seg, false);
    const text = bytes.toString("latin1");
    if (text === "." || text === "..") throw malformed("dot segment");
    return encode(bytes);
  });

  const seen = new Set();
  const raw = {};
  const pairs = [];
  for (const piece of query.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? "" : piece.slice(eq + 1);
    const name = encode(decode(rawName, true));
    const value = encode(decode(rawValue, true));
    if (seen.has(name)) throw malformed("repeated name");
    seen.add(name);
    if (name === "sig" || name === "expires_at" || name === "kid" || name === "content_digest") raw[name] = rawValue;
    if (name !== "sig") pairs.push([name, value]);
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // names are ASCII: code units are bytes

  const stringToSign = [
    HEADER,
    method.toUpperCase(),
    "/" + canonicalSegments.join("/"),
    pairs.map(([n, v]) => `${n}=${v}`).join("&"),
  ].join("\n");
  return { stringToSign, sig: raw.sig, expiresAt: raw.expires_at, kid: raw.kid, contentDigest: raw.content_digest };
}

export const hmacHex = (key, text) => createHmac("sha256", key).update(text, "utf8").digest("hex");

/**
 * Signs an origin-form path and query: appends expires_at, kid (when given),
 * content_digest=sha-256 (when contentDigest, the Content-Digest field value
 * the request will carry, is given) and sig to the query as written and
 * returns the signed target with the string that was signed.
 */
export function signTarget(key, method, path, query, { expiresAt, kid, contentDigest } = {}) {
  if (key.length < 32) throw new Error("key shorter than 32 bytes");
  if (!EXPIRES_AT.test(String(expiresAt))) throw new Error("expires_at out of range");
  if (kid !== undefined && !KID.test(kid)) throw new Error("bad kid");
  if (contentDigest !== undefined && parseContentDigest(contentDigest) === null) throw new Error("bad Content-Digest");
  const sep = query === "" || query.endsWith("&") ? "" : "&";
  const signedQuery = `${query}${sep}expires_at=${expiresAt}` + (kid !== undefined ? `&kid=${kid}` : "") +
    (contentDigest !== undefined ? `&content_digest=${DIGEST_ALG}` : "");
  const c = canonicalize(method, path, signedQuery);
  if (c.sig !== undefined) throw malformed("already has a sig");
  if (c.kid !== undefined && kid === undefined) throw malformed("has a kid of its own");
  if (c.contentDigest !== undefined && contentDigest === undefined) throw malformed("has a content_digest of its own");
  const stringToSign = contentDigest === undefined ? c.stringToSign : `${c.stringToSign}\n${contentDigest}`;
  const sig = hmacHex(key, stringToSign);
  return { target: `${path}?${signedQuery}&sig=${sig}`, stringToSign, sig };
}

/**
 * Verifies a request-target as received. keys: [{ key: Buffer, kid?: string }];
 * unnamed keys are tried in order for a URL without kid. contentDigest is
 * the list of the request's Content-Digest field lines (read only when the
 * URL has content_digest); requireContentDigest lists the methods that must
 * carry a signed one. Returns null when valid, else the problem code. It
 * does not read a body: verifyRequest does.
 */
export function verifyTarget(keys, method, target, now, options = {}) {
  return verify(keys, method, target, now, options).code;
}

/**
 * verifyTarget, then, when the signature covers a Content-Digest, the body
 * (a Buffer or a string, hashed as UTF-8) against it: content_digest_mismatch
 * when it differs. A server that streams the body does this check at the
 * body's end, before acting on it.
 */
export function verifyRequest(keys, method, target, contentDigestLines, body, now, options = {}) {
  const { code, digest } = verify(keys, method, target, now, { ...options, contentDigest: contentDigestLines });
  if (code !== null || digest === undefined) return code;
  const got = createHash("sha256").update(body).digest();
  return timingSafeEqual(got, digest) ? null : "content_digest_mismatch";
}

// verify returns { code } (null when valid) and, when the signature covers
// a Content-Digest, its 32 bytes as digest.
function verify(keys, method, target, now,
  { leeway = DEFAULT_LEEWAY, maxLifetime = DEFAULT_MAX_LIFETIME, contentDigest = [], requireContentDigest = [] } = {}) {
  const fail = (code) => ({ code });
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? "" : target.slice(q + 1);
  let c;
  try {
    c = canonicalize(method, path, query);
  } catch (e) {
    if (e instanceof SignatureError) return fail(e.code);
    throw e;
  }
  if (c.sig === undefined || c.expiresAt === undefined) return fail("signature_missing");
  if (!SIG.test(c.sig) || !EXPIRES_AT.test(c.expiresAt)) return fail("signature_malformed");
  if (c.kid !== undefined && !KID.test(c.kid)) return fail("signature_malformed");
  if (c.contentDigest !== undefined && c.contentDigest !== DIGEST_ALG) return fail("signature_malformed");
  const exp = Number(c.expiresAt);
  if (now > exp + leeway) return fail("signature_expired");
  if (exp - now > maxLifetime) return fail("signature_lifetime_too_long");
  let stringToSign = c.stringToSign;
  let digest;
  if (c.contentDigest !== undefined) {
    if (contentDigest.length === 0) return fail("content_digest_missing");
    digest = contentDigest.length === 1 ? parseContentDigest(contentDigest[0]) : null;
    if (digest === null) return fail("content_digest_malformed");
    stringToSign += "\n" + contentDigest[0];
  }
  const candidates = c.kid !== undefined ? keys.filter((k) => k.kid === c.kid) : keys.filter((k) => !k.kid);
  const given = Buffer.from(c.sig, "hex");
  for (const { key } of candidates) {
    const want = createHmac("sha256", key).update(stringToSign, "utf8").digest();
    if (!timingSafeEqual(want, given)) continue;
    const required = requireContentDigest.map((m) => m.toUpperCase()).includes(method.toUpperCase());
    if (digest === undefined && required) return fail("content_digest_missing");
    return { code: null, digest };
  }
  return fail("signature_mismatch");
}

const keysOf = (list) => list.map((k) => ({ kid: k.kid, key: Buffer.from(k.key_hex, "hex") }));

/** Checks every case of a vectors file; returns the list of failures. */
export function checkVectors(doc) {
  return doc.requests !== undefined ? checkDigestVectors(doc) : checkURIVectors(doc);
}

/** The number of cases in a vectors file. */
export const caseCount = (doc) => doc.requests !== undefined
  ? doc.digests.length + doc.vectors.length + doc.requests.length
  : doc.vectors.length + doc.valid_targets.length + doc.invalid.length;

function checkDigestVectors(doc) {
  const failures = [];
  for (const d of doc.digests) {
    const got = contentDigest(Buffer.from(d.body, "utf8"));
    if (got !== d.content_digest) failures.push(`${d.name}: Content-Digest ${got}`);
  }
  for (const v of doc.vectors) {
    const key = Buffer.from(v.key_hex, "hex");
    const body = Buffer.from(v.body, "utf8");
    if (contentDigest(body) !== v.content_digest) failures.push(`${v.name}: Content-Digest ${contentDigest(body)}`);
    const c = canonicalize(v.method, v.path, v.query);
    const sts = `${c.stringToSign}\n${v.content_digest}`;
    if (sts !== v.string_to_sign) failures.push(`${v.name}: string to sign ${JSON.stringify(sts)}`);
    const sig = hmacHex(key, sts);
    if (sig !== v.sig) failures.push(`${v.name}: sig ${sig}`);
    const code = verifyRequest([{ key, kid: v.kid }], v.method, `${v.path}?${v.query}&sig=${v.sig}`, [v.content_digest], body,
      v.now, { requireContentDigest: [v.method] });
    if (code !== null) failures.push(`${v.name}: verify ${code}`);
  }
  for (const t of doc.requests) {
    const code = verifyRequest(keysOf(t.keys), t.method, t.target, t.content_digest, Buffer.from(t.body, "utf8"), t.now,
      { requireContentDigest: t.require_content_digest });
    if (code !== t.code) failures.push(`${t.name}: got ${code}, want ${t.code}`);
  }
  return failures;
}

function checkURIVectors(doc) {
  const failures = [];
  for (const v of doc.vectors) {
    const key = Buffer.from(v.key_hex, "hex");
    const c = canonicalize(v.method, v.path, v.query);
    if (c.stringToSign !== v.string_to_sign) failures.push(`${v.name}: string to sign ${JSON.stringify(c.stringToSign)}`);
    const sig = hmacHex(key, c.stringToSign);
    if (sig !== v.sig) failures.push(`${v.name}: sig ${sig}`);
    const code = verifyTarget([{ key, kid: v.kid }], v.method, `${v.path}?${v.query}&sig=${v.sig}`, v.now);
    if (code !== null) failures.push(`${v.name}: verify ${code}`);
  }
  for (const t of [...doc.valid_targets, ...doc.invalid]) {
    const code = verifyTarget(keysOf(t.keys), t.method, t.target, t.now);
    if (code !== t.code) failures.push(`${t.name}: got ${code}, want ${t.code}`);
  }
  return failures;
}

/**
 * One JSON case in, one JSON answer out:
 *   in:  { key_hex, kid?, method, path, query, expires_at, content_digest?, now?, verify_target? }
 *   out: { string_to_sign, sig, target } or { error: code }, plus
 *        verify_code (null when valid) when verify_target was given; with
 *        content_digest, the URL is signed for it and verified with it.
 */
export function answer(c) {
  const key = Buffer.from(c.key_hex, "hex");
  const contentDigest = c.content_digest || undefined;
  let out;
  try {
    const s = signTarget(key, c.method, c.path, c.query, { expiresAt: c.expires_at, kid: c.kid || undefined, contentDigest });
    out = { string_to_sign: s.stringToSign, sig: s.sig, target: s.target };
  } catch (e) {
    if (!(e instanceof SignatureError)) throw e;
    out = { error: e.code };
  }
  if (c.verify_target !== undefined) {
    out.verify_code = verifyTarget([{ key, kid: c.kid || undefined }], c.method, c.verify_target, c.now,
      { contentDigest: contentDigest === undefined ? [] : [contentDigest] });
  }
  return out;
}

function flag(args, name) {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

async function main(args) {
  if (args.includes("--vectors")) {
    const file = flag(args, "--vectors");
    const doc = JSON.parse(readFileSync(file, "utf8"));
    const failures = checkVectors(doc);
    for (const f of failures) console.error("FAIL", f);
    const n = caseCount(doc);
    console.log(`${n - failures.length}/${n} cases pass (${file})`);
    return failures.length === 0 ? 0 : 1;
  }
  if (args.includes("--jsonl")) {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() !== "") process.stdout.write(JSON.stringify(answer(JSON.parse(line))) + "\n");
    }
    return 0;
  }
  const keyHex = flag(args, "--key");
  const target = flag(args, "--target");
  if (!keyHex || !target) {
    console.error("usage: sign.mjs --vectors FILE | --jsonl | --key HEX --method M --target /path?query [--lifetime S] [--kid K]");
    return 2;
  }
  const q = target.indexOf("?");
  const expiresAt = Math.floor(Date.now() / 1000) + Number(flag(args, "--lifetime") ?? 60);
  const { target: signed } = signTarget(Buffer.from(keyHex, "hex"), flag(args, "--method") ?? "GET",
    q < 0 ? target : target.slice(0, q), q < 0 ? "" : target.slice(q + 1), { expiresAt, kid: flag(args, "--kid") });
  console.log(signed);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
