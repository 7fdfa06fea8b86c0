# shellcheck shell=bash
# Helpers shared by scripts/test and scripts/demo. Source it, do not run it.
#
# Set-up it provides (each step idempotent and quick when nothing changed):
#   ipo_install_system_packages  Debian packages via apt-get, only when missing
#   ipo_install_probe_user       the unprivileged account the system tests' probe hosts log in as
#   ipo_install_venv             virtualenv ($IPOFFICE_VENV, default .venv) with
#                                requirements/test.txt, skipped when its stamp
#                                matches the requirements file
#   ipo_install_get_pip_standin  offline stand-in for ansible-test's pip bootstrap
#   ipo_make_tree                copy of the working tree at
#                                tests/output/tree/ansible_collections/ipoffice/subscription
#   ipo_activate                 exports PATH, VIRTUAL_ENV, ANSIBLE_COLLECTIONS_PATH
#   ipo_setup                    all of the above, in that order
#   with_netns CMD...            runs CMD in a throw-away network namespace where
#                                only loopback (127.0.0.0/8) works
#
# Environment knobs:
#   IPOFFICE_VENV    where the virtualenv lives (default: <repo>/.venv)
#   IPOFFICE_PYTHON  interpreter used to create the virtualenv (default: python3)

IPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
IPO_VENV="${IPOFFICE_VENV:-$IPO_ROOT/.venv}"
[[ "$IPO_VENV" == /* ]] || IPO_VENV="$PWD/$IPO_VENV"
IPO_PYTHON_BOOT="${IPOFFICE_PYTHON:-python3}"
# IPOFFICE_OUTPUT lets several runs share one checkout without clobbering each other.
IPO_OUTPUT="${IPOFFICE_OUTPUT:-$IPO_ROOT/tests/output}"
IPO_LOGS="$IPO_OUTPUT/logs"
IPO_TREE_BASE="$IPO_OUTPUT/tree"
IPO_TREE="$IPO_TREE_BASE/ansible_collections/ipoffice/subscription"
IPO_REQUIREMENTS="$IPO_ROOT/requirements/test.txt"
IPO_VENV_STAMP="$IPO_VENV/.ipoffice-requirements.sha256"

# Keep tools from asking questions or talking to the network on their own.
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
export PYTHONDONTWRITEBYTECODE=1
# Plain output when not on a terminal (CI, logs): ansible-lint colours pipes otherwise.
[[ -t 1 ]] || export NO_COLOR=1

ipo_log() {
    printf '[%(%H:%M:%S)T] %s\n' -1 "$*"
}

ipo_die() {
    printf '[%(%H:%M:%S)T] ERROR: %s\n' -1 "$*" >&2
    exit 1
}

ipo_banner() {
    local line='=========================================================================='
    printf '\n%s\n== %s\n%s\n' "$line" "$*" "$line"
}

# --- Debian packages -------------------------------------------------------

_IPO_APT_UPDATED=

_ipo_apt_install() {
    (($# > 0)) || return 0
    if [[ "$(id -u)" != 0 ]]; then
        ipo_die "missing Debian packages ($*) and not root: install them with apt-get first"
    fi
    if [[ -z "$_IPO_APT_UPDATED" ]]; then
        ipo_log "apt-get update (needed to install: $*)"
        apt-get update -qq
        _IPO_APT_UPDATED=1
    fi
    ipo_log "apt-get install $*"
    # A package must not start its daemon on this machine (openssh-server would listen on port 22 of the host):
    # policy-rc.d answering 101 tells invoke-rc.d not to start anything, for the length of the install only.
    local policy=/usr/sbin/policy-rc.d guard=0 rc=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\n# scripts/lib.sh: no daemon starts during this install\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        guard=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" || rc=$?
    ((guard)) && rm -f "$policy"
    return "$rc"
}

# ipo_install_system_packages [demo]: what the tests need; with "demo", only what
# the demo needs (no browser, no shellcheck, no pandoc).
ipo_install_system_packages() {
    local missing=()
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    command -v git >/dev/null 2>&1 || missing+=(git)
    command -v tar >/dev/null 2>&1 || missing+=(tar)
    command -v sha256sum >/dev/null 2>&1 || missing+=(coreutils)
    command -v "$IPO_PYTHON_BOOT" >/dev/null 2>&1 || missing+=(python3)
    # The validate role's checks on a probe host use the ssh connection (also in the demo's environment).
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    if [[ "${1:-}" != demo ]]; then
        # ansible-test's shellcheck sanity test skips itself (with a warning only)
        # when the binary is missing; install it so *.sh files really get checked.
        command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
        # The readiness report's HTML is checked in a real browser (headless).
        command -v chromium >/dev/null 2>&1 || missing+=(chromium)
        # The docs site's guides are converted from Markdown (scripts/docsite_rst.py).
        command -v pandoc >/dev/null 2>&1 || missing+=(pandoc)
        # The system tests' probe hosts: Debian's OpenSSH server, started by the tests in their own network
        # namespaces (tests/system/sitenet.py), never as a service of this machine.
        [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
        # ansible-rulebook (the alarm rulebook's tests) runs its rules engine on a JVM.
        command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
    fi
    if ((${#missing[@]})); then
        _ipo_apt_install "${missing[@]}"
    else
        ipo_log "Debian packages: all present"
    fi
}

# The unprivileged account the system tests log in to their probe hosts as, so they show that
# the checks need no root there (docs/validate.md). No password ('*': not locked, no password login).
IPO_PROBE_USER=ipoffice-probe

ipo_install_probe_user() {
    if id -u "$IPO_PROBE_USER" >/dev/null 2>&1; then
        ipo_log "probe user $IPO_PROBE_USER: present"
        return 0
    fi
    [[ "$(id -u)" == 0 ]] || ipo_die "the probe user $IPO_PROBE_USER is missing and this is not root: create it first"
    useradd --system --create-home --home-dir "/var/lib/$IPO_PROBE_USER" --shell /bin/sh --password '*' "$IPO_PROBE_USER"
    ipo_log "created the probe user $IPO_PROBE_USER (home /var/lib/$IPO_PROBE_USER)"
}

# --- virtualenv ---------------------------------------------------------------

_ipo_requirements_hash() {
    {
        # test.txt includes the collection's own requirements.txt
        sha256sum "$IPO_REQUIREMENTS" "$IPO_ROOT/requirements.txt" | cut -d' ' -f1
        "$IPO_VENV/bin/python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

# `python3 -m venv` fails on Debian when python3-venv (ensurepip) is missing.
# ansible-test sanity needs ensurepip in the same interpreter for its own venvs.
_ipo_create_venv() {
    local pyver
    if "$IPO_PYTHON_BOOT" -m venv "$IPO_VENV" >/dev/null 2>&1 && "$IPO_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$IPO_VENV"
    pyver="$("$IPO_PYTHON_BOOT" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    ipo_log "'$IPO_PYTHON_BOOT -m venv' does not work: installing python3-venv"
    _ipo_apt_install python3-venv "python${pyver}-venv"
    "$IPO_PYTHON_BOOT" -m venv "$IPO_VENV"
}

ipo_install_venv() {
    [[ -f "$IPO_REQUIREMENTS" ]] || ipo_die "missing $IPO_REQUIREMENTS"
    if [[ ! -x "$IPO_VENV/bin/python" ]] || ! "$IPO_VENV/bin/python" -c '' >/dev/null 2>&1; then
        ipo_log "creating virtualenv $IPO_VENV with $(command -v "$IPO_PYTHON_BOOT")"
        rm -rf "$IPO_VENV"
        _ipo_create_venv
    fi
    local want
    want="$(_ipo_requirements_hash)"
    if [[ -f "$IPO_VENV_STAMP" && "$(cat "$IPO_VENV_STAMP")" == "$want" ]]; then
        ipo_log "virtualenv $IPO_VENV is current (stamp matches requirements/test.txt)"
        return 0
    fi
    ipo_log "pip install -r requirements/test.txt into $IPO_VENV"
    rm -f "$IPO_VENV_STAMP"
    # (the grep drops this machine's notes about unused local package mirrors)
    "$IPO_VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
    "$IPO_VENV/bin/python" -m pip install --quiet -r "$IPO_REQUIREMENTS" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
    echo "$want" >"$IPO_VENV_STAMP"
    ipo_log "virtualenv ready"
}

# --- ansible-test pip bootstrap stand-in ---------------------------------------

# Print the pip versions ansible-test bootstraps into its virtualenvs, read from
# ansible-test's own code so an ansible-core upgrade needs no edit here.
_ipo_ansible_test_pip_versions() {
    "${1:-$IPO_VENV}/bin/python" - <<'EOF'
from types import SimpleNamespace

from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
from ansible_test._internal.python_requirements import get_venv_packages

versions = {get_venv_packages(SimpleNamespace(version=v))['pip'] for v in SUPPORTED_PYTHON_VERSIONS}
print('\n'.join(sorted(versions)))
EOF
}

# ipo_install_get_pip_standin [VENV]: for the ansible-test of VENV (default: the test venv).
ipo_install_get_pip_standin() {
    local venv="${1:-$IPO_VENV}" cache="${HOME:-/root}/.ansible/test/cache" versions version target
    if ! versions="$(_ipo_ansible_test_pip_versions "$venv")" || [[ -z "$versions" ]]; then
        # Fallback: scrape the default from the source.
        versions="$(grep -ho "pip='[0-9.]*'" "$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | tr -dc '0-9.\n' || true)"
    fi
    [[ -n "$versions" ]] || ipo_die "cannot find the pip version ansible-test bootstraps"
    mkdir -p "$cache"
    for version in $versions; do
        target="$cache/get_pip_${version//./_}.py"
        if ! cmp -s "$IPO_ROOT/scripts/get_pip_standin.py" "$target"; then
            cp "$IPO_ROOT/scripts/get_pip_standin.py" "$target"
            ipo_log "installed pip bootstrap stand-in $target"
        else
            ipo_log "pip bootstrap stand-in for pip $version is current"
        fi
    done
}

# --- collection tree for ansible-test / ansible-playbook -------------------------

# _ipo_copy_worktree DEST: the working tree (not only what is committed) without
# git data, virtualenvs, test output and caches.
_ipo_copy_worktree() {
    local dest="$1" excludes=(
        --exclude=./.git
        --exclude=./.venv
        --exclude=./.ansible
        --exclude=./tests/output
        --exclude=__pycache__
        --exclude='*.pyc'
        --exclude=.pytest_cache
        --exclude=.hypothesis
    )
    case "$IPO_VENV" in
        "$IPO_ROOT"/*) excludes+=("--exclude=./${IPO_VENV#"$IPO_ROOT"/}") ;;
    esac
    mkdir -p "$dest"
    tar -C "$IPO_ROOT" "${excludes[@]}" -cf - . | tar -C "$dest" -xf -
}

ipo_make_tree() {
    rm -rf "$IPO_TREE_BASE"
    _ipo_copy_worktree "$IPO_TREE"
    # ansible-test looks for its file list by walking up from the collection
    # root to the first directory holding .git. Without a repository of its own
    # the copy would be seen as part of the outer checkout, where tests/output
    # is git-ignored, and every sanity target would be skipped. An empty
    # repository makes ansible-test list the copy's files (untracked files count,
    # the copied .gitignore applies).
    git -C "$IPO_TREE" -c init.defaultBranch=main init -q
    ipo_log "collection copied to ${IPO_TREE#"$IPO_ROOT"/}"
}

# ipo_plain_checkout DEST: the working tree as a contributor's checkout would be:
# a git repository of its own, NOT under ansible_collections/<namespace>/<name>.
ipo_plain_checkout() {
    rm -rf "$1"
    _ipo_copy_worktree "$1"
    git -C "$1" -c init.defaultBranch=main init -q
    git -C "$1" add -A
}

# ipo_docsite_sources: the docs site's .rst guides, made from docs/*.md in the tree
# copy (scripts/docsite_rst.py), so the docs lint, the docs site and the tarball see them.
ipo_docsite_sources() {
    (cd "$IPO_TREE" && "$IPO_VENV/bin/python" "$IPO_ROOT/scripts/docsite_rst.py" .)
}

# ipo_build_tarball DIR: builds the collection from the tree copy into DIR (emptied
# first) and prints the tarball's path.
ipo_build_tarball() {
    local dist="$1"
    rm -rf "$dist"
    mkdir -p "$dist"
    ipo_docsite_sources >&2
    (cd "$IPO_TREE" && ansible-galaxy collection build --force --output-path "$dist" .) >&2
    find "$dist" -maxdepth 1 -name 'ipoffice-subscription-*.tar.gz' -print -quit
}

# ipo_extra_venv NAME PYTHON PIP_ARGS...: a virtualenv of its own (inside the test venv's
# folder, so it is never copied into the tree), with PIP_ARGS installed; skipped when
# the same PYTHON and PIP_ARGS were installed before, unless PIP_ARGS has --upgrade.
ipo_extra_venv() {
    local name="$1" python="$2" venv="$IPO_VENV/extra/$1" stamp want
    shift 2
    want="$("$python" -c 'import sys; print(sys.version)') $*"
    stamp="$venv/.ipoffice-stamp"
    if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" || " $* " == *" --upgrade "* ]]; then
        rm -f "$stamp"
        [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv" || return 1
        ipo_log "virtualenv extra/$name: pip install $*" >&2
        "$venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; } >&2
        "$venv/bin/python" -m pip install --quiet "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; } >&2
        "$venv/bin/python" -c 'import ansible' || return 1
        echo "$want" >"$stamp"
    fi
    echo "$venv"
}

# ipo_newest_python: the newest CPython 3.12 or later on this machine (PATH, then
# pyenv's versions), for the newest ansible-core, which needs 3.12 or later.
ipo_newest_python() {
    local candidate best="" best_version=0 version
    for candidate in python3.14 python3.13 python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
        candidate="$(command -v "$candidate" 2>/dev/null)" || continue
        version="$("$candidate" -c 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])' 2>/dev/null)" || continue
        if ((version >= 312 && version > best_version)) && "$candidate" -c 'import ensurepip, venv' 2>/dev/null; then
            best="$candidate" best_version="$version"
        fi
    done
    [[ -n "$best" ]] && echo "$best"
}

# --- environment ------------------------------------------------------------------

ipo_activate() {
    export VIRTUAL_ENV="$IPO_VENV"
    export PATH="$IPO_VENV/bin:$PATH"
    export ANSIBLE_COLLECTIONS_PATH="$IPO_TREE_BASE"
    unset PYTHONHOME
}

# ipo_setup test|demo: everything an entry point needs before running anything.
ipo_setup() {
    mkdir -p "$IPO_LOGS"
    ipo_banner "set-up"
    ipo_install_system_packages "${1:-}"
    if [[ "${1:-}" != demo ]]; then
        ipo_install_probe_user
    fi
    ipo_install_venv
    ipo_install_get_pip_standin "$IPO_VENV"
    ipo_make_tree
    ipo_activate
    ipo_log "python: $(python --version 2>&1) ($IPO_VENV)"
    ipo_log "ansible: $(ansible --version | sed -n 1p)"  # sed reads all: head would break the pipe
}

# The venv interpreter's major.minor, e.g. 3.11 (for ansible-test --python).
ipo_python_version() {
    "$IPO_VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])'
}

# --- network namespace ---------------------------------------------------------------

# with_netns CMD [ARGS...]
# Runs CMD (an executable, not a shell function) inside a new network namespace
# named ipo-<pid>-<random> with only `lo` up: 127.0.0.0/8 works, every other
# destination fails at once with "Network is unreachable". On exit, failure or
# Ctrl-C, processes left in the namespace (e.g. a lab that was not stopped) are
# ended and the namespace is deleted. Returns CMD's exit status.
_ipo_netns_cleanup() {
    local ns="$1" pids
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    if [[ -n "$pids" ]]; then
        ipo_log "ending processes left in $ns: $(echo "$pids" | tr '\n' ' ')"
        # shellcheck disable=SC2086  # one pid per word
        kill -TERM $pids 2>/dev/null || true
        sleep 1
        pids="$(ip netns pids "$ns" 2>/dev/null || true)"
        # shellcheck disable=SC2086
        [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
}

with_netns() {
    (($# > 0)) || ipo_die "with_netns: no command given"
    (
        ns="ipo-$$-${RANDOM}${RANDOM}"
        trap '_ipo_netns_cleanup "$ns"' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        ip netns add "$ns" || exit 1
        ip netns exec "$ns" ip link set lo up || exit 1
        ipo_log "network namespace $ns (loopback only): $*"
        rc=0
        ip netns exec "$ns" "$@" || rc=$?
        exit "$rc"
    )
}
