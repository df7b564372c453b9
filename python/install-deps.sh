#!/usr/bin/env bash
# Installs what the vineyard_java Python tests need (numpy, pandas, pyarrow, pytest and,
# when a CPU wheel of it is available, torch) from local wheel folders only:
#   pip install --no-index --find-links <folder> ...
#
# The wheel folders are found at run time: every entry of $PIP_FIND_LINKS (space or comma
# separated, "file://" prefixes allowed) plus /opt/wheels, /opt/pypi/files and
# /opt/pypi-more/files, each one kept only if it exists.
#
# The installed numpy is pinned (numpy==<installed version>) so pip never swaps it, and with
# numpy 2.x only pandas >= 2.2.2 and pyarrow >= 16 (the first releases built against numpy 2)
# are allowed; pip then picks the newest wheels that satisfy those pins.
#
# Everything goes into a virtual environment (never the system Python): $VINEYARD_PY_VENV, by default
# target/pyvenv at the project's root, made with --system-site-packages so that the machine's own
# numpy and pytest are reused and only what is missing is installed into it. The script prints the
# venv's python on its last line of stdout; bin/test runs pytest with it.
#
# Idempotent: when everything imports already it exits after one python call.
# torch, duckdb and fsspec/requests (WebHDFS) are optional: torch is skipped (with a note) when no CPU-only torch wheel is found, when
# VINEYARD_JAVA_SKIP_TORCH=1, or when its installation fails; the torch test then skips.
#
# `install-deps.sh --find-links` only prints the pip arguments for the wheel folders
# (--no-index --find-links DIR ...), for other pip installs from the same folders.
set -euo pipefail

log() { echo "install-deps: $*" >&2; }

wheel_folders() {
  local entry p d f seen
  for entry in ${PIP_FIND_LINKS:-} /opt/wheels /opt/pypi/files /opt/pypi-more/files; do
    IFS=',' read -r -a parts <<<"$entry"
    for p in "${parts[@]}"; do
      d="${p#file://}"
      [ -n "$d" ] && [ -d "$d" ] && echo "$d"
    done
  done | awk '!seen[$0]++'
}

if [ "${1:-}" = "--find-links" ]; then
  args="--no-index"
  while read -r d; do args="$args --find-links $d"; done < <(wheel_folders)
  echo "$args"
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VINEYARD_PY_VENV:-$root/target/pyvenv}"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating the virtual environment $VENV"
  "${PYTHON:-python3}" -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"
trap 'echo "$PY"' EXIT

have_modules() {
  # usage: have_modules mod...  -> 0 when every module imports
  "$PY" - "$@" <<'EOF' >/dev/null 2>&1
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
EOF
}

want_torch=1
if [ "${VINEYARD_JAVA_SKIP_TORCH:-0}" = "1" ]; then
  want_torch=0
fi

core_ok=0
if have_modules numpy pandas pyarrow pytest zstandard networkx duckdb fsspec requests; then
  core_ok=1
