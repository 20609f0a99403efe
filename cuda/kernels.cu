// The one translation unit nvcc compiles into solulens.fatbin (and g++ into the CPU emulator):
// every kernel family of SoluLens.
#include "embed.cu"
#include "layernorm.cu"
#include "activation.cu"
#include "matmul.cu"
#include "matmul_split.cu"
#include "attention.cu"
#include "cross_entropy.cu"
#include "exp2.cu"
#include "sweep.cu"
#include "corpus.cu"
