// SoluLens's stand-in for the NVIDIA driver: a libcuda.so.1 that implements the 18 driver functions CudaDevice
// calls over the CPU emulator, so that CI runs the real JCuda code path (CudaDevice) without a GPU.
//
// Device memory is host memory; cuModuleGetFunction resolves a name in the emulator's kernel registry; cuLaunchKernel
// copies the kernel parameters (sized by the kernel's registered signature) and queues the launch for the
// context's worker thread, so launches are asynchronous until a synchronising call, as on a GPU.
// It is stricter than a GPU where that finds bugs:
//   - new allocations are filled with 0xFF bytes (float NaN, int -1), so unwritten output shows;
//   - every call needs a current context on the calling thread (CUDA_ERROR_INVALID_CONTEXT otherwise);
//   - a kernel name must be a kernel of the fatbin the module was loaded from (its ELF symbol tables are read);
//   - every pointer argument must be null or point into a live allocation of the context;
//   - a context destroyed with live allocations, and no error seen, is an error (CUDA_ERROR_NOT_PERMITTED).
// It cannot test what only hardware shows: ex2.approx accuracy, timing, or the fatbin's own code.
// Errors are also described on stderr ("solulens stand-in driver: ..."), since a CUresult says little.
// Tests drive it through the solulens_standin_* functions at the end (fault injection and counters).
// Every other driver function JCuda links is a stub returning CUDA_ERROR_NOT_SUPPORTED (unsupported.cpp).
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emulator.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using CUresult = int;
using CUdeviceptr = unsigned long long;

enum : CUresult {
    SUCCESS = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    NO_DEVICE = 100,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    INVALID_CONTEXT = 201,
    INVALID_HANDLE = 400,
    NOT_FOUND = 500,
    ILLEGAL_ADDRESS = 700,
    LAUNCH_FAILED = 719,
    NOT_PERMITTED = 800,
    NOT_SUPPORTED = 801,
};

// Errors after which a real context is unusable: every later call returns them until the context is destroyed.
bool sticky(CUresult r) { return r == ILLEGAL_ADDRESS || r == LAUNCH_FAILED; }

void say(const std::string& what) { std::fprintf(stderr, "solulens stand-in driver: %s\n", what.c_str()); }

struct Context;

struct Module {
    Context* context;
    std::set<std::string> kernels;   // the global functions of the fatbin's ELF images
};

struct Function {
    Module* module;
    std::string name, signature;
};

struct Launch {
    std::string kernel;
    unsigned grid[3], block[3];
    size_t sharedBytes;
    std::vector<uint64_t> slots;     // one 8-byte slot per parameter, the value at its start
    CUresult injected;               // a failure this launch reports when it runs (fault injection), or SUCCESS
};

struct Context {
    std::map<CUdeviceptr, size_t> allocations;
    std::set<Module*> modules;
    bool sawError = false;
    CUresult stickyError = SUCCESS;   // guarded by queueLock once the worker runs
    // The launch queue and its worker, which runs launches in order (the legacy default stream).
    std::mutex queueLock;
    std::condition_variable changed;
    std::deque<Launch> queue;
    bool running = false, stop = false;
    std::thread worker;
};

// All driver state; one lock serialises the driver calls (the worker thread takes only its context's queueLock).
std::mutex lock;
bool initialized = false;
std::set<Context*> contexts;
std::set<Module*> modules;
std::set<Function*> functions;
size_t usedBytes = 0;
long liveAllocations = 0;
long calls = 0, failAtCall = -1;
CUresult failAtCode = SUCCESS;
std::map<std::string, CUresult> failingFunctions;
thread_local Context* current = nullptr;

// Devices the stand-in pretends to have (SOLULENS_STANDIN_DEVICES, default 1): each a separate "GPU" over the emulator.
int deviceCount() {
    const char* env = std::getenv("SOLULENS_STANDIN_DEVICES");
    return env ? std::atoi(env) : 1;
}

size_t totalBytes() {
    const char* env = std::getenv("SOLULENS_STANDIN_MEMORY_BYTES");
    return env ? std::strtoull(env, nullptr, 10) : (size_t)16 << 30;
}

