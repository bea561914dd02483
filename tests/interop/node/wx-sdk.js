// Tencent's cos-wx-sdk-v5 on its defaults, in Node under the wx shim, against a running auth
// server and its store, with temporary credentials from POST /v1/cos/credentials handed
// unchanged to the SDK's getAuthorization callback. The only option set besides
// getAuthorization is Domain (the credential's Endpoint), so requests reach the server.
//   1. uploadFile of a 100 KiB file: the SDK's postObject form upload (wx.uploadFile)
//   2. uploadFile of a 12 MiB file: a multipart upload (wx.request per part)
//      (both with a credential scoped to the one key the server named)
//   3. with a credential for the user's prefix: postObject, putObject, getBucket of the
//      prefix, and a put outside the prefix, which the store refuses
// Every object is read back with getObject and compared byte for byte.
//
// Environment:
//   SERVER     auth server base URL, e.g. http://127.0.0.1:8080 (required)
//   TOKEN      a JWT of the user (from /v1/auth/login or dev login), or
//   DEV_USER   log in with dev login as this user (the embedded server)
//   WORKDIR    scratch directory for the test files (default: a new temp dir)
//   COS_INTEROP_NODE_DIR  where node_modules with cos-wx-sdk-v5 is (default: this directory)
// Prints PROVED/FAILED lines; exits non-zero when anything failed.
'use strict';

const { install } = require('./wx-shim');
const { env, proved, failed, useNodeModules, workdir, randomFile, sizeText, MiB, NO_STS } = require('./support');

const SERVER = env('SERVER').replace(/\/$/, '');

const shim = install({});
useNodeModules();
const COS = require('cos-wx-sdk-v5');

/** wx.request as a promise of {statusCode, data}. */
const request = (o) =>
  new Promise((resolve, reject) => wx.request({ ...o, success: resolve, fail: (e) => reject(new Error(e.errMsg)) }));

class NoSts extends Error {}

const arrayBuffer = (buf) => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);

async function token() {
  if (process.env.TOKEN) return process.env.TOKEN;
  if (!process.env.DEV_USER) env('TOKEN');
  const res = await request({
    url: `${SERVER}/v1/auth/dev-login`,
    method: 'POST',
    data: { user: process.env.DEV_USER },
  });
  if (res.statusCode !== 200) throw new Error(`dev login: HTTP ${res.statusCode} ${JSON.stringify(res.data)}`);
  return res.data.access_token;
}

async function credential(jwt, body) {
  const res = await request({
    url: `${SERVER}/v1/cos/credentials`,
    method: 'POST',
    data: body,
    header: { Authorization: `JWT ${jwt}` },
  });
  if (res.statusCode === 404) throw new NoSts(NO_STS);
  if (res.statusCode !== 200)
    throw new Error(
      `POST /v1/cos/credentials ${JSON.stringify(body)}: HTTP ${res.statusCode} ${JSON.stringify(res.data)}`,
    );
  return res.data;
}

/** An SDK client on its defaults that signs with `cred` and sends to its Endpoint. */
function client(cred) {
  // cos-wx-sdk-v5 1.8.0 takes the scheme from Domain (getUrl in its src/base.js).
  const options = { getAuthorization: (_options, callback) => callback(cred) };
  if (cred.Endpoint) options.Domain = cred.Endpoint.replace(/\/$/, '');
  return new COS(options);
}

const call = (cos, method, params) =>
  new Promise((resolve, reject) =>
    cos[method](params, (err, data) =>
      err ? reject(Object.assign(new Error(describe(err)), { sdk: err })) : resolve(data),
    ),
  );

function describe(err) {
  const inner = err && err.error;
  return (
    (inner && (inner.Message || inner.message || inner.Code)) ||
    (err && (err.message || err.code)) ||
    JSON.stringify(err)
  );
}

/** Reads `key` back with getObject and compares it with `bytes`. */
async function readBack(cos, cred, key, bytes) {
  const got = await call(cos, 'getObject', {
    Bucket: cred.Bucket,
    Region: cred.Region,
    Key: key,
    DataType: 'arraybuffer',
  });
  const body = Buffer.from(got.Body);
  if (!body.equals(bytes)) throw new Error(`${key}: read back ${body.length} bytes, not the ${bytes.length} uploaded`);
}

