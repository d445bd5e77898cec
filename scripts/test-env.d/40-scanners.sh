# The security scanners `npm run scan` and test/policies/scan/ drive: Checkov (kubernetes and
# terraform_plan frameworks) in venv-checkov, kube-score and trivy from the Go module proxy, and
# promtool from Debian's prometheus package (`promtool check rules` / `test rules` over our PrometheusRules).
# Polaris is not here: `go list -m -versions github.com/fairwindsops/polaris` (either spelling) answers
# "403 Forbidden / server response: This module version is not available." (its go.mod has no /vN
# suffix for its v9 tags), and it is on neither PyPI nor Debian. trivy takes its place as the second
# Kubernetes misconfiguration scanner, and gives the tfsec checks (AVD ids) over the Terraform plan;
# it runs offline on the checks embedded in the binary (policies/scan/scanners.ts). Built as its
# release is (goreleaser.yml): encoding/json/v2 needs GOEXPERIMENT=jsonv2 on Go 1.26 ("build
# constraints exclude all Go files in .../encoding/json/v2" without it), and no cgo. It is the
# longest step here (minutes, once per machine; go_tool skips a built pin).
make_venv checkov checkov.txt
go_tool kube-score github.com/zegl/kube-score/cmd/kube-score@v1.20.0
CGO_ENABLED=0 GOEXPERIMENT=jsonv2 go_tool trivy github.com/aquasecurity/trivy/cmd/trivy@v0.74.0
if ! command -v promtool >/dev/null; then
  echo "test-env: installing prometheus (promtool)"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
