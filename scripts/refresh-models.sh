#!/usr/bin/env bash
# Refresh the AWS API models vendored in crates/wire/models from a pinned botocore wheel.
#
# Usage: scripts/refresh-models.sh [botocore-version]
# To move to a newer botocore: `pip index versions botocore`, then run this script with
# that version and update BOTOCORE_VERSION below so the pin stays in the repository.
set -euo pipefail

BOTOCORE_VERSION="${1:-1.44.8}"
SERVICES=(sts iam kms cloudtrail organizations ssm secretsmanager cognito-idp acm wafv2 logs sns cloudwatch)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$repo_root/crates/wire/models"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$work" "botocore==$BOTOCORE_VERSION"
wheel="$(ls "$work"/botocore-"$BOTOCORE_VERSION"-*.whl)"
mkdir -p "$out_dir"

python3 - "$wheel" "$out_dir" "$BOTOCORE_VERSION" "${SERVICES[@]}" <<'PY'
import gzip, json, os, sys, zipfile

wheel, out_dir, version, *services = sys.argv[1:]
# Keys that only carry prose or SDK-generation hints; everything the wire needs stays.
DROP = {"documentation", "documentationUrl", "examples", "deprecatedMessage", "exampleValue"}

def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node

def version_key(v):
    # api versions look like 2010-05-08; a plain string sort orders them correctly.
    return v

z = zipfile.ZipFile(wheel)
names = z.namelist()
sizes = {}
for svc in services:
    prefix = f"botocore/data/{svc}/"
    versions = sorted({n[len(prefix):].split("/")[0] for n in names
                       if n.startswith(prefix) and "/service-2.json" in n}, key=version_key)
    if not versions:
        sys.exit(f"no service-2.json for {svc} in {wheel}")
    api = versions[-1]
    base = f"{prefix}{api}/service-2.json"
    if base in names:
        raw = z.read(base)
    else:
        raw = gzip.decompress(z.read(base + ".gz"))
    model = strip(json.loads(raw))
    path = os.path.join(out_dir, f"{svc}.json")
    with open(path, "w") as f:
        json.dump(model, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    sizes[svc] = (api, os.path.getsize(path), len(model.get("operations", {})))

# botocore's LICENSE/NOTICE live in the dist-info directory of the wheel.
for src_name, dst in (("LICENSE", "LICENSE"), ("NOTICE", "NOTICE")):
    cands = [n for n in names if n.endswith(f".dist-info/{src_name}")
             or n.endswith(f".dist-info/licenses/{src_name}")
             or n.endswith(f".dist-info/{src_name}.txt")]
    if not cands:
        sys.exit(f"{src_name} not found in wheel")
    with open(os.path.join(out_dir, dst), "wb") as f:
        f.write(z.read(cands[0]))

rows = "\n".join(f"| {s} | {a} | {o} | {b:,} |" for s, (a, b, o) in sizes.items())
readme = f"""# Vendored AWS API models

These are the AWS service API models (the `service-2.json` files) shipped in
[botocore](https://github.com/boto/botocore) **{version}**, Apache-2.0 (see `LICENSE` and
`NOTICE` here, copied from the botocore wheel). `rampart-wire` embeds them and interprets
them at run time to decode, validate and encode requests and responses.

Each file is botocore's `botocore/data/<service>/<newest api-version>/service-2.json` with
every `documentation` / `documentationUrl` string and the `examples` removed and whitespace
compacted; everything else (metadata, operations, shapes, constraints, errors) is kept as is.
Do not edit them by hand.

| service | api version | operations | bytes |
| --- | --- | --- | --- |
{rows}

## Refreshing

```sh
pip index versions botocore          # pick a version
scripts/refresh-models.sh 1.44.8     # or without an argument for the pinned one
```

then update the pinned default in `scripts/refresh-models.sh`, run `cargo test -p rampart-wire`
and commit the changed files together.
"""
with open(os.path.join(out_dir, "README.md"), "w") as f:
    f.write(readme)
for s, (a, b, o) in sizes.items():
    print(f"{s:16} {a}  ops={o:4} {b:>9} bytes")
PY
