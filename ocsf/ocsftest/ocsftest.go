// Package ocsftest checks OCSF events against the OCSF schema as the
// ocsf-json-schema package from PyPI ships it, with jsonschema. The first
// use installs both, at pinned versions, into a virtual environment under
// ~/.cache/fluxera, so that a clean machine needs no manual step.
package ocsftest

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/fluxera/activity/internal/stacktest"
)

// The PyPI packages the schema comes from, pinned.
const (
	SchemaPackage     = "ocsf-json-schema==1.2.0"
	JSONSchemaPackage = "jsonschema==4.26.0"
)

//go:embed validate.py
var script []byte

var (
	once   sync.Once
	python string
	setup  error
)

// venv returns the virtual environment's python, creating the environment
// and installing the packages the first time. Test binaries of several
// packages run at once: a lock file beside the environment lets one make
// it while the others wait.
func venv() (string, error) {
	once.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			setup = err
			return
		}
		dir := filepath.Join(cache, "fluxera", "ocsf-venv-"+strings.NewReplacer("==", "-", ".", "_").Replace(SchemaPackage+"-"+JSONSchemaPackage))
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			setup = err
			return
		}
		lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			setup = err
			return
		}
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			setup = fmt.Errorf("lock %s: %w", lock.Name(), err)
			return
		}
		defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		py := filepath.Join(dir, "bin", "python")
		if exec.Command(py, "-c", "import jsonschema, ocsf_json_schema").Run() == nil {
			python = py
			return
		}
		// Missing or broken (an interrupted install): made anew.
		os.RemoveAll(dir)
		if out, err := exec.Command("python3", "-m", "venv", dir).CombinedOutput(); err != nil {
			setup = fmt.Errorf("python3 -m venv %s (needs python3 and python3-venv): %v: %s", dir, err, out)
			return
		}
		pip := exec.Command(py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SchemaPackage, JSONSchemaPackage)
		if out, err := pip.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			setup = fmt.Errorf("pip install %s %s: %v: %s", SchemaPackage, JSONSchemaPackage, err, out)
			return
		}
		python = py
	})
	return python, setup
}

// Validate checks OCSF events given as JSON lines against the schema of
// their class and version. It returns the validator's report, one line per
// event, and an error naming every invalid event.
func Validate(lines [][]byte) (string, error) {
	py, err := venv()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(py, "-c", string(script))
	var in bytes.Buffer
	for _, l := range lines {
		in.Write(bytes.TrimRight(l, "\n"))
		in.WriteByte('\n')
	}
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("events do not match the OCSF schema: %v\n%s", err, out)
	}
	return string(out), nil
}

// MustValidate fails the test unless every event is valid OCSF, and
// returns the validator's report. When the validator cannot be installed
// (no python3, or PyPI out of reach) a plain go test skips with the
// reason; under make test and in CI (see stacktest.Required) it fails.
func MustValidate(tb testing.TB, lines [][]byte) string {
	tb.Helper()
	if _, err := venv(); err != nil {
		if !stacktest.Required() {
			tb.Skipf("the OCSF validator cannot be installed (make up installs python3-venv): %v", err)
		}
		tb.Fatal(err)
	}
	report, err := Validate(lines)
	if err != nil {
		tb.Fatal(err)
	}
	return report
}
