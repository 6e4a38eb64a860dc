#!/usr/bin/env bash
# Installs everything Leash needs on a fresh Debian machine that has Node 20 (or newer), npm and apt:
# the Debian packages that are missing (scripts/install-system.sh: the USB / udev headers the Ledger plugin's
# node-hid builds against, the Python modules and qemu that Ledger's emulator needs), then the npm dependencies
# from the lockfile, installed by npm running under Node 22 (Hardhat 3 needs Node >= 22.13; the `node` devDependency
# puts Node 22 in node_modules/.bin, which npm scripts use).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system.sh

NODE22="node@$(node -p "require('./package.json').devDependencies.node")"
npx -y -p "$NODE22" npm ci
