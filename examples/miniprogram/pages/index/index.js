// Uploads chosen images with cos-wx-sdk-v5 and temporary credentials from the auth server
// (lib/upload.js).
const config = require('../../config');
const { uploadFile } = require('../../lib/upload');
const { uploadPage } = require('../upload-page');

Page(uploadPage({ dir: config.uploadDir, count: 9, uploadFile }));
