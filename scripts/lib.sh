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
