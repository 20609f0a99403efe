#!/usr/bin/env bash
# The emulator's memory checks: builds it with AddressSanitizer and UndefinedBehaviorSanitizer, runs correct
# kernels (they must pass cleanly) and a kernel that reads past its input (AddressSanitizer must report it).
# Run by the Maven build's test phase; needs only g++.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/java/target/emulator-asan}
mkdir -p "$out"
g++ -std=c++20 -O1 -g -pthread -fsanitize=address,undefined -fno-omit-frame-pointer -U_FORTIFY_SOURCE \
    -DSOLULENS_EMULATOR -DSOLULENS_ASAN -include "$root/native/emulator/cuda_shim.h" -I "$root/cuda" -I "$root/native/emulator" \
    -x c++ "$root/cuda/kernels.cu" "$root/native/emulator/test_kernels.cu" \
    -x none "$root/native/emulator/emulator.cpp" "$root/native/emulator/asan_test.cpp" -o "$out/asan_test"
export ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0
"$out/asan_test"
if "$out/asan_test" oob 2> "$out/oob.txt"; then
  echo "emulator test: the out-of-bounds kernel was not caught" >&2
  exit 1
fi
if ! grep -q "heap-buffer-overflow" "$out/oob.txt"; then
  echo "emulator test: the out-of-bounds kernel failed without an AddressSanitizer report:" >&2
  cat "$out/oob.txt" >&2
  exit 1
fi
echo "emulator test: AddressSanitizer caught the out-of-bounds read ($(grep -m1 -o 'READ of size [0-9]*' "$out/oob.txt"))"
