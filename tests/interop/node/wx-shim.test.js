// Self-test of wx-shim.js against a local HTTP server: multipart framing, upload progress,
// file-system reads by range, wx.request options and callback shapes.
//   node --test tests/interop/node/wx-shim.test.js
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { createWx } = require('./wx-shim');

/** Splits a multipart/form-data body strictly (RFC 7578 framing) into its parts. */
function parseMultipart(body, contentType) {
  const m = /boundary=(.+)$/.exec(contentType);
  assert.ok(m, `no boundary in ${contentType}`);
  const dash = Buffer.from(`--${m[1]}`);
  const sep = Buffer.from(`\r\n--${m[1]}`);
  assert.ok(body.subarray(0, dash.length).equals(dash), 'body starts with the boundary');
  const parts = [];
  let pos = dash.length;
  for (;;) {
    const after = body.subarray(pos, pos + 2).toString();
    if (after === '--') {
      assert.equal(body.subarray(pos + 2).toString(), '\r\n', 'nothing after the closing boundary');
      return parts;
    }
    assert.equal(after, '\r\n', 'CRLF after a boundary');
    const headEnd = body.indexOf('\r\n\r\n', pos + 2);
    const headers = body
      .subarray(pos + 2, headEnd)
      .toString()
      .split('\r\n');
    const end = body.indexOf(sep, headEnd + 4);
    assert.ok(end >= 0, 'every part is closed by a boundary');
    const disp = headers.find((h) => /^content-disposition:/i.test(h));
    const name = /; name="([^"]*)"/.exec(disp)[1];
    const filename = /; filename="([^"]*)"/.exec(disp);
    const type = headers.find((h) => /^content-type:/i.test(h));
    parts.push({
      name,
      filename: filename && filename[1],
      contentType: type && type.replace(/^content-type:\s*/i, ''),
      data: body.subarray(headEnd + 4, end),
    });
    pos = end + sep.length;
  }
}

let server;
let base;
const seen = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-shim-test-'));
const blob = crypto.randomBytes(300 * 1024);

