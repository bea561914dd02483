// A `wx` for Node: the part of the WeChat mini-program API that cos-wx-sdk-v5 and
// examples/miniprogram call, implemented with real HTTP and the real file system, so CI can
// run them against the embedded server.
//
//   const shim = require('./wx-shim').install({ loginCode: 'test-alice', media: ['/tmp/a.jpg'] });
//   // global.wx is set; shim.calls / shim.ui record what was called; shim.close() at the end.
//
// What each call does follows the mini-program API reference
// (https://developers.weixin.qq.com/miniprogram/dev/api/): callbacks `success`/`fail`/
// `complete`, `errMsg` strings of the form `<api>:ok` / `<api>:fail <reason>`, a Promise when an
// async API gets no callback, tasks returned by `request`/`uploadFile`/`downloadFile`.
// Where a real device and the API reference differ, the shim does what a device does:
//  * `wx.request` calls `success` for every HTTP status (only network errors fail), gives a
//    body `content-type: application/json` unless the header names another, serialises object
//    data (query string for GET, JSON or form encoding otherwise) and parses JSON replies when
//    `dataType` is `json` (the default), keeping the text when they are not JSON.
//  * `wx.uploadFile` streams a multipart/form-data body: the `formData` fields in object order,
//    then the file part named `name` with filename = the file's base name. Its `success` result
//    is `{data, statusCode}` without `header`, as documented for devices (option
//    `uploadHeaderInSuccess` adds it). `onProgressUpdate` fires as the body is written, counted
//    over the whole body.
// Options of install()/createWx():
//   loginCode             string, or function returning the next code, for wx.login
//   media                 files wx.chooseMedia returns: paths or {path, fileType}
//   sdkVersion            base library version reported by getAppBaseInfo (default 3.7.0;
//                         cos-wx-sdk-v5 silently disables multipart below 2.10.0)
//   connect               {host, port}: connect every request there and send the URL's host
//                         as the Host header (for SDKs that sign a virtual host)
//   uplinkBytesPerSecond  pace request and upload bodies over one shared link, like a phone's
//                         uplink (0 = as fast as the socket takes them)
//   uploadHeaderInSuccess include `header` in wx.uploadFile's success result
//   tmpDir                where downloads and USER_DATA_PATH live (default: a new temp dir,
//                         removed by close())
'use strict';

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const DEFAULT_TIMEOUT_MS = 60000;
const UPLOAD_CHUNK = 64 * 1024;

/** `<api>:fail <reason>` for a Node error, in the words the mini-program runtime uses. */
function failMessage(api, err, file) {
  const reasons = {
    ENOENT: `no such file or directory "${file}"`,
    EACCES: `permission denied "${file}"`,
    EISDIR: `illegal operation on a directory "${file}"`,
    ENOTDIR: `not a directory "${file}"`,
  };
  return `${api}:fail ${(err && reasons[err.code]) || (err && err.message) || String(err)}`;
}

/** Calls `success`/`fail`, then `complete`, at most once, never synchronously. */
function settle(options, promise) {
  let done = false;
  const finish = (cbName, value) => {
    if (done) return;
    done = true;
    setImmediate(() => {
      if (typeof options[cbName] === 'function') options[cbName](value);
      if (typeof options.complete === 'function') options.complete(value);
    });
  };
  promise.then(
    (v) => finish('success', v),
    (e) => finish('fail', e),
  );
  return finish;
}

/**
 * An async API in the runtime's two styles: with any of success/fail/complete it calls them and
 * returns undefined; without, it returns a Promise that rejects with `{errMsg}`.
 */
function asyncApi(fn) {
  return (options = {}) => {
    const promise = Promise.resolve().then(() => fn(options));
    if (['success', 'fail', 'complete'].some((k) => typeof options[k] === 'function')) {
      settle(options, promise);
      return undefined;
    }
    return promise;
  };
}

function toBuffer(data) {
  if (data == null) return null;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data));
}

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

function headerValue(headers, name) {
  const k = Object.keys(headers).find((h) => h.toLowerCase() === name);
  return k === undefined ? undefined : headers[k];
}

function withoutHeader(headers, name) {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== name));
}

function queryString(obj) {
  return Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : v)}`)
    .join('&');
}

/** Response headers as the runtime reports them: names as sent, repeated ones joined. */
function responseHeaders(res) {
  const out = {};
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const k = res.rawHeaders[i];
    const v = res.rawHeaders[i + 1];
    out[k] = k in out ? `${out[k]}, ${v}` : v;
  }
  return out;
}

/** The base name of a temp file path (`http://tmp/x.jpg`, `wxfile://tmp_x.jpg`, `/a/b.jpg`). */
function baseName(filePath) {
  return String(filePath)
    .split(/[/\\]/)
    .pop()
    .replace(/^[a-z]+:/i, '');
}

