// SHA-256 (FIPS 180-4) of weight tensors' bytes, for the constant cache's key (org.solulens.cpu.TensorDigests). Native
// because a fresh JVM runs Java's SHA-256 interpreted or as C1 code until C2 compiles it with the CPU's SHA
// instructions: digesting solu-1l's W_U (99 MB) took 0.2–0.3 s of a core in a cold sweep, here ~0.05 s (the SHA
// extensions: ~2 cycles a byte; floor, memory: far below). The same digest as java.security.MessageDigest.
#pragma once
#include <cstddef>
#include <cstdint>

namespace solulens {
// Whether this CPU has the SHA extensions (CPUID.7.0:EBX bit 29) that sha256 uses when asked to.
bool cpuHasSha();
// The SHA-256 of the n bytes at data into out[32], with the SHA extensions when withShaExtensions (the caller checks
// cpuHasSha()) or in portable C++.
void sha256(const uint8_t* data, size_t n, bool withShaExtensions, uint8_t out[32]);
}  // namespace solulens
