// The scheduler of SoluLens's CUDA emulator: runs a kernel launch on the CPU, one fiber per CUDA thread.
//
// A block's threads are fibers on one OS thread; the scheduler resumes each runnable fiber in turn until it
// finishes or waits at a barrier (switches are _setjmp/_longjmp between stacks made once with makecontext, so
// they cost no system call; a fiber's stack is reused by the next block once its CUDA thread has finished), and releases a barrier once every thread it concerns has arrived
// (__syncthreads: every thread of the block; warp operations: every lane of the warp). Blocks are spread over a
// few OS threads. Errors (a barrier some threads never reach, a partial warp mask, a bad launch shape) stop the
// launch and are reported to the caller as text.
#include "emulator.h"

#include <setjmp.h>
#include <ucontext.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
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

// A CUDA thread of the block being run.
struct Fiber {
    ThreadState state;
    Wait wait = Wait::None;
    bool done = false;
};

// A stack with a context that runs CUDA threads one after another: made once, reused by every block.
struct Worker {
    jmp_buf context;
    char* stack = nullptr;
};

// One block being run on this OS thread.
struct Block {
    jmp_buf scheduler;
    std::vector<Fiber> fibers;
    std::vector<uint32_t> slots[2];       // exchange slots per thread for warp shuffles, used alternately
    std::vector<uint8_t> parity;          // which slot set each thread's next shuffle uses
    std::vector<char> dynamicShared;
    Launcher launcher = nullptr;
    void** args = nullptr;
    int running = -1;
    std::string error;
};

thread_local Block* block = nullptr;
thread_local std::vector<Worker*> workers;  // worker i runs fiber i of the current block
thread_local ucontext_t bootstrapCaller, bootstrapWorker;
thread_local Worker* bootstrapping = nullptr;

struct Kernel {
    Launcher launcher;
    std::string signature;
};

std::map<std::string, Kernel>& registry() {
    static std::map<std::string, Kernel> kernels;
    return kernels;
}

// Switches from the running fiber back to the scheduler; returns when the scheduler resumes it.
void yield_to_scheduler() {
    Worker* w = workers[block->running];
    if (!_setjmp(w->context)) _longjmp(block->scheduler, 1);
}

// The body of every worker: wait to be resumed, run the CUDA thread the scheduler assigned, report, repeat.
[[noreturn]] void worker_loop() {
    Worker* self = bootstrapping;
    if (!_setjmp(self->context)) {
        swapcontext(&bootstrapWorker, &bootstrapCaller);   // made: hand control back to whoever made it
    }
    for (;;) {
        block->launcher(block->args);
        block->fibers[block->running].done = true;
        if (!_setjmp(self->context)) _longjmp(block->scheduler, 1);
    }
}

// Runs the fiber of `w` until it yields, finishes or fails. Not inlined, so no caller state lives across the jump.
__attribute__((noinline)) void resume(Worker* w) {
    if (!_setjmp(block->scheduler)) _longjmp(w->context, 1);
}

