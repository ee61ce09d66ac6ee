#!/usr/bin/env bash
# Installs Hardhat (from the npm registry) into tools/hardhat: the independent EVM node of the
# conformance suite. Idempotent; needs node >= 18 and npm.
set -euo pipefail
cd "${1:-$(dirname "$0")/../tools/hardhat}"  # optional argument: another project folder
if [ -x node_modules/.bin/hardhat ]; then exit 0; fi
# Test processes running in parallel (pytest -n) may all ask at once: one installs, the others wait.
exec 9>.install.lock
flock 9
if [ -x node_modules/.bin/hardhat ]; then exit 0; fi
npm install --no-audit --no-fund --loglevel=error
