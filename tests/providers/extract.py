#!/usr/bin/env python3
"""Cuts the parts of Stripe's and PayPal's published OpenAPI documents that mgrid uses into
tests/providers/*.json, for tests/suite/providers.rs to validate the stand-in's answers and the
client's requests against. Run it on checkouts of the two repositories:

  python3 tests/providers/extract.py <stripe/openapi checkout> <paypal-rest-api-specifications checkout>

Each output names its source (repository, file, commit, API version). OpenAPI 3.0's
`nullable: true` becomes a JSON Schema type list (["string", "null"]), the one rewrite; a $ref
to a schema outside what is kept (Stripe's error names the objects it is about: charge, payment
intent, ...) becomes {"type": "object"}, listed under x-cut. Stripe's event retry
(`POST /v1/events/{event}/retry`, what `stripe events resend` calls) is not in its published
document: nothing of it is kept here.
"""
import json
import subprocess
import sys

STRIPE_COMMIT = "63a674638635c68de26b9f3add13e58198f4df44"
PAYPAL_COMMIT = "ec4d8f36a6ab0abcc3865e1072aaddc85ea14d5c"


def show(repo, commit, path):
    return subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout


def nullable(node):
    if isinstance(node, dict):
        node = {k: nullable(v) for k, v in node.items()}
        if node.pop("nullable", False):
            if "type" in node:
                node["type"] = [node["type"], "null"]
            else:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [nullable(v) for v in node]
    return node


def cut(node, keep, dropped):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref and ref.split("/")[-1] not in keep:
            dropped.add(ref.split("/")[-1])
            return {"type": "object"}
        return {k: cut(v, keep, dropped) for k, v in node.items()}
    if isinstance(node, list):
        return [cut(v, keep, dropped) for v in node]
    return node


def stripe(repo):
    import yaml  # PyYAML, as moto's virtualenv has it
    spec = yaml.safe_load(show(repo, STRIPE_COMMIT, "openapi/spec3.yaml"))
    fixtures = json.loads(show(repo, STRIPE_COMMIT, "openapi/fixtures3.json"))
    keep = {"webhook_endpoint", "error", "api_errors", "event", "notification_event_data",
            "notification_event_request"}
    dropped = set()
    paths = {
        "/v1/webhook_endpoints": {"get": spec["paths"]["/v1/webhook_endpoints"]["get"],
                                  "post": spec["paths"]["/v1/webhook_endpoints"]["post"]},
        "/v1/webhook_endpoints/{webhook_endpoint}": {
            "post": spec["paths"]["/v1/webhook_endpoints/{webhook_endpoint}"]["post"]},
        "/v1/events": {"get": spec["paths"]["/v1/events"]["get"]},
    }
    return {
        "x-source": f"https://github.com/stripe/openapi openapi/spec3.yaml at {STRIPE_COMMIT}",
        "x-api-version": spec["info"]["version"],
        "x-fixtures-source": f"https://github.com/stripe/openapi openapi/fixtures3.json at {STRIPE_COMMIT}",
        "paths": nullable(cut(paths, keep, dropped)),
        "components": {"schemas": {k: nullable(cut(spec["components"]["schemas"][k], keep, dropped))
                                   for k in sorted(keep)}},
        "x-cut": sorted(dropped),
        "fixtures": {"webhook_endpoint": fixtures["resources"]["webhook_endpoint"],
                     "event": fixtures["resources"]["event"]},
    }


def paypal(repo):
    spec = json.loads(show(repo, PAYPAL_COMMIT, "openapi/notifications_webhooks_v1.json"))
    schemas = spec["components"]["schemas"]
    keep, todo = set(), ["WebhookList", "webhook", "patch_request", "error", "EventList", "event",
                         "event_resend"]
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        text = json.dumps(schemas[name])
        todo += [part.split('"')[0] for part in text.split('#/components/schemas/')[1:]]
    paths = {
        "/v1/notifications/webhooks": spec["paths"]["/v1/notifications/webhooks"],
        "/v1/notifications/webhooks/{webhook_id}": {
            "patch": spec["paths"]["/v1/notifications/webhooks/{webhook_id}"]["patch"]},
        "/v1/notifications/webhooks-events": spec["paths"]["/v1/notifications/webhooks-events"],
        "/v1/notifications/webhooks-events/{event_id}/resend":
            spec["paths"]["/v1/notifications/webhooks-events/{event_id}/resend"],
    }
    return {
        "x-source": "https://github.com/paypal/paypal-rest-api-specifications "
                    f"openapi/notifications_webhooks_v1.json at {PAYPAL_COMMIT}",
        "x-api-version": spec["info"]["version"],
        "paths": paths,
        "components": {"schemas": {k: schemas[k] for k in sorted(keep)},
                       "parameters": spec["components"]["parameters"],
                       "securitySchemes": spec["components"]["securitySchemes"]},
    }


if __name__ == "__main__":
    here = __file__.rsplit("/", 1)[0]
    for name, document in (("stripe", stripe(sys.argv[1])), ("paypal", paypal(sys.argv[2]))):
        with open(f"{here}/{name}-openapi.json", "w") as out:
            json.dump(document, out, indent=1, sort_keys=True)
            out.write("\n")
