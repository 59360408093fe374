#!/usr/bin/env bash
# Turn a Debian bookworm or Raspberry Pi OS (bookworm, arm64) machine into a ledger
# station, from a checkout of this repository:
#
#   sudo bash scripts/install.sh [--no-kiosk] [--wheelhouse DIR]
#
# What it sets up: the system packages, the users 'ledger-station' (the service) and
# 'ledger-kiosk' (the touch screen), a virtual environment in /opt/ledger-station/venv
# that sees Debian's python3-sane, the systemd units, udev rules, tmpfiles and journald
# limits, /etc/ledger-station/station.toml (from the example, only when missing) and
# the data folder /var/lib/ledger-station.
#
# Running it again upgrades in place and keeps data and configuration; when nothing
# changed, it changes nothing. --wheelhouse DIR installs Python packages from DIR only
# (no internet: see docs/technician-guide.md for making one). scripts/uninstall.sh
# removes the software and keeps the data.
set -euo pipefail

PREFIX=/opt/ledger-station
VENV=$PREFIX/venv
CONF_DIR=/etc/ledger-station
DATA_DIR=/var/lib/ledger-station
KIOSK_HOME=/var/lib/ledger-kiosk
STATION_USER=ledger-station
KIOSK_USER=ledger-kiosk
UNIT_DIR=/etc/systemd/system
STAMP=$PREFIX/installed.sha256

SRC=$(cd "$(dirname "$0")/.." && pwd)
KIOSK=yes
WHEELHOUSE=
CHANGED_UNITS=no

PACKAGES=(
  python3 python3-venv          # Debian's Python, the one python3-sane is built for
  python3-sane sane-utils libsane1  # SANE scanners (and scanimage for technicians)
  libusb-1.0-0                  # pyusb: which USB devices are plugged in
  qpdf poppler-utils            # checking and rendering PDFs when supporting a station
  tesseract-ocr                 # which way a page's text runs, when in doubt (with its osd model)
  fonts-dejavu-core             # Vietnamese text in the simulated ledger pages
  systemd                       # the units (always there on a real system)
)
KIOSK_PACKAGES=(cage)           # plus the Chromium package the distribution has

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
usage: $0 [--no-kiosk] [--wheelhouse DIR]
  --no-kiosk        do not install the touch-screen kiosk (cage + Chromium)
  --wheelhouse DIR  install Python packages from the wheels in DIR only (offline)
EOF
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-kiosk) KIOSK=no ;;
      --wheelhouse) [ $# -ge 2 ] || die "--wheelhouse needs a folder"; WHEELHOUSE=$(realpath "$2"); shift ;;
      --wheelhouse=*) WHEELHOUSE=$(realpath "${1#*=}") ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; exit 64 ;;
    esac
    shift
  done
  if [ -n "$WHEELHOUSE" ] && [ ! -d "$WHEELHOUSE" ]; then
    die "wheelhouse $WHEELHOUSE is not a folder"
  fi
}

systemd_running() { [ -d /run/systemd/system ]; }

# --- system packages --------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

chromium_package() {
  # Debian calls it chromium; Raspberry Pi OS had chromium-browser.
  local name
  for name in chromium chromium-browser; do
    if installed "$name"; then echo "$name"; return; fi
  done
  for name in chromium chromium-browser; do
    if apt-cache show "$name" >/dev/null 2>&1; then echo "$name"; return; fi
  done
  echo chromium
}

