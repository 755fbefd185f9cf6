#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, then builds and runs a consumer project twice:
# against the installed package (find_package(eam CONFIG REQUIRED)) and through add_subdirectory.
# Usage: check_install.sh <build-dir> <source-dir> <scratch-dir>
set -euo pipefail
build="$1" source="$2" scratch="$3"
rm -rf "$scratch" && mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
for mode in package subdirectory; do
  cmake -S "$source/tests/install/consumer" -B "$scratch/$mode" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        "${launcher[@]}" -DEAM_CONSUME="$mode" -DEAM_SOURCE_DIR="$source" \
        -DCMAKE_PREFIX_PATH="$scratch/prefix" -DEAM_BUILD_TESTS=OFF >/dev/null
  cmake --build "$scratch/$mode" >/dev/null
  "$scratch/$mode/consumer"
  echo "$mode: ok"
done