Worker* make_worker() {
    Worker* w = new Worker();
    w->stack = static_cast<char*>(std::malloc(kStackBytes));
    getcontext(&bootstrapWorker);
    bootstrapWorker.uc_stack.ss_sp = w->stack;
    bootstrapWorker.uc_stack.ss_size = kStackBytes;
    bootstrapWorker.uc_link = nullptr;
    makecontext(&bootstrapWorker, (void (*)())worker_loop, 0);
    bootstrapping = w;
    swapcontext(&bootstrapCaller, &bootstrapWorker);       // runs worker_loop up to its first _setjmp
    bootstrapping = nullptr;
    return w;
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

std::string run_block(Launcher launcher, void** args, dim3 grid, dim3 dims, uint3 index, size_t sharedBytes) {
    Block b;
    block = &b;
    b.launcher = launcher;
    b.args = args;
    size_t n = (size_t)dims.x * dims.y * dims.z;
    b.fibers.resize(n);
    b.slots[0].assign(n, 0);
    b.slots[1].assign(n, 0);
    b.parity.assign(n, 0);
    b.dynamicShared.assign(sharedBytes, 0);
    while (workers.size() < n) workers.push_back(make_worker());
    for (size_t i = 0; i < n; i++) {
        unsigned tx = i % dims.x, ty = (i / dims.x) % dims.y, tz = i / (dims.x * dims.y);
        b.fibers[i].state = ThreadState{{tx, ty, tz}, index, dims, grid, (unsigned)i};
    }
    size_t finished = 0;
    std::string error;
    while (finished < n) {
        bool progressed = false;
        for (size_t i = 0; i < n; i++) {
            Fiber& f = b.fibers[i];
            if (f.done || f.wait != Wait::None) continue;
            b.running = (int)i;
            current = &f.state;
            resume(workers[i]);
            current = nullptr;
            if (!b.error.empty()) {
                error = b.error;
                break;
            }
            finished += f.done;
            progressed = true;
        }
        if (!error.empty() || finished == n) break;
        if (!progressed && !release_barriers(error)) {
            if (error.empty()) error = "deadlock: threads wait at barriers that can never be released";
            break;
        }
    }
    if (!error.empty()) {
        // A fiber stopped mid-kernel would resume that kernel if its worker were reused: replace those workers.
        for (size_t i = 0; i < n; i++) {
            if (!b.fibers[i].done) {
                std::free(workers[i]->stack);
                delete workers[i];
                workers[i] = make_worker();
            }
        }
    }
    block = nullptr;
    return error;
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

// One barrier per shuffle: consecutive shuffles use alternate slot sets, and a lane can only overwrite a set
// after every lane has passed the barrier of the shuffle in between, so after it has read that set.
uint32_t warp_exchange(uint32_t value, int source, unsigned mask) {
    unsigned me = current->linear, base = me - me % 32;
    std::vector<uint32_t>& slots = block->slots[block->parity[me]];
    block->parity[me] ^= 1;
    slots[me] = value;
    syncwarp(mask);                                    // every lane has published
    unsigned from = base + (unsigned)source;
    return (source >= 0 && source < 32 && from < slots.size()) ? slots[from] : value;
}

void* dynamic_shared() { return block->dynamicShared.data(); }

void fail(const char* what) {
    block->error = what;
    _longjmp(block->scheduler, 1);   // this fiber is never resumed
}

void register_kernel(const char* name, Launcher launcher, const char* signature) { registry()[name] = Kernel{launcher, signature}; }

namespace {

// Helper OS threads that live as long as the library, so that their fiber stacks are made once, not per launch.
class Pool {
public:
    // Runs job on the calling thread and on `helpers` pool threads, and returns when all are done.
    void run(int helpers, const std::function<void()>& job) {
        std::lock_guard<std::mutex> one(launchLock_);
        std::unique_lock<std::mutex> lock(mutex_);
        while ((int)threads_.size() < helpers) threads_.emplace_back([this, id = (int)threads_.size()] { loop(id); });
        job_ = &job;
        wanted_ = helpers;
        busy_ = helpers;
        generation_++;
        wake_.notify_all();
        lock.unlock();
        job();
        lock.lock();
        idle_.wait(lock, [this] { return busy_ == 0; });
        job_ = nullptr;
    }

    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
            wake_.notify_all();
        }
        for (auto& t : threads_) t.join();
    }

private:
    void loop(int id) {
        uint64_t seen = 0;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            if (id >= wanted_) continue;
            const std::function<void()>* job = job_;
            lock.unlock();
            (*job)();
            lock.lock();
            if (--busy_ == 0) idle_.notify_all();
        }
    }

    std::mutex launchLock_, mutex_;
    std::condition_variable wake_, idle_;
    std::vector<std::thread> threads_;
    const std::function<void()>* job_ = nullptr;
    uint64_t generation_ = 0;
    int wanted_ = 0, busy_ = 0;
    bool stop_ = false;
};

// Never destroyed: a static Pool's destructor would join its threads at process exit, and they may be in the
// middle of a launch that takes minutes (Ctrl-C would then wait for it). The process's exit ends them.
Pool& pool() {
    static Pool* p = new Pool;
    return *p;
}

// Set once the process is shutting down (solulens_emulator_cancel): launches stop between blocks.
std::atomic<bool> cancelled{false};

}  // namespace

}  // namespace solulens_emu

std::vector<std::string> solulens_emulator_kernels() {
    std::vector<std::string> names;
    for (auto& e : solulens_emu::registry()) names.push_back(e.first);
    return names;
}

void solulens_emulator_cancel() { solulens_emu::cancelled = true; }

std::string solulens_emulator_signature(const std::string& name) {
    auto it = solulens_emu::registry().find(name);
    return it == solulens_emu::registry().end() ? std::string() : it->second.signature;
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
            if (cancelled.load(std::memory_order_relaxed)) {
                std::lock_guard<std::mutex> g(lock);
                if (firstError.empty()) firstError = "kernel " + name + ": cancelled (the process is shutting down)";
                next = blocks;
                break;
            }
            uint3 index{(unsigned)(i % gx), (unsigned)((i / gx) % gy), (unsigned)(i / ((size_t)gx * gy))};
            std::string error = run_block(it->second.launcher, args, dim3(gx, gy, gz), dim3(bx, by, bz), index, sharedBytes);
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
    pool().run(threads - 1, work);
    return firstError;
}
