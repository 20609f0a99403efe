// The emulator's entry points (used by the JNI bridge and the emulator's own tests).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

// Names of every kernel compiled into the emulator.
std::vector<std::string> solulens_emulator_kernels();

// Stops every launch, running or to come, between blocks (each then reports "cancelled"): for a process that is
// shutting down. There is no way back.
void solulens_emulator_cancel();

// Kernel `name`'s signature, one letter per parameter (p pointer, i int, l long, f float); "" if there is no such kernel.
std::string solulens_emulator_signature(const std::string& name);

// Runs kernel `name` on a grid of blocks with `args` packed as for cuLaunchKernel (args[i] points at argument i).
// Returns "" on success, else what went wrong. `workers`: OS threads running blocks concurrently.
std::string solulens_emulator_launch(const std::string& name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                     unsigned bz, size_t sharedBytes, void** args, int workers);
