#!/usr/bin/env bash
# Reference floor, not a contender: only decompress every input file (to /dev/null).
# usage: bash bench/baselines/zcat.sh <dir> <suffix>
set -euo pipefail
find "$1" -type f -name "*$2" -print0 | sort -z | xargs -0 zcat > /dev/null
