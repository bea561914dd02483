// What the wx interop scripts share: configuration from the environment, PROVED/FAILED lines,
// module resolution for code outside this directory, test files and reading objects back.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');

/** A required environment variable (exit 2 with a message when it is missing). */
function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name} (see the top of ${path.basename(process.argv[1])})`);
    process.exit(2);
  }
  return v;
}

function proved(what) {
  console.log(`PROVED: ${what}`);
}

/** Records a failure: sets process.exitCode, so the script exits non-zero when it ends. */
function failed(what) {
  console.log(`FAILED: ${what}`);
  process.exitCode = 1;
}

/**
 * Lets code outside this directory (examples/miniprogram) `require('cos-wx-sdk-v5')` the way
 * a mini-program does after "Build npm": from this directory's node_modules (or
 * $COS_INTEROP_NODE_DIR/node_modules), through NODE_PATH, without copying the package.
 */
function useNodeModules() {
  const base = process.env.COS_INTEROP_NODE_DIR || __dirname;
  const dir = path.join(base, 'node_modules');
  const paths = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean);
  if (!paths.includes(dir)) {
    process.env.NODE_PATH = [dir, ...paths].join(path.delimiter);
    // Node reads NODE_PATH once, at startup; Module._initPaths (undocumented, the function
    // that does that) reads it again.
    Module._initPaths();
  }
  return dir;
}

/** A scratch directory: $WORKDIR, or a new temp dir. */
function workdir(label) {
  if (process.env.WORKDIR) {
    fs.mkdirSync(process.env.WORKDIR, { recursive: true });
    return process.env.WORKDIR;
  }
  return fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
}

/** Writes `size` random bytes to `dir/name`; returns {path, bytes}. */
function randomFile(dir, name, size) {
  const bytes = crypto.randomBytes(size);
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return { path: p, bytes };
}

/** GETs `url` with a client of its own (not the shim) and returns the body. */
async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

const MiB = 1024 * 1024;
const sizeText = (n) => (n >= MiB ? `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB` : `${Math.round(n / 1024)} KiB`);

/** What the scripts say when the server answers `POST /v1/cos/credentials` with 404. */
const NO_STS =
  'the server has no POST /v1/cos/credentials (404 "no such endpoint"): STS temporary credentials are not available on this server yet';

module.exports = { env, proved, failed, useNodeModules, workdir, randomFile, fetchBytes, sizeText, MiB, NO_STS };
