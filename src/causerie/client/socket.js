/* The client side of the real-time protocol (docs/realtime.md), shared by the chatbox
 * (/ws/visitor) and the inbox (/ws/agent). One file, served under both /widget/VERSION/socket.js
 * and /app/static/VERSION/socket.js, so each imports it as "./socket.js" from its own folder.
 *
 * - The credential goes in the first frame (`auth`), never in the URL.
 * - The highest `seq` seen is kept; a reconnection resumes with `after` = that `seq`, so every
 *   stored event missed in between comes once, in order (the position is that of the first
 *   `ready` when the page had none; later `ready` frames do not move it: the replay does).
 * - A dropped connection is retried with a growing delay (0.5 s, 1 s, 2 s ... up to `maxDelay`,
 *   each times 0.75 to 1.25 at random, so that clients cut together do not come back together),
 *   at once when the browser comes back online; `ready` starts the count again. A browser that
 *   goes offline drops the connection at once (it could look open for minutes).
 * - `ping` every `pingEvery` ms keeps the server's idle timeout away.
 * - `message.send` frames wait, by `client_id`, for their `message.ack`: sent again after every
 *   reconnection, after `retry_after` seconds (else 1) on `rate_limited`, and reported once
 *   (`onLate`) if no ack comes within `ackTimeout`. The server stores one message per client id,
 *   so sending again never doubles one. */

/**
 * @typedef {{type: string, seq?: number, client_id?: string, code?: string, retry_after?: number, first?: boolean, [field: string]: any}} Frame
 * A frame from the server; `first` is added to `ready`: true for the socket's first one.
 * @typedef {"connecting" | "online" | "offline"} SocketState
 * @typedef {{type: "message.send", client_id: string, body: string, [field: string]: unknown}} MessageFrame
 * @typedef {{frame: MessageFrame, timer?: ReturnType<typeof setTimeout>}} Pending
 *
 * @typedef {object} SocketOptions
 * @property {string} url the WebSocket's address
 * @property {(after: number | null) => Record<string, unknown>} auth the first frame, given the
 *   position to resume from (null before the first `ready` of a page that knows none)
 * @property {(frame: Frame) => void} onFrame every frame but `pong`, in order; an `error` about a
 *   pending message ends its wait (but `rate_limited`, which is handled here and not passed on)
 * @property {(state: SocketState, closed?: CloseEvent) => void} [onState] the connection's state
 * @property {(clientId: string) => void} [onLate] a message not acknowledged within `ackTimeout`:
 *   it stays pending (see `forget`)
 * @property {number | null} [seq] the position the page already has (e.g. from an HTTP load)
 * @property {number} [maxDelay] the longest wait between two attempts, in ms (10 s)
 * @property {number} [pingEvery] in ms (30 s)
 * @property {number} [ackTimeout] in ms (15 s)
 */

/** The wait before attempt `attempt + 1`, in ms. `random` is in [0, 1).
 * @param {number} attempt @param {number} maxDelay @param {number} random */
export function backoff(attempt, maxDelay, random) {
  return Math.min(maxDelay, 500 * 2 ** attempt) * (0.75 + random / 2);
}

export class Socket {
  /** Connects at once. @param {SocketOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {number | null} */
    this.seq = options.seq ?? null;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.ready = false;
    // Failed attempts since the last `ready`.
    this.attempt = 0;
    this.closed = false;
    /** @type {Map<string, Pending>} */
    this.pending = new Map();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.pinger = undefined;
    this.onOnline = () => this.reconnectNow();
    // Offline, a socket can look open for minutes (nothing tells it the network is gone): it is
    // dropped at once, as if closed, so that the page says it is reconnecting.
    this.onOffline = () => {
      const socket = this.socket;
      socket?.onclose?.(new CloseEvent("close"));
      socket?.close();
    };
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const socket = new WebSocket(this.options.url);
    this.socket = socket;
    this.options.onState?.("connecting");
    socket.onopen = () => socket.send(JSON.stringify(this.options.auth(this.seq)));
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") this.receive(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      clearInterval(this.pinger);
      if (this.closed) return;
      const delay = backoff(this.attempt, this.options.maxDelay ?? 10000, Math.random());
      this.attempt += 1;
      this.timer = setTimeout(() => this.connect(), delay);
      this.options.onState?.("offline", event);
    };
  }

  /** @param {Frame} frame */
  receive(frame) {
    const { type, seq, client_id: clientId } = frame;
    if (type === "ready") {
      const first = this.seq === null;
      if (first) this.seq = seq ?? 0;
      this.ready = true;
      this.attempt = 0;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ type: "ping" }), this.options.pingEvery ?? 30000);
      this.options.onState?.("online");
      this.options.onFrame({ ...frame, first });
      for (const id of this.pending.keys()) this.transmit(id);
      return;
    }
    if (typeof seq === "number" && this.seq !== null && seq > this.seq) this.seq = seq;
    if (type === "pong") return;
    const pending = clientId === undefined ? undefined : this.pending.get(clientId);
    if (pending && clientId && type === "error" && frame.code === "rate_limited") {
      clearTimeout(pending.timer);
      pending.timer = setTimeout(() => this.transmit(clientId), 1000 * (frame.retry_after || 1));
      return;
    }
    if (pending && clientId && (type === "message.ack" || type === "error")) this.forget(clientId);
    this.options.onFrame(frame);
  }

  /** Sends now if the socket is ready; false otherwise (nothing is kept).
   * @param {Record<string, unknown>} frame */
  send(frame) {
    if (!this.ready || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a message until it is acknowledged (see above); true if it went now. Sending a
   * pending client id again (a "Retry") sends it now and restarts its wait.
   * @param {MessageFrame} frame */
  sendMessage(frame) {
    this.forget(frame.client_id);
    this.pending.set(frame.client_id, { frame });
    return this.transmit(frame.client_id);
  }

  /** @param {string} clientId */
  transmit(clientId) {
    const pending = this.pending.get(clientId);
    if (!pending) return false;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.options.onLate?.(clientId), this.options.ackTimeout ?? 15000);
    return this.send(pending.frame);
  }

  /** Stops waiting for a message's ack (e.g. when it goes over HTTP instead).
   * @param {string} clientId */
  forget(clientId) {
    clearTimeout(this.pending.get(clientId)?.timer);
    this.pending.delete(clientId);
  }

  reconnectNow() {
    if (this.closed || this.socket) return;
    clearTimeout(this.timer);
    this.connect();
  }

  /** For good: no reconnection; pending messages are dropped. */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    for (const id of [...this.pending.keys()]) this.forget(id);
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    socket?.close(1000);
  }
}
