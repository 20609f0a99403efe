#!/usr/bin/env bash
# Builds SoluLens's native parts into the jar's resources; the Maven build runs it (generate-resources).
#   native/build.sh OUT_DIR JAVA_HOME
# 1. The CPU emulator: cuda/kernels.cu compiled by g++ through native/emulator/cuda_shim.h, with the
#    scheduler, the JNI bridge and the emulator's own test kernels (native/emulator/test_kernels.cu), into
#    OUT_DIR/native/linux-x86_64/libsolulens_emulator.so; every kernel's signature into OUT_DIR/native/kernel-signatures.txt;
#    and the stand-in driver (native/standin) into OUT_DIR/../standin-driver/libcuda.so.1, for the tests.
# 2. The CUDA kernels, if nvcc is on the PATH (or $NVCC): one fatbin with SASS for sm_80/86/89/90 and PTX for
#    compute_80, into OUT_DIR/cuda/solulens.fatbin, warnings as errors; the ptxas report goes to
#    OUT_DIR/cuda/ptxas.txt and the build fails if any kernel spills registers or uses a local-memory stack.
#    Without nvcc the jar is built without kernels (`info` says so).
# 3. The CPU sweep's float32 and double inner loops, the float/double conversions and the products with float32 weights (native/cpu) for CPUs with AVX2, into
#    OUT_DIR/native/linux-x86_64/libsolulens_cpu.so (built before the kernels, which may be skipped).
set -euo pipefail
out=${1:?output folder}
java_home=${2:?JAVA_HOME}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/native/linux-x86_64" "$out/cuda"

objects=$(dirname "$out")/native-objects
standin=$(dirname "$out")/standin-driver
mkdir -p "$objects" "$standin"
# Objects are built once, with hidden symbols, and linked into the emulator's JNI library, the signature list and
# the stand-in driver: each library exports only its own entry points (two copies of the emulator can then share a
# process without binding to each other's symbols).
flags=(-std=c++20 -O2 -g -fPIC -pthread -fvisibility=hidden -Wall -Wextra -Werror -Wno-unused-parameter -U_FORTIFY_SOURCE
       -DSOLULENS_EMULATOR -include "$root/native/emulator/cuda_shim.h" -I "$root/cuda" -I "$root/native/emulator"
       -I "$java_home/include" -I "$java_home/include/linux")
compile() { g++ "${flags[@]}" -c "$@" & pids+=($!); }
# waits for the compiles started so far; any failure fails the build
finish() { for p in "${pids[@]}"; do wait "$p"; done; pids=(); }
pids=()
compile -x c++ "$root/cuda/kernels.cu" -o "$objects/kernels.o"
compile -x c++ "$root/native/emulator/test_kernels.cu" -o "$objects/test_kernels.o"
compile "$root/native/emulator/emulator.cpp" -o "$objects/emulator.o"
finish
compile "$root/native/emulator/jni_bridge.cpp" -o "$objects/jni_bridge.o"
compile "$root/native/emulator/signatures.cpp" -o "$objects/signatures.o"
compile "$root/native/standin/driver.cpp" -o "$objects/driver.o"
# The stubs of the stand-in driver: every other driver function JCuda links returns CUDA_ERROR_NOT_SUPPORTED.
{
  echo '#include <cstdio>'
  echo 'static int unsupported(const char* f) { std::fprintf(stderr, "solulens stand-in driver: %s is not implemented\n", f); return 801; }'
  grep -v '^#' "$root/native/standin/unsupported.txt" | sed 's/.*/extern "C" __attribute__((visibility("default"))) int &() { return unsupported("&"); }/'
} > "$objects/unsupported.cpp"
compile "$objects/unsupported.cpp" -o "$objects/unsupported.o"
finish
g++ -shared -pthread -o "$out/native/linux-x86_64/libsolulens_emulator.so" \
    "$objects/kernels.o" "$objects/test_kernels.o" "$objects/emulator.o" "$objects/jni_bridge.o"
echo "native/build.sh: emulator built into $out/native/linux-x86_64/libsolulens_emulator.so"
g++ -pthread -o "$objects/signatures" "$objects/kernels.o" "$objects/emulator.o" "$objects/signatures.o"
"$objects/signatures" > "$out/native/kernel-signatures.txt"
g++ -shared -pthread -Wl,-soname,libcuda.so.1 -o "$standin/libcuda.so.1" \
    "$objects/kernels.o" "$objects/emulator.o" "$objects/driver.o" "$objects/unsupported.o"
