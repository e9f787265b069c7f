#!/usr/bin/env bash
# Copy the screenshots the README and docs/lecture.md show from the last run of the browser tests:
#   bash scripts/test.sh tests/e2e && bash scripts/update_screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
for name in explore dragging manifold-under-points morph train-live presenter-1920x1080 lecture-hall-1280x720-open; do
  cp "test-output/screenshots/$name.png" docs/screenshots/
done
echo "copied $(ls docs/screenshots | wc -l) screenshots to docs/screenshots/"
