// The auth server as the mini-program sees it: login (wx.login code -> JWT), the stored
// session, STS credentials for cos-wx-sdk-v5 and the 2017-style v4 signature.
// Routes and bodies: crates/shared/src/routes.rs and crates/shared/src/wire.rs.
const config = require('../config');

const SESSION_KEY = 'cos-upload-kit.session';
// A session this close to its expiry is renewed before use.
const RENEW_MARGIN_SECS = 60;

/** An error the app can show: the server's message, its status and `error_code`. */
class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const nowSecs = () => Math.floor(Date.now() / 1000);

/** One call to the auth server; resolves to the JSON reply of a 2xx, rejects with ApiError. */
function request({ path, method = 'GET', data, token }) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.serverUrl + path,
      method,
      data,
      header: token ? { Authorization: `JWT ${token}` } : {},
      success(res) {
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve(res.data);
          return;
        }
        const body = res.data && typeof res.data === 'object' ? res.data : {};
        reject(
          new ApiError(body.message || `${method} ${path}: HTTP ${res.statusCode}`, res.statusCode, body.error_code),
        );
      },
      fail(err) {
        reject(new ApiError(`cannot reach ${config.serverUrl}: ${err.errMsg}`, 0, 'network'));
      },
    });
  });
}

function wxLoginCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => resolve(res.code),
      fail: (err) => reject(new ApiError(`wx.login failed: ${err.errMsg}`, 0, 'wx_login')),
    });
  });
}

/** The stored session `{token, userId, prefix, expiresAt}`, or null when absent or expiring. */
function session() {
  const s = wx.getStorageSync(SESSION_KEY);
  return s && s.expiresAt - RENEW_MARGIN_SECS > nowSecs() ? s : null;
}

let loggingIn = null;

/**
 * Logs in and stores the session. A wx.login code is single use, so concurrent callers share
 * one login.
 */
function login() {
  if (!loggingIn) {
    loggingIn = (async () => {
      const reply = config.devUser
        ? await request({ path: '/v1/auth/dev-login', method: 'POST', data: { user: config.devUser } })
        : await request({ path: '/v1/auth/login', method: 'POST', data: { code: await wxLoginCode() } });
      const s = {
        token: reply.access_token,
        userId: reply.user_id,
        prefix: reply.upload_prefix, // e.g. "/u/7/"
        expiresAt: nowSecs() + reply.expires_in,
      };
      wx.setStorageSync(SESSION_KEY, s);
      return s;
    })();
    const clear = () => {
      loggingIn = null;
    };
    loggingIn.then(clear, clear);
  }
  return loggingIn;
}

/** The stored session, or a new login. */
function ensureLogin() {
  const s = session();
  return s ? Promise.resolve(s) : login();
}

/** A call with the session's token; a 401 (token expired or revoked) logs in again once. */
async function authorized(req) {
  const s = await ensureLogin();
  try {
    return await request({ ...req, token: s.token });
  } catch (e) {
    if (e.status !== 401) throw e;
    wx.removeStorageSync(SESSION_KEY);
    const again = await login();
    return request({ ...req, token: again.token });
  }
}

/**
 * `POST /v1/cos/credentials`: temporary COS credentials, shaped for cos-wx-sdk-v5's
 * getAuthorization callback, plus Bucket, Region, Endpoint and the Key (scope "key": one new
 * object the server named) or Prefix (scope "prefix").
 */
function credentials(body) {
  return authorized({ path: '/v1/cos/credentials', method: 'POST', data: body });
}

/** `GET /v1/qc_cos/config?cos_path=<dir>`: `{sign, expires_at, cos_path, upload_url}`. */
function legacySign(cosPath) {
  return authorized({ path: '/v1/qc_cos/config', data: { cos_path: cosPath } });
}

module.exports = { ApiError, login, ensureLogin, session, credentials, legacySign };
