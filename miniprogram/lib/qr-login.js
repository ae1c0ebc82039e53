// Scan-to-login from the phone's side: the user scanned a browser's code, and the app binds the
// ticket to this user (scan), then approves it (confirm) or refuses it (deny). Each call goes
// through the kit (lib/auth.js), so it logs in first when there is no session and rejects with
// the server's error `code` (ticket_taken, ticket_expired, ...) as every kit call does.
'use strict';

const auth = require('./auth.js');

/**
 * The ticket in a page's `options.scene`. WeChat hands the scene over URL-encoded; a scene
 * that does not decode, or is empty, is null.
 */
function ticketFromScene(scene) {
  if (typeof scene !== 'string' || !scene) return null;
  let ticket;
  try {
    ticket = decodeURIComponent(scene).trim();
  } catch (_) {
    return null;
  }
  return ticket || null;
}

function call(ticket, action) {
  return auth
    .request({ url: `/api/qr-login/${encodeURIComponent(ticket)}/${action}`, method: 'POST' })
    .then((res) => res.data);
}

module.exports = {
  ticketFromScene,
  /** Binds the ticket to this user. Resolves with `{ ticket, browser: { user_agent, ip,
   *  requested_at }, expires_in }`: what the browser that shows the code told the server. */
  scan: (ticket) => call(ticket, 'scan'),
  /** Signs the browser in as this user. Resolves with `{ state: 'confirmed' }`. */
  confirm: (ticket) => call(ticket, 'confirm'),
  /** Refuses the browser. Resolves with `{ state: 'denied' }`. */
  deny: (ticket) => call(ticket, 'deny'),
};
