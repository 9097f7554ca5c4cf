#!/usr/bin/env bash
# Installs the Debian packages equus-sim needs (only the missing ones), then configures and builds.
#   scripts/setup.sh              install missing packages + configure + build (build/)
#   scripts/setup.sh --deps-only  only install missing packages
#   scripts/setup.sh --build-only only configure + build
# Environment: BUILD_DIR (default build), BUILD_TYPE (default Release), JOBS (default 2),
#   WERROR (default ON: a warning fails the build; the project builds with zero warnings).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format universal-ctags
  libsimgrid-dev libboost-graph-dev nlohmann-json3-dev libgtest-dev libgmock-dev pybind11-dev
  libcli11-dev libfmt-dev librapidcheck-dev
  python3-dev python3-numpy python3-pandas python3-matplotlib python3-pytest
  python3-dask python3-distributed python3-jsonschema
  graphviz python3-tqdm python3-nbconvert python3-nbformat python3-ipykernel jupyter-nbconvert
)

do_deps=1
do_build=1
case "${1:-}" in
  "") ;;
  --deps-only) do_build=0 ;;
  --build-only) do_deps=0 ;;
  -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

if ((do_deps)); then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup.sh: installing ${missing[*]}"
    if ((EUID == 0)); then
      SUDO=()
    elif command -v sudo >/dev/null; then
      SUDO=(sudo)
    else
      echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
      exit 1
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  else
    echo "setup.sh: all Debian packages present"
  fi
fi

if ((do_build)); then
  # Ninja for a fresh build directory; an existing one keeps the generator it was made with.
  generator=()
  [[ -f "${BUILD_DIR:-build}/CMakeCache.txt" ]] || generator=(-G Ninja)
  cmake -S . -B "${BUILD_DIR:-build}" "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
    -DEQUUS_WERROR="${WERROR:-ON}"
  cmake --build "${BUILD_DIR:-build}" -j"${JOBS:-2}"
fi
