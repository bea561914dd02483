// Just enough of the mini-program framework to run an app's and its pages' logic in Node
// (no rendering): the globals App(), Page() and getApp(), and page instances whose setData
// takes data paths (`files[1].progress`) and records every call.
// Framework reference: https://developers.weixin.qq.com/miniprogram/dev/reference/api/Page.html
'use strict';

const path = require('node:path');

/** Sets `data` at a setData path such as `a.b`, `list[2]` or `files[0].progress`. */
function setPath(data, dataPath, value) {
  const keys = [];
  dataPath.replace(/[^.[\]]+|\[(\d+)\]/g, (m, index) => keys.push(index === undefined ? m : Number(index)));
  let obj = data;
  for (let i = 0; i < keys.length - 1; i++) {
    if (obj[keys[i]] == null) obj[keys[i]] = typeof keys[i + 1] === 'number' ? [] : {};
    obj = obj[keys[i]];
  }
  obj[keys[keys.length - 1]] = value;
}

/**
 * Loads a mini-program rooted at `root`: runs app.js (and its onLaunch) and returns
 * `openPage(route)`, which loads `<route>.js` and returns a page instance with `data`,
 * `setData`, the page's methods and `updates` (every setData patch, in order).
 */
function loadApp(root) {
  let appDef = null;
  let pageDef = null;
  global.App = (def) => {
    appDef = def;
  };
  global.getApp = () => appDef;
  global.Page = (def) => {
    pageDef = def;
  };
  require(path.join(root, 'app.js'));
  if (appDef && typeof appDef.onLaunch === 'function') appDef.onLaunch({ path: 'pages/index/index', query: {} });
  return {
    app: appDef,
    openPage(route) {
      pageDef = null;
      require(path.join(root, `${route}.js`));
      if (!pageDef) throw new Error(`${route}.js did not call Page()`);
      const updates = [];
      const page = {
        ...pageDef,
        route,
        data: structuredClone(pageDef.data || {}),
        updates,
        setData(patch, callback) {
          const copy = structuredClone(patch);
          updates.push(copy);
          for (const [k, v] of Object.entries(copy)) setPath(this.data, k, v);
          if (typeof callback === 'function') setImmediate(callback);
        },
      };
      return page;
    },
  };
}

module.exports = { loadApp, setPath };
