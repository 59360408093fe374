#!/usr/bin/env bash
# Remove the ledger station software installed by scripts/install.sh:
#
#   sudo bash scripts/uninstall.sh            # keeps data, configuration and users
#   sudo bash scripts/uninstall.sh --purge    # also deletes them: every capture and PDF!
#
# Without --purge, /var/lib/ledger-station (captures, PDFs, databases, certificate,
# pairings), /etc/ledger-station and the users stay, so installing again brings the
# same station back. System packages (SANE, Chromium...) are left installed.
set -euo pipefail

PREFIX=/opt/ledger-station
UNITS=(ledger-station-kiosk.service ledger-station.service)
FILES=(
  /etc/systemd/system/ledger-station.service
  /etc/systemd/system/ledger-station-kiosk.service
  /etc/udev/rules.d/60-ledger-station.rules
  /etc/tmpfiles.d/ledger-station.conf
  /etc/systemd/journald.conf.d/ledger-station.conf
  /etc/polkit-1/rules.d/60-ledger-station.rules
  /usr/local/bin/station
)
PURGE=no

say() { printf '==> %s\n' "$*"; }

case "${1:-}" in
  "") ;;
  --purge) PURGE=yes ;;
  -h | --help) echo "usage: $0 [--purge]"; exit 0 ;;
  *) echo "usage: $0 [--purge]" >&2; exit 64 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }

if [ -d /run/systemd/system ]; then
  systemctl disable --now "${UNITS[@]}" 2>/dev/null || true
else
  systemctl --root=/ disable "${UNITS[@]}" 2>/dev/null || true
fi
for file in "${FILES[@]}"; do
  if [ -e "$file" ] || [ -L "$file" ]; then
    rm -f "$file"
    say "Removed $file"
  fi
done
rm -rf "$PREFIX"
say "Removed $PREFIX"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  udevadm control --reload 2>/dev/null || true
fi

if [ "$PURGE" = yes ]; then
  rm -rf /var/lib/ledger-station /etc/ledger-station /var/lib/ledger-kiosk
  for user in ledger-kiosk ledger-station; do
    if getent passwd "$user" >/dev/null; then
      userdel "$user"
      say "Removed user $user"
    fi
  done
  say "Purged: data, configuration and users are gone"
else
  say "Kept /var/lib/ledger-station (data) and /etc/ledger-station (configuration)"
fi
