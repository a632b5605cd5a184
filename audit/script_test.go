package audit_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxera/activity/audit"
)

// TestTheDocumentedScriptAgreesWithTheChain runs docs/verify_chain.py, the
// independent check an auditor can read, over a chain the platform formed,
// and over the same chain with one entry changed.
func TestTheDocumentedScriptAgreesWithTheChain(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed; the script is checked where it is")
	}
	key := make([]byte, audit.DigestKeySize)
	rand.Read(key)
	es, _ := chain(t, 6, key)
	es[1].Context.UserAgent = "Mozilla/5.0 <x> & é"
	es[1].Chain = nil
	// Link again from entry 2 on, with a user agent that needs no HTML
	// escaping in the canonical form.
	prev := es[0].Chain.Hash
	for i := 1; i < len(es); i++ {
		prev = audit.Link(&es[i], int64(i+1), prev, key)
	}
	run := func() (string, error) {
		var b bytes.Buffer
		for _, e := range es {
			line, _ := json.Marshal(e)
			b.Write(append(line, '\n'))
		}
		path := filepath.Join(t.TempDir(), "entries.ndjson")
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, "../docs/verify_chain.py", path).CombinedOutput()
		return string(out), err
	}
	if out, err := run(); err != nil || !strings.Contains(out, "chain whole; last hash "+prev) {
		t.Fatalf("the script refused a whole chain: %v\n%s", err, out)
	}
	es[3].Action = "asset.deleted"
	if out, err := run(); err == nil || !strings.Contains(out, "entry 4 ") {
		t.Fatalf("the script missed an altered entry: %v\n%s", err, out)
	}
}
