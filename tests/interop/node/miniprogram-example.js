// Runs examples/miniprogram in Node under the wx shim against a running auth server (the Rust
// test tests/it/examples.rs starts one in-process; by hand: `cargo run --release -p
// auth-server`). It drives the app and its pages as the framework would: the app logs in,
// the index page chooses a 100 KiB and a 12 MiB image (fixtures) and uploads them with
// cos-wx-sdk-v5 through POST /v1/cos/credentials, the legacy page uploads one with the 2017
// flow; every uploaded object is fetched back and compared byte for byte.
//
// Environment:
//   SERVER         auth server base URL, e.g. http://127.0.0.1:8080 (required)
//   WX_LOGIN_CODE  the code wx.login returns; the server checks it with WeChat (the test
//                  harness's fake WeChat accepts `test-<user>`), or
//   DEV_USER       log in with dev login as this user instead (the embedded server by hand)
//   WORKDIR        scratch directory for the fixtures (default: a new temp dir)
//   UPLINK_BYTES_PER_SECOND  the shim's uplink speed (default 8 MiB/s, so the 12 MiB upload
//                  takes long enough to report progress several times)
//   COS_INTEROP_NODE_DIR     where node_modules with cos-wx-sdk-v5 is (default: this directory)
// Prints PROVED/FAILED lines; exits non-zero when anything failed.
'use strict';

const path = require('node:path');
const { install } = require('./wx-shim');
const { loadApp } = require('./miniprogram-runtime');
const {
  env,
  proved,
  failed,
  useNodeModules,
  workdir,
  randomFile,
  fetchBytes,
  sizeText,
  MiB,
  NO_STS,
} = require('./support');

const EXAMPLE = path.resolve(__dirname, '../../../examples/miniprogram');

const SERVER = env('SERVER').replace(/\/$/, '');
const LOGIN_CODE = process.env.WX_LOGIN_CODE;
const DEV_USER = process.env.DEV_USER;
if (!LOGIN_CODE && !DEV_USER) env('WX_LOGIN_CODE');

/** The progress values the page showed for file `i` (setData patches of `files[i].progress` alone). */
function progressShown(page, i) {
  const key = `files[${i}].progress`;
  return page.updates.filter((u) => Object.keys(u).length === 1 && key in u).map((u) => u[key]);
}

/** Checks the page's file entries: uploaded, fetched back equal, progress shown. */
async function checkUploads(label, page, fixtures, minEvents) {
  let ok = true;
  for (const [i, fx] of fixtures.entries()) {
    const entry = page.data.files[i];
    if (!entry || entry.error || !entry.url) {
      const why = entry ? entry.error || 'no URL' : 'no entry on the page';
      failed(`${label}: ${sizeText(fx.bytes.length)} upload: ${why === 'no such endpoint' ? NO_STS : why}`);
      ok = false;
      continue;
    }
    const back = await fetchBytes(entry.url);
    if (!back.equals(fx.bytes)) {
      failed(`${label}: ${entry.url} read back ${back.length} bytes, not the ${fx.bytes.length} uploaded`);
      ok = false;
      continue;
    }
    const shown = progressShown(page, i);
    const rising = shown.every((p, j) => j === 0 || p >= shown[j - 1]);
    if (shown.length < minEvents[i] || shown[shown.length - 1] !== 100 || !rising) {
      failed(
        `${label}: ${sizeText(fx.bytes.length)} progress events ${JSON.stringify(shown)} (want >= ${minEvents[i]}, rising, ending at 100)`,
      );
      ok = false;
      continue;
    }
    proved(
      `${label}: ${sizeText(fx.bytes.length)} image uploaded to ${entry.url.replace(SERVER, '<server>')}, ${shown.length} progress events ending at 100%, fetched back byte-equal`,
    );
  }
  return ok;
}

