/* The inbox's sockets, one per website the operator belongs to (socket.js, shared with the
 * chatbox), and what is waiting on them. Opened and closed by data.js; written to by
 * thread-data.js. */

export const sockets = new Map(); // website id -> Socket
export const inFlight = new Map(); // client id -> a pending message sent over a socket, until its ack
export const firstReady = new Map(); // website id -> Promise resolved at the socket's first `ready`

export function socketOf(websiteId) {
  return sockets.get(websiteId) || null;
}
