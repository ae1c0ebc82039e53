// The scan-to-login page: asks the server for a ticket, shows its code, follows the ticket
// (an EventSource, or polling when the stream fails) until the phone confirms or denies it,
// then shows the signed-in user. Plain script, no build step; served by the binary with a
// same-origin-only content security policy, so it talks to nothing but this origin.
//
// Where the tokens live, and why:
// - the access token only in this script's memory: it is the one that opens the API, and a
//   variable is gone with the tab, is never written to disk and is not in reach of anything
//   that reads the page's storage later;
// - the refresh token in sessionStorage: a reload of this tab keeps the user signed in (the
//   refresh token buys a new access token), yet it belongs to this tab alone and is dropped
//   when the tab closes. Storage shared by every tab and kept across browser restarts would
//   turn one signed-in tab into a long-lived login on the machine, so it is never used.
'use strict';

(function () {
  const REFRESH_TOKEN_KEY = 'wxlogin.refresh_token';
  const POLL_INTERVAL_MS = 2000;
  // The server's stream says `expired` itself; this is for a page that lost the network.
  const EXPIRY_SLACK_MS = 3000;
  const FINAL_STATES = ['confirmed', 'denied', 'expired'];

  const MESSAGES = {
    loading: '正在获取二维码…',
    pending: '请使用微信扫一扫',
    scanned: '已扫码，请在手机上确认',
    denied: '已在手机上取消登录',
    expired: '二维码已过期',
    refreshExpired: '二维码已过期，点击刷新',
    refreshDenied: '已取消，点击刷新二维码',
    refreshFailed: '获取失败，点击重试',
    newCodeFailed: '无法获取二维码，请检查网络后重试',
    rateLimited: '操作太频繁，请稍后再试',
    signInFailed: '登录失败，请重新扫码',
    defaultNickname: '微信用户',
  };

  const $ = (id) => document.getElementById(id);
  const app = $('app');
  const view = {
    code: $('code-view'),
    user: $('user-view'),
    qr: $('qr'),
    scannedMask: $('scanned-mask'),
    refresh: $('refresh'),
    refreshText: $('refresh-text'),
    status: $('status'),
    avatar: $('avatar'),
    avatarInitial: $('avatar-initial'),
    nickname: $('nickname'),
    logout: $('logout'),
    error: $('error'),
  };

  let accessToken = null;
  /** The ticket being followed: { ticket, pollSecret, stream, pollTimer, expiryTimer, done }. */
  let flow = null;

  // ---- the API ---------------------------------------------------------------------------

  function apiError(status, body) {
    const detail = (body && body.error) || {};
    const error = new Error(detail.message || 'HTTP ' + status);
    error.status = status;
    error.code = detail.code || (status === 0 ? 'network_error' : 'http_error');
    return error;
  }

  /** A same-origin JSON call; resolves with the body of a 2xx, rejects with { status, code }. */
  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.token) headers.Authorization = 'Bearer ' + opts.token;
    let response;
    try {
      response = await fetch(path, {
        method: opts.method || 'GET',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (_) {
      throw apiError(0, null);
    }
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw apiError(response.status, body);
    return body;
  }

  function saveTokens(tokens) {
    accessToken = tokens.access_token;
    sessionStorage.setItem(REFRESH_TOKEN_KEY, tokens.refresh_token);
  }

  function forgetTokens() {
    accessToken = null;
    sessionStorage.removeItem(REFRESH_TOKEN_KEY);
  }

  /** A new access token from the stored refresh token (which the server replaces). */
  async function renew() {
    const refreshToken = sessionStorage.getItem(REFRESH_TOKEN_KEY);
    if (!refreshToken) throw apiError(401, { error: { code: 'invalid_token' } });
    saveTokens(await api('/api/auth/refresh', { method: 'POST', body: { refresh_token: refreshToken } }));
  }

  /** `api` with the access token, renewed once when it is missing or refused. */
  async function authorized(path, options) {
    if (!accessToken) await renew();
    try {
      return await api(path, Object.assign({}, options, { token: accessToken }));
    } catch (error) {
      if (error.code !== 'invalid_token') throw error;
      await renew();
      return api(path, Object.assign({}, options, { token: accessToken }));
    }
  }

  // ---- what the page shows ---------------------------------------------------------------

  function setState(state) {
    app.dataset.state = state;
  }

  function showError(text) {
    view.error.textContent = text || '';
    view.error.hidden = !text;
  }

  function showRefresh(text) {
    view.refreshText.textContent = text;
    view.refresh.hidden = false;
    view.scannedMask.hidden = true;
  }

  function showCodeView() {
    view.user.hidden = true;
    view.code.hidden = false;
  }

  function showUser(user) {
    const nickname = user.nickname || MESSAGES.defaultNickname;
    view.nickname.textContent = nickname;
    view.avatarInitial.textContent = Array.from(nickname)[0] || '';
    view.avatarInitial.hidden = false;
    view.avatar.hidden = true;
    if (user.avatar_url) {
      // Same origin (/avatars/{id}); the initial stays if the image does not load.
      view.avatar.onload = () => {
        view.avatar.hidden = false;
        view.avatarInitial.hidden = true;
      };
      view.avatar.src = user.avatar_url;
    }
    view.code.hidden = true;
    view.user.hidden = false;
    view.logout.disabled = false;
    setState('signed-in');
  }

  // ---- following a ticket ------------------------------------------------------------------

  function stopFollowing(current) {
    current.done = true;
    if (current.stream) current.stream.close();
    clearTimeout(current.pollTimer);
    clearTimeout(current.expiryTimer);
  }

  /** A new ticket and its code; the previous ticket, if any, is no longer followed. */
  async function newCode() {
    if (flow) stopFollowing(flow);
    const current = { done: false };
    flow = current;
    showCodeView();
    showError('');
    setState('loading');
    app.dataset.ticket = '';
    view.refresh.hidden = true;
    view.scannedMask.hidden = true;
    view.status.textContent = MESSAGES.loading;
    let ticket;
    try {
      ticket = await api('/api/qr-login', { method: 'POST' });
    } catch (error) {
      if (flow !== current) return;
      current.done = true;
      setState('error');
      view.status.textContent = '';
      showRefresh(MESSAGES.refreshFailed);
      showError(error.code === 'rate_limited' ? MESSAGES.rateLimited : MESSAGES.newCodeFailed);
      return;
    }
    if (flow !== current) return;
    current.ticket = ticket.ticket;
    current.pollSecret = ticket.poll_secret;
    current.expiryTimer = setTimeout(
      () => onState(current, 'expired', {}),
      ticket.expires_in * 1000 + EXPIRY_SLACK_MS,
    );
    view.qr.src = ticket.qr_url;
    app.dataset.ticket = ticket.ticket;
    onState(current, 'pending', ticket);
    follow(current);
  }

  function ticketPath(current, suffix) {
    return (
      '/api/qr-login/' +
      encodeURIComponent(current.ticket) +
      suffix +
      '?poll_secret=' +
      encodeURIComponent(current.pollSecret)
    );
  }

  /** The server's stream of the ticket's states; polling if the browser or the stream fails. */
  function follow(current) {
    if (typeof EventSource !== 'function') return poll(current);
    const stream = new EventSource(ticketPath(current, '/events'));
    current.stream = stream;
    for (const state of ['pending', 'scanned', 'confirmed', 'denied', 'expired']) {
      stream.addEventListener(state, (event) => {
        let data = {};
        try {
          data = JSON.parse(event.data);
        } catch (_) {
          // The state in the event's name is enough for all but `confirmed`.
        }
        onState(current, state, data);
      });
    }
    // EventSource would reconnect on its own and replay the current state; polling is as
    // good and survives proxies that cut streams, so a failed stream is not retried.
    stream.onerror = () => {
      stream.close();
      if (!current.done) poll(current);
    };
  }

  function poll(current) {
    current.pollTimer = setTimeout(async () => {
      if (current.done) return;
      try {
        const data = await api(ticketPath(current, ''));
        onState(current, data.state, data);
      } catch (error) {
        if (current.done) return;
        if (error.code === 'ticket_expired') return onState(current, 'expired', {});
        if (error.status === 404 || error.status === 410) {
          // Unknown or already used: this ticket can no longer sign the page in.
          return onState(current, 'expired', {});
        }
        // A network hiccup or a busy server: ask again at the next tick.
      }
      if (!current.done) poll(current);
    }, POLL_INTERVAL_MS);
  }

  function onState(current, state, data) {
    if (current.done || flow !== current) return;
    if (FINAL_STATES.includes(state)) stopFollowing(current);
    setState(state);
    switch (state) {
      case 'pending':
        view.status.textContent = MESSAGES.pending;
        break;
      case 'scanned':
        view.scannedMask.hidden = false;
        view.status.textContent = MESSAGES.scanned;
        break;
      case 'confirmed':
        signIn(data.tokens);
        break;
      case 'denied':
        view.status.textContent = MESSAGES.denied;
        showRefresh(MESSAGES.refreshDenied);
        break;
      case 'expired':
        view.status.textContent = MESSAGES.expired;
        showRefresh(MESSAGES.refreshExpired);
        break;
      default:
        break;
    }
  }

  async function signIn(tokens) {
    if (!tokens || !tokens.access_token) {
      showError(MESSAGES.signInFailed);
      return showRefresh(MESSAGES.refreshExpired);
    }
    saveTokens(tokens);
    try {
      showUser(await authorized('/api/me'));
    } catch (_) {
      forgetTokens();
      await newCode();
      showError(MESSAGES.signInFailed);
    }
  }

  async function logout() {
    view.logout.disabled = true;
    const token = accessToken;
    forgetTokens();
    if (token) {
      try {
        // Ends the session on the server; its refresh token dies with it.
        await api('/api/auth/logout', { method: 'POST', token });
      } catch (_) {
        // Signed out here either way; the access token expires on its own.
      }
    }
    await newCode();
  }

  /** A tab reloaded while signed in stays signed in; any other start shows a code. */
  async function start() {
    if (sessionStorage.getItem(REFRESH_TOKEN_KEY)) {
      try {
        showUser(await authorized('/api/me'));
        return;
      } catch (_) {
        forgetTokens();
      }
    }
    await newCode();
  }

  view.refresh.addEventListener('click', () => newCode());
  view.logout.addEventListener('click', () => logout());
  start();
})();