test.before(async () => {
  server = http.createServer((req, res) => {
    const bufs = [];
    req.on('data', (c) => bufs.push(c));
    req.on('end', () => {
      const body = Buffer.concat(bufs);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/hang') return; // never answers
      if (url.pathname === '/blob') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', ETag: '"abc"' });
        return res.end(blob);
      }
      if (url.pathname === '/text') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('not json {');
      }
      if (url.pathname === '/teapot') {
        res.writeHead(418, { 'Content-Type': 'application/json' });
        return res.end('{"error_code":"teapot"}');
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Echo': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, length: body.length }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

test.after(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const lastSeen = () => seen[seen.length - 1];
const call = (fn, o) => new Promise((resolve, reject) => fn({ ...o, success: resolve, fail: reject }));

test('uploadFile sends the formData fields in order, then the file part, with an exact Content-Length', async () => {
  const shim = createWx();
  const file = path.join(tmp, 'photo 1.jpg');
  const content = crypto.randomBytes(100 * 1024 + 7);
  fs.writeFileSync(file, content);
  const formData = {
    key: 'u/1/a b+1.jpg',
    success_action_status: 200,
    Signature: 'q-sign-algorithm=sha1&q-ak=AKID',
    'Content-Type': '',
    名字: '值 "quoted"',
  };
  const r = await call(shim.wx.uploadFile, {
    url: `${base}/up`,
    name: 'file',
    filePath: file,
    header: { Authorization: 'sig', 'x-cos-security-token': 'tok' },
    formData,
  });
  assert.deepEqual(Object.keys(r).sort(), ['data', 'errMsg', 'statusCode'], 'a device gives no header');
  assert.equal(r.statusCode, 200);
  assert.equal(typeof r.data, 'string');
  const req = lastSeen();
  assert.equal(req.method, 'POST');
  assert.equal(req.headers.authorization, 'sig');
  assert.equal(req.headers['x-cos-security-token'], 'tok');
  assert.equal(req.headers['transfer-encoding'], undefined);
  assert.equal(Number(req.headers['content-length']), req.body.length);
  const parts = parseMultipart(req.body, req.headers['content-type']);
  assert.deepEqual(
    parts.map((p) => p.name),
    ['key', 'success_action_status', 'Signature', 'Content-Type', '名字', 'file'],
  );
  assert.deepEqual(
    parts.slice(0, 5).map((p) => p.data.toString()),
    ['u/1/a b+1.jpg', '200', 'q-sign-algorithm=sha1&q-ak=AKID', '', '值 "quoted"'],
  );
  assert.ok(parts.slice(0, 5).every((p) => p.filename === null && p.contentType === undefined));
  const f = parts[5];
  assert.equal(f.filename, 'photo 1.jpg');
  assert.equal(f.contentType, 'application/octet-stream');
  assert.ok(f.data.equals(content), 'file bytes arrive unchanged');
  shim.close();
});

test('uploadFile can include the reply headers, and fails for a missing file', async () => {
  const shim = createWx({ uploadHeaderInSuccess: true });
  const file = path.join(tmp, 'h.bin');
  fs.writeFileSync(file, 'x');
  const r = await call(shim.wx.uploadFile, { url: `${base}/up`, name: 'f', filePath: file });
  assert.equal(r.header['X-Echo'] || r.header['x-echo'], 'yes');
  const e = await call(shim.wx.uploadFile, {
    url: `${base}/up`,
    name: 'f',
    filePath: path.join(tmp, 'missing.jpg'),
  }).then(
    () => assert.fail('uploaded a missing file'),
    (err) => err,
  );
  assert.match(e.errMsg, /^uploadFile:fail no such file or directory/);
  shim.close();
});

test('onProgressUpdate fires as the body is written, ending at 100% before success', async () => {
  const shim = createWx();
  const file = path.join(tmp, 'big.jpg');
  fs.writeFileSync(file, crypto.randomBytes(3 * 1024 * 1024 + 5));
  const events = [];
  let successAt = -1;
  await new Promise((resolve, reject) => {
    const task = shim.wx.uploadFile({
      url: `${base}/up`,
      name: 'file',
      filePath: file,
      formData: { op: 'upload' },
      success: (r) => {
        successAt = events.length;
        resolve(r);
      },
      fail: reject,
    });
    task.onProgressUpdate((ev) => events.push(ev));
  });
  const total = Number(lastSeen().headers['content-length']);
  assert.ok(events.length >= 10, `only ${events.length} progress events for 3 MiB`);
  assert.equal(successAt, events.length, 'every progress event comes before success');
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i].totalBytesSent > events[i - 1].totalBytesSent, 'bytes sent grow');
    assert.ok(events[i].progress >= events[i - 1].progress, 'progress never goes back');
  }
  assert.ok(
    events.every((e) => e.totalBytesExpectedToSend === total),
    'expected bytes = the body length',
  );
  assert.deepEqual(events[events.length - 1], {
    progress: 100,
    totalBytesSent: total,
    totalBytesExpectedToSend: total,
  });
  shim.close();
});

test('readFile and readFileSync read exact ranges, in an encoding or as an ArrayBuffer', async () => {
  const shim = createWx();
  const fsm = shim.wx.getFileSystemManager();
  const file = path.join(tmp, 'range.bin');
  const content = crypto.randomBytes(4096);
  fs.writeFileSync(file, content);
  const read = (o) => call(fsm.readFile, { filePath: file, ...o });

  const whole = await read({});
  assert.ok(whole.data instanceof ArrayBuffer);
  assert.ok(Buffer.from(whole.data).equals(content));
  const mid = await read({ position: 1000, length: 1024 });
  assert.ok(Buffer.from(mid.data).equals(content.subarray(1000, 2024)));
  const tail = await read({ position: 4000 });
  assert.ok(Buffer.from(tail.data).equals(content.subarray(4000)));
  const empty = await read({ position: 4096, length: 0 });
  assert.equal(empty.data.byteLength, 0);
  assert.equal(
    (await read({ position: 10, length: 4, encoding: 'hex' })).data,
    content.subarray(10, 14).toString('hex'),
  );
  assert.equal((await read({ encoding: 'base64' })).data, content.toString('base64'));
  await assert.rejects(read({ position: 4000, length: 200 }), (e) => /^readFile:fail .*length/.test(e.errMsg));
  await assert.rejects(read({ position: 5000 }), (e) => /^readFile:fail .*position/.test(e.errMsg));
  await assert.rejects(call(fsm.readFile, { filePath: path.join(tmp, 'nope') }), (e) =>
    /^readFile:fail no such file or directory/.test(e.errMsg),
  );

  assert.ok(Buffer.from(fsm.readFileSync(file, undefined, 100, 50)).equals(content.subarray(100, 150)));
  fs.writeFileSync(path.join(tmp, 'text.txt'), '图片 ok');
  assert.equal(fsm.readFileSync(path.join(tmp, 'text.txt'), 'utf-8'), '图片 ok');
  assert.throws(() => fsm.readFileSync(path.join(tmp, 'nope')), /^Error: readFileSync:fail no such file/);
  shim.close();
});

test('stat, access and writeFile behave like the runtime', async () => {
  const shim = createWx();
  const fsm = shim.wx.getFileSystemManager();
  const file = path.join(shim.wx.env.USER_DATA_PATH, 'w.bin');
  fsm.writeFileSync(file, new Uint8Array([1, 2, 3]).buffer);
  const { stats } = await call(fsm.stat, { path: file });
  assert.equal(stats.size, 3);
  assert.equal(stats.isFile(), true);
  assert.equal(stats.isDirectory(), false);
  assert.equal(String(stats.lastModifiedTime).length, 10);
  assert.equal(fsm.statSync(tmp).isDirectory(), true);
  await call(fsm.writeFile, { filePath: file, data: 'hello', encoding: 'utf8' });
  assert.equal(fs.readFileSync(file, 'utf8'), 'hello');
  await call(fsm.access, { path: file });
  await assert.rejects(call(fsm.access, { path: `${file}.missing` }), (e) =>
    /^access:fail no such file/.test(e.errMsg),
  );
  shim.close();
  assert.equal(fs.existsSync(shim.tmpDir), false, 'close() removes the temp dir it made');
});

test('wx.request: data, dataType, responseType, statuses and callback shapes', async () => {
  const shim = createWx();
  const { wx } = shim;
  let completed = 0;
  const r = await call((o) => wx.request({ ...o, complete: () => (completed += 1) }), {
    url: `${base}/echo`,
    method: 'POST',
    data: { code: 'c1' },
  });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.data, { method: 'POST', url: '/echo', length: 13 }, 'JSON parsed by default');
  assert.equal(r.errMsg, 'request:ok');
  assert.equal(r.header['X-Echo'] || r.header['x-echo'], 'yes');
  assert.equal(lastSeen().headers['content-type'], 'application/json');
  assert.equal(lastSeen().body.toString(), '{"code":"c1"}');
  await new Promise((res) => setImmediate(res));
  assert.equal(completed, 1, 'complete runs once after success');

  await call(wx.request, { url: `${base}/echo?a=1`, data: { cos_path: '/u/1/a b' } });
  assert.equal(lastSeen().url, '/echo?a=1&cos_path=%2Fu%2F1%2Fa%20b', 'GET data becomes the query');
  assert.equal(lastSeen().headers['content-type'], undefined, 'no content-type without a body');

  await call(wx.request, {
    url: `${base}/echo`,
    method: 'PUT',
    data: new Uint8Array([9, 8, 7]).buffer,
    header: { 'Content-Length': 3, 'Cache-Control': '' },
  });
  assert.deepEqual([...lastSeen().body], [9, 8, 7]);
  assert.equal(lastSeen().headers['content-length'], '3');
  assert.equal(lastSeen().headers['cache-control'], '');

  const bin = await call(wx.request, { url: `${base}/blob`, responseType: 'arraybuffer' });
  assert.ok(bin.data instanceof ArrayBuffer);
  assert.ok(Buffer.from(bin.data).equals(blob));
  const text = await call(wx.request, { url: `${base}/text`, dataType: 'text' });
  assert.equal(text.data, 'not json {');
  const notJson = await call(wx.request, { url: `${base}/text` });
  assert.equal(notJson.data, 'not json {', 'a reply that is not JSON stays text');
  const teapot = await call(wx.request, { url: `${base}/teapot` });
  assert.equal(teapot.statusCode, 418, 'HTTP errors are successes with their status');
  assert.deepEqual(teapot.data, { error_code: 'teapot' });

  const timedOut = await call(wx.request, { url: `${base}/hang`, timeout: 200 }).catch((e) => e);
  assert.equal(timedOut.errMsg, 'request:fail timeout');
  const aborted = await new Promise((resolve) => {
    const task = wx.request({ url: `${base}/hang`, fail: resolve, success: () => resolve({ errMsg: 'succeeded' }) });
    setTimeout(() => task.abort(), 50);
  });
  assert.equal(aborted.errMsg, 'request:fail abort');
  const refused = await call(wx.request, { url: 'http://127.0.0.1:1/' }).catch((e) => e);
  assert.match(refused.errMsg, /^request:fail /);
  shim.close();
});

test('connect keeps the URL host as Host while connecting to the given address', async () => {
  const shim = createWx({ connect: { host: '127.0.0.1', port: server.address().port } });
  const r = await call(shim.wx.request, { url: 'http://metis-1250000000.cos.ap-guangzhou.myqcloud.com/u/1/a.jpg' });
  assert.equal(r.statusCode, 200);
  assert.equal(lastSeen().headers.host, 'metis-1250000000.cos.ap-guangzhou.myqcloud.com');
  assert.equal(lastSeen().url, '/u/1/a.jpg');
  shim.close();
});

test('downloadFile writes the reply to a temp file', async () => {
  const shim = createWx();
  const events = [];
  const r = await new Promise((resolve, reject) => {
    const task = shim.wx.downloadFile({ url: `${base}/blob`, success: resolve, fail: reject });
    task.onProgressUpdate((e) => events.push(e));
  });
  assert.equal(r.statusCode, 200);
  assert.ok(fs.readFileSync(r.tempFilePath).equals(blob));
  assert.equal(events[events.length - 1].totalBytesWritten, blob.length);
  shim.close();
});

test('login, chooseMedia, storage and the promise style', async () => {
  const file = path.join(tmp, 'pick.jpg');
  fs.writeFileSync(file, crypto.randomBytes(1234));
  let n = 0;
  const shim = createWx({
    loginCode: () => `test-user-${++n}`,
    media: [file, path.join(tmp, 'text.txt')],
    sdkVersion: '2.9.0',
  });
  const { wx } = shim;
  assert.equal((await wx.login()).code, 'test-user-1');
  assert.equal((await call(wx.login, {})).code, 'test-user-2');
  const picked = await wx.chooseMedia({ count: 1, mediaType: ['image'] });
  assert.deepEqual(
    picked.tempFiles.map((f) => [f.tempFilePath, f.size, f.fileType]),
    [[file, 1234, 'image']],
  );
  assert.equal(picked.type, 'image');
  await assert.rejects(wx.chooseMedia({ mediaType: ['video'] }), (e) => e.errMsg === 'chooseMedia:fail cancel');
  const noCode = createWx();
  await assert.rejects(noCode.wx.login(), (e) => /^login:fail/.test(e.errMsg));
  noCode.close();

  const v = { a: [1] };
  wx.setStorageSync('k', v);
  v.a.push(2);
  assert.deepEqual(wx.getStorageSync('k'), { a: [1] }, 'storage keeps a copy');
  wx.removeStorageSync('k');
  assert.equal(wx.getStorageSync('k'), '');
  assert.equal(wx.getAppBaseInfo().SDKVersion, '2.9.0');
  assert.equal(wx.canIUse('getAppBaseInfo'), true);
  assert.equal(wx.canIUse('openBluetoothAdapter'), false);
  await wx.showToast({ title: 'done' });
  assert.deepEqual(shim.ui, [{ api: 'showToast', options: { title: 'done' } }]);
  shim.close();
});
