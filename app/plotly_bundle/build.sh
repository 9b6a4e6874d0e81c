#!/usr/bin/env bash
# Rebuild plotly-learnscape.min.js, the partial plotly.js bundle the site
# serves, from bundle.json (plotly.js version and trace types) with the npm
# packages pinned in package-lock.json. Only needed after changing
# bundle.json: the built file is committed, and nothing else needs node.
#
#   bash app/plotly_bundle/build.sh            # node >= 20 and npm, with the npm registry
#   bash app/plotly_bundle/build.sh --lock     # also refresh package-lock.json from package.json
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cp "$here/package.json" "$here/build.mjs" "$here/bundle.json" "$scratch/"
if [ "${1:-}" = "--lock" ]; then
  (cd "$scratch" && npm install --no-audit --no-fund --ignore-scripts)
  cp "$scratch/package-lock.json" "$here/"
else
  cp "$here/package-lock.json" "$scratch/"
  (cd "$scratch" && npm ci --no-audit --no-fund --ignore-scripts)
fi
(cd "$scratch" && node build.mjs)
file="$(cd "$scratch" && node -p "require('./bundle.json').file")"
cp "$scratch/$file" "$here/$file"
echo "wrote $here/$file; commit it with bundle.json"
