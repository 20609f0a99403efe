#!/usr/bin/env bash
# Fetches nvdisasm (NVIDIA's SASS disassembler) without installing anything: the CUDA 13 toolkit here has none,
# Debian's non-free nvidia-cuda-toolkit 11.8 package has one, and it reads nvcc 13's sm_90 cubins once their ELF
# header is patched (benchmarks/sass_model.py does that). Downloads the .deb through a private apt configuration
# (the system's sources stay as they are), extracts usr/bin/nvdisasm into DEST, and prints its path.
#   benchmarks/get_nvdisasm.sh [DEST]     (default: ~/.cache/solulens/sass-tools, where sass_model.py looks)
set -euo pipefail
dest=${1:-$HOME/.cache/solulens/sass-tools}
if [ -x "$dest/usr/bin/nvdisasm" ]; then
  echo "$dest/usr/bin/nvdisasm"
  exit 0
fi
apt_dir=$(mktemp -d)
trap 'rm -rf "$apt_dir"' EXIT
mkdir -p "$apt_dir/lists/partial" "$dest"
echo "deb http://deb.debian.org/debian bookworm non-free" > "$apt_dir/sources.list"
opts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$apt_dir/lists"
      -o Dir::Cache::Archives="$apt_dir" -o Debug::NoLocking=1 -q)
apt-get "${opts[@]}" update >&2
(cd "$apt_dir" && apt-get "${opts[@]}" download nvidia-cuda-toolkit >&2)
dpkg-deb --fsys-tarfile "$apt_dir"/nvidia-cuda-toolkit_*.deb | tar -x -C "$dest" ./usr/bin/nvdisasm
echo "$dest/usr/bin/nvdisasm"
