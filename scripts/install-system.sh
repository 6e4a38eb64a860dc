#!/usr/bin/env bash
# The Debian packages Leash needs, installed only when missing (called by scripts/install.sh):
# - libusb-1.0-0-dev and libudev-dev: the headers the Ledger plugin's node-hid builds against;
# - the Python modules and qemu that Ledger's emulator (../shared/ledger/speculos, `npm run test:device`) runs with
#   Debian's /usr/bin/python3 (../shared/ledger/README.md, "Setup").
#
# When every package is installed, apt is not touched at all: a machine whose apt sources include an index that is
# mid-sync at its mirror (so `apt-get update` exits 100) still installs. When some are missing, `apt-get update` is
# tried a few times; if it keeps failing, the install is tried anyway from the package lists already on the machine,
# and only if that fails too does the script stop, naming the packages it could not install.
#
# Environment (for tests): LEASH_APT_UPDATE_TRIES (default 3), LEASH_APT_RETRY_DELAY seconds (default 10).
set -euo pipefail

PACKAGES=(libusb-1.0-0-dev libudev-dev
  python3-flask python3-flask-restful python3-flask-cors python3-construct python3-jsonschema
  python3-mnemonic python3-pil python3-pyelftools python3-requests qemu-user-static)
TRIES="${LEASH_APT_UPDATE_TRIES:-3}"
DELAY="${LEASH_APT_RETRY_DELAY:-10}"

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system: every Debian package Leash needs is installed; apt is not used"
  exit 0
fi
echo "install-system: installing ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
# sudo resets the environment: DEBIAN_FRONTEND is passed through env. apt waits for a dpkg lock another apt holds
# (an unattended upgrade) instead of failing at once.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo env DEBIAN_FRONTEND=noninteractive); fi
LOCK=(-o DPkg::Lock::Timeout=120)

updated=false
for try in $(seq 1 "$TRIES"); do
  if "${SUDO[@]}" apt-get update -qq "${LOCK[@]}"; then
    updated=true
    break
  fi
  echo "install-system: apt-get update failed (try $try of $TRIES)" >&2
  if [ "$try" -lt "$TRIES" ]; then sleep "$DELAY"; fi
done
if [ "$updated" = false ]; then
  echo "install-system: apt-get update kept failing; trying the package lists already on this machine" >&2
fi

if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${LOCK[@]}" "${missing[@]}" >/dev/null; then
  still=()
  for package in "${missing[@]}"; do
    installed "$package" || still+=("$package")
  done
  if [ "${#still[@]}" -eq 0 ]; then
    # apt-get failed on something else (a trigger, another package's script): what Leash needs is there.
    echo "install-system: apt-get install exited non-zero, but every package Leash needs is installed" >&2
    exit 0
  fi
  echo "install-system: could not install ${still[*]} with apt-get" \
    "(apt-get update $([ "$updated" = true ] && echo succeeded || echo "failed $TRIES times"))." \
    "Install them by hand (apt-get install ${still[*]}), or fix the apt sources, then run again." >&2
  exit 1
fi
echo "install-system: installed ${missing[*]}"
