// What the host page, the loader and the chatbox put on `window` (docs/widget.md).

/** The live `$causerie` object (docs/widget.md, "The JavaScript SDK"). */
interface CauserieSdk {
  push(...commands: unknown[]): number;
  is(name: string): boolean;
  get(name: string): unknown;
  on(name: string, handler: unknown): void;
  off(name: string, handler?: unknown): void;
}

interface Window {
  CAUSERIE_WEBSITE_ID?: unknown;
  __causerieLoaded?: boolean;
  /** Commands queued by the host page before the chatbox starts, then the live object. */
  $causerie?: unknown[] | CauserieSdk;
}
