#!/usr/bin/env bash
# Packs what a GPU machine without Maven or a JDK needs into out/gpu (git ignores out/; under 64 MiB):
# the jar without the tokenizer natives of other platforms and without OpenBLAS (its CPU-side products then run
# as the pure-Java loops, said once in the log), and a jlink runtime. Run here after
# `mvn -B -q package -DskipTests`; then run benchmarks/gpu_checks.sh there with out/gpu carried.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf out/gpu && mkdir -p out/gpu
cp cli/target/solulens.jar out/gpu/
zip -q -d out/gpu/solulens.jar 'native/lib/linux-aarch64/*' 'native/lib/win-x86_64/*' 'native/lib/osx-aarch64/*' \
       'org/bytedeco/openblas/linux-x86_64/*' || true
jlink --add-modules java.base,java.logging,jdk.unsupported,jdk.incubator.vector \
      --strip-debug --no-man-pages --no-header-files --compress=2 --output out/gpu/jre
du -sh out/gpu
