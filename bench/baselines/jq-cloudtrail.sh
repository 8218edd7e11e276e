#!/usr/bin/env bash
# Baseline: zcat every CloudTrail file into one jq that prints each record on a line.
# usage: bash bench/baselines/jq-cloudtrail.sh <dir> <out.jsonl>
set -euo pipefail
dir=$1
out=$2
find "$dir" -type f -name '*.json.gz' -print0 | sort -z | xargs -0 zcat | jq -c '.Records[]' > "$out"