void run_queue(Context* c) {
    std::unique_lock<std::mutex> guard(c->queueLock);
    for (;;) {
        c->changed.wait(guard, [c] { return c->stop || !c->queue.empty(); });
        if (c->queue.empty()) return;   // stop, nothing left
        Launch l = std::move(c->queue.front());
        c->queue.pop_front();
        if (c->stickyError != SUCCESS) continue;   // a failed context runs nothing more
        c->running = true;
        guard.unlock();
        std::string error;
        CUresult result = l.injected;
        if (result == SUCCESS) {
            std::vector<void*> args(l.slots.size());
            for (size_t i = 0; i < args.size(); i++) args[i] = &l.slots[i];
            error = solulens_emulator_launch(l.kernel, l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1], l.block[2],
                                             l.sharedBytes, args.data(), (int)std::max(1u, std::thread::hardware_concurrency()));
            if (!error.empty()) result = LAUNCH_FAILED;
        } else {
            error = "injected failure " + std::to_string(result) + " in kernel " + l.kernel;
        }
        guard.lock();
        c->running = false;
        if (result != SUCCESS) {
            say(error);
            c->stickyError = result;
        }
        c->changed.notify_all();
    }
}

// Waits until every queued launch of c has run; returns the context's sticky error, if any.
CUresult drain(Context* c) {
    std::unique_lock<std::mutex> guard(c->queueLock);
    c->changed.wait(guard, [c] { return c->queue.empty() && !c->running; });
    return c->stickyError;
}

CUresult fail(Context* c, CUresult r) {
    if (c != nullptr && r != SUCCESS) {
        c->sawError = true;
        if (sticky(r)) {
            std::lock_guard<std::mutex> guard(c->queueLock);
            if (c->stickyError == SUCCESS) c->stickyError = r;
        }
    }
    return r;
}

// A failure injected into this call (by number or by function name), or SUCCESS.
CUresult injected(const char* function) {
    long n = ++calls;
    if (n == failAtCall) return failAtCode;
    auto it = failingFunctions.find(function);
    return it == failingFunctions.end() ? SUCCESS : it->second;
}

// The checks at the start of every call that needs a context: initialised, a live current context, no sticky error.
CUresult enter(const char* function, bool needsContext = true) {
    if (!initialized) return NOT_INITIALIZED;
    if (needsContext) {
        if (current == nullptr || contexts.count(current) == 0) {
            say(std::string(function) + ": no current context on this thread");
            return INVALID_CONTEXT;
        }
        std::lock_guard<std::mutex> guard(current->queueLock);
        if (current->stickyError != SUCCESS) return current->stickyError;
    }
    return SUCCESS;
}

// The live allocation of c that holds [p, p + bytes), or null.
const std::pair<const CUdeviceptr, size_t>* find_allocation(Context* c, CUdeviceptr p, size_t bytes) {
    auto it = c->allocations.upper_bound(p);
    if (it == c->allocations.begin()) return nullptr;
    --it;
    if (p + bytes > it->first + it->second || p + bytes < p) return nullptr;
    return &*it;
}

// The names of the global functions in every ELF image (cubin) of a fatbin, or of one ELF image.
bool read_u64(const unsigned char* base, size_t size, size_t at, uint64_t& out) {
    if (at > size || size - at < 8) return false;
    std::memcpy(&out, base + at, 8);
    return true;
}

void elf_functions(const unsigned char* elf, size_t size, std::set<std::string>& out) {
    if (size < 64 || elf[4] != 2 /* 64-bit */) return;
    uint64_t shoff;
    uint16_t shentsize, shnum;
    read_u64(elf, size, 0x28, shoff);
    std::memcpy(&shentsize, elf + 0x3a, 2);
    std::memcpy(&shnum, elf + 0x3c, 2);
    if (shentsize != 64 || shoff > size || (size - shoff) / 64 < shnum) return;
    for (unsigned s = 0; s < shnum; s++) {
        const unsigned char* sh = elf + shoff + 64 * s;
        uint32_t type, link;
        uint64_t offset, bytes;
        std::memcpy(&type, sh + 4, 4);
        std::memcpy(&offset, sh + 24, 8);
        std::memcpy(&bytes, sh + 32, 8);
        std::memcpy(&link, sh + 40, 4);
        if (type != 2 /* SHT_SYMTAB */ || link >= shnum || offset > size || size - offset < bytes) continue;
        const unsigned char* strtab = elf + shoff + 64 * link;
        uint64_t strOffset, strBytes;
        std::memcpy(&strOffset, strtab + 24, 8);
        std::memcpy(&strBytes, strtab + 32, 8);
        if (strOffset > size || size - strOffset < strBytes) continue;
        for (uint64_t e = 0; e + 24 <= bytes; e += 24) {
            const unsigned char* sym = elf + offset + e;
            uint32_t name;
            std::memcpy(&name, sym, 4);
            unsigned char info = sym[4];
            if ((info & 0xf) != 2 /* STT_FUNC */ || (info >> 4) != 1 /* STB_GLOBAL */ || name >= strBytes) continue;
            const char* text = reinterpret_cast<const char*>(elf + strOffset + name);
            out.insert(std::string(text, strnlen(text, strBytes - name)));
        }
    }
}