/** What the SDK asked of the shim since call index `from`: form uploads, parts, listings. */
function traffic(from) {
  const calls = shim.calls.slice(from);
  return {
    forms: calls.filter((c) => c.api === 'uploadFile').length,
    parts: calls.filter((c) => c.api === 'request' && /[?&]partNumber=/.test(c.args.url)).length,
    initiated: calls.filter((c) => c.api === 'request' && c.args.method === 'POST' && /\?uploads$/.test(c.args.url))
      .length,
  };
}

async function keyScopedUpload(jwt, file, expect) {
  const cred = await credential(jwt, {
    scope: 'key',
    dir: 'wx-sdk',
    ext: 'jpg',
    size: file.bytes.length,
    content_type: 'image/jpeg',
  });
  const cos = client(cred);
  const from = shim.calls.length;
  let lastPercent = 0;
  await call(cos, 'uploadFile', {
    Bucket: cred.Bucket,
    Region: cred.Region,
    Key: cred.Key,
    FilePath: file.path,
    onProgress: (info) => {
      lastPercent = info.percent;
    },
  });
  const t = traffic(from);
  if (!expect(t))
    throw new Error(`${sizeText(file.bytes.length)} uploadFile took an unexpected path: ${JSON.stringify(t)}`);
  if (lastPercent !== 1)
    throw new Error(`${sizeText(file.bytes.length)} uploadFile: last progress ${lastPercent}, not 1`);
  await readBack(cos, cred, cred.Key, file.bytes);
  return { cred, t };
}

async function main() {
  const dir = workdir('wx-sdk');
  const jwt = await token();
  const small = randomFile(dir, 'small.jpg', 100 * 1024);
  const big = randomFile(dir, 'big.jpg', 12 * MiB);

  const s = await keyScopedUpload(jwt, small, (t) => t.forms === 1 && t.parts === 0);
  proved(
    `cos-wx-sdk-v5 default uploadFile, 100 KiB: one postObject form (wx.uploadFile) to ${s.cred.Key}, read back byte-equal`,
  );
  const b = await keyScopedUpload(jwt, big, (t) => t.forms === 0 && t.initiated === 1 && t.parts >= 12);
  proved(
    `cos-wx-sdk-v5 default uploadFile, 12 MiB: multipart upload in ${b.t.parts} parts to ${b.cred.Key}, read back byte-equal`,
  );

  const cred = await credential(jwt, { scope: 'prefix', dir: 'wx-sdk-prefix' });
  const cos = client(cred);
  const B = { Bucket: cred.Bucket, Region: cred.Region };
  const postKey = `${cred.Prefix}post object.jpg`;
  await call(cos, 'postObject', { ...B, Key: postKey, FilePath: small.path });
  await readBack(cos, cred, postKey, small.bytes);
  proved(`cos-wx-sdk-v5 postObject with a prefix credential: ${postKey}, read back byte-equal`);
  const putKey = `${cred.Prefix}put/图片.jpg`;
  const putBytes = small.bytes.subarray(0, 50 * 1024);
  await call(cos, 'putObject', { ...B, Key: putKey, Body: arrayBuffer(putBytes) });
  await readBack(cos, cred, putKey, putBytes);
  proved(`cos-wx-sdk-v5 putObject with a prefix credential: ${putKey}, read back byte-equal`);
  const listed = await call(cos, 'getBucket', { ...B, Prefix: cred.Prefix });
  const keys = (listed.Contents || []).map((c) => c.Key).sort();
  if (JSON.stringify(keys) !== JSON.stringify([postKey, putKey].sort()))
    throw new Error(`getBucket ${cred.Prefix}: listed ${JSON.stringify(keys)}`);
  proved(`cos-wx-sdk-v5 getBucket of the user's prefix ${cred.Prefix}: exactly the two objects just written`);

  const outside = `${cred.Prefix.split('/').slice(0, 1).join('/')}/someone-else/x.jpg`;
  const refused = await call(cos, 'putObject', {
    ...B,
    Key: outside,
    Body: arrayBuffer(putBytes.subarray(0, 16)),
  }).then(
    () => null,
    (err) => err,
  );
  if (!refused) throw new Error(`putObject outside the prefix (${outside}) was accepted`);
  proved(`cos-wx-sdk-v5 putObject outside the prefix (${outside}) refused: ${refused.message}`);
}

main()
  .catch((err) => failed(err instanceof NoSts ? err.message : `${(err && err.stack) || err}`))
  .finally(() => shim.close());
