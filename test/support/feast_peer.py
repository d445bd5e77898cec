"""Feast's own SDK, driven by the interop tests (test/support/feast.ts) over stdin/stdout.

Started once per test file on a repository written by `export-feast`: it applies the repository's
definitions with Feast's FeatureStore.apply, then answers one JSON command per line with one JSON
line: {"ok": result} or {"error": "..."}. JSON ints are Python ints, so 64-bit values stay exact.
"""

import base64
import importlib.util
import json
import sys
import traceback

import pandas as pd

from feast import Entity, FeatureService, FeatureStore, FeatureView
from feast.data_source import PushMode, PushSource
from feast.feature_server_utils import convert_response_to_dict


def load_definitions(repo):
    spec = importlib.util.spec_from_file_location("definitions", f"{repo}/definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kinds = (Entity, FeatureView, FeatureService, PushSource)
    return [v for v in vars(module).values() if isinstance(v, kinds)]


def frame(store, view_name, df, timestamp_columns):
    """A DataFrame typed as Feast expects: times as tz-aware datetimes, bytes from base64, unix timestamps as datetimes."""
    view = store.get_feature_view(view_name)
    dtypes = {f.name: str(f.dtype) for f in view.features}
    data = {}
    for name, values in df.items():
        dtype = dtypes.get(name, "")
        if name in timestamp_columns:
            data[name] = pd.to_datetime(values, utc=True, format="ISO8601")
        elif dtype == "Bytes":
            data[name] = [None if v is None else base64.b64decode(v) for v in values]
        elif dtype == "Array(Bytes)":
            data[name] = [None if v is None else [base64.b64decode(b) for b in v] for v in values]
        elif dtype == "UnixTimestamp":
            data[name] = [None if v is None else pd.Timestamp(v, unit="s", tz="UTC") for v in values]
        elif dtype == "Array(UnixTimestamp)":
            data[name] = [None if v is None else [pd.Timestamp(t, unit="s", tz="UTC") for t in v] for v in values]
        else:
            data[name] = values
    out = pd.DataFrame(data)
    created = view.batch_source.created_timestamp_column
    if created and created not in out:
        out[created] = out[next(iter(timestamp_columns))]
    for name in df:
        if dtypes.get(name) == "Int64" and out[name].dtype == object:
            out[name] = out[name].astype("int64")
    return out


def run(store, command):
    op = command["op"]
    if op == "write":
        df = frame(store, command["view"], command["df"], {command.get("timestamp_column", "event_timestamp")})
        store.write_to_online_store(command["view"], df)
        return len(df)
    if op == "push":
        view = command["view"]
        df = frame(store, view, command["df"], {command.get("timestamp_column", "event_timestamp")})
        store.push(command["push_source"], df, to=PushMode[command.get("to", "online").upper()])
        return len(df)
    if op == "read":
        features = store.get_feature_service(command["feature_service"]) if "feature_service" in command else command["features"]
        response = store.get_online_features(
            features=features, entity_rows=command["entities"], full_feature_names=command.get("full_feature_names", False)
        )
        # The same conversion Feast's feature server answers /get-online-features with.
        return convert_response_to_dict(response.proto)
    if op == "materialize":
        start = pd.Timestamp(command["start"]).to_pydatetime()
        end = pd.Timestamp(command["end"]).to_pydatetime()
        store.materialize(start, end, command.get("views"))
        return True
    raise ValueError(f"unknown op {op}")


def main():
    repo = sys.argv[1]
    store = FeatureStore(repo_path=repo)
    store.apply(load_definitions(repo))
    print(json.dumps({"ok": "ready"}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = {"ok": run(store, json.loads(line))}
        except Exception as error:  # the test shows Feast's own message
            result = {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
