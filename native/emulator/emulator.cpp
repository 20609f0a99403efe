// The scheduler of SoluLens's CUDA emulator: runs a kernel launch on the CPU, one fiber per CUDA thread.
//
// A block's threads are fibers on one OS thread; the scheduler resumes each runnable fiber in turn until it
// finishes or waits at a barrier, and releases a barrier once every thread it concerns has arrived
// (__syncthreads: every thread of the block; warp operations: every lane of the warp). Blocks are spread over a
// few OS threads. Errors (a barrier some threads never reach, a partial warp mask, a bad launch shape) stop the
// launch and are reported to the caller as text.
#include "emulator.h"

#include <ucontext.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cuda_shim.h"

namespace solulens_emu {

thread_local ThreadState* current = nullptr;

namespace {

constexpr size_t kStackBytes = 64 * 1024;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr size_t kMaxDynamicShared = 48 * 1024;  // the default limit without an opt-in attribute

enum class Wait { None, Block, Warp };

struct Fiber {
    ucontext_t context;
    ThreadState state;
    Wait wait = Wait::None;
    bool done = false;
};

// One block being run on this OS thread.
struct Block {
    ucontext_t scheduler;
    std::vector<Fiber> fibers;
    std::vector<uint32_t> slots;          // one exchange slot per thread, for warp shuffles
    std::vector<char> dynamicShared;
    Launcher launcher = nullptr;
    void** args = nullptr;
    int running = -1;
    std::string error;
};

thread_local Block* block = nullptr;
thread_local std::vector<char*> stacks;   // reused across blocks and launches

std::map<std::string, Launcher>& registry() {
    static std::map<std::string, Launcher> kernels;
    return kernels;
}

void yield_to_scheduler() {
    Fiber& f = block->fibers[block->running];
    swapcontext(&f.context, &block->scheduler);
}

void trampoline() {
    block->launcher(block->args);
    block->fibers[block->running].done = true;
    // returning resumes uc_link, the scheduler
}

// Releases every barrier whose threads have all arrived; returns whether anything was released.
bool release_barriers(std::string& error) {
    size_t n = block->fibers.size();
    size_t live = 0, atBlock = 0;
    for (auto& f : block->fibers) {
        live += !f.done;
        atBlock += !f.done && f.wait == Wait::Block;
    }
    if (atBlock > 0 && atBlock == live) {
        if (live != n) {
            error = "__syncthreads() reached by " + std::to_string(atBlock) + " threads while " + std::to_string(n - live) +
                    " threads of the block had already exited (a barrier inside divergent code)";
            return false;
        }
        for (auto& f : block->fibers) f.wait = Wait::None;
        return true;
    }
    bool released = false;
    for (size_t w = 0; w * 32 < n; w++) {
        size_t first = w * 32, last = std::min(n, first + 32), waiting = 0, alive = 0;
        for (size_t i = first; i < last; i++) {
            alive += !block->fibers[i].done;
            waiting += !block->fibers[i].done && block->fibers[i].wait == Wait::Warp;
        }
        if (waiting > 0 && waiting == alive) {
            if (alive != last - first) {
                error = "a warp-level operation was reached by " + std::to_string(waiting) + " lanes of warp " + std::to_string(w) +
                        " while the others had exited";
                return false;
            }
            for (size_t i = first; i < last; i++) block->fibers[i].wait = Wait::None;
            released = true;
        }
    }
    return released;
}

// Kept out of run_block's loop: getcontext there would make gcc warn that the loop variable may be clobbered.
__attribute__((noinline)) void prepare_fiber(Fiber& f, char* stack, ucontext_t* scheduler) {
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = stack;
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = scheduler;
    makecontext(&f.context, trampoline, 0);
}

std::string run_block(Launcher launcher, void** args, dim3 grid, dim3 dims, uint3 index, size_t sharedBytes) {
    Block b;
    block = &b;
    b.launcher = launcher;
    b.args = args;
    size_t n = (size_t)dims.x * dims.y * dims.z;
    b.fibers.resize(n);
    b.slots.assign(n, 0);
    b.dynamicShared.assign(sharedBytes, 0);
    while (stacks.size() < n) stacks.push_back(static_cast<char*>(std::malloc(kStackBytes)));
    for (size_t i = 0; i < n; i++) {
        Fiber& f = b.fibers[i];
        unsigned tx = i % dims.x, ty = (i / dims.x) % dims.y, tz = i / (dims.x * dims.y);
        f.state = ThreadState{{tx, ty, tz}, index, dims, grid, (unsigned)i};
        prepare_fiber(f, stacks[i], &b.scheduler);
    }
    size_t finished = 0;
    while (finished < n) {
        bool progressed = false;
        for (size_t i = 0; i < n; i++) {
            Fiber& f = b.fibers[i];
            if (f.done || f.wait != Wait::None) continue;
            b.running = (int)i;
            current = &f.state;
            swapcontext(&b.scheduler, &f.context);
            current = nullptr;
            if (!b.error.empty()) {
                block = nullptr;
                return b.error;
            }
            finished += f.done;
            progressed = true;
        }
        if (finished == n) break;
        if (!progressed) {
            std::string error;
            if (!release_barriers(error)) {
                block = nullptr;
                return error.empty() ? "deadlock: threads wait at barriers that can never be released" : error;
            }
        }
    }
    block = nullptr;
    return "";
}

}  // namespace

void syncthreads() {
    if (block == nullptr) fail("__syncthreads() outside a kernel launch");
    block->fibers[block->running].wait = Wait::Block;
    yield_to_scheduler();
}

void syncwarp(unsigned mask) {
    if (mask != 0xffffffffu) fail("warp operations with a partial mask are not emulated");
    block->fibers[block->running].wait = Wait::Warp;
    yield_to_scheduler();
}

uint32_t warp_exchange(uint32_t value, int source, unsigned mask) {
    unsigned me = current->linear, base = me - me % 32;
    block->slots[me] = value;
    syncwarp(mask);                                    // every lane has published
    unsigned from = base + (unsigned)source;
    uint32_t out = (source >= 0 && source < 32 && from < block->slots.size()) ? block->slots[from] : value;
    syncwarp(mask);                                    // every lane has read before anyone publishes again
    return out;
}

void* dynamic_shared() { return block->dynamicShared.data(); }

void fail(const char* what) {
    block->error = what;
    Fiber& f = block->fibers[block->running];
    swapcontext(&f.context, &block->scheduler);
    std::abort();  // never resumed
}

void register_kernel(const char* name, Launcher launcher) { registry()[name] = launcher; }

}  // namespace solulens_emu

