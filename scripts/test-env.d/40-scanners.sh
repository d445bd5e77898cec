# The security scanners `npm run scan` and test/policies/scan/ drive: Checkov (kubernetes and
# terraform_plan frameworks) in venv-checkov, kube-score from the Go module proxy, and promtool
# from Debian's prometheus package (`promtool check rules` / `test rules` over our PrometheusRules).
# Polaris is not here: the Go module proxy serves no version of github.com/fairwindsops/polaris
# (its go.mod has no /vN suffix for its v9 tags), and it is on neither PyPI nor Debian.
make_venv checkov checkov.txt
go_tool kube-score github.com/zegl/kube-score/cmd/kube-score@v1.20.0
if ! command -v promtool >/dev/null; then
  echo "test-env: installing prometheus (promtool)"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
