#!/usr/bin/env bash
# Vendors the front-end assets into static/vendor/ from the npm registry (run by `make vendor`).
#
# Versions are pinned below together with the registry's tarball integrity (sha512): a
# tarball that does not match is refused. Only the dist files the pages use are copied,
# with each package's licence, and static/vendor/VENDOR.md is rewritten to list them.
# Source-map comments are stripped (the .map files are not shipped, so browsers would
# request them and get a 404).
#
# Rule for bumping: the newest patch of the pinned line that has been published for at
# least 30 days; update the version AND the integrity (`npm view PKG@VER dist.integrity`).
#
# Idempotent: works in a temporary directory and replaces each package's folder whole.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/static/vendor"

# name|version|integrity
PACKAGES=(
  "bootstrap|5.3.8|sha512-HP1SZDqaLDPwsNiqRqi5NcP0SSXciX2s9E+RyqJIIqGo+vJeN5AJVM98CXmW/Wux0nQ5L7jeWUdplCEf0Ee+tg=="
  "htmx.org|2.0.11|sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="
  "leaflet|1.9.4|sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
  "leaflet.markercluster|1.5.3|sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA=="
)

die() { echo "vendor.sh: ERROR: $*" >&2; exit 1; }

for tool in npm tar openssl base64 sha256sum sed; do
  command -v "$tool" >/dev/null || die "'$tool' is required"
done

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/vendor"
mkdir -p "$STAGE"
TABLE="$WORK/table.md"
FILES="$WORK/files.md"
: >"$TABLE"
: >"$FILES"

# fetch NAME VERSION INTEGRITY -> extracts into $WORK/NAME/package
fetch() {
  local name="$1" version="$2" integrity="$3" tgz actual
  mkdir -p "$WORK/$name"
  (cd "$WORK/$name" && npm pack --silent "$name@$version" >pack.out 2>pack.err) \
    || { cat "$WORK/$name/pack.err" >&2; die "npm pack $name@$version failed"; }
  tgz="$WORK/$name/$(tail -n 1 "$WORK/$name/pack.out")"
  [[ -f "$tgz" ]] || die "npm pack $name@$version produced no tarball"
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [[ "$actual" == "$integrity" ]] \
    || die "$name@$version: integrity mismatch (pinned $integrity, got $actual)"
  tar -xzf "$tgz" -C "$WORK/$name"
}

# take NAME SRC(relative to package/) DEST(relative to static/vendor/)
take() {
  local name="$1" src="$WORK/$1/package/$2" dest="$STAGE/$3"
  [[ -f "$src" ]] || die "$name: missing $2 in the tarball"
  mkdir -p "$(dirname "$dest")"
  cp "$src" "$dest"
  case "$dest" in
    *.js | *.css) sed -i -E '/^[[:space:]]*(\/\/|\/\*)# sourceMappingURL=.*$/d' "$dest" ;;
  esac
  if grep -q "sourceMappingURL" "$dest"; then die "$3 still references a source map"; fi
  echo "| \`$3\` | \`$2\` | \`$(sha256sum "$dest" | cut -d " " -f 1)\` |" >>"$FILES"
}

licence_of() { sed -n -E 's/^[[:space:]]*"license":[[:space:]]*"([^"]+)".*/\1/p' "$WORK/$1/package/package.json" | head -n 1; }

for spec in "${PACKAGES[@]}"; do
  IFS='|' read -r name version integrity <<<"$spec"
  echo "vendor.sh: $name@$version"
  fetch "$name" "$version" "$integrity"
  case "$name" in
    bootstrap)
      take "$name" dist/css/bootstrap.min.css bootstrap/css/bootstrap.min.css
      take "$name" dist/js/bootstrap.bundle.min.js bootstrap/js/bootstrap.bundle.min.js
      take "$name" LICENSE bootstrap/LICENSE
      ;;
    htmx.org)
      take "$name" dist/htmx.min.js htmx/htmx.min.js
      take "$name" LICENSE htmx/LICENSE
      ;;
    leaflet)
      take "$name" dist/leaflet.js leaflet/leaflet.js
      take "$name" dist/leaflet.css leaflet/leaflet.css
      for image in layers.png layers-2x.png marker-icon.png marker-icon-2x.png marker-shadow.png; do
        take "$name" "dist/images/$image" "leaflet/images/$image"
      done
      take "$name" LICENSE leaflet/LICENSE
      ;;
    leaflet.markercluster)
      take "$name" dist/leaflet.markercluster.js leaflet.markercluster/leaflet.markercluster.js
      take "$name" dist/MarkerCluster.css leaflet.markercluster/MarkerCluster.css
      take "$name" dist/MarkerCluster.Default.css leaflet.markercluster/MarkerCluster.Default.css
      take "$name" MIT-LICENCE.txt leaflet.markercluster/LICENSE
      ;;
    *) die "no file list for $name" ;;
  esac
  licence="$(licence_of "$name")"
  [[ -n "$licence" ]] || die "$name: no licence in package.json"
  echo "| $name | $version | $licence | \`$integrity\` |" >>"$TABLE"
done

cat >"$STAGE/VENDOR.md" <<EOF
# Vendored front-end assets

Written by \`scripts/vendor.sh\` (\`make vendor\`); do not edit by hand. Each package is
fetched with \`npm pack\`, its tarball checked against the pinned integrity below, and only
the files listed are copied. Source-map comments are removed from the .js/.css files (the
maps are not shipped). No page loads anything from a CDN.

| package | version | licence | npm tarball integrity |
|---|---|---|---|
$(cat "$TABLE")

## Files

| file in static/vendor/ | taken from the package | sha256 (as shipped) |
|---|---|---|
$(cat "$FILES")
EOF

# Replace each package folder whole, so files dropped from the list disappear.
mkdir -p "$VENDOR"
for dir in bootstrap htmx leaflet leaflet.markercluster; do
  rm -rf "${VENDOR:?}/$dir"
  cp -R "$STAGE/$dir" "$VENDOR/$dir"
done
cp "$STAGE/VENDOR.md" "$VENDOR/VENDOR.md"
echo "vendor.sh: done, see static/vendor/VENDOR.md"
