#!/usr/bin/env bash
# Installs the Debian packages pocopool needs, if they are missing: bubblewrap (the sandbox) and
# chromium (the dashboard's browser test drives it through Playwright; no browser download).
set -euo pipefail
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "pocopool needs: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  echo "continuing without it: the worker falls back to the plain process runtime; the browser test fails" >&2
  exit 0
fi
echo "installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