// False when the image is neither a fatbin nor an ELF image.
bool image_functions(const unsigned char* image, std::set<std::string>& out) {
    uint32_t magic;
    std::memcpy(&magic, image, 4);
    if (magic == 0x464c457fu) {   // "\x7fELF": a cubin; its size is where its section headers end
        uint64_t shoff;
        uint16_t shnum;
        std::memcpy(&shoff, image + 0x28, 8);
        std::memcpy(&shnum, image + 0x3c, 2);
        elf_functions(image, shoff + 64ull * shnum, out);
        return true;
    }
    if (magic != 0xba55ed50u) return false;
    uint16_t headerBytes;
    uint64_t fatBytes;
    std::memcpy(&headerBytes, image + 6, 2);
    std::memcpy(&fatBytes, image + 8, 8);
    size_t size = headerBytes + fatBytes;
    // The entries hold ELF images at 8-byte-aligned offsets; compressed entries hold none that can be read.
    for (size_t at = headerBytes; at + 64 <= size; at += 8) {
        if (std::memcmp(image + at, "\x7f" "ELF", 4) == 0) elf_functions(image + at, size - at, out);
    }
    return true;
}

// Frees a module and the functions taken from it (the caller removes it from its context's set).
void release_module(Module* m) {
    for (auto it = functions.begin(); it != functions.end();) {
        if ((*it)->module == m) {
            delete *it;
            it = functions.erase(it);
        } else {
            ++it;
        }
    }
    modules.erase(m);
    delete m;
}

size_t parameter_bytes(char code) { return code == 'i' || code == 'f' ? 4 : 8; }

}  // namespace

EXPORT CUresult cuInit(unsigned flags) {
    std::lock_guard<std::mutex> guard(lock);
    if (flags != 0) return INVALID_VALUE;
    initialized = true;
    return SUCCESS;
}

EXPORT CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return INVALID_VALUE;
    *version = 13000;
    return SUCCESS;
}

EXPORT CUresult cuDeviceGetCount(int* count) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuDeviceGetCount", false)) return r;
    if (count == nullptr) return INVALID_VALUE;
    *count = deviceCount();
    return SUCCESS;
}

EXPORT CUresult cuDeviceGet(int* device, int ordinal) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuDeviceGet", false)) return r;
    if (device == nullptr) return INVALID_VALUE;
    if (ordinal < 0 || ordinal >= deviceCount()) return INVALID_DEVICE;
    *device = ordinal;
    return SUCCESS;
}

EXPORT CUresult cuDeviceGetName(char* name, int length, int device) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuDeviceGetName", false)) return r;
    if (name == nullptr || length <= 0) return INVALID_VALUE;
    if (device < 0 || device >= deviceCount()) return INVALID_DEVICE;
    if (device == 0) {
        std::snprintf(name, (size_t)length, "%s", "SoluLens stand-in driver over the CPU emulator");
    } else {
        std::snprintf(name, (size_t)length, "SoluLens stand-in driver over the CPU emulator, device %d", device);
    }
    return SUCCESS;
}

EXPORT CUresult cuCtxCreate_v2(Context** context, unsigned flags, int device) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuCtxCreate", false)) return r;
    if (CUresult r = injected("cuCtxCreate")) return r;
    if (context == nullptr) return INVALID_VALUE;
    if (device < 0 || device >= deviceCount()) return INVALID_DEVICE;
    Context* c = new Context();
    c->worker = std::thread(run_queue, c);
    contexts.insert(c);
    current = c;
    *context = c;
    return SUCCESS;
}

EXPORT CUresult cuCtxSetCurrent(Context* context) {
    std::lock_guard<std::mutex> guard(lock);
    if (!initialized) return NOT_INITIALIZED;
    if (context != nullptr && contexts.count(context) == 0) {
        say("cuCtxSetCurrent: not a live context");
        return INVALID_CONTEXT;
    }
    current = context;
    return SUCCESS;
}

EXPORT CUresult cuCtxSynchronize() {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuCtxSynchronize")) return r;
    if (CUresult r = injected("cuCtxSynchronize")) return fail(current, r);
    return drain(current);
}

