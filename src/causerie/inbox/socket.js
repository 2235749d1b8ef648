/* One agent socket per followed website (docs/realtime.md). The login cookie rides on the
 * handshake (same origin), so the first frame carries no credential: `{"type": "auth",
 * "website_id", "after"?, "status"}`. The highest `seq` seen is kept, and a reconnection (with a
 * growing, jittered delay) resumes with `after` = that `seq`: every stored event missed in
 * between comes back exactly once, in order. */

const PING_EVERY = 25000;
const MAX_DELAY = 15000;

export class WebsiteSocket {
  /** handlers: {onFrame(frame), onState("connecting"|"online"|"offline"), onAuthFailed(frame)} */
  constructor(websiteId, status, handlers) {
    this.websiteId = websiteId;
    this.status = status;
    this.handlers = handlers;
    this.seq = null; // null until the first `ready`: then the stream's position
    this.socket = null;
    this.ready = false;
    this.attempt = 0;
    this.closed = false;
    this.timer = null;
    this.pinger = null;
    this.onOnline = () => this.reconnectNow();
    window.addEventListener("online", this.onOnline);
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws/agent`);
    this.socket = socket;
    this.handlers.onState("connecting");
    socket.onopen = () => {
      const auth = { type: "auth", website_id: this.websiteId, status: this.status };
      if (this.seq !== null) auth.after = this.seq;
      socket.send(JSON.stringify(auth));
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      clearInterval(this.pinger);
      if (this.closed) return;
      this.handlers.onState("offline");
      if (event.code === 4001) this.handlers.onAuthFailed?.(event);
      const delay = Math.min(MAX_DELAY, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  receive(frame) {
    if (frame.type === "ready") {
      const first = this.seq === null;
      if (first) this.seq = frame.seq ?? 0;
      this.ready = true;
      this.attempt = 0;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ type: "ping" }), PING_EVERY);
      this.handlers.onState("online");
      this.handlers.onFrame({ ...frame, first });
      return;
    }
    if (typeof frame.seq === "number" && this.seq !== null && frame.seq > this.seq) this.seq = frame.seq;
    this.handlers.onFrame(frame);
  }

  /** Sends when the socket is ready; false otherwise (the caller falls back to HTTP). */
  send(frame) {
    if (!this.ready || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  setStatus(status) {
    this.status = status;
    this.send({ type: "availability", status });
  }

  reconnectNow() {
    if (this.closed || this.socket) return;
    clearTimeout(this.timer);
    this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    window.removeEventListener("online", this.onOnline);
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    socket?.close(1000);
  }
}
