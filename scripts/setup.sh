#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine: Debian packages, PostgreSQL 15 running
# with a role for the current user, Odoo 19 from Debian sid unpacked and repaired under
# .cache/odoo-root, and a Python 3.11 venv under .cache/venv. Touches nothing outside the
# project but the Debian packages it installs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ODOO_DEB_VERSION_EXPECTED="19.0.0+dfsg-1"
ODOO_DEB_SHA256_EXPECTED="9d2f598b0555db17e291d48ed24df184c70823c053c4c5ed53c467ca7f629bbf"
SELFIE_NPM="@mediapipe/selfie_segmentation@0.1.1675465747"
# Debian packages owning the targets of odoo-19's relative symlinks (system suite)
LINK_PKGS_SYSTEM="libjs-jquery libjs-jquery-form libjs-underscore fonts-font-awesome fonts-roboto-unhinted fonts-inconsolata fonts-ocr-b"
LINK_PKGS_SID="fonts-montserrat"
SYSTEM_PKGS="postgresql-15 postgresql-client-15 python3-venv python3-dev build-essential libpq-dev libmagic1 libldap2-dev libsasl2-dev chromium npm curl ca-certificates"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "system packages"
missing=""
for p in $SYSTEM_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the machine may already carry node/npm from elsewhere: then Debian's npm is not needed
if command -v npm >/dev/null; then missing=${missing/ npm/}; fi
if [ -n "${missing// /}" ]; then
    echo "installing:$missing"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

step "PostgreSQL 15"
if ! pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main"' | grep -q .; then
    as_root pg_createcluster 15 main
fi
if ! pg_lsclusters -h | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
    as_root pg_ctlcluster 15 main start
fi
for _ in $(seq 30); do pg_isready -q && break; sleep 1; done
pg_isready -q || die "PostgreSQL 15 did not start"
if ! as_root runuser -u postgres -- psql -tAc "select 1 from pg_roles where rolname='$(id -un)'" | grep -q 1; then
    as_root runuser -u postgres -- createuser --superuser "$(id -un)"
fi

step "Odoo 19 tree"
if [ ! -f "$ODOO_ROOT/.complete" ]; then
    APT="$CACHE/apt"
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/debs"
    # the same mirror the system already uses, suite sid, in an apt config of our own
    mirror=$(grep -rhoE '^(URIs:|deb)\s+\S+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
             | awk '{print $2}' | grep -v -- '-security' | grep -m1 -E '/debian/?$' || true)
    [ -n "$mirror" ] || mirror=$(grep -rhoE '^(URIs:|deb)\s+\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | awk '{print $2}' | head -1)
    [ -n "$mirror" ] || die "no Debian mirror found in the system's apt sources"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" > "$APT/sid.list"
    SID=(-o "Dir::Etc::sourcelist=$APT/sid.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "APT::Sandbox::User=root")
    cd "$CACHE/debs"
    if ! ls odoo-19_*_all.deb >/dev/null 2>&1; then
        apt-get "${SID[@]}" update -qq
        apt-get "${SID[@]}" download odoo-19 $LINK_PKGS_SID \
            || die "Debian sid no longer serves odoo-19 (or fonts-montserrat): see README, 'Odoo source'"
        as_root apt-get update -qq
        apt-get download $LINK_PKGS_SYSTEM
    fi
    deb=$(ls odoo-19_*_all.deb | head -1)
    version=$(dpkg-deb -f "$deb" Version)
    sha=$(sha256sum "$deb" | cut -d' ' -f1)
    if [ "$version" = "$ODOO_DEB_VERSION_EXPECTED" ] && [ "$sha" != "$ODOO_DEB_SHA256_EXPECTED" ]; then
        die "odoo-19 $version has sha256 $sha, expected $ODOO_DEB_SHA256_EXPECTED"
    fi
    [ "$version" = "$ODOO_DEB_VERSION_EXPECTED" ] || echo "note: sid now serves odoo-19 $version (tested: $ODOO_DEB_VERSION_EXPECTED)"
    rm -rf "$ODOO_ROOT" && mkdir -p "$ODOO_ROOT"
    # odoo-19's symlinks are relative: their targets must live in the same root
    for d in ./*.deb; do dpkg-deb -x "$d" "$ODOO_ROOT"; done
    # DFSG dropped selfie_segmentation.js but web.assets_backend still lists it
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$SELFIE_NPM" >/dev/null && tar -xzf ./*.tgz package/selfie_segmentation.js)
    mkdir -p "$ODOO_ADDONS/mail/static/lib/selfie_segmentation"
    cp "$tmp/package/selfie_segmentation.js" "$ODOO_ADDONS/mail/static/lib/selfie_segmentation/"
    rm -rf "$tmp"
    dangling=$(find "$ODOO_ROOT" -xtype l)
    [ -z "$dangling" ] || die "dangling symlinks in the Odoo tree:
$dangling"
    printf 'odoo-19 %s sha256 %s\n' "$version" "$sha" > "$CACHE/odoo-19.version"
    touch "$ODOO_ROOT/.complete"
    cd "$ROOT"
fi
cat "$CACHE/odoo-19.version"

step "Python venv"
req_hash=$(cat "$ROOT/requirements.txt" "$ROOT/requirements-odoo.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VENV/.req-hash" 2>/dev/null)" != "$req_hash" ]; then
    [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir -r "$ROOT/requirements.txt"
    echo "$req_hash" > "$VENV/.req-hash"
fi

step "axe-core (accessibility checks in the website tests)"
AXE_NPM="axe-core@4.11.0"
if [ "$(cat "$CACHE/node/.axe-version" 2>/dev/null)" != "$AXE_NPM" ] || [ ! -f "$CACHE/node/node_modules/axe-core/axe.min.js" ]; then
    mkdir -p "$CACHE/node"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/node" "$AXE_NPM"
    echo "$AXE_NPM" > "$CACHE/node/.axe-version"
fi

step "config"
mkdir -p "$CACHE/data"
cat > "$ODOO_CONF" <<CONF
[options]
addons_path = $ODOO_ADDONS,$ROOT
data_dir = $CACHE/data
http_interface = 127.0.0.1
without_demo = True
CONF
echo "set-up done"