fi
torch_ok=0
# torch is only looked up (importing it takes seconds); the others are imported for real.
torch_present() { "$PY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)' 2>/dev/null; }
if [ "$want_torch" = 0 ] || torch_present; then
  torch_ok=1
fi
if [ "$core_ok" = 1 ] && [ "$torch_ok" = 1 ]; then
  if [ "$want_torch" = 1 ]; then
    log "numpy, pandas, pyarrow, pytest and torch already installed"
  else
    log "numpy, pandas, pyarrow and pytest already installed (torch skipped)"
  fi
  exit 0
fi

# ---- find the wheel folders -------------------------------------------------------------
folders=()
while read -r d; do folders+=("$d"); done < <(wheel_folders)
if [ "${#folders[@]}" = 0 ]; then
  log "no wheel folder found (looked at \$PIP_FIND_LINKS, /opt/wheels, /opt/pypi/files, /opt/pypi-more/files)"
  exit 1
fi
log "wheel folders: ${folders[*]}"

pip_args=(-m pip install --no-index --disable-pip-version-check -q)
for d in "${folders[@]}"; do
  pip_args+=(--find-links "$d")
done

# ---- numpy first, then everything pinned to it ------------------------------------------
if ! have_modules numpy; then
  log "installing numpy"
  "$PY" "${pip_args[@]}" numpy
fi
numpy_version="$("$PY" -c 'import numpy; print(numpy.__version__)')"
numpy_major="${numpy_version%%.*}"
log "numpy $numpy_version"

if [ "$numpy_major" -ge 2 ]; then
  pandas_spec="pandas>=2.2.2"
  pyarrow_spec="pyarrow>=16"
else
  pandas_spec="pandas>=1.5,<3"
  pyarrow_spec="pyarrow>=10"
fi

if [ "$core_ok" = 0 ]; then
  log "installing $pandas_spec $pyarrow_spec pytest (numpy==$numpy_version pinned)"
  "$PY" "${pip_args[@]}" "numpy==$numpy_version" "$pandas_spec" "$pyarrow_spec" pytest
  have_modules numpy pandas pyarrow pytest || { log "pandas/pyarrow/pytest still not importable"; exit 1; }
fi

# ---- torch (optional, CPU-only wheels) --------------------------------------------------
if [ "$torch_ok" = 0 ]; then
  torch_wheel=""
  for d in "${folders[@]}"; do
    for w in "$d"/torch-*+cpu-*.whl; do
      [ -e "$w" ] && torch_wheel="$w"
    done
  done
  if [ -z "$torch_wheel" ]; then
    log "no CPU-only torch wheel found: torch is skipped (its test will be skipped)"
  else
    log "installing $(basename "$torch_wheel") (numpy==$numpy_version pinned)"
    if ! "$PY" "${pip_args[@]}" "numpy==$numpy_version" "$torch_wheel"; then
      log "torch could not be installed: skipped (its test will be skipped)"
    fi
  fi
fi

# ---- zstandard (optional: compressed RPC transfers; their test skips without it) ----------
if ! have_modules zstandard; then
  if ! "$PY" "${pip_args[@]}" zstandard; then
    log "zstandard could not be installed: compressed RPC transfers are skipped"
  fi
fi

# ---- networkx (optional: the reference of the graph tests; they skip without it) ----------
if ! have_modules networkx; then
  if ! "$PY" "${pip_args[@]}" networkx; then
    log "networkx could not be installed: the graph tests' networkx checks are skipped"
  fi
fi
# ---- scipy (optional: bin/bench-graph's Python baseline; the benchmark says so without it) ------
if ! have_modules scipy; then
  if ! "$PY" "${pip_args[@]}" "numpy==$numpy_version" scipy; then
    log "scipy could not be installed: bin/bench-graph runs without its scipy row"
  fi
fi
# ---- fsspec and requests (optional: hdfs:// and webhdfs:// through WebHDFS; test_io_hdfs.py skips without them) --
if ! have_modules fsspec requests; then
  if ! "$PY" "${pip_args[@]}" fsspec requests; then
    log "fsspec/requests could not be installed: vineyard_java.io refuses hdfs:// and its tests are skipped"
  fi
fi
# ---- duckdb (optional: SQL over vineyard tables, vineyard_java.duckdb; its tests skip without it) --
if ! have_modules duckdb; then
  if ! "$PY" "${pip_args[@]}" "numpy==$numpy_version" duckdb; then
    log "duckdb could not be installed: its tests are skipped"
  fi
fi

"$PY" - <<'EOF' >&2
import importlib
for name in ("numpy", "pandas", "pyarrow", "pytest", "torch", "zstandard", "networkx", "duckdb", "scipy", "fsspec", "requests"):
    try:
        mod = importlib.import_module(name)
        print("install-deps: %s %s" % (name, getattr(mod, "__version__", "?")))
    except Exception as exc:  # noqa: BLE001 - report and go on
        print("install-deps: %s not available (%s)" % (name, type(exc).__name__))
EOF
