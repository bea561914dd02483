// Drives Tencent's cos-nodejs-sdk-v5 against the local store. Every request is signed by the
// auth server through the SDK's official getAuthorization callback; this script never holds
// a COS secret. Configuration comes from the environment (set by the Rust test that runs it):
//   SERVER   auth server base URL       TOKEN   JWT from dev login
//   DOMAIN   store host:port            BUCKET  full bucket name (name-appid)
//   REGION   region name                PREFIX  the user's key prefix (u/<id>/)
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
const DOMAIN = env('DOMAIN');
const BUCKET = env('BUCKET');
const REGION = env('REGION');
const PREFIX = env('PREFIX');
const WORKDIR = env('WORKDIR');

let signCalls = 0;
const cos = new COS({
  Domain: DOMAIN,
  Protocol: 'http:',
  // The official callback: forward the SDK's options to the auth server, hand back its answer.
  getAuthorization: (options, callback) => {
    signCalls += 1;
    fetch(`${SERVER}/v1/cos/v5/sign`, {
      method: 'POST',
      headers: { Authorization: `JWT ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(options),
    })
      .then(async (res) => {
        const body = await res.json();
        if (!res.ok) {
          console.error(`auth server refused to sign ${options.Method} ${options.Key}: ${res.status} ${JSON.stringify(body)}`);
          // Hand the SDK something it rejects, so the operation fails visibly.
          callback({ Authorization: `refused:${body.error_code}` });
          return;
        }
        callback({ Authorization: body.Authorization });
      })
      .catch((err) => callback({ Authorization: `error:${err.message}` }));
  },
});

const call = (method, params) =>
  new Promise((resolve, reject) => {
    cos[method]({ Bucket: BUCKET, Region: REGION, ...params }, (err, data) => (err ? reject(err) : resolve(data)));
  });

const sha1 = (buf) => crypto.createHash('sha1').update(buf).digest('hex');
const report = (check, extra) => console.log(JSON.stringify({ check, ok: true, ...extra }));

async function main() {
  // 1. putObject of a small image-like body.
  const small = crypto.randomBytes(64 * 1024);
  const smallKey = `${PREFIX}node/small 图片.jpg`;
  await call('putObject', { Key: smallKey, Body: small, ContentType: 'image/jpeg' });
  const got = await call('getObject', { Key: smallKey });
  if (sha1(got.Body) !== sha1(small)) throw new Error('small object read back differs');
  report('putObject+getObject', { key: smallKey, bytes: small.length });

  // 2. uploadFile with a slice size small enough to force a real multipart upload.
  const bigPath = path.join(WORKDIR, 'big.bin');
  const big = crypto.randomBytes(6 * 1024 * 1024 + 123);
  fs.writeFileSync(bigPath, big);
  const bigKey = `${PREFIX}node/big.bin`;
  await call('uploadFile', { Key: bigKey, FilePath: bigPath, SliceSize: 1024 * 1024, ChunkSize: 1024 * 1024 });
  const gotBig = await call('getObject', { Key: bigKey });
  if (sha1(gotBig.Body) !== sha1(big)) throw new Error('multipart object read back differs');
  report('uploadFile(multipart)+getObject', { key: bigKey, bytes: big.length });

  // 3. headObject reports the size.
  const head = await call('headObject', { Key: bigKey });
  const len = Number(head.headers['content-length']);
  if (len !== big.length) throw new Error(`headObject length ${len} != ${big.length}`);
  report('headObject', { key: bigKey, bytes: len });

  // 4. Outside the user's prefix the auth server refuses to sign, so the SDK call fails.
  let refused = false;
  try {
    await call('putObject', { Key: 'u/someone-else/x.jpg', Body: small });
  } catch (err) {
    refused = true;
  }
  if (!refused) throw new Error('upload outside the prefix was accepted');
  report('outside-prefix-refused', { key: 'u/someone-else/x.jpg' });

  report('done', { sign_calls: signCalls });
}

main().catch((err) => {
  console.log(JSON.stringify({ ok: false, error: String(err && (err.message || err.code || JSON.stringify(err))) }));
  process.exit(1);
});
