// Prints every kernel of the emulator with its signature ("name pppif"), one per line, for the jar's
// native/kernel-signatures.txt: both devices check a launch's arguments against it (KernelSignatures.java).
#include <cstdio>

#include "emulator.h"

int main() {
    for (const std::string& name : solulens_emulator_kernels()) std::printf("%s %s\n", name.c_str(), solulens_emulator_signature(name).c_str());
    return 0;
}