EXPORT CUresult cuCtxDestroy_v2(Context* c) {
    std::unique_lock<std::mutex> guard(lock);
    if (!initialized) return NOT_INITIALIZED;
    if (contexts.count(c) == 0) {
        say("cuCtxDestroy: not a live context");
        return INVALID_CONTEXT;
    }
    {
        std::lock_guard<std::mutex> q(c->queueLock);
        c->stop = true;
        c->changed.notify_all();
    }
    c->worker.join();
    CUresult result = SUCCESS;
    size_t leakedBytes = 0;
    for (auto& a : c->allocations) leakedBytes += a.second;
    if (!c->allocations.empty() && !c->sawError && c->stickyError == SUCCESS) {
        say("context destroyed with " + std::to_string(c->allocations.size()) + " live allocations (" + std::to_string(leakedBytes) +
            " bytes): a leak");
        result = NOT_PERMITTED;
    }
    for (auto& a : c->allocations) std::free(reinterpret_cast<void*>(a.first));
    liveAllocations -= (long)c->allocations.size();
    usedBytes -= leakedBytes;
    for (Module* m : c->modules) release_module(m);
    contexts.erase(c);
    if (current == c) current = nullptr;
    delete c;
    return result;
}

EXPORT CUresult cuModuleLoadData(Module** module, const void* image) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuModuleLoadData")) return r;
    if (CUresult r = injected("cuModuleLoadData")) return fail(current, r);
    if (module == nullptr || image == nullptr) return INVALID_VALUE;
    std::set<std::string> kernels;
    if (!image_functions(static_cast<const unsigned char*>(image), kernels)) {
        say("cuModuleLoadData: the image is neither a fatbin nor a cubin");
        return INVALID_IMAGE;
    }
    if (kernels.empty()) {
        say("cuModuleLoadData: no kernel could be read from the image (compressed?)");
        return INVALID_IMAGE;
    }
    Module* m = new Module{current, std::move(kernels)};
    modules.insert(m);
    current->modules.insert(m);
    *module = m;
    return SUCCESS;
}

EXPORT CUresult cuModuleUnload(Module* m) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuModuleUnload")) return r;
    if (modules.count(m) == 0 || m->context != current) return INVALID_HANDLE;
    drain(current);
    current->modules.erase(m);
    release_module(m);
    return SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(Function** function, Module* m, const char* name) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuModuleGetFunction")) return r;
    if (CUresult r = injected("cuModuleGetFunction")) return fail(current, r);
    if (function == nullptr || name == nullptr) return INVALID_VALUE;
    if (modules.count(m) == 0 || m->context != current) return INVALID_HANDLE;
    if (m->kernels.count(name) == 0) {
        say(std::string("cuModuleGetFunction: no kernel '") + name + "' in the module's fatbin");
        return NOT_FOUND;
    }
    std::vector<std::string> emulated = solulens_emulator_kernels();
    if (std::find(emulated.begin(), emulated.end(), name) == emulated.end()) {
        say(std::string("cuModuleGetFunction: kernel '") + name + "' is in the fatbin but not in the emulator");
        return NOT_FOUND;
    }
    std::string signature = solulens_emulator_signature(name);
    Function* f = new Function{m, name, signature};
    functions.insert(f);
    *function = f;
    return SUCCESS;
}

