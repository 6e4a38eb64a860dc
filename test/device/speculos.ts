/**
 * Ledger's real Ethereum app (1.22.0, test-key builds) in Ledger's emulator, Speculos, for the device suite
 * (`npm run test:device`, docs/DEVICE.md). Starts `../shared/ledger/speculos <model>` on free ports with a given
 * seed, reads what the screen shows through the emulator's REST API, presses the Nano's buttons or touches the Flex's
 * screen, walks a review flow to its end and approves or rejects, and stops the emulator's whole process group.
 *
 * Nothing here is loaded by production code. See ../shared/ledger/README.md for the emulator and what the app does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The two device models the suite runs on: the Nano S Plus (two buttons) and the Flex (touch screen). */
export type DeviceModel = "nanosp" | "flex";
export const DEVICE_MODELS: readonly DeviceModel[] = ["nanosp", "flex"];
export const MODEL_NAMES: Record<DeviceModel, string> = { nanosp: "Nano S Plus", flex: "Flex" };

/** Hardhat's default mnemonic: `m/44'/60'/i'/0/0` are Hardhat's default accounts (i = 0: 0xf39F…2266). */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** The wrapper script of ../shared/ledger (LEASH_SPECULOS overrides it). */
export const SPECULOS_WRAPPER =
  process.env.LEASH_SPECULOS ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/ledger/speculos");

/** One text element the emulator drew, with its bounding box (pixels). */
export interface ScreenElement {
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What one screen showed: its text elements top to bottom, double spaces collapsed. */
export type Screen = readonly string[];

/** What a review walk saw and did. */
export interface ReviewResult {
  /** Every distinct screen, in order, from the first one seen to the one holding the final action. */
  screens: Screen[];
  /**
   * The first screen drawn after the decision: normally the app's status screen (["Transaction signed"],
   * ["Message rejected"]…), unless a next request replaced it at once.
   */
  after: Screen;
}

export interface ReviewOptions {
  /** Text (or pattern) of the screen that holds the final action, e.g. "Sign transaction" or "Hold to sign". */
  until: string | RegExp;
  /** Approve (sign) or reject on that screen. */
  approve: boolean;
  /** How long the whole walk may take (ms). */
  timeoutMs?: number;
  /** How many screens at most before giving up (a loop guard). */
  maxScreens?: number;
  /** Called as the approval or rejection is input (the request may settle from then on). */
  onDecided?: () => void;
  /** On the Flex, approve by tapping the button with this text instead of holding "Hold to sign" (e.g. "Confirm"). */
  flexApproveTap?: RegExp;
  /**
   * The rejecting choice when it is not the review's "Reject" (e.g. "Cancel" of an address check): the Nano's screen
   * with that text is chosen, the Flex's button with that text is tapped, with no confirmation asked.
   */
  rejectText?: RegExp;
  /** Called on each screen of the review as it is shown, before moving on (e.g. to take a screenshot). */
  onScreen?: (screen: Screen, index: number) => Promise<void>;
}

/** Thrown when the emulator did not show what was awaited; says what it showed last. */
export class SpeculosTimeoutError extends Error {
  readonly lastScreen: Screen;

