# SciPy and NumPy for the statistics parity tests, ONNX for the test model: venv-scipy.
make_venv scipy scipy.txt
"$MLOPS_CACHE/venv-scipy/bin/python" scripts/build-test-model.py
