#!/usr/bin/env bash
# Every GPU check in one run, for a lent GPU machine (benchmarks/NOTES.md): the device and driver, `selftest` (every
# kernel against its CPU twin, the forward pass, the exact sweep with each kernel variant), the same under
# compute-sanitizer's memcheck and racecheck, and `bench-sweep` at solu-1l's shape over 1024 positions. Run from the
# repository root with out/gpu from benchmarks/prepare_gpu_run.sh (or a JDK 17+ and cli/target/solulens.jar);
# each result goes to its own file in ${OUT:-out/gpu-results}, and the summary to stdout. Arguments pick steps
# (default all): selftest memcheck racecheck bench. All four can take up to 14 minutes: split them over calls
# where a call is limited to 10.
set -u
cd "$(dirname "$0")/.."
results=${OUT:-out/gpu-results}
mkdir -p "$results"
java=out/gpu/jre/bin/java
jar=out/gpu/solulens.jar
[ -x "$java" ] || java=java
[ -f "$jar" ] || jar=cli/target/solulens.jar
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
solulens=("$java" --add-modules jdk.incubator.vector -Dsolulens.checkLaunches=true -jar "$jar")

step() {   # step NAME TIMEOUT_S COMMAND...: runs one check into NAME.txt and prints its last lines
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$results/$name.txt" 2>&1
  local rc=$?
  echo "== $name: exit $rc, $((SECONDS - start)) s"
  tail -n 25 "$results/$name.txt"
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(selftest memcheck racecheck bench)
{ date -u; nvidia-smi; "$java" -version; } > "$results/device.txt" 2>&1
head -n 20 "$results/device.txt"
for s in "${steps[@]}"; do
  case "$s" in
    selftest) step selftest 180 "${solulens[@]}" selftest --device cuda ;;
    memcheck) step memcheck 240 "$sanitizer" --tool memcheck --error-exitcode 9 "${solulens[@]}" selftest --device cuda ;;
    racecheck) step racecheck 240 "$sanitizer" --tool racecheck --error-exitcode 9 "${solulens[@]}" selftest --device cuda ;;
    bench) step bench-sweep 240 "${solulens[@]}" bench-sweep --device cuda --shape solu-1l --length 1025 --repeats 5 ;;
    *) echo "unknown step '$s': expected selftest, memcheck, racecheck or bench" >&2; exit 2 ;;
  esac
done
