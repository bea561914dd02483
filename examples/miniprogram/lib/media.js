// Choosing images and naming what they are.

// Content types of the extensions the auth server accepts by default.
const CONTENT_TYPES = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
  bmp: 'image/bmp',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
};

/** The lower-case extension of a temp file path (`http://tmp/abc.JPG` -> `jpg`), or ''. */
function extOf(path) {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? m[1].toLowerCase() : '';
}

/** The content type of an extension, or undefined when unknown. */
function contentTypeOf(ext) {
  return CONTENT_TYPES[ext];
}

/** wx.chooseMedia for images; resolves to its `tempFiles`, or [] when the user cancels. */
function chooseImages(count = 9) {
  return new Promise((resolve, reject) => {
    wx.chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['original'],
      success: (res) => resolve(res.tempFiles),
      fail: (err) => (/cancel/.test(err.errMsg) ? resolve([]) : reject(new Error(err.errMsg))),
    });
  });
}

module.exports = { extOf, contentTypeOf, chooseImages };