EXPORT CUresult cuLaunchKernel(Function* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                               unsigned sharedBytes, void* stream, void** params, void** extra) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuLaunchKernel")) return r;
    CUresult inject = injected("cuLaunchKernel");
    if (inject != SUCCESS && !sticky(inject)) return fail(current, inject);   // a launch refused at once
    if (functions.count(f) == 0 || f->module->context != current) return INVALID_HANDLE;
    if (stream != nullptr) {
        say("cuLaunchKernel: streams are not emulated (pass the default stream)");
        return NOT_SUPPORTED;
    }
    if (extra != nullptr) return NOT_SUPPORTED;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || (size_t)bx * by * bz > 1024 || bz > 64 || gy > 65535 ||
        gz > 65535 || sharedBytes > 48 * 1024) {
        say("cuLaunchKernel " + f->name + ": grid or block outside CUDA's limits, or too much shared memory");
        return INVALID_VALUE;
    }
    if (params == nullptr && !f->signature.empty()) return INVALID_VALUE;
    Launch l{f->name, {gx, gy, gz}, {bx, by, bz}, sharedBytes, std::vector<uint64_t>(f->signature.size(), 0), inject};
    for (size_t i = 0; i < f->signature.size(); i++) {
        if (params[i] == nullptr) return INVALID_VALUE;
        std::memcpy(&l.slots[i], params[i], parameter_bytes(f->signature[i]));
        if (f->signature[i] == 'p' && l.slots[i] != 0 && find_allocation(current, l.slots[i], 0) == nullptr) {
            say("cuLaunchKernel " + f->name + ": parameter " + std::to_string(i) + " is not a pointer into a live allocation");
            return fail(current, INVALID_VALUE);
        }
    }
    std::lock_guard<std::mutex> q(current->queueLock);
    current->queue.push_back(std::move(l));
    current->changed.notify_all();
    return SUCCESS;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuMemAlloc")) return r;
    if (CUresult r = injected("cuMemAlloc")) return fail(current, r);
    if (pointer == nullptr || bytes == 0) return INVALID_VALUE;
    if (bytes > totalBytes() - usedBytes) return OUT_OF_MEMORY;
    size_t rounded = (bytes + 255) / 256 * 256;
    void* p = std::aligned_alloc(256, rounded);
    if (p == nullptr) return OUT_OF_MEMORY;
    std::memset(p, 0xff, rounded);   // NaN as float, -1 as int: output a kernel forgot to write shows
    current->allocations[reinterpret_cast<CUdeviceptr>(p)] = bytes;
    usedBytes += bytes;
    liveAllocations++;
    *pointer = reinterpret_cast<CUdeviceptr>(p);
    return SUCCESS;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuMemFree")) return r;
    if (CUresult r = injected("cuMemFree")) return fail(current, r);
    auto it = current->allocations.find(pointer);
    if (it == current->allocations.end()) {
        say("cuMemFree: not the start of a live allocation of the current context");
        return INVALID_VALUE;
    }
    if (CUresult r = drain(current)) return r;   // a queued kernel may still use it
    std::free(reinterpret_cast<void*>(pointer));
    usedBytes -= it->second;
    liveAllocations--;
    current->allocations.erase(it);
    return SUCCESS;
}

EXPORT CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* total) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuMemGetInfo")) return r;
    if (freeBytes == nullptr || total == nullptr) return INVALID_VALUE;
    *total = totalBytes();
    *freeBytes = *total - usedBytes;
    return SUCCESS;
}

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuMemcpyHtoD")) return r;
    if (CUresult r = injected("cuMemcpyHtoD")) return fail(current, r);
    if (find_allocation(current, dst, bytes) == nullptr || (src == nullptr && bytes > 0)) {
        say("cuMemcpyHtoD: " + std::to_string(bytes) + " bytes do not fit in a live allocation at the destination");
        return INVALID_VALUE;
    }
    if (CUresult r = drain(current)) return r;   // in order after queued kernels, as on the default stream
    std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
    return SUCCESS;
}

EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    std::lock_guard<std::mutex> guard(lock);
    if (CUresult r = enter("cuMemcpyDtoH")) return r;
    if (CUresult r = injected("cuMemcpyDtoH")) return fail(current, r);
    if (find_allocation(current, src, bytes) == nullptr || (dst == nullptr && bytes > 0)) {
        say("cuMemcpyDtoH: " + std::to_string(bytes) + " bytes do not lie in a live allocation at the source");
        return INVALID_VALUE;
    }
    if (CUresult r = drain(current)) return r;
    std::memcpy(dst, reinterpret_cast<void*>(src), bytes);
    return SUCCESS;
}

// ---- Control for tests (called through dlsym) ----

// Driver calls counted so far (every call that can fail: context creation, modules, memory, copies, launches, syncs).
EXPORT long solulens_standin_calls() {
    std::lock_guard<std::mutex> guard(lock);
    return calls;
}

// Call number `call` (as counted by solulens_standin_calls) fails with `code`. ILLEGAL_ADDRESS (700) and
// LAUNCH_FAILED (719) are sticky, and a launch given one fails asynchronously, when it runs, as on a GPU.
EXPORT void solulens_standin_fail_at(int call, int code) {
    std::lock_guard<std::mutex> guard(lock);
    failAtCall = call;
    failAtCode = code;
}

// Every call of `function` (e.g. "cuModuleLoadData") fails with `code` (0: no longer).
EXPORT int solulens_standin_fail_function(const char* function, int code) {
    std::lock_guard<std::mutex> guard(lock);
    if (code == SUCCESS) {
        failingFunctions.erase(function);
    } else {
        failingFunctions[function] = code;
    }
    return 0;
}

EXPORT long solulens_standin_live_allocations() {
    std::lock_guard<std::mutex> guard(lock);
    return liveAllocations;
}

EXPORT int solulens_standin_live_contexts() {
    std::lock_guard<std::mutex> guard(lock);
    return (int)contexts.size();
}