std::vector<std::string> solulens_emulator_kernels() {
    std::vector<std::string> names;
    for (auto& e : solulens_emu::registry()) names.push_back(e.first);
    return names;
}

std::string solulens_emulator_launch(const std::string& name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                     unsigned bz, size_t sharedBytes, void** args, int workers) {
    using namespace solulens_emu;
    auto it = registry().find(name);
    if (it == registry().end()) return "no kernel named '" + name + "' in the emulator";
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return "launch of " + name + ": a grid or block dimension is 0";
    if ((size_t)bx * by * bz > kMaxThreadsPerBlock || bz > 64 || gy > 65535 || gz > 65535)
        return "launch of " + name + ": block (" + std::to_string(bx) + ", " + std::to_string(by) + ", " + std::to_string(bz) +
               ") or grid exceeds CUDA's limits (1024 threads per block, blockDim.z <= 64, gridDim.y/z <= 65535)";
    if (sharedBytes > kMaxDynamicShared)
        return "launch of " + name + ": " + std::to_string(sharedBytes) + " bytes of dynamic shared memory exceed 48 KiB";
    size_t blocks = (size_t)gx * gy * gz;
    std::atomic<size_t> next{0};
    std::mutex lock;
    std::string firstError;
    auto work = [&]() {
        for (size_t i; (i = next.fetch_add(1)) < blocks;) {
            uint3 index{(unsigned)(i % gx), (unsigned)((i / gx) % gy), (unsigned)(i / ((size_t)gx * gy))};
            std::string error = run_block(it->second, args, dim3(gx, gy, gz), dim3(bx, by, bz), index, sharedBytes);
            if (!error.empty()) {
                std::lock_guard<std::mutex> g(lock);
                if (firstError.empty())
                    firstError = "kernel " + name + ", block (" + std::to_string(index.x) + ", " + std::to_string(index.y) + ", " +
                                 std::to_string(index.z) + "): " + error;
                next = blocks;
            }
        }
    };
    int threads = (int)std::max<size_t>(1, std::min<size_t>(blocks, (size_t)std::max(1, workers)));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; t++) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    return firstError;
}