  constructor(message: string, lastScreen: Screen) {
    super(`${message}; last screen: ${formatScreen(lastScreen)}`);
    this.name = "SpeculosTimeoutError";
    this.lastScreen = lastScreen;
  }
}

/** A screen as one line, for messages and transcripts: "Review | transaction". */
export function formatScreen(screen: Screen): string {
  return screen.length === 0 ? "(blank)" : screen.join(" | ");
}

/** Collapses runs of whitespace (the emulator's lines can hold double spaces) and trims. */
export function normalizeText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function matches(screen: Screen, pattern: string | RegExp): boolean {
  const joined = screen.join(" ");
  return typeof pattern === "string" ? joined.includes(pattern) : pattern.test(joined);
}

function sameScreen(a: Screen, b: Screen): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Flex (480 × 600) touch positions of the NBGL review use case (as Ledger's ragger navigates it). */
const FLEX = {
  swipeFrom: { x: 400, y: 300 },
  swipeTo: { x: 80, y: 300 },
  holdToSign: { x: 240, y: 435 },
  reject: { x: 55, y: 530 },
  confirmChoice: { x: 240, y: 435 },
} as const;

/** Seconds a Flex "Hold to sign" press lasts (the SDK wants at least about 2.4 s). */
const HOLD_SECONDS = 3.5;
/** How often the screen is polled, and how long it must stay unchanged to count as drawn (ms). */
const POLL_MS = 100;
const SETTLE_MS = 250;
/** The longest one input may take to change the screen (ms); generous for a loaded 2-core machine. */
const SCREEN_CHANGE_TIMEOUT_MS = 10_000;

/** One running emulator. Start with {@link Speculos.start}; always {@link Speculos.stop} it. */
export class Speculos {
  readonly model: DeviceModel;
  readonly apiPort: number;
  readonly apduPort: number;
  #process: ChildProcess;
  #exited: Promise<void>;
  #exitCode: number | null | undefined;
  #output: string[] = [];
  #killOnExit: () => void;

  private constructor(model: DeviceModel, apiPort: number, apduPort: number, child: ChildProcess) {
    this.model = model;
    this.apiPort = apiPort;
    this.apduPort = apduPort;
    this.#process = child;
    const record = (chunk: Buffer): void => {
      this.#output.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (this.#output.length > 40) this.#output.splice(0, this.#output.length - 40);
    };
    child.stdout?.on("data", record);
    child.stderr?.on("data", record);
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code) => {
        this.#exitCode = code;
        resolve();
      });
    });
    // If the test process dies before stop(), take the emulator with it.
    this.#killOnExit = () => this.#signal("SIGKILL");
    process.once("exit", this.#killOnExit);
  }

  /**
   * Starts the emulator for `model` with `seed` (a BIP-39 mnemonic) on free ports and waits until its API answers
   * and the app's home screen is drawn.
   */
  static async start(model: DeviceModel, seed: string = HARDHAT_MNEMONIC, timeoutMs = 60_000): Promise<Speculos> {
    if (!existsSync(SPECULOS_WRAPPER)) {
      throw new Error(`Speculos wrapper not found at ${SPECULOS_WRAPPER} (../shared/ledger, or set LEASH_SPECULOS)`);
    }
    const apiPort = await freePort();
    let apduPort = await freePort();
    while (apduPort === apiPort) apduPort = await freePort();
    const child = spawn(
      SPECULOS_WRAPPER,
      [model, "--api-port", String(apiPort), "--apdu-port", String(apduPort), "--seed", seed],
      // Its own process group: stop() signals the Python process and its qemu child together.
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    const speculos = new Speculos(model, apiPort, apduPort, child);
    try {
      await speculos.#waitReady(timeoutMs);
    } catch (error) {
      await speculos.stop();
      throw error;
    }
    return speculos;
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (this.#exitCode !== undefined) {
        throw new Error(
          `Speculos (${this.model}) exited with code ${this.#exitCode} while starting:\n${this.#output.join("\n")}`,
        );
      }
      try {
        const screen = await this.screen();
        if (screen.length > 0) return;
      } catch (error) {
        lastError = error;
      }
      await sleep(200);
    }
    throw new Error(
      `Speculos (${this.model}) did not answer on port ${this.apiPort} within ${timeoutMs} ms ` +
        `(${String(lastError)}):\n${this.#output.join("\n")}`,
    );
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exitCode !== undefined || this.#process.pid === undefined) return;
    try {
      process.kill(-this.#process.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  /** Stops the emulator's process group (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    process.removeListener("exit", this.#killOnExit);
    this.#signal("SIGTERM");
    const stopped = await Promise.race([this.#exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!stopped) {
      this.#signal("SIGKILL");
      await this.#exited;
    }
    // The exit of the wrapper's process does not mean its qemu child is gone: make sure the group is.
    if (this.#process.pid !== undefined) {
      try {
        process.kill(-this.#process.pid, "SIGKILL");
      } catch {
        // Nothing left.
      }
    }
    this.#process.stdout?.destroy();
    this.#process.stderr?.destroy();
  }

  /** The last lines the emulator printed (for diagnostics). */
  get output(): readonly string[] {
    return this.#output;
  }

  async #api(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${this.apiPort}${route}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Speculos ${method} ${route}: HTTP ${response.status} ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  }

  async #elements(currentScreenOnly: boolean): Promise<ScreenElement[]> {
    const answer = (await this.#api("GET", `/events${currentScreenOnly ? "?currentscreenonly=true" : ""}`)) as {
      events: ScreenElement[];
    };
    return answer.events.map((event) => ({ ...event, text: normalizeText(event.text) })).filter((e) => e.text !== "");
  }

  /** The text elements on screen now, with their positions. */
  async screenElements(): Promise<ScreenElement[]> {
    return this.#elements(true);
  }

  /** The text on screen now, one entry per element, double spaces collapsed. */
  async screen(): Promise<Screen> {
    return (await this.#elements(true)).map((e) => e.text);
  }

  /** Every text element drawn since the last {@link clearEvents}, in order. */
  async events(): Promise<string[]> {
    return (await this.#elements(false)).map((e) => e.text);
  }

  /** Forgets the events recorded so far. */
  async clearEvents(): Promise<void> {
    await this.#api("DELETE", "/events");
  }

  /** A PNG of the screen now. */
  async screenshot(): Promise<Buffer> {
    const response = await fetch(`http://127.0.0.1:${this.apiPort}/screenshot`);
    if (!response.ok) throw new Error(`Speculos GET /screenshot: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }

  /** Nano: presses and releases a button. */
  async press(button: "left" | "right" | "both"): Promise<void> {
    this.#requireModel("nanosp", `press ${button}`);
    await this.#api("POST", `/button/${button}`, { action: "press-and-release" });
  }

  /** Flex: taps the screen at (x, y). */
  async tap(x: number, y: number): Promise<void> {
    this.#requireModel("flex", "tap");
    await this.#api("POST", "/finger", { action: "press-and-release", x, y });
  }

  /** Flex: presses at (x, y) for `seconds` (a "Hold to sign" button). */
  async longPress(x: number, y: number, seconds = HOLD_SECONDS): Promise<void> {
    this.#requireModel("flex", "long press");
    await this.#api("POST", "/finger", { action: "press-and-release", x, y, delay: seconds });
  }

  /** Flex: swipes from right to left across the middle (next page of a review). */
  async swipeLeft(): Promise<void> {
    this.#requireModel("flex", "swipe");
    const { swipeFrom: from, swipeTo: to } = FLEX;
    await this.#api("POST", "/finger", { action: "press-and-release", x: from.x, y: from.y, x2: to.x, y2: to.y });
  }

  #requireModel(model: DeviceModel, what: string): void {
    if (this.model !== model) throw new Error(`cannot ${what} on a ${MODEL_NAMES[this.model]}`);
  }

  /** Waits until the screen is drawn (unchanged for a moment) and satisfies `accept`; returns it. */
  async waitForScreen(
    accept: (screen: Screen) => boolean,
    what: string,
    timeoutMs = SCREEN_CHANGE_TIMEOUT_MS,
  ): Promise<Screen> {
    const deadline = Date.now() + timeoutMs;
    let last: Screen = [];
    let stableSince = 0;
    while (Date.now() < deadline) {
      const screen = await this.screen();
      if (!sameScreen(screen, last)) {
        last = screen;
        stableSince = Date.now();
      } else if (screen.length > 0 && Date.now() - stableSince >= SETTLE_MS && accept(screen)) {
        return screen;
      }
      await sleep(POLL_MS);
    }
    throw new SpeculosTimeoutError(
      `${MODEL_NAMES[this.model]}: timed out after ${timeoutMs} ms waiting for ${what}`,
      last,
    );
  }

  /** Waits until the screen shows `text`. */
  async waitForText(text: string | RegExp, timeoutMs = SCREEN_CHANGE_TIMEOUT_MS): Promise<Screen> {
    return this.waitForScreen((screen) => matches(screen, text), `"${String(text)}"`, timeoutMs);
  }

  /** Waits until the screen no longer shows `previous`; returns the new screen. */
  async waitForChange(previous: Screen, timeoutMs = SCREEN_CHANGE_TIMEOUT_MS): Promise<Screen> {
    return this.waitForScreen((screen) => !sameScreen(screen, previous), "the screen to change", timeoutMs);
  }

  /** Waits until the app's home screen is back (after a flow, its status screen lingers a few seconds). */
  async waitForHome(timeoutMs = 15_000): Promise<Screen> {
    return this.waitForScreen((screen) => isHomeScreen(this.model, screen), "the app's home screen", timeoutMs);
  }

  /**
   * Walks a review flow: waits for it to start (a screen that is neither the app's home nor a lingering status
   * screen), records every distinct screen, moves on (Nano: right button; Flex: swipe left) until a screen matches
   * `until`, approves or rejects there, and returns the screen that follows (normally the app's status screen,
   * "Transaction signed", "Message rejected"…).
   *
   * - Nano: approve = both buttons on that screen; reject = right to the "Reject" screen, then both buttons.
   * - Flex: approve = a long press on "Hold to sign"; reject = the "Reject" footer, then "Yes, reject".
   *
   * The screen matching `until` is the last one in `screens`. Throws {@link SpeculosTimeoutError} if the flow
   * stalls or never reaches `until`.
   */
  async review(options: ReviewOptions): Promise<ReviewResult> {
    const {
      until,
      approve,
      timeoutMs = 90_000,
      maxScreens = 60,
      onDecided,
      onScreen,
      flexApproveTap,
      rejectText,
    } = options;
    const deadline = Date.now() + timeoutMs;
    const screens: Screen[] = [];
    let screen = await this.waitForScreen(
      (s) => !isHomeScreen(this.model, s) && !isStatusScreen(s),
      "a review to start",
      SCREEN_CHANGE_TIMEOUT_MS * 3,
    );
    for (;;) {
      screens.push(screen);
      await onScreen?.(screen, screens.length - 1);
      if (matches(screen, until)) break;
      if (screens.length >= maxScreens || Date.now() > deadline) {
        throw new SpeculosTimeoutError(
          `${MODEL_NAMES[this.model]}: no screen matched "${String(until)}" after ${screens.length} screens`,
          screen,
        );
      }
      if (this.model === "nanosp") await this.press("right");
      else await this.swipeLeft();
      screen = await this.waitForChange(screen);
    }
    // onDecided comes just before the decisive input: the request may settle before the input's HTTP call returns.
    let decisionScreen: Screen;
    if (this.model === "nanosp") {
      if (!approve) {
        await this.press("right");
        await this.waitForText(rejectText ?? /^Reject/);
      }
      decisionScreen = await this.screen();
      onDecided?.();
      await this.press("both");
    } else if (approve && flexApproveTap !== undefined) {
      const button = await this.#elementCenter(flexApproveTap, FLEX.holdToSign);
      decisionScreen = await this.screen();
      onDecided?.();
      await this.tap(button.x, button.y);
    } else if (approve) {
      const hold = await this.#elementCenter(/^Hold to sign$/, FLEX.holdToSign);
      decisionScreen = await this.screen();
      onDecided?.();
      await this.longPress(hold.x, hold.y);
    } else if (rejectText !== undefined) {
      const cancel = await this.#elementCenter(rejectText, FLEX.reject);
      decisionScreen = await this.screen();
      onDecided?.();
      await this.tap(cancel.x, cancel.y);
    } else {
      const reject = await this.#elementCenter(/^Reject/, FLEX.reject);
      await this.tap(reject.x, reject.y);
      await this.waitForText(/Yes, reject/);
      const confirm = await this.#elementCenter(/^Yes, reject$/, FLEX.confirmChoice);
      decisionScreen = await this.screen();
      onDecided?.();
      await this.tap(confirm.x, confirm.y);
    }
    const after = await this.#waitForNext(decisionScreen);
    return { screens, after };
  }

  /** The first screen that differs from `previous`, without waiting for it to settle (status screens are brief). */
  async #waitForNext(previous: Screen): Promise<Screen> {
    const deadline = Date.now() + SCREEN_CHANGE_TIMEOUT_MS;
    let screen = previous;
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (screen.length > 0 && !sameScreen(screen, previous)) return screen;
      await sleep(POLL_MS / 2);
    }
    throw new SpeculosTimeoutError(`${MODEL_NAMES[this.model]}: the screen did not change after the decision`, screen);
  }

  /**
   * Closes the warning the app leaves on screen after refusing a request for want of blind signing (it has already
   * answered 0x6a80; the warning waits for the owner): Nano "Blind signing must be enabled in settings", closed with
   * both buttons; Flex "This transaction cannot be clear-signed", closed with "Reject transaction". Returns the
   * warning's text and waits for the home screen.
   */
  async closeBlindSigningWarning(): Promise<Screen> {
    const warning = await this.waitForText(/Blind signing must|cannot be clear-signed/);
    if (this.model === "nanosp") {
      await this.press("both");
    } else {
      const reject = await this.#elementCenter(/^Reject transaction$/, FLEX.reject);
      await this.tap(reject.x, reject.y);
    }
    await this.waitForHome();
    return warning;
  }

  /** The centre of the element on screen whose text matches `pattern`, or `fallback` if none does. */
  async #elementCenter(pattern: RegExp, fallback: { x: number; y: number }): Promise<{ x: number; y: number }> {
    const element = (await this.screenElements()).find((e) => pattern.test(e.text));
    if (element === undefined) return fallback;
    return { x: Math.round(element.x + element.w / 2), y: Math.round(element.y + element.h / 2) };
  }
}

/** Whether `screen` is the short-lived status screen that ends a flow ("Transaction signed", "Message rejected"…). */
export function isStatusScreen(screen: Screen): boolean {
  return (
    screen.length === 1 &&
    /^((Transaction|Message|Operation) (signed|rejected)|Address (verified|verification cancelled))$/.test(screen[0]!)
  );
}

/** Whether `screen` is the Ethereum app's home screen on `model`. */
export function isHomeScreen(model: DeviceModel, screen: Screen): boolean {
  const joined = screen.join(" ");
  return model === "nanosp" ? joined.includes("app is ready") : joined.includes("This app enables signing");
}
