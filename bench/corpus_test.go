package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/ingest"
)

// TestCorpusIsTheSameEveryRun checks what lets a kept corpus be reused and
// an interrupted load resume: the same events with the same ids, exactly
// as many as asked for, each batch within one monthly index.
func TestCorpusIsTheSameEveryRun(t *testing.T) {
	cfg := ingest.Config{BatchSize: 100, BatchBytes: 1 << 20, Workers: 1, FlushInterval: time.Second}
	generate := func() []domain.OutboxMessage {
		var all []domain.OutboxMessage
		generateCorpus(3000, cfg, func(b []domain.OutboxMessage, _ int) {
			month := ""
			for _, m := range b {
				e, err := activity.DecodeEvent(m.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if m := activity.IndexName("x", e.OccurredAt); month != "" && m != month {
					t.Fatalf("a batch spans %s and %s", month, m)
				} else {
					month = m
				}
			}
			all = append(all, b...)
		})
		return all
	}
	first, second := generate(), generate()
	if len(first) != 3000 {
		t.Fatalf("%d events, want 3000", len(first))
	}
	measured := 0
	for i := range first {
		if first[i].EventID != second[i].EventID || !bytes.Equal(first[i].Payload, second[i].Payload) {
			t.Fatalf("event %d differs from one run to the next", i)
		}
		var e activity.Event
		json.Unmarshal(first[i].Payload, &e)
		id, err := uuid.Parse(e.ID)
		if err != nil || id.Version() != 7 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("id %s is not a UUIDv7", e.ID)
		}
		if sec, nsec := id.Time().UnixTime(); time.Unix(sec, nsec).UnixMilli() != e.OccurredAt.UnixMilli() {
			t.Fatalf("id %s is not made at %s", e.ID, e.OccurredAt)
		}
		if e.WorkspaceID == corpusID("workspace", 0, 0) {
			measured++
		}
	}
	if share := measured * 100 / len(first); share != corpusWorkspaces[0].share {
		t.Errorf("the measured workspace has %d%% of the events, want %d%%", share, corpusWorkspaces[0].share)
	}
}
