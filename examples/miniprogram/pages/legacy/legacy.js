// The 2017 flow, for apps migrating from it (lib/legacy.js): a v4 signature of the directory
// from /v1/qc_cos/config, then wx.uploadFile with op=upload and the file in `filecontent`.
const config = require('../../config');
const { uploadFile } = require('../../lib/legacy');
const { uploadPage } = require('../upload-page');

Page(uploadPage({ dir: config.legacyDir, count: 1, uploadFile }));
