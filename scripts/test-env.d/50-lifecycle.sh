# The lifecycle's real peers, one virtualenv each (their pins clash: evidently wants its own plotly,
# schemathesis its own hypothesis stack): MLflow's tracking server (SQLite and PostgreSQL backend
# stores, proxied artifacts) with scikit-learn and onnx for the training script; Evidently for the
# drift comparison and bench/drift; schemathesis to fuzz each service's /openapi.json.
make_venv mlflow mlflow.txt
make_venv evidently evidently.txt
make_venv schemathesis schemathesis.txt
