# Shared paths and helpers for the Loyalty+ scripts (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
ODOO_ROOT="$CACHE/odoo-root"
ODOO_PYTHONPATH="$ODOO_ROOT/usr/lib/python3/dist-packages"
ODOO_ADDONS="$ODOO_PYTHONPATH/odoo/addons"
VENV="$CACHE/venv"
ODOO_CONF="$CACHE/odoo.conf"
LP_MODULES="loyalty_plus,loyalty_plus_pos,loyalty_plus_website,loyalty_plus_wallet,loyalty_plus_dashboard"
# the Odoo modules ours depend on: installed once into a template database
LP_DEPENDS="base,mail,portal,point_of_sale,website,spreadsheet_dashboard"
# the template database scripts/test.sh builds: one per checkout (its filestore lives in the
# checkout), Odoo version and dependency set; the benchmarks copy it too
lp_template_name() {
    echo "lp_tmpl_$(printf '%s %s %s' "$LP_DEPENDS" "$(cat "$CACHE/odoo-19.version" 2>/dev/null)" "$CACHE" | sha256sum | cut -c1-10)"
}

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Odoo through the package's own launcher (the prefork master re-executes this path)
ODOO_CMD=(env PYTHONPATH="$ODOO_PYTHONPATH" "$VENV/bin/python" "$ODOO_ROOT/usr/bin/odoo")
odoo() { "${ODOO_CMD[@]}" "$@"; }
