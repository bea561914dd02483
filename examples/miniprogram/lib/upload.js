// Uploads a chosen image with cos-wx-sdk-v5 and temporary credentials from the auth server.
//
// For each file the app asks `POST /v1/cos/credentials` for a credential scoped to one new
// key (the server names it: u/<id>/<dir>/<date>/<random>.<ext>), then lets the SDK's
// uploadFile do the rest: a form upload (postObject) up to 1 MiB, a multipart upload above.
const COS = require('cos-wx-sdk-v5');
const api = require('./api');
const { extOf, contentTypeOf } = require('./media');

// How often the SDK reports progress (its default is once a second).
const PROGRESS_INTERVAL_MS = 200;

/**
 * Where the SDK sends requests. With no Endpoint (real COS) it builds
 * `https://<bucket>.cos.<region>.myqcloud.com` itself. cos-wx-sdk-v5 1.8.0 takes the scheme
 * from `Domain` and ignores `Protocol` (getUrl in its src/base.js), so the Endpoint goes in
 * whole, e.g. `http://127.0.0.1:8080` for the embedded server.
 */
function endpointOptions(endpoint) {
  const m = /^(https?:)\/\/[^/]+/.exec(endpoint || '');
  return m ? { Domain: m[0], Protocol: m[1] } : {};
}

/** Percent-encodes each segment of a key for a URL. */
function keyPath(key) {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** The object's public URL (what an `<image>` shows). */
function objectUrl(cred) {
  const base = endpointOptions(cred.Endpoint).Domain || `https://${cred.Bucket}.cos.${cred.Region}.myqcloud.com`;
  return `${base}/${keyPath(cred.Key)}`;
}

/** The message of an SDK error (`{message}`, `{error: {Message}}` or a string). */
function sdkError(err) {
  const inner = err && err.error;
  const msg = (inner && (inner.Message || inner.message)) || (err && err.message) || inner || err;
  return new Error(typeof msg === 'string' ? msg : JSON.stringify(msg));
}

/**
 * Uploads one entry of wx.chooseMedia's `tempFiles` into `dir` of the user's directory.
 * `onProgress(percent)` gets 0..100. Resolves to `{key, url}`.
 */
async function uploadFile(file, { dir, onProgress } = {}) {
  const ext = extOf(file.tempFilePath);
  const cred = await api.credentials({
    scope: 'key',
    dir,
    ext,
    size: file.size,
    content_type: contentTypeOf(ext),
  });
  // One SDK client per file: its credential is good for this file's key only, and a client
  // reuses the credential it was given for every later request.
  const cos = new COS({
    ...endpointOptions(cred.Endpoint),
    ProgressInterval: PROGRESS_INTERVAL_MS,
    getAuthorization: (_options, callback) => callback(cred),
  });
  await new Promise((resolve, reject) => {
    cos.uploadFile(
      {
        Bucket: cred.Bucket,
        Region: cred.Region,
        Key: cred.Key,
        FilePath: file.tempFilePath,
        onProgress: (info) => onProgress && onProgress(Math.floor(info.percent * 100)),
      },
      (err, data) => (err ? reject(sdkError(err)) : resolve(data)),
    );
  });
  return { key: cred.Key, url: objectUrl(cred) };
}

module.exports = { uploadFile, objectUrl, endpointOptions };