echo "native/build.sh: stand-in driver (tests only, not in the jar) built into $standin/libcuda.so.1"

# The CPU sweep's inner loops: -O3 so that the lane loops vectorise, and no floating-point contraction or fast-math,
# so that its bits are the Java loop's.
cpu_flags=(-std=c++20 -O3 -fPIC -ffp-contract=off -fno-fast-math -fvisibility=hidden -Wall -Wextra -Werror -Wno-unused-parameter
           -I "$java_home/include" -I "$java_home/include/linux")
compile_cpu() { g++ "${cpu_flags[@]}" -c "$@" & pids+=($!); }
compile_cpu -mavx2 -mfma "$root/native/cpu/loops_avx2.cpp" -o "$objects/loops_avx2.o"
# (gcc 12 warns that the AVX-512 intrinsics' own _mm512_undefined_* operands may be used uninitialised: a false alarm)
compile_cpu -mavx512f -mavx2 -mfma -Wno-maybe-uninitialized "$root/native/cpu/loops_avx512.cpp" -o "$objects/loops_avx512.o"
compile_cpu -mavx2 "$root/native/cpu/conversions_avx2.cpp" -o "$objects/conversions_avx2.o"
compile_cpu -mavx2 -mfma "$root/native/cpu/float_weight_product_avx2.cpp" -o "$objects/float_weight_product_avx2.o"
compile_cpu -mavx512f -mavx2 -mfma -Wno-maybe-uninitialized "$root/native/cpu/float_weight_product_avx512.cpp" \
    -o "$objects/float_weight_product_avx512.o"
compile_cpu "$root/native/cpu/jni_products.cpp" -o "$objects/jni_products.o"
compile_cpu "$root/native/cpu/jni_loops.cpp" -o "$objects/jni_loops.o"
compile_cpu "$root/native/cpu/jni_conversions.cpp" -o "$objects/jni_conversions.o"
compile_cpu "$root/native/cpu/sha256.cpp" -o "$objects/sha256.o"
compile_cpu "$root/native/cpu/jni_digests.cpp" -o "$objects/jni_digests.o"
finish
g++ -shared -o "$out/native/linux-x86_64/libsolulens_cpu.so" "$objects/loops_avx2.o" "$objects/loops_avx512.o" "$objects/conversions_avx2.o" "$objects/jni_loops.o" \
    "$objects/jni_conversions.o" "$objects/float_weight_product_avx2.o" "$objects/float_weight_product_avx512.o" "$objects/jni_products.o" \
    "$objects/sha256.o" "$objects/jni_digests.o"
echo "native/build.sh: the CPU sweep's inner loops built into $out/native/linux-x86_64/libsolulens_cpu.so"

nvcc=${NVCC:-$(command -v nvcc || true)}
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -z "$nvcc" ]; then
  rm -f "$out/cuda/solulens.fatbin"
  echo "native/build.sh: nvcc not found: the jar carries no CUDA kernels (the emulator still runs them)"
  exit 0
fi
"$nvcc" -fatbin -O3 --Werror all-warnings -Xptxas -v,-warn-spills,-warn-lmem-usage \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_86,code=sm_86 \
    -gencode arch=compute_89,code=sm_89 -gencode arch=compute_90,code=sm_90 \
    -gencode arch=compute_80,code=compute_80 \
    -I "$root/cuda" -o "$out/cuda/solulens.fatbin" "$root/cuda/kernels.cu" 2> "$out/cuda/ptxas.txt" || {
  cat "$out/cuda/ptxas.txt" >&2
  exit 1
}
if grep -E "[1-9][0-9]* bytes (spill stores|spill loads)|[1-9][0-9]* bytes stack frame" "$out/cuda/ptxas.txt" >&2; then
  echo "native/build.sh: a kernel spills registers or uses a stack frame (above); fix it or explain it in the kernel" >&2
  exit 1
fi
echo "native/build.sh: $("$nvcc" --version | tail -1); fatbin built into $out/cuda/solulens.fatbin"
