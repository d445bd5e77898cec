# The lifecycle's real peers, one virtualenv each (their pins clash: evidently wants its own plotly,
# schemathesis its own hypothesis stack). venv-mlflow is the tracking image's own pinned list
# (tracking.txt, which deploy/tracking/Dockerfile installs) plus the training script's packages
# (mlflow-training.txt, --no-deps so nothing of the image's list moves), so the server the tests
# start is the deployed one; Evidently for the drift comparison and bench/drift; schemathesis to
# fuzz each service's /openapi.json.
make_venv mlflow tracking.txt
training="scripts/constraints/mlflow-training.txt"
if ! cmp -s "$training" "$MLOPS_CACHE/venv-mlflow/.training"; then
  echo "test-env: installing $training into venv-mlflow"
  "$MLOPS_CACHE/venv-mlflow/bin/pip" install -q --disable-pip-version-check --no-deps -r "$training"
  "$MLOPS_CACHE/venv-mlflow/bin/pip" check >/dev/null
  cp "$training" "$MLOPS_CACHE/venv-mlflow/.training"
fi
make_venv evidently evidently.txt
make_venv schemathesis schemathesis.txt
