# Shared helpers for keyscope's scripts: install only what is missing, at the pinned version.
# shellcheck shell=bash

# A banner for what follows.
note() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# A step: its banner, and, once `step_times` is on (scripts/test), a row of the table of step
# durations printed when the script exits, also when a step fails. What a step installs on the
# way (ensure_*: `note`) counts towards the step that needed it.
_step_names=()
_step_micros=()
_step_started=
_step_timing=
_step_now() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "${t#"${t%%[!0]*}"}"; }
_step_close() {
  if [ -n "$_step_started" ]; then
    _step_micros+=($(($(_step_now) - _step_started)))
    _step_started=
  fi
}
step() {
  note "$*"
  if [ -n "$_step_timing" ]; then
    _step_close
    _step_names+=("$*")
    _step_started=$(_step_now)
  fi
}
# The table: one row per step (seconds, name), the failing step marked, and the total.
_step_report() {
  local status=$1 i total=0 mark
  _step_close
  printf '\n\033[1m==> step times\033[0m\n'
  printf '%9s  %s\n' seconds step
  for i in "${!_step_names[@]}"; do
    total=$((total + _step_micros[i]))
    mark=
    if [ "$status" != 0 ] && [ "$i" = $((${#_step_names[@]} - 1)) ]; then mark="  (failed, exit $status)"; fi
    printf '%9s  %s%s\n' "$(_step_seconds "${_step_micros[i]}")" "${_step_names[i]}" "$mark"
  done
  printf '%9s  %s\n' "$(_step_seconds "$total")" total
  if [ "$status" = 0 ]; then note "all tests passed"; fi
}
_step_seconds() { printf '%d.%d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }
# Turns the table on for this script (not for the scripts it runs, which keep plain banners).
step_times() {
  _step_timing=1
  trap '_step_report $?' EXIT
}

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
  note "installing $crate $version (one-time)"
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
  note "npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund)
  cp "$ROOT/package-lock.json" "$stamp"
}

# A side project's own dependencies (tests, benchmarks), from its lockfile.
ensure_npm_project() {
  local dir=$1 stamp="$1/node_modules/.keyscope-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then return; fi
  note "npm ci in ${dir#"$ROOT"/}"
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

# `cargo test "$@"` with clippy linting the workspace's crates in the same build, as
# `cargo clippy -- -D warnings` would (clippy-driver as the rustc wrapper of workspace members,
# given the same arguments `cargo clippy` gives it), so that a crate's dependencies are compiled
# once for both. Fails first if clippy-driver no longer takes its arguments this way (a probe it
# must reject), so a changed interface cannot turn the lints off unnoticed.
clippy_test() {
  local driver args probe
  driver="$(rustc --print sysroot)/bin/clippy-driver"
  args="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  probe=$(mktemp -d)
  printf '//! probe\n/// probe\npub fn probe(v: &Vec<u8>) -> usize { v.len() }\n' >"$probe/lib.rs"
  if CLIPPY_ARGS="$args" "$driver" rustc --crate-type lib --crate-name probe --edition 2021 \
    --emit metadata --out-dir "$probe" "$probe/lib.rs" 2>/dev/null; then
    rm -rf "$probe"
    echo "clippy_test: clippy-driver accepted a clippy::ptr_arg violation under -D warnings;" \
      "it no longer takes CLIPPY_ARGS as cargo clippy passed them (use cargo clippy here)" >&2
    return 1
  fi
  rm -rf "$probe"
  RUSTC_WORKSPACE_WRAPPER="$driver" CLIPPY_ARGS="$args" cargo test "$@"
}