/** A form-data name or filename with `"`, CR and LF escaped as browsers do (HTML §4.10.21.8). */
function quoted(s) {
  return String(s).replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** One uplink shared by every body the shim sends, paced to `bytesPerSecond`. */
function uplink(bytesPerSecond) {
  let freeAt = 0;
  return async (n) => {
    if (!bytesPerSecond) return;
    const start = Math.max(Date.now(), freeAt);
    freeAt = start + (n * 1000) / bytesPerSecond;
    const wait = freeAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
}

/** An UploadTask or DownloadTask: abort() and progress listeners kept in `listeners`. */
function transferTask(listeners, abort) {
  return {
    abort,
    onProgressUpdate: (f) => listeners.push(f),
    offProgressUpdate: (f) => {
      const i = listeners.indexOf(f);
      if (i >= 0) listeners.splice(i, 1);
    },
    onHeadersReceived() {},
    offHeadersReceived() {},
  };
}

function statsOf(s) {
  return {
    mode: s.mode,
    size: s.size,
    lastAccessedTime: Math.floor(s.atimeMs / 1000),
    lastModifiedTime: Math.floor(s.mtimeMs / 1000),
    isFile: () => s.isFile(),
    isDirectory: () => s.isDirectory(),
  };
}

function fileSystemManager(record) {
  // readFile's `position` and `length` (base library 2.10.0 and later) as a checked range.
  const byteRange = (size, position, length) => {
    const start = position === undefined ? 0 : Number(position);
    if (!(start >= 0 && start <= size)) throw new RangeError(`the value of "position" is out of range: ${position}`);
    const len = length === undefined ? size - start : Number(length);
    if (!(len >= 0 && start + len <= size)) throw new RangeError(`the value of "length" is out of range: ${length}`);
    return { start, len };
  };
  const readRange = async (filePath, position, length) => {
    const fh = await fsp.open(filePath, 'r');
    try {
      const { start, len } = byteRange((await fh.stat()).size, position, length);
      const buf = Buffer.alloc(len);
      let off = 0;
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  };
  const readRangeSync = (filePath, position, length) => {
    const fd = fs.openSync(filePath, 'r');
    try {
      const { start, len } = byteRange(fs.fstatSync(fd).size, position, length);
      const buf = Buffer.alloc(len);
      const n = fs.readSync(fd, buf, 0, len, start);
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  };
  const decode = (buf, encoding) =>
    encoding ? buf.toString(encoding === 'utf-8' ? 'utf8' : encoding) : toArrayBuffer(buf);
  const encode = (data, encoding) =>
    typeof data === 'string' ? Buffer.from(data, encoding === 'utf-8' ? 'utf8' : encoding || 'utf8') : toBuffer(data);
  // The *Sync forms throw an Error whose message is the errMsg.
  const sync = (api, file, fn) => {
    try {
      return fn();
    } catch (e) {
      throw new Error(failMessage(api, e, file));
    }
  };
  // An async method: `fn(o)` resolves to the result's fields; errMsg is added here.
  const callbackApi =
    (api, fileOf, fn) =>
    (o = {}) => {
      record(`fs.${api}`, o);
      settle(
        o,
        Promise.resolve()
          .then(() => fn(o))
          .then(
            (r) => ({ ...r, errMsg: `${api}:ok` }),
            (e) => Promise.reject({ errMsg: failMessage(api, e, fileOf(o)) }),
          ),
      );
    };
  const filePathOf = (o) => o.filePath;
  const pathOf = (o) => o.path;
  return {
    readFile: callbackApi('readFile', filePathOf, async (o) => ({
      data: decode(await readRange(o.filePath, o.position, o.length), o.encoding),
    })),
    readFileSync(filePath, encoding, position, length) {
      record('fs.readFileSync', { filePath, encoding, position, length });
      return sync('readFileSync', filePath, () => decode(readRangeSync(filePath, position, length), encoding));
    },
    stat: callbackApi('stat', pathOf, async (o) => ({ stats: statsOf(await fsp.stat(o.path)) })),
    statSync(p) {
      record('fs.statSync', { path: p });
      return sync('statSync', p, () => statsOf(fs.statSync(p)));
    },
    access: callbackApi('access', pathOf, (o) => fsp.access(o.path)),
    accessSync(p) {
      record('fs.accessSync', { path: p });
      sync('accessSync', p, () => fs.accessSync(p));
    },
    writeFile: callbackApi('writeFile', filePathOf, (o) => fsp.writeFile(o.filePath, encode(o.data, o.encoding))),
    writeFileSync(filePath, data, encoding) {
      record('fs.writeFileSync', { filePath, encoding });
      sync('writeFileSync', filePath, () => fs.writeFileSync(filePath, encode(data, encoding)));
    },
    unlink: callbackApi('unlink', filePathOf, (o) => fsp.unlink(o.filePath)),
    unlinkSync(filePath) {
      record('fs.unlinkSync', { filePath });
      sync('unlinkSync', filePath, () => fs.unlinkSync(filePath));
    },
  };
}

/** Builds a `wx` object (see the file comment for the options). */
function createWx(options = {}) {
  const calls = [];
  const ui = [];
  const storage = new Map();
  const ownTmp = !options.tmpDir;
  const tmpDir = options.tmpDir || fs.mkdtempSync(path.join(os.tmpdir(), 'wx-shim-'));
  const userDataPath = path.join(tmpDir, 'usr');
  fs.mkdirSync(userDataPath, { recursive: true });
  const pace = uplink(options.uplinkBytesPerSecond || 0);
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  let downloads = 0;

  // Records a call without its bodies and callbacks (tests look at names and options).
  const record = (api, o) => {
    const args = {};
    for (const [k, v] of Object.entries(o || {})) {
      if (typeof v === 'function') continue;
      args[k] = v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? `<${v.byteLength} bytes>` : v;
    }
    calls.push({ api, args });
  };

  /**
   * Sends one HTTP request for `api` (the name in errMsg). `body` is a Buffer, null, or an
   * async iterable of Buffers of `length` bytes in all; `onWritten(bytesSoFar)` follows it onto
   * the socket. `onResponse(res)`, when given, consumes the response and resolves to the
   * result; otherwise the result is `{res, body}`. Returns `{done, abort}`.
   */
  function send(api, { url: urlStr, method, headers, body = null, length = 0, onWritten, timeout, onResponse }) {
    let req;
    let aborted = false;
    const done = new Promise((resolve, reject) => {
      let u;
      try {
        u = new URL(urlStr);
      } catch (e) {
        reject({ errMsg: `${api}:fail invalid url "${urlStr}"` });
        return;
      }
      const transport = u.protocol === 'https:' ? https : http;
      if (!agents[u.protocol]) {
        reject({ errMsg: `${api}:fail invalid url "${urlStr}"` });
        return;
      }
      const h = { ...withoutHeader(withoutHeader(headers, 'content-length'), 'host') };
      if (body != null) h['Content-Length'] = String(length);
      const target = options.connect
        ? { host: options.connect.host, port: options.connect.port, servername: u.hostname }
        : { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port || undefined };
      if (options.connect) h.Host = u.host;
      const timer = setTimeout(() => {
        if (req) req.destroy(new Error('timeout'));
      }, timeout || DEFAULT_TIMEOUT_MS);
      const fail = (e) => {
        clearTimeout(timer);
        reject({ errMsg: `${api}:fail ${aborted ? 'abort' : e.message}` });
      };
      req = transport.request(
        { ...target, method, path: u.pathname + u.search, headers: h, agent: agents[u.protocol] },
        (res) => {
          if (onResponse) {
            onResponse(res).then(
              (v) => {
                clearTimeout(timer);
                resolve(v);
              },
              (e) => fail(e),
            );
            return;
          }
          const bufs = [];
          res.on('data', (c) => bufs.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ res, body: Buffer.concat(bufs) });
          });
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      if (body == null) {
        req.end();
        return;
      }
      const chunks = Buffer.isBuffer(body) ? bufferChunks(body) : body;
      (async () => {
        let sent = 0;
        for await (const chunk of chunks) {
          await pace(chunk.length);
          if (req.destroyed) return;
          await new Promise((r) => req.write(chunk, r));
          sent += chunk.length;
          if (onWritten) onWritten(sent);
        }
        req.end();
      })().catch((e) => req.destroy(e));
    });
    return {
      done,
      abort() {
        aborted = true;
        if (req) req.destroy(new Error('abort'));
      },
    };
  }

  function* bufferChunks(buf) {
    for (let off = 0; off < buf.length; off += UPLOAD_CHUNK) yield buf.subarray(off, off + UPLOAD_CHUNK);
    if (buf.length === 0) yield buf;
  }

  function request(o = {}) {
    record('request', o);
    const method = (o.method || 'GET').toUpperCase();
    let url = o.url;
    const header = Object.fromEntries(Object.entries(o.header || {}).filter(([, v]) => v != null));
    const isBinary = o.data instanceof ArrayBuffer || ArrayBuffer.isView(o.data);
    let body = null;
    if (method === 'GET' || method === 'HEAD') {
      const q = o.data == null ? '' : typeof o.data === 'object' && !isBinary ? queryString(o.data) : String(o.data);
      if (q) url += (url.includes('?') ? '&' : '?') + q;
    } else if (o.data != null) {
      if (headerValue(header, 'content-type') === undefined) header['content-type'] = 'application/json';
      const form = String(headerValue(header, 'content-type')).includes('application/x-www-form-urlencoded');
      body =
        typeof o.data === 'object' && !isBinary
          ? Buffer.from(form ? queryString(o.data) : JSON.stringify(o.data))
          : toBuffer(o.data);
    }
    const sending = send('request', {
      url,
      method,
      headers: header,
      body,
      length: body ? body.length : 0,
      timeout: o.timeout,
    });
    settle(
      o,
      sending.done.then(({ res, body: buf }) => {
        let data;
        if (o.responseType === 'arraybuffer') {
          data = toArrayBuffer(buf);
        } else {
          data = buf.toString('utf8');
          if ((o.dataType || 'json') === 'json') {
            try {
              data = JSON.parse(data);
            } catch (e) {
              // Not JSON: the runtime hands back the text.
            }
          }
        }
        return { data, statusCode: res.statusCode, header: responseHeaders(res), cookies: [], errMsg: 'request:ok' };
      }),
    );
    return {
      abort: sending.abort,
      onHeadersReceived() {},
      offHeadersReceived() {},
      onChunkReceived() {},
      offChunkReceived() {},
    };
  }

  function uploadFile(o = {}) {
    record('uploadFile', o);
    const listeners = [];
    const boundary = `----WxShimFormBoundary${crypto.randomBytes(8).toString('hex')}`;
    const head = Buffer.concat([
      ...Object.entries(o.formData || {}).map(([k, v]) =>
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quoted(k)}"\r\n\r\n${v}\r\n`),
      ),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(o.name)}"; filename="${quoted(baseName(o.filePath))}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
    ]);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let sending = null;
    let abortedEarly = false;
    const header = {
      ...withoutHeader(o.header || {}, 'content-type'),
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
    };
    const done = fsp
      .stat(o.filePath)
      .catch((e) => Promise.reject({ errMsg: failMessage('uploadFile', e, o.filePath) }))
      .then((st) => {
        if (abortedEarly) return Promise.reject({ errMsg: 'uploadFile:fail abort' });
        const total = head.length + st.size + tail.length;
        async function* body() {
          yield head;
          // Fixed-size chunks, so progress is reported as the file goes out.
          for await (const chunk of fs.createReadStream(o.filePath, { highWaterMark: UPLOAD_CHUNK })) yield chunk;
          yield tail;
        }
        const progress = (sent) => {
          const ev = {
            progress: Math.floor((sent * 100) / total),
            totalBytesSent: sent,
            totalBytesExpectedToSend: total,
          };
          for (const f of [...listeners]) f(ev);
        };
        sending = send('uploadFile', {
          url: o.url,
          method: 'POST',
          headers: header,
          body: body(),
          length: total,
          onWritten: progress,
          timeout: o.timeout,
        });
        return sending.done;
      })
      .then(({ res, body: buf }) => {
        const r = { data: buf.toString('utf8'), statusCode: res.statusCode, errMsg: 'uploadFile:ok' };
        if (options.uploadHeaderInSuccess) r.header = responseHeaders(res);
        return r;
      });
    settle(o, done);
    return transferTask(listeners, () => {
      abortedEarly = true;
      if (sending) sending.abort();
    });
  }

  function downloadFile(o = {}) {
    record('downloadFile', o);
    const listeners = [];
    downloads += 1;
    const target =
      o.filePath || path.join(tmpDir, `download-${downloads}${path.extname(new URL(o.url, 'http://x').pathname)}`);
    const sending = send('downloadFile', {
      url: o.url,
      method: 'GET',
      headers: o.header || {},
      timeout: o.timeout,
      onResponse: (res) =>
        new Promise((resolve, reject) => {
          const total = Number(res.headers['content-length'] || 0);
          let written = 0;
          const out = fs.createWriteStream(target);
          res.on('data', (c) => {
            written += c.length;
            const ev = {
              progress: total ? Math.floor((written * 100) / total) : 0,
              totalBytesWritten: written,
              totalBytesExpectedToWrite: total,
            };
            for (const f of [...listeners]) f(ev);
          });
          res.pipe(out);
          out.on('finish', () => resolve({ res }));
          out.on('error', reject);
          res.on('error', reject);
        }),
    });
    settle(
      o,
      sending.done.then(({ res }) => {
        const r = { statusCode: res.statusCode, errMsg: 'downloadFile:ok' };
        if (o.filePath) r.filePath = target;
        else r.tempFilePath = target;
        return r;
      }),
    );
    return transferTask(listeners, sending.abort);
  }

  const fileTypeOf = (p) => (/\.(mp4|mov|m4v|3gp|avi)$/i.test(p) ? 'video' : 'image');
  const uiCall = (api, result = {}) =>
    asyncApi((o) => {
      record(api, o);
      ui.push({ api, options: Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function')) });
      return { ...result, errMsg: `${api}:ok` };
    });

  const wx = {
    env: { USER_DATA_PATH: userDataPath },
    canIUse(schema) {
      record('canIUse', { schema });
      return typeof wx[String(schema).split('.')[0]] === 'function';
    },
    getAppBaseInfo() {
      record('getAppBaseInfo');
      return {
        SDKVersion: options.sdkVersion || '3.7.0',
        version: '8.0.50',
        language: 'zh_CN',
        theme: 'light',
        enableDebug: false,
        host: { env: 'WeChat' },
      };
    },
    getDeviceInfo() {
      record('getDeviceInfo');
      return {
        platform: 'devtools',
        system: `Node.js ${process.version}`,
        brand: 'node',
        model: 'wx-shim',
        benchmarkLevel: 1,
      };
    },
    getNetworkType: asyncApi((o) => {
      record('getNetworkType', o);
      return { networkType: 'wifi', signalStrength: 0, errMsg: 'getNetworkType:ok' };
    }),
    getStorageSync(key) {
      record('getStorageSync', { key });
      return storage.has(key) ? structuredClone(storage.get(key)) : '';
    },
    setStorageSync(key, data) {
      record('setStorageSync', { key });
      storage.set(key, structuredClone(data));
    },
    removeStorageSync(key) {
      record('removeStorageSync', { key });
      storage.delete(key);
    },
    clearStorageSync() {
      record('clearStorageSync');
      storage.clear();
    },
    getFileSystemManager() {
      record('getFileSystemManager');
      return fileSystemManager(record);
    },
    request,
    uploadFile,
    downloadFile,
    login: asyncApi((o) => {
      record('login', o);
      const code = typeof options.loginCode === 'function' ? options.loginCode() : options.loginCode;
      if (!code) return Promise.reject({ errMsg: 'login:fail the wx shim has no loginCode configured' });
      return { code, errMsg: 'login:ok' };
    }),
    chooseMedia: asyncApi(async (o) => {
      record('chooseMedia', o);
      const wanted = o.mediaType || ['image', 'video'];
      const picked = (options.media || [])
        .map((m) =>
          typeof m === 'string' ? { path: m, fileType: fileTypeOf(m) } : { fileType: fileTypeOf(m.path), ...m },
        )
        .filter((m) => wanted.includes(m.fileType) || wanted.includes('mix'))
        .slice(0, o.count || 9);
      if (picked.length === 0) return Promise.reject({ errMsg: 'chooseMedia:fail cancel' });
      const tempFiles = [];
      for (const m of picked) {
        const st = await fsp.stat(m.path);
        tempFiles.push({
          tempFilePath: m.path,
          size: st.size,
          fileType: m.fileType,
          width: 0,
          height: 0,
          duration: 0,
          thumbTempFilePath: '',
        });
      }
      const types = new Set(tempFiles.map((f) => f.fileType));
      return { tempFiles, type: types.size > 1 ? 'mix' : [...types][0], errMsg: 'chooseMedia:ok' };
    }),
    showToast: uiCall('showToast'),
    hideToast: uiCall('hideToast'),
    showLoading: uiCall('showLoading'),
    hideLoading: uiCall('hideLoading'),
    showModal: uiCall('showModal', { confirm: true, cancel: false }),
  };

  return {
    wx,
    calls,
    ui,
    storage,
    tmpDir,
    /** Closes kept-alive connections and removes the temp dir the shim made. */
    close() {
      for (const a of Object.values(agents)) a.destroy();
      if (ownTmp) fs.rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}

/** createWx() installed as the global `wx` (what mini-program code and the SDK use). */
function install(options = {}) {
  const shim = createWx(options);
  global.wx = shim.wx;
  // cos-wx-sdk-v5's dist bundle passes the bare identifier `window` to its UMD wrapper (first
  // lines of dist/cos-wx-sdk-v5.js); Node has no such global.
  if (typeof global.window === 'undefined') global.window = {};
  return shim;
}

module.exports = { createWx, install };
