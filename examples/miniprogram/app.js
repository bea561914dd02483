const api = require('./lib/api');

App({
  onLaunch() {
    // Log in early so the first upload does not wait for it. Pages call api.ensureLogin(),
    // which shares this login while it runs and reuses the stored session afterwards.
    api.ensureLogin().catch((err) => console.warn('login failed:', err.message));
  },
});
