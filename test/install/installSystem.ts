/**
 * scripts/install-system.sh's decisions (issue 17), without network: fake `dpkg-query`, `apt-get`, `id` and `sudo`
 * on the PATH record what the script asks and answer as a machine would. It must not touch apt when every package
 * is installed (a mirror mid-sync then cannot fail the install), install only what is missing, retry
 * `apt-get update`, fall back to the lists already on the machine, and name the packages it could not install.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

const SCRIPT = path.join(import.meta.dirname, "../../scripts/install-system.sh");
const HEADERS = ["libusb-1.0-0-dev", "libudev-dev"];
const SPECULOS = [
  "python3-flask",
  "python3-flask-restful",
  "python3-flask-cors",
  "python3-construct",
  "python3-jsonschema",
  "python3-mnemonic",
  "python3-pil",
  "python3-pyelftools",
  "python3-requests",
  "qemu-user-static",
];

interface Machine {
  /** Packages installed before the script runs. */
  installed: string[];
  /** How many `apt-get update` calls fail before one succeeds (Infinity: all fail). */
  updateFailures?: number;
  /** Whether `apt-get install` succeeds (it then installs what it was given). */
  installWorks?: boolean;
  /** The user id the fake `id -u` answers. */
  uid?: number;
  /** `apt-get install` installs what it was given, then exits 100 anyway (a failing trigger). */
  installExitsNonZero?: boolean;
}

/** Runs the script on a fake machine; returns its exit code, output, and every apt-get / sudo call it made. */
function runOn(machine: Machine) {
  const dir = mkdtempSync(path.join(tmpdir(), "leash-install-"));
  const bin = path.join(dir, "bin");
  const state = path.join(dir, "installed");
  const calls = path.join(dir, "calls");
  const updates = path.join(dir, "updates");
  writeFileSync(state, machine.installed.map((name) => `${name}\n`).join(""));
  writeFileSync(calls, "");
  writeFileSync(updates, "0");
  const failures = machine.updateFailures ?? 0;
  const script = (name: string, body: string) => {
    const file = path.join(bin, name);
    writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(file, 0o755);
  };
  spawnSync("mkdir", ["-p", bin]);
  script(
    "dpkg-query",
    // dpkg-query -W -f='${Status}' <package>
    `package="\${@: -1}"; if grep -qx "$package" "${state}"; then printf 'install ok installed'; else echo "dpkg-query: no packages found matching $package" >&2; exit 1; fi`,
  );
  script(
    "apt-get",
    [
      // An apt run without DEBIAN_FRONTEND=noninteractive could stop at a prompt: recorded as such.
      `echo "apt-get $*$([ "$DEBIAN_FRONTEND" = noninteractive ] || echo ' (interactive)')" >> "${calls}"`,
      `if [ "$1" = update ]; then n=$(( $(cat "${updates}") + 1 )); echo $n > "${updates}";`,
      `  if [ "${failures === Infinity ? "inf" : failures}" = inf ] || [ $n -le ${failures === Infinity ? 0 : failures} ]; then echo "E: Failed to fetch index (mid-sync)" >&2; exit 100; fi; exit 0; fi`,
      `if [ "$1" = install ]; then ${machine.installWorks === false ? 'echo "E: Unable to locate package" >&2; exit 100' : `skip=false; for a in "$@"; do if $skip; then skip=false; continue; fi; case "$a" in -o) skip=true;; -*|install) ;; *) echo "$a" >> "${state}";; esac; done; exit ${machine.installExitsNonZero === true ? 100 : 0}`}; fi`,
    ].join("\n"),
  );
  script("id", `if [ "$1" = -u ]; then echo ${machine.uid ?? 0}; else /usr/bin/id "$@"; fi`);
  // Like sudo's env_reset: the caller's environment is not passed on.
  script("sudo", `echo "sudo $*" | cut -d' ' -f1-3 >> "${calls}"; exec env -i PATH="$PATH" "$@"`);
  script("sleep", "exit 0");
  const result = spawnSync("bash", [SCRIPT], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, LEASH_APT_RETRY_DELAY: "0" },
    encoding: "utf8",
  });
  const made = readFileSync(calls, "utf8").split("\n").filter(Boolean);
  const after = readFileSync(state, "utf8").split("\n").filter(Boolean);
  rmSync(dir, { recursive: true, force: true });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls: made, installed: after };
}

describe("install-system.sh: Debian packages only when missing, robust to a failing apt index", function () {
  it("does not run apt at all when every package is installed, so a mirror mid-sync cannot fail the install", function () {
    const run = runOn({ installed: [...HEADERS, ...SPECULOS], updateFailures: Infinity, installWorks: false });
    expect(run.code).to.equal(0);
    expect(run.calls).to.deep.equal([]);
    expect(run.stdout).to.contain("apt is not used");
  });

  it("installs only the missing headers after one apt-get update", function () {
    const run = runOn({ installed: SPECULOS });
    expect(run.code).to.equal(0);
    expect(run.calls).to.deep.equal([
      "apt-get update -qq -o DPkg::Lock::Timeout=120",
      `apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 ${HEADERS.join(" ")}`,
    ]);
    expect(run.installed).to.include.members(HEADERS);
  });

  it("retries apt-get update that fails, then installs", function () {
    const run = runOn({ installed: SPECULOS, updateFailures: 2 });
    expect(run.code).to.equal(0);
    expect(run.calls.filter((call) => call === "apt-get update -qq -o DPkg::Lock::Timeout=120")).to.have.length(3);
    expect(run.stderr).to.contain("apt-get update failed (try 2 of 3)");
    expect(run.installed).to.include.members(HEADERS);
  });

  it("installs from the lists already on the machine when apt-get update keeps failing", function () {
    const run = runOn({ installed: SPECULOS, updateFailures: Infinity });
    expect(run.code).to.equal(0);
    expect(run.calls.filter((call) => call === "apt-get update -qq -o DPkg::Lock::Timeout=120")).to.have.length(3);
    expect(run.stderr).to.contain("trying the package lists already on this machine");
    expect(run.installed).to.include.members(HEADERS);
  });

  it("fails naming exactly the packages it could not install, and what to do", function () {
    const run = runOn({ installed: [...SPECULOS, "libudev-dev"], updateFailures: Infinity, installWorks: false });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain("could not install libusb-1.0-0-dev with apt-get (apt-get update failed 3 times)");
    expect(run.stderr).to.contain("apt-get install libusb-1.0-0-dev");
    expect(run.stderr).to.not.contain("could not install libusb-1.0-0-dev libudev-dev");
  });

  it("succeeds when apt-get install exits non-zero but every package it needs ended up installed", function () {
    const run = runOn({ installed: [...SPECULOS, "libudev-dev"], installExitsNonZero: true });
    expect(run.code).to.equal(0);
    expect(run.installed).to.include("libusb-1.0-0-dev");
    expect(run.stderr).to.contain("every package Leash needs is installed");
  });

  it("runs apt through sudo when not root, non-interactive although sudo resets the environment", function () {
    const run = runOn({ installed: [...HEADERS, ...SPECULOS.slice(1)], uid: 1000 });
    expect(run.code).to.equal(0);
    expect(run.calls).to.deep.equal([
      "sudo env DEBIAN_FRONTEND=noninteractive",
      "apt-get update -qq -o DPkg::Lock::Timeout=120",
      "sudo env DEBIAN_FRONTEND=noninteractive",
      "apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 python3-flask",
    ]);
  });
});
