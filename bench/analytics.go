package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	activity "github.com/fluxera/activity"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/searchapi"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// analyticsRun sizes the analytics figures.
type analyticsRun struct {
	events   int // events of the kept search corpus; 0 skips the figures
	requests int // timed requests of each analysis on each side
}

// analyticsWarmup is how many requests of each analysis each side sends
// before the timed ones.
const analyticsWarmup = 5

// analysisSearches sends every search of one analysis through send, as the
// finder sends them; the finder's exported TimeSpentSearches and
// EngagementSearches.
type analysisSearches func(ctx context.Context, p activity.Principal, f searchapi.AnalyticsFilter, send func(context.Context, searchos.Request) ([]byte, error)) (int64, error)

// analyticsFigures measures the time spent and the engagement of the
// measured workspace over 90 days of the kept search corpus (see
// corpus.go): GET /api/v1/analytics/time-spent and
// GET /api/v1/analytics/engagement on a fluxera api process of its own,
// signed in as the owner, beside every search they send — the sizing
// search (actions per stretch of time), then the pages of the users'
// names and each partition's composite aggregation over stretches of idle
// time (time spent) or user-days (engagement), two at a time — built
// and sent in the same order, as many at once, by the search API's own
// code (TimeSpentSearches, EngagementSearches), each POSTed straight to
// OpenSearch, reading of each answer only what the next search needs. The
// sides alternate request by request,
// the side going first alternating too; each period ends a minute before
// the last one's, each side its own minutes, so that OpenSearch's request
// cache never answers a search of the period's edges. A search confined to
// shards the period holds whole is the same for every period (OpenSearch
// rewrites the period's range there), and may be answered from the cache
// on both sides alike: the engagement's partitions inside a month; the
// time spent asks for none.
func analyticsFigures(e *env, run analyticsRun) []Figure {
	if run.events <= 0 || run.requests <= 0 {
		return nil
	}
	c := ensureCorpus(e, run.events, false)
	api := startSearchAPI(e, c, "_analytics")
	settle(e.osURL)
	mustDo(mustRequest(http.MethodPost, e.osURL+"/"+activity.IndexPattern(c.prefix)+"/_cache/clear", nil))
	finder := searchos.NewFinder(nil, c.prefix) // builds requests; sends none
	loc := mustZone(c.measured.TimeZone)
	window := func(i, side int) (string, string) {
		to := corpusEnd.Add(-time.Duration(2*i+side) * time.Minute).UTC()
		return to.AddDate(0, 0, -90).Format(time.RFC3339), to.Format(time.RFC3339)
	}
	var figures []Figure
	for _, a := range []struct {
		name, route   string
		searches      analysisSearches
		users         func([]byte) (int64, error)
		figure, notes string
	}{
		{"time spent", "/api/v1/analytics/time-spent", finder.TimeSpentSearches, func(raw []byte) (int64, error) {
			var ts searchapi.TimeSpent
			err := json.Unmarshal(raw, &ts)
			return int64(len(ts.Users)), err
		}, "time_spent", "a sizing search (a date histogram of six-hour stretches), then the users' names (a composite aggregation by user, name and email with the latest time of each) beside the period in partitions of at most 50,000 actions, each a composite aggregation by session key and 30-minute stretch (first and last action, the min and max of one stats aggregation), in one page of up to 50,000 buckets, and the period's logouts (a composite aggregation by time, user and session over the logouts alone, pages of 50,000), the names, the logouts and the partitions two searches at a time, the partitions and logouts past the shard request cache, the answers trimmed with filter_path"},
		{"engagement", "/api/v1/analytics/engagement", finder.EngagementSearches, func(raw []byte) (int64, error) {
			var en searchapi.Engagement
			err := json.Unmarshal(raw, &en)
			return int64(len(en.Users)), err
		}, "engagement", "a sizing search (a date histogram of calendar days in the workspace's time zone, and a count of users), then the users' names (a composite aggregation by user, name and email with the latest time of each) beside the period in partitions of whole days of at most 50,000 user-days (sized by the actions and users counted), each a composite aggregation by user and calendar day (actions, logins, actions per feature) in one page of up to 50,000 buckets, the names and the partitions two searches at a time, the answers trimmed with filter_path"},
	} {
		platform := func(i, side int) (time.Duration, int64) {
			from, to := window(i, side)
			req := mustRequest(http.MethodGet, api.base+a.route+"?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil)
			req.AddCookie(&http.Cookie{Name: domainhttp.SessionCookie, Value: api.token})
			start := time.Now()
			res, err := api.client.Do(req)
			if err != nil {
				fatalf("%s: %v", a.name, err)
			}
			raw, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				fatalf("%s: GET %s: status %d: %.300s (%v)", a.name, req.URL, res.StatusCode, raw, err)
			}
			users, err := a.users(raw)
			took := time.Since(start)
			if err != nil {
				fatalf("%s: decode the API's answer: %v", a.name, err)
			}
			return took, users
		}
		direct := func(i, side int) (time.Duration, int64) {
			from, to := window(i, side)
			period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{From: from, To: to}, time.Now(), loc)
			if err != nil {
				fatalf("%s period: %v", a.name, err)
			}
			filter := searchapi.AnalyticsFilter{Period: period}
			start := time.Now()
			users, err := a.searches(context.Background(), api.principal, filter, func(ctx context.Context, r searchos.Request) ([]byte, error) {
				return postDirect(ctx, e.osURL, api.directClient, r)
			})
			if err != nil {
				fatalf("direct %s: %v", a.name, err)
			}
			return time.Since(start), users
		}
		// Both sides name the same users for the same period.
		_, pt := platform(0, 0)
		if _, dt := direct(0, 0); dt != pt || pt == 0 {
			fatalf("%s: the platform names %d users, OpenSearch %d for the same period", a.name, pt, dt)
		}
		fmt.Printf("bench: the 90-day %s names %d users\n", a.name, pt)
		var onPlatform, onDirect []time.Duration
		start := time.Now()
		for i := range analyticsWarmup + run.requests {
			order := []int{0, 1}
			if i%2 == 1 {
				order = []int{1, 0}
			}
			for _, side := range order {
				if side == 0 {
					if d, _ := platform(i+1, side); i >= analyticsWarmup {
						onPlatform = append(onPlatform, d)
					}
				} else if d, _ := direct(i+1, side); i >= analyticsWarmup {
					onDirect = append(onDirect, d)
				}
			}
		}
		elapsed := time.Since(start)
		p50, p99 := percentile(onPlatform, 50), percentile(onPlatform, 99)
		d50, d99 := percentile(onDirect, 50), percentile(onDirect, 99)
		notes := fmt.Sprintf("Corpus: the search figures' kept corpus %s (%d events over %d days before %s, %d indices, %s this run). "+
			"Query: GET %s?from=…&to=… over 90 days of the measured workspace (%d users for the first period) on bin/fluxera api (the API role alone, on the corpus's prefix, signed in as the owner), timed until its answer is read and decoded: "+
			"%s. "+
			"The baseline is every one of those searches as the finder builds and sends them (TimeSpentSearches, EngagementSearches: the same requests, in the same order, two at a time), POSTed straight to OpenSearch, reading of each answer only the partitions and the key a page ends on. "+
			"%d timed requests per side after %d unmeasured ones, alternating (the side going first alternating too), each period a minute earlier than the last so that OpenSearch's request cache never answers a search of the period's edges (a search within the months the period holds whole may be answered from it, on both sides alike); %.0f s in all. "+
			"Goal: p99 within 1.2× of the direct requests and under one second. Max: platform %.1f ms, direct %.1f ms",
			c.prefix, c.events, corpusDays, corpusEnd.Format(time.DateOnly), c.meta.Indices, map[bool]string{true: "reused", false: "built"}[c.reused],
			a.route, pt, a.notes, run.requests, analyticsWarmup, elapsed.Seconds(), ms(percentile(onPlatform, 100)), ms(percentile(onDirect, 100)))
		figures = append(figures,
			Figure{Name: "analytics." + a.figure + "_p50_ms", Value: ms(p50), Unit: "ms",
				Baseline: &Baseline{Name: "direct.analytics_" + a.figure + "_p50_ms", Value: ms(d50)}, Ratio: round2(ms(p50) / ms(d50)), Notes: notes},
			Figure{Name: "analytics." + a.figure + "_p99_ms", Value: ms(p99), Unit: "ms",
				Baseline: &Baseline{Name: "direct.analytics_" + a.figure + "_p99_ms", Value: ms(d99)}, Ratio: round2(ms(p99) / ms(d99)), Notes: notes},
		)
	}
	return figures
}

// postDirect posts one search straight to OpenSearch and returns its
// answer.
func postDirect(ctx context.Context, osURL string, client *http.Client, r searchos.Request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, osURL+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.300s (%v)", res.StatusCode, raw, err)
	}
	return raw, nil
}
