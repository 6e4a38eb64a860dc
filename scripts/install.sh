#!/usr/bin/env bash
# Installs everything Leash needs on a fresh Debian machine that has Node 20 (or newer), npm and apt:
# the USB / udev headers the Ledger plugin's node-hid builds against, then the npm dependencies from the
# lockfile, installed by npm running under Node 22 (Hardhat 3 needs Node >= 22.13; the `node` devDependency
# puts Node 22 in node_modules/.bin, which npm scripts use).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends libusb-1.0-0-dev libudev-dev >/dev/null

NODE22="node@$(node -p "require('./package.json').devDependencies.node")"
npx -y -p "$NODE22" npm ci
