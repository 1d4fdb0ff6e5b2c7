#!/usr/bin/env bash
# Installs the system packages the app needs, if missing, on Debian/Ubuntu.
#   fonts   - a Chinese serif (Song) font for the PDFs (fonts-noto-cjk: Noto Serif CJK SC),
#             and HarfBuzz's subsetter, which cuts it quickly (libharfbuzz-subset0)
#   browser - Debian's Chromium, for the browser tests (Playwright drives it)
#   pdf     - poppler-utils (pdftotext/pdftoppm), to check PDFs in tests
# Usage: scripts/system-deps.sh [--required] fonts|browser|pdf ...
# Without root it prints the one command to run; with --required it then fails.
set -euo pipefail

required=0
if [ "${1:-}" = "--required" ]; then required=1; shift; fi

have_font() { fc-list :lang=zh-cn family 2>/dev/null | grep -qi "Noto Serif CJK SC"; }
have_browser() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }
have_subset() { { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q "libharfbuzz-subset.so.0"; }
have_pdf() { command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; }

missing=()
for what in "$@"; do
  case "$what" in
    fonts) have_font || missing+=(fonts-noto-cjk fontconfig)
           have_subset || missing+=(libharfbuzz-subset0) ;;
    browser) have_browser || missing+=(chromium) ;;
    pdf) have_pdf || missing+=(poppler-utils) ;;
    *) echo "unknown dependency group: $what" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fc-cache -f >/dev/null 2>&1 || true
  exit 0
fi

echo "Missing system packages. Please run:"
echo "  sudo apt-get install -y ${missing[*]}"
[ "$required" = 1 ] && exit 1
exit 0
