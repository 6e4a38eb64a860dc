#!/usr/bin/env bash
# Installs everything Leash needs on a fresh Debian machine that has Node 20 (or newer), npm and apt:
# the USB / udev headers the Ledger plugin's node-hid builds against, the Python modules and qemu that Ledger's
# emulator (../shared/ledger/speculos, run by `npm run test:device`) needs, then the npm dependencies from the
# lockfile, installed by npm running under Node 22 (Hardhat 3 needs Node >= 22.13; the `node` devDependency
# puts Node 22 in node_modules/.bin, which npm scripts use).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
# apt-get install skips what is already installed, so running this again is cheap. Speculos runs with Debian's
# /usr/bin/python3 and these packages (../shared/ledger/README.md, "Setup").
SPECULOS_PACKAGES="python3-flask python3-flask-restful python3-flask-cors python3-construct python3-jsonschema
  python3-mnemonic python3-pil python3-pyelftools python3-requests qemu-user-static"
# shellcheck disable=SC2086 # the package list is split on purpose
$SUDO apt-get install -y -qq --no-install-recommends libusb-1.0-0-dev libudev-dev $SPECULOS_PACKAGES >/dev/null

NODE22="node@$(node -p "require('./package.json').devDependencies.node")"
npx -y -p "$NODE22" npm ci
