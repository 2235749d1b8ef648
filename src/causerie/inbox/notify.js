/* New visitor messages while the tab is hidden: an opt-in desktop notification and a short
 * tone made with WebAudio (no sound file to download). Nothing leaves the browser. */

import { state, savePrefs } from "./store.js";

let audio = null;

/** Browsers start audio only after a user gesture: the first click or key prepares it. */
export function unlockAudio() {
  if (audio || !window.AudioContext) return;
  try {
    audio = new AudioContext();
  } catch {
    audio = null;
  }
}

export function playTone() {
  if (!audio) return;
  if (audio.state === "suspended") audio.resume().catch(() => {});
  const start = audio.currentTime + 0.01;
  for (const [offset, frequency] of [[0, 880], [0.14, 1175]]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.15, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.18);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.2);
  }
}

export function notificationsSupported() {
  return "Notification" in window;
}

/** Ask the browser's permission (from a click) and remember the choice. */
export async function enableNotifications(enabled) {
  if (!enabled) {
    savePrefs({ notify: false });
    return false;
  }
  if (!notificationsSupported()) return false;
  let permission = Notification.permission;
  if (permission === "default") permission = await Notification.requestPermission();
  savePrefs({ notify: permission === "granted" });
  return permission === "granted";
}

/** A visitor wrote: tell the agent if they are looking elsewhere. */
export function announce({ title, body, conversationId, onOpen }) {
  if (!document.hidden) return;
  if (state.prefs.sound) playTone();
  if (!state.prefs.notify || !notificationsSupported() || Notification.permission !== "granted") return;
  try {
    // Notification text is plain text: nothing in it is markup.
    const notification = new Notification(title, { body: body.slice(0, 140), tag: `causerie-${conversationId}` });
    notification.onclick = () => {
      window.focus();
      onOpen?.();
      notification.close();
    };
  } catch {
    /* some browsers allow notifications only from a service worker: the tone stays */
  }
}