async function main(shim, small, big) {
  // The example is tested with the SDK version it ships with.
  const modules = useNodeModules();
  const shipped = require(path.join(EXAMPLE, 'package.json')).dependencies['cos-wx-sdk-v5'];
  const installed = require(path.join(modules, 'cos-wx-sdk-v5', 'package.json')).version;
  if (shipped !== installed) {
    failed(`examples/miniprogram/package.json pins cos-wx-sdk-v5 ${shipped}, the tests installed ${installed}`);
    return;
  }

  // The two values a developer sets in config.js.
  const config = require(path.join(EXAMPLE, 'config.js'));
  config.serverUrl = SERVER;
  config.devUser = LOGIN_CODE ? '' : DEV_USER;

  const mp = loadApp(EXAMPLE);

  // 1. Login, started by the app's onLaunch and awaited by the page.
  const index = mp.openPage('pages/index/index');
  await index.onLoad({});
  const session = require(path.join(EXAMPLE, 'lib/api.js')).session();
  const loginCalls = shim.calls.filter((c) => c.api === 'login').length;
  const loginRequests = shim.calls.filter((c) => c.api === 'request' && /\/v1\/auth\/(dev-)?login$/.test(c.args.url));
  if (!index.data.loggedIn || !session) {
    failed(`login: ${index.data.status}`);
    return;
  }
  if (LOGIN_CODE && (loginCalls !== 1 || loginRequests.length !== 1)) {
    failed(`login: wanted one wx.login and one POST /v1/auth/login, saw ${loginCalls} and ${loginRequests.length}`);
    return;
  }
  proved(
    LOGIN_CODE
      ? `login: wx.login code -> POST /v1/auth/login -> JWT for user ${session.userId} (prefix ${session.prefix}), kept in storage, shared by app and page`
      : `login: dev login as ${DEV_USER} -> JWT for user ${session.userId} (prefix ${session.prefix})`,
  );

  // 2. Choose two images and upload them with cos-wx-sdk-v5 (index page).
  const before = shim.calls.length;
  await index.choose();
  const chosen = shim.calls.slice(before).filter((c) => c.api === 'chooseMedia').length;
  if (chosen !== 1 || index.data.files.length !== 2) {
    failed(
      `choose: wanted one wx.chooseMedia giving 2 files, saw ${chosen} call(s) and ${index.data.files.length} file(s)`,
    );
  } else {
    const sdkCalls = shim.calls.slice(before);
    const posted = sdkCalls.filter((c) => c.api === 'uploadFile' && c.args.formData && c.args.formData.key).length;
    const parts = sdkCalls.filter((c) => c.api === 'request' && /[?&]partNumber=/.test(c.args.url)).length;
    if (await checkUploads('index page (cos-wx-sdk-v5, STS)', index, [small, big], [1, 3])) {
      proved(
        `index page: the 100 KiB image went up as a postObject form (${posted} wx.uploadFile), the 12 MiB one as a multipart upload (${parts} parts through wx.request)`,
      );
    }
  }

  // 3. The 2017 flow (legacy page) for one image.
  const legacy = mp.openPage('pages/legacy/legacy');
  await legacy.onLoad({});
  await legacy.choose();
  if (await checkUploads('legacy page (v4 sign + wx.uploadFile op=upload)', legacy, [small], [1])) {
    const up = shim.calls.filter((c) => c.api === 'uploadFile' && c.args.name === 'filecontent');
    proved(
      `legacy page: GET /v1/qc_cos/config then wx.uploadFile to ${up[0].args.url.replace(SERVER, '<server>')} with formData ${JSON.stringify(up[0].args.formData)}`,
    );
  }
}

const dir = workdir('miniprogram-example');
const small = randomFile(dir, 'small.jpg', 100 * 1024);
const big = randomFile(dir, 'big.jpg', 12 * MiB);
const shim = install({
  loginCode: LOGIN_CODE,
  media: [small.path, big.path],
  uplinkBytesPerSecond: Number(process.env.UPLINK_BYTES_PER_SECOND || 8 * MiB),
});
main(shim, small, big)
  .catch((err) => failed(`unexpected error: ${(err && err.stack) || err}`))
  .finally(() => shim.close());
