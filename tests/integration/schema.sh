#!/usr/bin/env bash
# tests/integration/schema.sh: `anonetl schema` prints a JSON Schema (draft 2020-12) of
# the config. An independent validator (Python's jsonschema, with PyYAML to read the
# YAML) checks that the schema is itself valid, that the config reference, the demo
# config, the deploy examples and the good unit-test configs pass, and that broken
# configs (unknown key, wrong type, unknown rule, bad enum, missing key, out of range,
# malformed secret) are rejected, each also rejected by `anonetl check` (so the schema
# is never stricter or looser than the loader on these cases). Without jsonschema or
# PyYAML the validation steps are skipped with a message.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

ANONETL=${ANONETL:-./anonetl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$ANONETL" schema >"$work/schema.json"; rc=$?
expect_eq "anonetl schema exits 0" 0 "$rc"
"$ANONETL" schema extra >/dev/null 2>&1; rc=$?
expect_eq "anonetl schema with an argument exits 2" 2 "$rc"
check "the schema names every rule of the registry" grep -q '"hash_int"' "$work/schema.json"

if ! python3 -c "import jsonschema, yaml" 2>/dev/null; then
    skip "schema validation" "python3 jsonschema or PyYAML not importable (pip install jsonschema pyyaml)"
    done_testing
    exit $?
fi

# validate SCHEMA FILE...: one line per file, "FILE ok" or "FILE error: path: message"
cat >"$work/validate.py" <<'PY'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    errors = sorted(v.iter_errors(yaml.safe_load(open(path))), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        print(f"{path} error: {'/'.join(map(str, e.path))}: {e.message[:160]}")
    else:
        print(f"{path} ok")
PY
validate() { python3 "$work/validate.py" "$work/schema.json" "$@"; }

out=$(python3 -c "
import json, jsonschema
jsonschema.Draft202012Validator.check_schema(json.load(open('$work/schema.json')))
print('valid')" 2>&1)
expect_eq "the schema is a valid draft 2020-12 schema" "valid" "$out"

for f in docs/config-reference.yaml deploy/demo.yaml deploy/examples/*.yaml tests/unit/configs/good/*.yaml; do
    [ -f "$f" ] || { skip "$f validates" "file not present"; continue; }
    expect_eq "$f validates against the schema" "$f ok" "$(validate "$f")"
done

# Broken configs: one problem each, on top of a valid base.
base() {
    cat <<'YAML'
version: 1
source:
  dsn: { env: SOURCE_DATABASE_URL }
target:
  dsn: { env: TARGET_DATABASE_URL }
  schema: anonymised
secrets:
  hash_key: { env: ANONETL_HASH_KEY }
YAML
}
table() { # extra lines for the table, columns last
    printf 'tables:\n  - name: public.t\n%s' "${1:-}"
    printf '    columns:\n      id: { hash_int: {} }\n      email: %s\n' "${2:-hash}"
}
n=0
broken() { # NAME YAML
    n=$((n + 1))
    printf '%s\n' "$2" >"$work/broken$n.yaml"
    case "$(validate "$work/broken$n.yaml")" in
    *" error: "*) ok "schema rejects: $1" ;;
    *) not_ok "schema rejects: $1" "$(cat "$work/broken$n.yaml")" ;;
    esac
    "$ANONETL" check -c "$work/broken$n.yaml" >/dev/null 2>&1
    expect_eq "anonetl check rejects it too (exit 2): $1" 2 $?
}
expect_eq "the base of the broken cases validates" "$work/base.yaml ok" \
    "$( { base; table; } >"$work/base.yaml"; validate "$work/base.yaml")"
broken "unknown top-level key" "$(base; table; echo 'colour: blue')"
broken "unknown key in target" "$(base | sed 's/  schema: anonymised/  schema: anonymised\n  shema: x/'; table)"
broken "misspelt rule" "$(base; table '' 'hsah')"
broken "rule mapping with two rules" "$(base; table '' '{ hash: {}, mask: {} }')"
broken "mode not in the enum" "$(base; table '    mode: sometimes
')"
broken "k below 2" "$(base; table '    k_anonymity: { quasi_identifiers: [email], k: 1 }
')"
broken "k_anonymity without quasi_identifiers" "$(base; table '    k_anonymity: { k: 5 }
')"
broken "version 2" "$(base | sed 's/^version: 1/version: 2/'; table)"
broken "missing secrets" "$(base | sed '/^secrets:/,$d'; table)"
broken "secret with env and file" "$(base | sed 's/hash_key: .*/hash_key: { env: K, file: \/k }/'; table)"
broken "jobs is not an integer" "$(base; echo 'run: { jobs: many }'; table)"
broken "duration without a unit" "$(base; echo 'run: { max_runtime: 7 }'; table)"
broken "no tables" "$(base; echo 'tables: []')"

done_testing
