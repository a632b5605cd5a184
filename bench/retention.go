package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/domain/disk"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
	"github.com/fluxera/activity/searchapi/retention"
)

// retentionRun sizes the retention figure.
type retentionRun struct {
	corpus  int  // events of the kept search corpus the archiving reads; 0 skips the figure
	rebuild bool // load the corpus again even when a complete one is there
	rounds  int  // archivings, and direct scans, alternating
}

// retentionFigures measures the retention job's archiving of the kept
// search corpus's measured workspace's last month (see corpus.go): the
// production code's Job.ArchivePeriod, which scans the month from
// OpenSearch, writes it gzipped into a disk archive store, reads the file
// back to verify it and stores its manifest, beside the same
// point-in-time scan sent straight to OpenSearch (the requests built by
// searchapi/opensearch's ScanRequest for the job's own scan, each page
// decoded with DecodeScanPage). Nothing is removed from the index: the
// corpus is kept.
func retentionFigures(e *env, run retentionRun) []Figure {
	if run.corpus <= 0 {
		return nil
	}
	c := ensureCorpus(e, run.corpus, run.rebuild)
	settle(e.osURL)
	osc, err := ingestos.NewClient(ingestos.Config{URLs: []string{e.osURL}, IndexPrefix: c.prefix})
	if err != nil {
		fatalf("retention: %v", err)
	}
	finder := searchos.NewFinder(osc, c.prefix)
	dir, err := os.MkdirTemp("", "fluxera-bench-retention-")
	if err != nil {
		fatalf("retention: %v", err)
	}
	defer os.RemoveAll(dir)
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	job := &retention.Job{Scanner: finder, Index: finder, Archive: disk.Archive{Dir: dir}, Log: log.WithField("component", "retention")}

	end := corpusEnd.UTC()
	to := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	from := to.AddDate(0, -1, 0)
	ws := c.measured.ID
	p, filter := retention.Scan(ws, from, to)
	scan, err := finder.ScanRequest(p, filter)
	if err != nil {
		fatalf("retention: build the direct scan: %v", err)
	}
	direct := &exportBench{e: e, scan: scan, api: &searchAPI{directClient: &http.Client{Timeout: 30 * time.Minute, Transport: directTransport()}}}

	var archived, scanned []exportTiming
	var bytes int64
	start := time.Now()
	for i := range max(1, run.rounds) {
		for k := range 2 {
			if (i+k)%2 == 0 {
				t := direct.direct()
				scanned = append(scanned, t)
				fmt.Printf("bench: retention direct scan of %d entries in %.1f s\n", t.rows, t.took.Seconds())
				continue
			}
			os.RemoveAll(dir) // each round writes the month anew
			t0 := time.Now()
			m, err := job.ArchivePeriod(context.Background(), ws, from, to)
			if err != nil {
				fatalf("retention: archive %s: %v", from.Format("2006-01"), err)
			}
			t := exportTiming{rows: int(m.Entries), took: time.Since(t0), bytes: m.Bytes}
			archived, bytes = append(archived, t), m.Bytes
			fmt.Printf("bench: retention archived %d entries in %.1f s\n", t.rows, t.took.Seconds())
		}
	}
	a, d := median(archived), median(scanned)
	if a.rows != d.rows {
		fatalf("retention: the job archived %d entries, the direct scan read %d, of the same month", a.rows, d.rows)
	}
	notes := fmt.Sprintf("Corpus: the kept search corpus %s (%d events, %s this run; see the search figures). "+
		"The month archived is %s (UTC) of the measured workspace: %d entries, %.1f MB gzipped. "+
		"Each archiving is retention.Job.ArchivePeriod, the job's own first step for a month: a point-in-time scan through the search API's finder, "+
		"gzipped NDJSON streamed into a disk archive store (a temporary folder), the file read back, hashed and counted, and its manifest stored; nothing is removed from the index. "+
		"The baseline is the same point-in-time scan straight from OpenSearch (ScanRequest of the job's scan, DecodeScanPage). "+
		"Rounds: %d of each, alternating (%.0f s in all); the medians are given: archive %.1f s, direct %.1f s.",
		c.prefix, c.events, map[bool]string{true: "reused", false: "built"}[c.reused], from.Format("2006-01"), a.rows, float64(bytes)/1e6,
		max(1, run.rounds), time.Since(start).Seconds(), a.took.Seconds(), d.took.Seconds())
	return []Figure{{
		Name: "retention.archive_events_per_s", Value: round(a.rate()), Unit: "events/s",
		Baseline: &Baseline{Name: "direct.pit_scan_rows_per_s", Value: round(d.rate())}, Ratio: round2(a.rate() / d.rate()), Notes: notes,
	}}
}
