package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	activity "github.com/fluxera/activity"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/internal/cputime"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// reportRun sizes the report figure.
type reportRun struct {
	events   int // events of the kept search corpus; 0 skips the figure
	requests int // timed reports on each side
}

// reportWarmup is how many reports each side makes before the timed ones.
const reportWarmup = 5

// reportFigures measures a 90-day security report over the kept search
// corpus (see corpus.go): POST /api/v1/reports through a fluxera api
// process of its own, signed in as the measured workspace's owner, beside
// the report's one OpenSearch search — built by the search API's own code
// (ReportRequest) — sent straight to OpenSearch and decoded into the types
// the API decodes it into (DecodeReportAnswer). What the API adds is
// reading the period's alerts from PostgreSQL and keeping the report, with
// its event, in one transaction. The sides alternate report by report, the
// side going first alternating too; each period ends a minute before the
// last one's, each side its own minutes, so that OpenSearch's request
// cache never answers and every report is computed over the data.
func reportFigures(e *env, run reportRun) []Figure {
	if run.events <= 0 || run.requests <= 0 {
		return nil
	}
	c := ensureCorpus(e, run.events, false)
	api := startSearchAPI(e, c, "_report")
	settle(e.osURL)
	mustDo(mustRequest(http.MethodPost, e.osURL+"/"+activity.IndexPattern(c.prefix)+"/_cache/clear", nil))
	finder := searchos.NewFinder(nil, c.prefix) // builds requests; sends none
	loc := mustZone(c.measured.TimeZone)
	window := func(i, side int) (string, string) {
		to := corpusEnd.Add(-time.Duration(2*i+side) * time.Minute).UTC()
		return to.AddDate(0, 0, -90).Format(time.RFC3339), to.Format(time.RFC3339)
	}
	platform := func(i, side int) (time.Duration, int64) {
		from, to := window(i, side)
		body, _ := json.Marshal(map[string]string{"type": searchapi.ReportSecurity, "from": from, "to": to})
		req := mustRequest(http.MethodPost, api.base+"/api/v1/reports", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", api.base)
		req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: api.token})
		start := time.Now()
		res, err := api.client.Do(req)
		if err != nil {
			fatalf("report: %v", err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if err != nil || res.StatusCode != http.StatusCreated {
			fatalf("report: POST /api/v1/reports: status %d: %.300s (%v)", res.StatusCode, raw, err)
		}
		var r report.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			fatalf("report: decode the API's answer: %v", err)
		}
		return took, r.Result.Total
	}
	direct := func(i, side int) (time.Duration, int64) {
		from, to := window(i, side)
		period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: from, To: to}, time.Now(), loc)
		if err != nil {
			fatalf("report period: %v", err)
		}
		r := mustRequestOf(finder.ReportRequest(api.principal, searchapi.ReportRequest{Type: searchapi.ReportSecurity, Period: period}))
		req := mustRequest(http.MethodPost, e.osURL+r.Path, bytes.NewReader(r.Body))
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := api.directClient.Do(req)
		if err != nil {
			fatalf("direct report: %v", err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			fatalf("direct report: status %d: %.300s (%v)", res.StatusCode, raw, err)
		}
		a, err := searchos.DecodeReportAnswer(searchapi.ReportSecurity, raw)
		took := time.Since(start)
		if err != nil {
			fatalf("direct report: decode OpenSearch's answer: %v", err)
		}
		return took, a.Total
	}

	// Both sides count the same actions for the same period.
	_, pt := platform(0, 0)
	if _, dt := direct(0, 0); dt != pt || pt == 0 {
		fatalf("report: the platform counts %d actions, OpenSearch %d for the same period", pt, dt)
	}
	fmt.Printf("bench: the 90-day security report covers %d actions\n", pt)

	var onPlatform, onDirect []time.Duration
	apiCPU, osCPU, selfCPU := cpuSeconds(api.pid), openSearchCPUSeconds(e.osURL), cputime.Self()
	start := time.Now()
	for i := range reportWarmup + run.requests {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, side := range order {
			if side == 0 {
				if d, _ := platform(i+1, side); i >= reportWarmup {
					onPlatform = append(onPlatform, d)
				}
			} else if d, _ := direct(i+1, side); i >= reportWarmup {
				onDirect = append(onDirect, d)
			}
		}
	}
	elapsed := time.Since(start)
	apiCPU, osCPU, selfCPU = cpuSeconds(api.pid)-apiCPU, openSearchCPUSeconds(e.osURL)-osCPU, cputime.Self()-selfCPU
	n := float64(reportWarmup + run.requests)

	p50, p99 := percentile(onPlatform, 50), percentile(onPlatform, 99)
	d50, d99 := percentile(onDirect, 50), percentile(onDirect, 99)
	notes := fmt.Sprintf("Corpus: the search figures' kept corpus %s (%d events over %d days before %s, %d indices, %s this run). "+
		"Query: POST /api/v1/reports {\"type\":\"security\",\"from\",\"to\"} over 90 days (%d actions for the first period) on bin/fluxera api (the API role alone, on the corpus's prefix and a schema of its own, signed in as the measured workspace's owner), timed until its 201 is read in full: "+
		"one size-0 _search with the security report's aggregations (login attempts per day and by day of week and hour, failed logins by account and address, the newest 100 permission changes), the period's alerts read from PostgreSQL (none in this schema) and the report kept with its system.report_generated event in one transaction. "+
		"The baseline is that search as ReportRequest builds it, POSTed straight to OpenSearch and decoded with DecodeReportAnswer. %d timed reports per side after %d unmeasured ones, alternating report by report (the side going first alternating too), each period a minute earlier than the last so that OpenSearch's request cache never answers; %.0f s in all. "+
		"CPU over the %.0f reports per side: the API process %.2f CPU-s (%.1f ms a report), OpenSearch %.2f CPU-s for both sides (%.1f ms a report pair), the bench %.2f CPU-s. Max: platform %.1f ms, direct %.1f ms",
		c.prefix, c.events, corpusDays, corpusEnd.Format(time.DateOnly), c.meta.Indices, map[bool]string{true: "reused", false: "built"}[c.reused],
		pt, run.requests, reportWarmup, elapsed.Seconds(),
		n, apiCPU, 1000*apiCPU/n, osCPU, 1000*osCPU/n, selfCPU, ms(percentile(onPlatform, 100)), ms(percentile(onDirect, 100)))
	return []Figure{
		{Name: "report.security_90d_p50_ms", Value: ms(p50), Unit: "ms",
			Baseline: &Baseline{Name: "direct.report_security_90d_p50_ms", Value: ms(d50)}, Ratio: round2(ms(p50) / ms(d50)), Notes: notes},
		{Name: "report.security_90d_p99_ms", Value: ms(p99), Unit: "ms",
			Baseline: &Baseline{Name: "direct.report_security_90d_p99_ms", Value: ms(d99)}, Ratio: round2(ms(p99) / ms(d99)), Notes: notes},
	}
}

// openSearchCPUSeconds is the CPU time the OpenSearch nodes have used.
func openSearchCPUSeconds(osURL string) float64 {
	cpu, err := cputime.OpenSearch(osURL)
	if err != nil {
		fatalf("%v", err)
	}
	return cpu
}
