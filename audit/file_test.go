package audit

import (
	"strconv"
	"strings"
	"testing"
)

// TestReadExport reads the files an export can be: JSON with its
// checkpoint, NDJSON ending with it, NDJSON without it; and refuses a line
// after the checkpoint and a line that is no event.
func TestReadExport(t *testing.T) {
	event := func(id string, seq int) string {
		return `{"schema":1,"id":"` + id + `","workspace_id":"w","action":"asset.created","chain":{"seq":` + strconv.Itoa(seq) + `,"prev_hash":"p","hash":"h"}}`
	}
	checkpoint := `{"workspace_id":"w","seq":2,"hash":"h","created_at":"2026-12-01T09:00:00.000Z","key_id":"k","signature":"s","signed_text":"…"}`
	tests := []struct {
		name    string
		file    string
		ids     []string
		seq     int64
		wantErr string
	}{
		{"json", "{\"entries\": [\n" + event("b", 2) + ",\n" + event("a", 1) + "\n],\n\"checkpoint\": " + checkpoint + "}\n", []string{"a", "b"}, 2, ""},
		{"json without a checkpoint", "{\"entries\": [],\n\"checkpoint\": null}\n", nil, 0, ""},
		{"ndjson", event("b", 2) + "\n" + event("a", 1) + "\n{\"type\":\"checkpoint\",\"checkpoint\":" + checkpoint + "}\n", []string{"a", "b"}, 2, ""},
		{"ndjson without a checkpoint", event("a", 1) + "\n\n", []string{"a"}, 0, ""},
		{"a line after the checkpoint", "{\"type\":\"checkpoint\",\"checkpoint\":" + checkpoint + "}\n" + event("a", 1) + "\n", nil, 0, "line 2 follows the checkpoint"},
		{"a line that is no event", event("a", 1) + "\nnot json\n", nil, 0, "line 2 is not an event"},
		{"json with more after it", "{\"entries\": []}\n{}", nil, 0, "more after its end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ReadExport(strings.NewReader(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range x.Chained("w") {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("entries %v, want %v in chain order", ids, tt.ids)
			}
			switch {
			case tt.seq == 0 && x.Checkpoint != nil:
				t.Errorf("checkpoint %+v, want none", x.Checkpoint)
			case tt.seq != 0 && (x.Checkpoint == nil || x.Checkpoint.Seq != tt.seq || x.Checkpoint.KeyID != "k"):
				t.Errorf("checkpoint %+v, want the one at %d", x.Checkpoint, tt.seq)
			}
		})
	}
}
