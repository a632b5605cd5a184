package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestExportsCarryTheirCheckpointAndVerifyOffline runs the API, the relay
// and the indexer with a checkpoint every four entries, and checks that
// every export states the latest checkpoint that covers its entries, that
// an NDJSON and a JSON export verify offline with the published keys
// alone, and that a line altered in the file is named as the first broken
// entry.
func TestExportsCarryTheirCheckpointAndVerifyOffline(t *testing.T) {
	cfg := MustStack(t)
	cfg.Chain.CheckpointEvery = 4
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "Exported proof")
	for i := 0; i < 7; i++ {
		mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": fmt.Sprintf("Laptop %d", i)}, nil), "asset")
	}
	chain, err := m.Chain()
	if err != nil {
		t.Fatal(err)
	}
	// Once the log lists the seven assets, every entry from the first
	// without a gap, and a checkpoint vouches for part of them, the
	// index holds every entry up to that checkpoint.
	var checkpoint audit.Checkpoint
	stacktest.Eventually(t, "the assets are indexed without gaps and a checkpoint is signed", func() bool {
		var page struct{ Entries []activity.Event }
		owner.call("GET", "/api/v1/activity?limit=200", nil, nil).decode(t, &page)
		created, seqs := 0, map[int64]bool{}
		for _, e := range page.Entries {
			if e.Action == "asset.created" {
				created++
			}
			if e.Chain != nil {
				seqs[e.Chain.Seq] = true
			}
		}
		for seq := int64(1); seq <= int64(len(seqs)); seq++ {
			if !seqs[seq] {
				return false
			}
		}
		cps, err := chain.Checkpoints(context.Background(), owner.workspace, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if created < 7 || len(cps) == 0 {
			return false
		}
		checkpoint = cps[len(cps)-1]
		return checkpoint.Seq <= int64(len(seqs))
	})

	dir := t.TempDir()
	save := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The keys as GET /api/v1/audit/keys publishes them.
	published, err := chain.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"keys": published})
	keys := save("keys.json", b)
	export := func(format string) []byte {
		a := owner.call("GET", "/api/v1/activity/export?format="+format, nil, nil)
		if a.status != http.StatusOK {
			t.Fatalf("%s export: %d %s", format, a.status, a.body)
		}
		return a.body
	}
	verify := func(name string, body []byte) (audit.Result, error) {
		var out, errs bytes.Buffer
		err := m.VerifyCommand(context.Background(), []string{"--file", save(name, body), "--keys", keys}, &out, &errs)
		var res audit.Result
		if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
			t.Fatalf("verify %s: %v %s%s", name, err, out.String(), errs.String())
		}
		return res, err
	}

	// NDJSON: the last line states the checkpoint; the file verifies.
	nd := export("ndjson")
	lines := strings.Split(strings.TrimSuffix(string(nd), "\n"), "\n")
	var trailer audit.ExportTrailer
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &trailer); err != nil || trailer.Type != "checkpoint" {
		t.Fatalf("the NDJSON export's last line is %s", lines[len(lines)-1])
	}
	cp := trailer.Checkpoint
	if cp.WorkspaceID != owner.workspace || cp.Seq < checkpoint.Seq || cp.KeyID == "" || cp.Signature == "" {
		t.Fatalf("the NDJSON export states %+v, want the workspace's checkpoint at %d or later", cp, checkpoint.Seq)
	}
	res, err := verify("activity.ndjson", nd)
	if err != nil || !res.OK || res.Checkpoints < 1 || res.FirstSeq != 1 || res.LastCheckpoint == nil || res.LastCheckpoint.Seq != cp.Seq {
		t.Fatalf("the NDJSON export does not verify offline: %v %+v %+v", err, res, res.Problem)
	}

	// One line altered: the first broken entry is named. The entries run
	// newest first, so the line before last but two is an early one.
	i := len(lines) - 4
	var victim activity.Event
	if err := json.Unmarshal([]byte(lines[i]), &victim); err != nil || victim.Chain == nil {
		t.Fatalf("line %d: %v", i+1, err)
	}
	altered := append([]string(nil), lines...)
	altered[i] = strings.Replace(lines[i], `"outcome":"success"`, `"outcome":"failure"`, 1)
	if altered[i] == lines[i] {
		t.Fatalf("line %d has no outcome to alter: %s", i+1, lines[i])
	}
	res, err = verify("altered.ndjson", []byte(strings.Join(altered, "\n")+"\n"))
	if err != app.ErrNotVerified || res.OK || res.Problem == nil || res.Problem.Kind != audit.Altered || res.Problem.Seq != victim.Chain.Seq || res.Problem.EventID != victim.ID {
		t.Fatalf("an altered line (seq %d, %s): %v %+v %+v", victim.Chain.Seq, victim.ID, err, res, res.Problem)
	}

	// JSON: the checkpoint is a top-level field; the file verifies.
	js := export("json")
	var doc struct {
		Entries    []activity.Event  `json:"entries"`
		Checkpoint *audit.Checkpoint `json:"checkpoint"`
	}
	if err := json.Unmarshal(js, &doc); err != nil || doc.Checkpoint == nil || doc.Checkpoint.Seq < cp.Seq || len(doc.Entries) < len(lines)-1 {
		t.Fatalf("the JSON export: %v, checkpoint %+v, %d entries", err, doc.Checkpoint, len(doc.Entries))
	}
	if res, err := verify("activity.json", js); err != nil || !res.OK || res.Checkpoints < 1 {
		t.Fatalf("the JSON export does not verify offline: %v %+v %+v", err, res, res.Problem)
	}

	// CSV: a last line, a comment, states it.
	csvBody := export("csv")
	sc := bufio.NewScanner(bytes.NewReader(csvBody))
	last := ""
	for sc.Scan() {
		last = sc.Text()
	}
	if !strings.HasPrefix(last, fmt.Sprintf("#checkpoint workspace_id=%s seq=", owner.workspace)) || !strings.Contains(last, " key_id="+cp.KeyID+" signature=") {
		t.Errorf("the CSV export ends %q", last)
	}

	// PDF: the last page, Integrity, states it and says how to verify.
	text := stacktest.PDFText(t, export("pdf"))
	integrity := text[strings.LastIndex(text, "Integrity"):]
	for _, want := range []string{"Workspace id " + owner.workspace, "Checkpoint sequence number", "Key id " + cp.KeyID, "fluxera verify --file activity.ndjson --keys keys.json"} {
		if !strings.Contains(integrity, want) {
			t.Errorf("the PDF's Integrity page lacks %q:\n%s", want, integrity)
		}
	}
}
