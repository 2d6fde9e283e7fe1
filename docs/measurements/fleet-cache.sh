#!/bin/bash
# How docs/fleet.md "The cache" was measured: one default-grid torch row into an empty uv cache (cold, from PyPI),
# its size as actions/cache would archive it (tar + zstd), the restore and warm install, then the same after
# `uv cache prune --ci`. Needs ~20 GB free under $SCRATCH; it deletes what it filled.
# PY311/PY312 name the interpreters.
set -u
W=${SCRATCH:-/tmp/fleet-measure}; mkdir -p $W; export UV_CACHE_DIR=$W/cache; rm -rf $W/cache $W/venvs $W/*.tar.zst
cells="3.11:0.42.1 3.11:0.43.0 3.11:0.44.1 3.12:0.46.0 3.12:0.49.1 3.12:0.54.1"
echo "numpy<2" > $W/numpy1.txt
install_row() {
  for c in $cells; do py=${c%%:*}; shap=${c##*:}; v=$W/venvs/$1-$shap
    uv venv -q --python "$([ $py = 3.11 ] && echo "${PY311:-python3.11}" || echo "${PY312:-python3.12}")" $v
    con=(); case $shap in 0.42*|0.43*|0.44*) con=(--constraint $W/numpy1.txt);; esac
    VIRTUAL_ENV=$v uv pip install -q "${con[@]}" torch==2.4.1 shap==$shap || echo "install failed $shap"
  done
}
t0=$(date +%s.%N); install_row cold; t1=$(date +%s.%N)
echo "cold_install_s $(echo "$t1 - $t0" | bc)"
echo "cache_full_bytes $(du -sb $W/cache | cut -f1)"
t0=$(date +%s.%N); tar -C $W -I 'zstd -T0 -3' -cf $W/full.tar.zst cache; t1=$(date +%s.%N)
echo "full_archive_bytes $(stat -c %s $W/full.tar.zst) pack_s $(echo "$t1 - $t0" | bc)"
rm -rf $W/venvs
uv cache prune --ci 2>&1 | tail -1
echo "cache_pruned_bytes $(du -sb $W/cache | cut -f1)"
tar -C $W -I 'zstd -T0 -3' -cf $W/pruned.tar.zst cache
echo "pruned_archive_bytes $(stat -c %s $W/pruned.tar.zst)"
rm -rf $W/cache
t0=$(date +%s.%N); tar -C $W -I zstd -xf $W/full.tar.zst; t1=$(date +%s.%N)
echo "full_restore_s $(echo "$t1 - $t0" | bc)"
t0=$(date +%s.%N); install_row warm; t1=$(date +%s.%N)
echo "warm_install_after_full_restore_s $(echo "$t1 - $t0" | bc)"
rm -rf $W/cache $W/venvs
t0=$(date +%s.%N); tar -C $W -I zstd -xf $W/pruned.tar.zst; t1=$(date +%s.%N)
echo "pruned_restore_s $(echo "$t1 - $t0" | bc)"
t0=$(date +%s.%N); install_row prunedwarm; t1=$(date +%s.%N)
echo "install_after_pruned_restore_s $(echo "$t1 - $t0" | bc)"
rm -rf $W/cache $W/venvs $W/*.tar.zst
echo done