install_packages() {
  local wanted=("${PACKAGES[@]}") missing=() pkg
  if [ "$KIOSK" = yes ]; then
    wanted+=("${KIOSK_PACKAGES[@]}" "$(chromium_package)")
  fi
  for pkg in "${wanted[@]}"; do
    installed "$pkg" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "System packages: all present"
    return
  fi
  say "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Without internet, packages already in apt's cache still install.
  apt-get update -qq || echo "install.sh: apt-get update failed; using the package lists as they are" >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# --- users and groups -----------------------------------------------------------------

ensure_group() {
  getent group "$1" >/dev/null || groupadd --system "$1"
}

ensure_user() {  # name home comment groups(comma-separated)
  local name=$1 home=$2 comment=$3 groups=$4 group
  if ! getent passwd "$name" >/dev/null; then
    useradd --system --user-group --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin --comment "$comment" "$name"
  fi
  # Also in /etc/group (not only the unit's SupplementaryGroups), so 'station doctor'
  # run by a technician as this user sees the devices the service sees.
  for group in ${groups//,/ }; do
    ensure_group "$group"
    id -nG "$name" | tr ' ' '\n' | grep -qx "$group" || usermod -a -G "$group" "$name"
  done
}

setup_users() {
  ensure_user "$STATION_USER" "$DATA_DIR" "ledger-station service" scanner,video,input,plugdev
  if [ "$KIOSK" = yes ]; then
    ensure_user "$KIOSK_USER" "$KIOSK_HOME" "ledger-station touch screen" video,render,input
  fi
}

# --- Python environment -----------------------------------------------------------------

pip_install() {
  local args=(--disable-pip-version-check --no-input --quiet)
  if [ -n "$WHEELHOUSE" ]; then
    args+=(--no-index --find-links "$WHEELHOUSE")
  fi
  "$VENV/bin/python" -m pip install "${args[@]}" "$@"
}

source_digest() {
  # What the station is built from; the stamp says whether this build is installed.
  (cd "$SRC" && find pyproject.toml setup.py setup.cfg babel.cfg README.md station config -type f \
      ! -name '*.pyc' ! -name '*.mo' ! -path '*/__pycache__/*' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

station_wheel() {
  # The newest station wheel in the wheelhouse, if it has one.
  [ -n "$WHEELHOUSE" ] || return 0
  find "$WHEELHOUSE" -maxdepth 1 -name 'ledger_station-*.whl' | sort -V | tail -n 1
}

setup_venv() {
  install -d -m 0755 "$PREFIX"
  if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "Creating the virtual environment $VENV"
    rm -rf "$VENV"
    # --system-site-packages: Debian's python3-sane (python-sane on PyPI needs a compiler).
    python3 -m venv --system-site-packages "$VENV"
  fi
  local wheel digest build
  wheel=$(station_wheel)
  if [ -n "$wheel" ]; then
    digest=$(sha256sum "$wheel" | cut -d' ' -f1)
  else
    [ -f "$SRC/pyproject.toml" ] || die "no station wheel in the wheelhouse and no source in $SRC"
    digest=$(source_digest)
  fi
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ] && "$VENV/bin/station" --version >/dev/null 2>&1; then
    say "Station software: up to date ($("$VENV/bin/station" --version))"
    return
  fi
  build=$(mktemp -d)
  if [ -z "$wheel" ]; then
    say "Building the station from $SRC"
    # A copy without caches, so the wheel holds exactly the source files.
    # setup.py compiles the message catalogs (station/locale) into the wheel.
    cp -a "$SRC/pyproject.toml" "$SRC/setup.py" "$SRC/setup.cfg" "$SRC/babel.cfg" "$SRC/README.md" "$SRC/station" \
      "$SRC/config" "$build/"
    find "$build" -name __pycache__ -prune -exec rm -rf {} +
    local wheel_args=(--disable-pip-version-check --no-input --quiet --no-deps -w "$build/dist")
    [ -z "$WHEELHOUSE" ] || wheel_args+=(--no-index --find-links "$WHEELHOUSE")
    "$VENV/bin/python" -m pip wheel "${wheel_args[@]}" "$build" || { rm -rf "$build"; exit 1; }
    wheel=$(find "$build/dist" -name 'ledger_station-*.whl' | head -n 1)
  fi
  say "Installing $(basename "$wheel") and its dependencies"
  # The same version number may carry new code (a technician's checkout): replace it,
  # then let pip add or upgrade only the dependencies that need it.
  if ! pip_install --force-reinstall --no-deps "$wheel" || ! pip_install "$wheel"; then
    rm -rf "$build"
    die "installing the station's Python packages failed (see above)"
  fi
  rm -rf "$build"
  echo "$digest" > "$STAMP"
}

# --- files ------------------------------------------------------------------------------

put() {  # mode source target: copy only when different (install -C keeps the rest untouched)
  local mode=$1 source=$2 target=$3
  if ! cmp -s "$source" "$target" 2>/dev/null; then
    CHANGED_UNITS=yes
  fi
  install -C -D -m "$mode" -o root -g root "$source" "$target"
}

install_files() {
  local sd=$SRC/systemd
  put 0644 "$sd/ledger-station.service" "$UNIT_DIR/ledger-station.service"
  put 0644 "$sd/60-ledger-station.rules" /etc/udev/rules.d/60-ledger-station.rules
  put 0644 "$sd/ledger-station.tmpfiles" /etc/tmpfiles.d/ledger-station.conf
  put 0644 "$sd/journald-ledger-station.conf" /etc/systemd/journald.conf.d/ledger-station.conf
  put 0644 "$sd/ledger-station.polkit.rules" /etc/polkit-1/rules.d/60-ledger-station.rules
  put 0755 "$sd/station-command" /usr/local/bin/station
  if [ "$KIOSK" = yes ]; then
    put 0644 "$sd/ledger-station-kiosk.service" "$UNIT_DIR/ledger-station-kiosk.service"
    put 0755 "$sd/ledger-kiosk-browser" "$PREFIX/bin/ledger-kiosk-browser"
  fi
  local doc
  for doc in technician-guide.md operator-guide.vi.md; do
    install -C -D -m 0644 "$SRC/docs/$doc" "$PREFIX/docs/$doc"
  done
}

setup_folders() {
  # The same as the tmpfiles entry; made here too so that the first start needs no boot.
  systemd-tmpfiles --create /etc/tmpfiles.d/ledger-station.conf
  install -d -m 0750 -o "$STATION_USER" -g "$STATION_USER" "$DATA_DIR"
  # The station rewrites its configuration (first-boot wizard, provisioning) by writing
  # a new file and renaming it, so it needs write access to the folder.
  install -d -m 0770 -o root -g "$STATION_USER" "$CONF_DIR"
  if [ ! -e "$CONF_DIR/station.toml" ]; then
    say "Creating $CONF_DIR/station.toml from the example"
    local tmp
    tmp=$(mktemp "$CONF_DIR/.station.toml.XXXXXX")
    sed "s|^data_dir = \"\"|data_dir = \"$DATA_DIR\"|" "$SRC/config/station.example.toml" > "$tmp"
    chown root:"$STATION_USER" "$tmp"
    chmod 0660 "$tmp"
    mv "$tmp" "$CONF_DIR/station.toml"
  fi
  if [ "$KIOSK" = yes ]; then
    install -d -m 0700 -o "$KIOSK_USER" -g "$KIOSK_USER" "$KIOSK_HOME"
  fi
}

check_config() {
  # A configuration left from an older version may lack or misname keys: say so now.
  if ! runuser -u "$STATION_USER" -- "$VENV/bin/station" --lang en config check "$CONF_DIR/station.toml"; then
    echo "install.sh: fix $CONF_DIR/station.toml (see above); the station will not start until then" >&2
  fi
}

# --- services ---------------------------------------------------------------------------

enable_units() {
  local units=(ledger-station.service)
  [ "$KIOSK" = no ] || units+=(ledger-station-kiosk.service)
  if ! systemd_running; then
    # A chroot or an image being prepared: enable for the next boot, start nothing.
    local unit
    for unit in "${units[@]}"; do
      systemctl --root=/ --quiet is-enabled "$unit" 2>/dev/null || systemctl --root=/ --quiet enable "$unit"
    done
    say "systemd is not running here: units enabled for the next boot"
    return
  fi
  if [ "$CHANGED_UNITS" = yes ]; then
    systemctl daemon-reload
    udevadm control --reload || true
    udevadm trigger --action=change --subsystem-match=usb --subsystem-match=video4linux \
      --subsystem-match=input || true
    systemctl try-restart systemd-journald.service || true
  fi
  systemctl --quiet enable "${units[@]}"
  if [ "$CHANGED_UNITS" = yes ] || [ "$UPGRADED" = yes ]; then
    systemctl restart ledger-station.service
  else
    systemctl start ledger-station.service
  fi
  [ "$KIOSK" = no ] || systemctl start ledger-station-kiosk.service
  say "Station service: $(systemctl is-active ledger-station.service)"
}

main() {
  parse_args "$@"
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo bash $0)"
  [ -d "$SRC/systemd" ] || die "$SRC is not a ledger-station checkout"
  install_packages
  setup_users
  local before
  before=$(cat "$STAMP" 2>/dev/null || true)
  setup_venv
  UPGRADED=no
  [ "$before" = "$(cat "$STAMP")" ] || UPGRADED=yes
  install_files
  setup_folders
  check_config
  enable_units
  say "Done. Check the station with: station doctor"
}

main "$@"
