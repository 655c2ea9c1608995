# Shared helpers for keyscope's scripts: install only what is missing, at the pinned version.
# shellcheck shell=bash

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

ensure_rust_targets() {
  local installed
  installed=$(rustup target list --installed)
  for target in wasm32-unknown-unknown thumbv7em-none-eabihf; do
    if ! grep -qx "$target" <<<"$installed"; then
      rustup target add "$target"
    fi
  done
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKER_BUILD_VERSION=0.8.7

# The wasm-bindgen version Cargo.lock pins: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Installs a crates.io CLI unless `$bin --version` already reports $version.
ensure_cargo_tool() {
  local crate=$1 bin=$2 version=$3; shift 3
  if "$bin" --version 2>/dev/null | grep -Eq "(^|[[:space:]])${version//./\\.}([[:space:]]|\$)"; then return; fi
  step "installing $crate $version (one-time)"
  cargo install "$crate" --version "$version" "$@"
}

ensure_worker_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  # wasm-bindgen-cli's own lockfile pins a crate the registry lacks, so no --locked here.
  ensure_cargo_tool wasm-bindgen-cli wasm-bindgen "$(wasm_bindgen_version)"
  ensure_cargo_tool worker-build worker-build "$WORKER_BUILD_VERSION" --locked
}

# Node tooling (wrangler, workerd, miniflare, binaryen, esbuild) from package-lock.json.
ensure_node_modules() {
  local stamp="$ROOT/node_modules/.keyscope-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/package-lock.json"; then return; fi
  step "npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund)
  cp "$ROOT/package-lock.json" "$stamp"
}

# A side project's own dependencies (tests, benchmarks), from its lockfile.
ensure_npm_project() {
  local dir=$1 stamp="$1/node_modules/.keyscope-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then return; fi
  step "npm ci in ${dir#"$ROOT"/}"
  (cd "$dir" && npm ci --no-audit --no-fund)
  cp "$dir/package-lock.json" "$stamp"
}

worker_build_env() {
  export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
  export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
  export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
  export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
  export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
}
