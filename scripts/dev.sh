#!/usr/bin/env bash
# Set up everything ledger-station needs on Debian bookworm / Raspberry Pi OS, then
#   demo: run the station on its simulated ledger scanner (http://localhost:8080)
#   test: run the whole test suite (lint, types, layers, pytest)
# Idempotent: a second run installs nothing new. Runs as root or as a sudo user.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
# Debian's own Python: the one whose python3-sane and python3-venv apt installs.
PYTHON=/usr/bin/python3

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc        # venv and builds of sdists (python-sane)
  libsane-dev sane-utils libsane1 python3-sane  # SANE scanners, its 'test' backend, Debian's python-sane
  qpdf poppler-utils mupdf-tools              # checking PDFs; rendering them in poppler and MuPDF
  fonts-dejavu-core                           # Vietnamese text in the simulated ledgers
  tesseract-ocr tesseract-ocr-osd             # orientation of a page in doubt (OSD)
  tesseract-ocr-vie                           # legibility benchmark (OCR error rate)
  iproute2 avahi-utils curl openssl           # LAN test (netns, tc, avahi-browse); collector bench
  debootstrap shellcheck                      # installer test in a bookworm root; script lint
  chromium                                    # end-to-end tests of the touch UI (Playwright)
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
}

install_venv() {
  local stamp="$VENV/.installed"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall only when the project's requirements changed.
  local want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[dev,sane]"
    echo "$want" > "$stamp"
  fi
}

run_tests() {
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  "$VENV/bin/python" scripts/typecheck.py
  "$VENV/bin/lint-imports" --no-cache    # dependencies follow the flow (pyproject.toml)
  exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
}

main() {
  local command=${1:-}
  shift || true
  case "$command" in
    demo | test) ;;
    *) echo "usage: $0 demo|test" >&2; exit 64 ;;
  esac
  install_apt_packages
  install_venv
  if [ "$command" = demo ]; then
    exec "$VENV/bin/station" demo "$@"
  fi
  run_tests "$@"
}

main "$@"
