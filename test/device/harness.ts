/**
 * What the device tests share: which models run, one emulator per model for a `describe`, a request signed while the
 * device's review is walked, and the review's screens read back as labelled fields.
 *
 * The device suite runs only under `npm run test:device`, which sets LEASH_DEVICE_TESTS=1. `npm test` loads these
 * files too (Hardhat's mocha runner takes every file under test/) but then registers no test and starts nothing.
 */
import { formatScreen, DEVICE_MODELS, MODEL_NAMES, Speculos, type DeviceModel } from "./speculos.js";
import type { ReviewOptions, ReviewResult, Screen } from "./speculos.js";

/** The models to run on: none unless LEASH_DEVICE_TESTS=1; LEASH_DEVICE_MODELS=nanosp (or flex) picks one. */
export function deviceModels(): DeviceModel[] {
  if (process.env.LEASH_DEVICE_TESTS !== "1") return [];
  const only = process.env.LEASH_DEVICE_MODELS?.split(",").map((m) => m.trim());
  return DEVICE_MODELS.filter((model) => only === undefined || only.includes(model));
}

/**
 * Registers `describe("<title> on a <model>")` for each model to run, with an emulator started before its tests and
 * stopped after them. `body` gets a getter for the running emulator.
 */
export function describeOnDevices(title: string, body: (device: () => Speculos, model: DeviceModel) => void): void {
  for (const model of deviceModels()) {
    describe(`${title} on a ${MODEL_NAMES[model]}`, function () {
      // Speculos takes 1.5 to 3 s to start; one review is 4 to 20 s of inputs on a loaded machine.
      this.timeout(120_000);
      let speculos: Speculos | undefined;
      before(async function () {
        speculos = await Speculos.start(model);
      });
      after(async function () {
        await speculos?.stop();
      });
      body(() => {
        if (speculos === undefined) throw new Error(`the ${MODEL_NAMES[model]} emulator is not running`);
        return speculos;
      }, model);
    });
  }
}

/** How a request sent to the device ended, and what the device showed meanwhile. */
export interface DeviceOutcome<T> {
  result: { value: T } | { error: unknown };
  review: ReviewResult;
}

/**
 * Sends `request` (which reaches the device through hardhat-ledger or hw-app-eth) and walks the device's review
 * meanwhile, approving or rejecting as `options` says. If the request fails before the owner's decision was input
 * (the device refused it, or it never got there), throws that failure rather than waiting for screens that will not
 * come.
 */
export async function reviewOnDevice<T>(
  device: Speculos,
  request: Promise<T>,
  options: ReviewOptions,
): Promise<DeviceOutcome<T>> {
  const settled = request.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  let decided = false;
  const review = device.review({
    ...options,
    onDecided: () => {
      decided = true;
      options.onDecided?.();
    },
  });
  review.catch(() => undefined); // reported below, or superseded by the request's failure
  const first = await Promise.race([review.then(() => "review" as const), settled.then(() => "request" as const)]);
  if (first === "request" && !decided) {
    const result = await settled;
    if ("error" in result) {
      const screen = await device.screen().catch(() => [] as Screen);
      throw new Error(
        `the request failed before the device review ended (screen: ${formatScreen(screen)}): ` +
          String((result.error as Error)?.message ?? result.error),
        { cause: result.error },
      );
    }
  }
  return { review: await review, result: await settled };
}

/** The review's fields: each label with its value (the lines under it joined), in the order shown. */
export interface ReviewFields {
  fields: [label: string, value: string][];
  /** Every other line (titles, "Sign transaction", …), in order; navigation chrome left out. */
  other: string[];
}

/** Navigation chrome of the Flex review pages: the "Reject" footer, the page counter and gesture hints. */
const CHROME = [/^Reject$/, /^\d+ of \d+$/, /^Swipe to review$/, /^Hold to sign$/];

/**
 * Reads a review's screens as fields. A line equal to one of `labels` starts a field; the lines after it on the same
 * screen, up to the next label, are its value (joined without separator: the device wraps addresses and amounts
 * across lines). A value paged over several screens ("Value (1/2)", "Value (2/2)") is one field. Lines before any
 * label on a screen go to `other`.
 */
export function reviewFields(screens: readonly Screen[], labels: readonly string[]): ReviewFields {
  const fields: [string, string][] = [];
  const other: string[] = [];
  for (const screen of screens) {
    let current: [string, string] | undefined;
    for (const line of screen) {
      if (CHROME.some((pattern) => pattern.test(line))) continue;
      // A value too long for one screen is paged: "Value (1/2)", "Value (2/2)": one field.
      const paged = /^(.*) \((\d+)\/(\d+)\)$/.exec(line);
      if (paged !== null && labels.includes(paged[1]!)) {
        if (paged[2] === "1" || fields.at(-1)?.[0] !== paged[1]) {
          current = [paged[1]!, ""];
          fields.push(current);
        } else {
          current = fields.at(-1)!;
        }
      } else if (labels.includes(line)) {
        current = [line, ""];
        fields.push(current);
      } else if (current !== undefined) {
        current[1] += line;
      } else {
        other.push(line);
      }
    }
  }
  return { fields, other };
}

/** A review as text, one screen a line (for failure messages and transcripts). */
export function transcript(screens: readonly Screen[]): string {
  return screens.map((screen, i) => `${String(i + 1).padStart(2)}. ${formatScreen(screen)}`).join("\n");
}
