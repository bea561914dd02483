// What both pages are: log in, choose images, upload each with its own progress bar, show
// the result. A page passes where to upload and how (lib/upload.js or lib/legacy.js); this
// file only does UI, through setData.
const api = require('../lib/api');
const { chooseImages } = require('../lib/media');

let nextId = 0;

/**
 * The options of a Page() that uploads into `dir` of the user's directory with
 * `uploadFile(file, {dir, onProgress})` (resolving to `{url}`), `count` files at a time.
 */
function uploadPage({ dir, count, uploadFile }) {
  return {
    data: {
      status: 'Logging in…',
      loggedIn: false,
      files: [],
    },

    onLoad() {
      return this.login();
    },

    async login() {
      try {
        const s = await api.ensureLogin();
        this.setData({ status: `Logged in as user ${s.userId}; uploads go to ${s.prefix}${dir}/`, loggedIn: true });
      } catch (err) {
        this.setData({ status: `Login failed: ${err.message}`, loggedIn: false });
      }
    },

    async choose() {
      const tempFiles = await chooseImages(count);
      if (tempFiles.length === 0) return;
      const start = this.data.files.length;
      this.setData({
        files: this.data.files.concat(
          tempFiles.map((f) => ({
            id: (nextId += 1),
            name: f.tempFilePath.split('/').pop(),
            size: f.size,
            progress: 0,
            url: '',
            error: '',
          })),
        ),
      });
      // All files at once, each with its own entry.
      await Promise.all(tempFiles.map((file, i) => this.uploadOne(file, `files[${start + i}]`)));
      const failed = this.data.files.filter((f) => f.error).length;
      wx.showToast({ title: failed ? `${failed} failed` : 'Uploaded', icon: failed ? 'error' : 'success' });
    },

    uploadOne(file, at) {
      let shown = 0;
      const onProgress = (percent) => {
        // setData crosses to the render thread; skip updates that change nothing.
        if (percent === shown) return;
        shown = percent;
        this.setData({ [`${at}.progress`]: percent });
      };
      return uploadFile(file, { dir, onProgress }).then(
        ({ url }) => this.setData({ [`${at}.progress`]: 100, [`${at}.url`]: url }),
        (err) => this.setData({ [`${at}.error`]: err.message }),
      );
    },
  };
}

module.exports = { uploadPage };
