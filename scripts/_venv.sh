# Sourced by scripts/serve and scripts/test: make sure .venv exists and holds the
# project (with the extras named in $OMNIROUTE_EXTRAS), reinstalling when pyproject.toml changes.
set -euo pipefail

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "omniroute needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python)." >&2
  return 1
}

extras="${OMNIROUTE_EXTRAS:-}"
stamp=".venv/.installed${extras:+-$extras}"
if [ ! -x .venv/bin/python ]; then
  "$(find_python)" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing omniroute${extras:+ [$extras]} into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}" >&2
  touch "$stamp"
fi
# Compile the project's modules ahead: where PYTHONDONTWRITEBYTECODE is set (as on this CI),
# every process would compile them again as it starts (over a second each on a small machine).
.venv/bin/python -m compileall -q -j 0 src >/dev/null
