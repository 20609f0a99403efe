// CUDA on the CPU, for SoluLens's kernel emulator.
//
// The kernels in cuda/*.cu are compiled unchanged by g++ with this header force-included
// (-include cuda_shim.h -DSOLULENS_EMULATOR). Every CUDA thread of a block is a fiber (ucontext), so
// __syncthreads() is a real barrier: a kernel that forgets one reads shared memory before it is written and
// gives wrong answers here as on a GPU. Blocks run one at a time per OS thread, so `static thread_local`
// stands in for __shared__. Warp shuffles and __syncwarp are barriers among the 32 lanes of a warp.
// Only what the kernels use is provided: anything else fails to compile (an unknown intrinsic is an unknown
// identifier), and a warp operation with a partial mask stops the launch with an error.
#pragma once

#include <cmath>
#include <math.h>
#include <cstdint>
#include <cstring>
#include <cfloat>
#include <climits>
#include <type_traits>
#include <utility>

namespace solulens_emu {

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    dim3() = default;
    constexpr dim3(unsigned x_, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};

// The state of the CUDA thread that is running now (one per fiber).
struct ThreadState {
    uint3 threadIdx;
    uint3 blockIdx;
    dim3 blockDim;
    dim3 gridDim;
    unsigned linear;  // threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)
};

extern thread_local ThreadState* current;

void syncthreads();
void syncwarp(unsigned mask);
// Exchanges one 32-bit value among the lanes of the current warp: every lane publishes `value`, and
// receives the value of lane `source` (or `value` itself when source is outside the warp).
uint32_t warp_exchange(uint32_t value, int source, unsigned mask);
void* dynamic_shared();
[[noreturn]] void fail(const char* what);

inline int lane() { return current->linear % 32; }

}  // namespace solulens_emu

// CUDA's vector types, as far as the kernels use them (aligned as on the GPU).
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

using solulens_emu::dim3;
using solulens_emu::uint3;

#define threadIdx (solulens_emu::current->threadIdx)
#define blockIdx (solulens_emu::current->blockIdx)
#define blockDim (solulens_emu::current->blockDim)
#define gridDim (solulens_emu::current->gridDim)
#define warpSize 32

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static thread_local
#define SOLULENS_UNROLL
// Dynamic shared memory: kernels write SOLULENS_DYNAMIC_SHARED(float, smem); (see cuda/common.cuh).
#define SOLULENS_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(solulens_emu::dynamic_shared())

inline void __syncthreads() { solulens_emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { solulens_emu::syncwarp(mask); }

inline float __shfl_xor_sync(unsigned mask, float v, int laneMask, int width = 32) {
    if (width != 32) solulens_emu::fail("__shfl_xor_sync with width != 32 is not emulated");
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint32_t r = solulens_emu::warp_exchange(bits, solulens_emu::lane() ^ laneMask, mask);
    float out;
    std::memcpy(&out, &r, 4);
    return out;
}
inline float __shfl_down_sync(unsigned mask, float v, unsigned delta, int width = 32) {
    if (width != 32) solulens_emu::fail("__shfl_down_sync with width != 32 is not emulated");
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    int src = solulens_emu::lane() + (int)delta;
    uint32_t r = solulens_emu::warp_exchange(bits, src < 32 ? src : solulens_emu::lane(), mask);
    float out;
    std::memcpy(&out, &r, 4);
    return out;
}
inline float __shfl_sync(unsigned mask, float v, int srcLane, int width = 32) {
    if (width != 32) solulens_emu::fail("__shfl_sync with width != 32 is not emulated");
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint32_t r = solulens_emu::warp_exchange(bits, srcLane & 31, mask);
    float out;
    std::memcpy(&out, &r, 4);
    return out;
}
inline int __shfl_xor_sync(unsigned mask, int v, int laneMask, int width = 32) {
    if (width != 32) solulens_emu::fail("__shfl_xor_sync with width != 32 is not emulated");
    return (int)solulens_emu::warp_exchange((uint32_t)v, solulens_emu::lane() ^ laneMask, mask);
}

// Atomics: blocks may run on several OS threads at once, so these are real atomic operations.
inline float atomicAdd(float* address, float value) {
    float expected, desired;
    __atomic_load(address, &expected, __ATOMIC_SEQ_CST);
    do {
        desired = expected + value;
    } while (!__atomic_compare_exchange(address, &expected, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return expected;
}
inline int atomicAdd(int* address, int value) { return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* address, unsigned value) { return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST); }
inline int atomicMax(int* address, int value) {
    int old = __atomic_load_n(address, __ATOMIC_SEQ_CST);
    while (old < value && !__atomic_compare_exchange_n(address, &old, value, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}
inline int atomicCAS(int* address, int compare, int value) {
    __atomic_compare_exchange_n(address, &compare, value, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return compare;
}

// Math intrinsics the kernels use, with CUDA's names.
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
// Double arithmetic rounded as written (on a GPU these stop nvcc from contracting a product and a sum into an FMA).
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }

// Registration: every kernel file ends with SOLULENS_KERNEL(name) lines; under nvcc they expand to nothing.
// Each kernel is registered with its launcher and its signature, one letter per parameter: p (a pointer),
// i (int), l (long), f (float) — what a caller must pass, checked before every launch on both devices.
namespace solulens_emu {
using Launcher = void (*)(void** args);
void register_kernel(const char* name, Launcher launcher, const char* signature);

template <typename T>
constexpr char parameter_code() {
    if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_same_v<T, int>) return 'i';
    else if constexpr (std::is_same_v<T, long> && sizeof(long) == 8) return 'l';
    else if constexpr (std::is_same_v<T, float>) return 'f';
    else static_assert(sizeof(T) == 0, "a kernel parameter type without a signature letter (add one here and in KernelArgs)");
}
template <typename... Args>
struct Signature {
    static constexpr char text[sizeof...(Args) + 1] = {parameter_code<std::remove_cv_t<Args>>()..., '\0'};
};
template <typename... Args>
constexpr const char* signature_of(void (*)(Args...)) {
    return Signature<Args...>::text;
}

template <typename... Args, size_t... I>
void call_with(void (*kernel)(Args...), void** args, std::index_sequence<I...>) {
    kernel(*static_cast<std::remove_reference_t<Args>*>(args[I])...);
}
template <typename... Args>
void call(void (*kernel)(Args...), void** args) {
    call_with(kernel, args, std::index_sequence_for<Args...>{});
}
struct Registrar {
    Registrar(const char* name, Launcher launcher, const char* signature) { register_kernel(name, launcher, signature); }
};
}  // namespace solulens_emu

#define SOLULENS_KERNEL(name)                                                                                                \
    static solulens_emu::Registrar solulens_registrar_##name(#name, [](void** args) { solulens_emu::call(name, args); }, \
                                                             solulens_emu::signature_of(name));
