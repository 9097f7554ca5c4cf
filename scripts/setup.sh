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
# For the fuzz targets only (tests/fuzz, docs/fuzzing.md): installed when the archive has them; without
# them setup still succeeds and the fuzz test is skipped.
OPTIONAL_PACKAGES=(clang libfuzzer-14-dev)

do_deps=1
do_build=1
case "${1:-}" in
  "") ;;
  --deps-only) do_build=0 ;;
  --build-only) do_deps=0 ;;
  -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

if ((do_deps)); then
  missing=()
  optional=()
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  for p in "${OPTIONAL_PACKAGES[@]}"; do installed "$p" || optional+=("$p"); done
  if ((${#missing[@]} + ${#optional[@]})); then
    echo "setup.sh: installing ${missing[*]} ${optional[*]}"
    if ((EUID == 0)); then
      SUDO=()
    elif command -v sudo >/dev/null; then
      SUDO=(sudo)
    elif ((${#missing[@]})); then
      echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
      exit 1
    else
      echo "setup.sh: warning: no root or sudo to install ${optional[*]}: the fuzz test will be skipped" >&2
      optional=()
    fi
    if ((${#missing[@]} + ${#optional[@]})); then
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    fi
    if ((${#missing[@]})); then
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    fi
    if ((${#optional[@]})); then
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${optional[@]}" ||
        echo "setup.sh: warning: could not install ${optional[*]}: the fuzz test will be skipped" >&2
    fi
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
