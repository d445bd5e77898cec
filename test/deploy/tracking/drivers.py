#!/usr/bin/env python3
"""Opens the platform's tracking URIs the way MLflow's server does and says which driver module
each one loaded, from which file, at which distribution version. Input: one JSON argument
{"backend": [uri...], "artifacts": [uri...]}; output: one JSON line. Run with venv-mlflow's python
(test/deploy/tracking-pins.test.ts); nothing is contacted (the clients are built, not used)."""
import importlib.metadata as metadata
import json
import os
import sys

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from sqlalchemy.engine import make_url

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
distributions = metadata.packages_distributions()


def describe(uri, module):
    top = module.__name__.split(".")[0]
    names = distributions.get(top, [])
    if top == "google":  # a namespace package: the distribution is the module's own
        names = ["google-cloud-storage"]
    if module.__name__ == "psycopg":  # psycopg's C implementation ships in psycopg-binary
        names = ["psycopg", f"psycopg-{module.pq.__impl__}"]
    return {
        "uri": uri.split("://")[0],
        "module": module.__name__,
        "file": module.__file__,
        "distributions": {n: metadata.version(n) for n in names},
    }


def main():
    uris = json.loads(sys.argv[1])
    out = []
    for uri in uris["backend"]:
        # What SQLAlchemy (and so MLflow's SqlAlchemyStore) loads for this URL.
        out.append(describe(uri, make_url(uri).get_dialect().import_dbapi()))
    for uri in uris["artifacts"]:
        repo = get_artifact_repository(uri)
        if uri.startswith("s3://"):
            repo._get_s3_client()
            import boto3 as module
        else:
            from google.cloud import storage as module
        out.append(describe(uri, module) | {"repository": type(repo).__name__})
    print(json.dumps(out))


main()
