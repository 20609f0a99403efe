// The emulator under AddressSanitizer: kernels run with memory checking, so an out-of-bounds access computed
// from block and thread indices is reported as compute-sanitizer would report it on a GPU. (ASan warns once that
// it does not fully support the fibers' stack switches; its checks of heap buffers, which kernels read and
// write, are unaffected.)
//   asan_test        runs correct kernels, checks their results, exits 0
//   asan_test oob    runs a kernel that reads one element past its input; AddressSanitizer must abort it
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "emulator.h"

static int failures = 0;

static void expect(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        failures++;
    }
}

int main(int argc, char** argv) {
    const int threads = 128, blocks = 5;
    std::vector<float> in(threads * blocks), out(blocks, -1.0f);
    for (int i = 0; i < threads * blocks; i++) in[i] = (float)(i % 17);
    float* inPtr = in.data();
    float* outPtr = out.data();
    void* args[] = {&outPtr, &inPtr};
    if (argc > 1 && std::string(argv[1]) == "oob") {
        float* small = static_cast<float*>(std::malloc(threads * sizeof(float)));   // exactly blockDim.x floats
        float* result = static_cast<float*>(std::malloc(threads * sizeof(float)));
        std::memset(small, 0, threads * sizeof(float));
        void* oobArgs[] = {&result, &small};
        std::string error = solulens_emulator_launch("emutest_out_of_bounds", 1, 1, 1, threads, 1, 1, 0, oobArgs, 1);
        std::fprintf(stderr, "out-of-bounds kernel was not caught (%s)\n", error.c_str());
        return 3;
    }
    std::string error = solulens_emulator_launch("emutest_block_sum", blocks, 1, 1, threads, 1, 1, threads * sizeof(float), args, 2);
    expect(error.empty(), error.c_str());
    for (int b = 0; b < blocks; b++) {
        float sum = 0;
        for (int t = 0; t < threads; t++) sum += in[b * threads + t];
        expect(out[b] == sum, "block sum under AddressSanitizer");
    }
    std::vector<float> shuffled(3 * threads);
    float* shufPtr = shuffled.data();
    void* shufArgs[] = {&shufPtr, &inPtr};
    error = solulens_emulator_launch("emutest_shuffles", 1, 1, 1, threads, 1, 1, 0, shufArgs, 1);
    expect(error.empty(), error.c_str());
    for (int i = 0; i < threads; i++) expect(shuffled[3 * i] == in[(i / 32) * 32 + ((i % 32) ^ 1)], "xor shuffle");
    std::printf("emulator under AddressSanitizer: %s\n", failures == 0 ? "block sums and shuffles correct" : "FAILED (above)");
    return failures == 0 ? 0 : 1;
}
