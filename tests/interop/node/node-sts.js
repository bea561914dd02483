// Drives Tencent's cos-nodejs-sdk-v5 on its defaults with STS temporary credentials from
// the auth server's POST /v1/cos/credentials: the SDK signs every request itself with the
// temporary key and sends x-cos-security-token; this script never holds a COS secret.
// Configuration comes from the environment (set by the Rust test that runs it):
//   SERVER   auth server base URL       TOKEN    JWT from dev login
//   WORKDIR  scratch directory for the files this script creates
// Prints one JSON line per check and exits non-zero on the first failure.
'use strict';
const COS = require('cos-nodejs-sdk-v5');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
};
const SERVER = env('SERVER');
const TOKEN = env('TOKEN');
const WORKDIR = env('WORKDIR');

let credentialCalls = 0;
async function credentials(body) {
  credentialCalls += 1;
  const res = await fetch(`${SERVER}/v1/cos/credentials`, {
    method: 'POST',
    headers: { Authorization: `JWT ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reply = await res.json();
  if (!res.ok) throw new Error(`credentials refused: ${res.status} ${JSON.stringify(reply)}`);
  return reply;
}

const sha1 = (buf) => crypto.createHash('sha1').update(buf).digest('hex');
const report = (check, extra) => console.log(JSON.stringify({ check, ok: true, ...extra }));

// The SDK's documented pattern: getAuthorization hands the credential reply over unchanged.
function sdkFor(reply) {
  const endpoint = new URL(reply.Endpoint);
  return new COS({
    Protocol: endpoint.protocol,
    Domain: endpoint.host,
    getAuthorization: (_options, callback) => callback(reply),
  });
}

const call = (cos, reply, method, params) =>
  new Promise((resolve, reject) => {
    cos[method]({ Bucket: reply.Bucket, Region: reply.Region, ...params }, (err, data) =>
      err ? reject(err) : resolve(data),
    );
  });

async function main() {
  // 1. A prefix credential for an album, used by one SDK instance for everything below.
  const album = await credentials({ scope: 'prefix', dir: 'node-sts' });
  const cos = sdkFor(album);

  // 2. Default uploadFile of a small file (putObject) and a 12 MiB one (multipart).
  const small = crypto.randomBytes(100 * 1024);
  const smallPath = path.join(WORKDIR, 'small.jpg');
  fs.writeFileSync(smallPath, small);
  const smallKey = `${album.Prefix}small 图片.jpg`;
  await call(cos, album, 'uploadFile', { Key: smallKey, FilePath: smallPath });
  const big = crypto.randomBytes(12 * 1024 * 1024);
  const bigPath = path.join(WORKDIR, 'big.jpg');
  fs.writeFileSync(bigPath, big);
  const bigKey = `${album.Prefix}big.jpg`;
  await call(cos, album, 'uploadFile', { Key: bigKey, FilePath: bigPath });
  for (const [key, bytes] of [
    [smallKey, small],
    [bigKey, big],
  ]) {
    const got = await call(cos, album, 'getObject', { Key: key });
    if (sha1(got.Body) !== sha1(bytes)) throw new Error(`${key} read back differs`);
  }
  report('uploadFile(put+multipart)+getObject', { keys: [smallKey, bigKey], bytes: [small.length, big.length] });

  // 3. getBucket of the credential's own prefix lists exactly what was written.
  const listed = await call(cos, album, 'getBucket', { Prefix: album.Prefix });
  const keys = listed.Contents.map((c) => c.Key).sort();
  const want = [bigKey, smallKey].sort();
  if (JSON.stringify(keys) !== JSON.stringify(want)) throw new Error(`listing ${JSON.stringify(keys)}`);
  report('getBucket(prefix)', { prefix: album.Prefix, keys });

  // 4. Outside the credential's prefix the store refuses; nothing is written.
  let refused = null;
  try {
    await call(cos, album, 'putObject', { Key: 'u/someone-else/x.jpg', Body: small });
  } catch (err) {
    refused = err;
  }
  if (!refused || refused.statusCode !== 403) throw new Error(`outside-prefix put: ${JSON.stringify(refused)}`);
  report('outside-prefix-refused', { status: refused.statusCode, code: refused.code });

  // 5. A key credential in the static form (SecretId/SecretKey/SecurityToken options).
  const one = await credentials({ scope: 'key', ext: 'png', size: 2048, content_type: 'image/png' });
  const endpoint = new URL(one.Endpoint);
  const fixed = new COS({
    Protocol: endpoint.protocol,
    Domain: endpoint.host,
    SecretId: one.TmpSecretId,
    SecretKey: one.TmpSecretKey,
    SecurityToken: one.SecurityToken,
  });
  const png = crypto.randomBytes(2048);
  await call(fixed, one, 'putObject', { Key: one.Key, Body: png, ContentType: 'image/png' });
  const gotPng = await call(fixed, one, 'getObject', { Key: one.Key });
  if (sha1(gotPng.Body) !== sha1(png)) throw new Error('key-scope object read back differs');
  let tooBig = null;
  try {
    await call(fixed, one, 'putObject', { Key: one.Key, Body: crypto.randomBytes(4096), ContentType: 'image/png' });
  } catch (err) {
    tooBig = err;
  }
  if (!tooBig || tooBig.statusCode !== 403) throw new Error(`over-size put: ${JSON.stringify(tooBig)}`);
  report('static-security-token', { key: one.Key, oversize_status: tooBig.statusCode });

  report('done', { credential_calls: credentialCalls });
}

main().catch((err) => {
  console.log(JSON.stringify({ ok: false, error: String(err && (err.message || err.code || JSON.stringify(err))) }));
  process.exit(1);
});
