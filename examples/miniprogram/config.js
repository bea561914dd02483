// What to set before running the example. Everything else (bucket, region, where to send
// uploads) comes from the auth server's replies.
module.exports = {
  // The auth server. On a real device this must be HTTPS and registered as a "request"
  // domain in the WeChat console (see README.md).
  serverUrl: 'http://127.0.0.1:8080',

  // Embedded server only: log in with dev login as this user instead of wx.login. The
  // embedded server has no WeChat appid, so wx.login codes cannot be checked there. Leave
  // empty in production.
  devUser: '',

  // Where uploads go inside the user's own directory (u/<id>/<dir>/...).
  uploadDir: 'photos',
  legacyDir: 'legacy',
};
