// The 2017 flow, for apps migrating from it: the auth server signs a directory of the user's
// own prefix with a COS v4 multi-effect signature (`GET /v1/qc_cos/config?cos_path=<dir>`),
// and wx.uploadFile posts the image to the v4 JSON API with `op=upload` and the file in
// `filecontent`. The reply's `data.source_url` is the image's URL.
// v4 API reference: https://cloud.tencent.com/document/api/436/6066
const api = require('./api');
const { extOf } = require('./media');

// A directory signature is reused until this close to its `expires_at`.
const SIGN_MARGIN_SECS = 60;
const signs = new Map();

/** The v4 signature of `cosPath`, from the cache while it is valid. */
async function signFor(cosPath) {
  const cached = signs.get(cosPath);
  if (cached && cached.expires_at - SIGN_MARGIN_SECS > Date.now() / 1000) return cached;
  const fresh = await api.legacySign(cosPath);
  signs.set(cosPath, fresh);
  return fresh;
}

/** A new file name with the chosen file's extension. */
function newName(tempFilePath) {
  const ext = extOf(tempFilePath);
  const random = Math.random().toString(36).slice(2, 10);
  return `${Date.now()}-${random}${ext ? `.${ext}` : ''}`;
}

/**
 * Uploads one entry of wx.chooseMedia's `tempFiles` into `dir` of the user's directory.
 * `onProgress(percent)` gets 0..100. Resolves to `{key, url}`.
 */
async function uploadFile(file, { dir, onProgress } = {}) {
  const session = await api.ensureLogin();
  const cosPath = `${session.prefix}${dir}`; // e.g. /u/7/legacy
  const sign = await signFor(cosPath);
  const name = newName(file.tempFilePath);
  const res = await new Promise((resolve, reject) => {
    const task = wx.uploadFile({
      url: sign.upload_url + encodeURIComponent(name),
      filePath: file.tempFilePath,
      name: 'filecontent',
      header: { Authorization: sign.sign },
      formData: { op: 'upload' },
      success: resolve,
      fail: (err) => reject(new Error(err.errMsg)),
    });
    if (onProgress) task.onProgressUpdate((ev) => onProgress(ev.progress));
  });
  let reply;
  try {
    reply = JSON.parse(res.data);
  } catch (e) {
    throw new Error(`upload failed: HTTP ${res.statusCode}`);
  }
  if (res.statusCode !== 200 || reply.code !== 0) {
    // An expired or refused signature is not reused.
    signs.delete(cosPath);
    throw new Error(`upload refused: ${reply.message} (code ${reply.code})`);
  }
  return { key: `${sign.cos_path}${name}`, url: reply.data.source_url };
}

module.exports = { uploadFile };
