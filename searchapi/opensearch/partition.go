package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// A partitioned analysis reads a composite aggregation over its period in
// partitions of time rather than in pages of the whole period: a page of
// a composite aggregation costs a scan of every matching action, so
// paging through hundreds of thousands of buckets scans the period dozens
// of times, while partitions that each fit in one page scan it once.
//
// The first search (the sizing search) counts the period's actions per
// stretch of time with a date histogram whose buckets never split a bucket
// of the analysis, and carries the first page of the users' names; the
// stretches are then grouped, in time order, into partitions of at most
// partitionActions actions, so that each partition's composite aggregation
// fits in one page (a bucket holds at least one action). A stretch with
// more actions than that is a partition of its own, read in pages. The
// partitions, and any further page of names, are sent searchConcurrency
// at a time, and handed to the analysis in time order.

const (
	// partitionActions is the most actions a partition holds, unless one
	// stretch of the sizing histogram alone holds more; it is also the
	// size of a partition's page, within OpenSearch's default
	// search.max_buckets of 65,535.
	partitionActions = 50_000
	// searchConcurrency is how many searches of one analysis are in
	// flight at once.
	searchConcurrency = 2
)

// span is a stretch [From, To) of Unix milliseconds; math.MinInt64 and
// math.MaxInt64 leave an end open.
type span struct {
	From, To int64
}

// within narrows filters to the actions of s.
func (s span) within(filters []any) []any {
	r := map[string]any{"format": "epoch_millis"}
	if s.From != math.MinInt64 {
		r["gte"] = s.From
	}
	if s.To != math.MaxInt64 {
		r["lt"] = s.To
	}
	out := append([]any{}, filters...)
	if len(r) > 1 {
		out = append(out, map[string]any{"range": map[string]any{"occurred_at": r}})
	}
	return out
}

// partitioned is the plan of a partitioned analysis: its sizing search and
// how to build a page of a partition and a further page of names.
type partitioned struct {
	sizing Request
	// size is the most actions of a partition, and its pages' size.
	size int
	// perUser says that each user holds at most one bucket per stretch.
	perUser bool
	page    func(s span, after map[string]any) (Request, error)
	names   func(after map[string]any) (Request, error)
}

// partitionReader reads the answers of a partitioned analysis. names reads
// the names of the sizing search's answer and of each further page of
// names, one after the other; page reads a page of partition i, and may be
// called for different partitions at once; done is called for each
// partition, with its span, in time order once all its pages were read,
// and stops the analysis by returning false. names and page return the key the next page
// starts after, nil after the last.
type partitionReader struct {
	names func(raw []byte) (map[string]any, error)
	page  func(i int, raw []byte) (map[string]any, error)
	done  func(i int, s span) (bool, error)
}

// send posts one search and returns OpenSearch's answer.
type send func(ctx context.Context, r Request) ([]byte, error)

// sendTo sends searches through the finder's client.
func (f *Finder) sendTo(ctx context.Context, r Request) ([]byte, error) {
	_, raw, err := f.postRaw(ctx, r.Path, r.Body)
	return raw, err
}

// sizingAnswer is the answer of a sizing search.
type sizingAnswer struct {
	Aggregations struct {
		Sizes struct {
			Buckets []struct {
				Key      float64 `json:"key"`
				DocCount int64   `json:"doc_count"`
			} `json:"buckets"`
		} `json:"sizes"`
		Pages struct {
			Buckets []json.RawMessage `json:"buckets"`
		} `json:"pages"`
	} `json:"aggregations"`
}

// spans groups the stretches of a sizing answer, in time order, into
// partitions of about the same number of buckets, at most most each and
// at most half of all (so that searchConcurrency partitions share the
// work), a stretch with more being one partition on its own: a stretch
// holds no more buckets than actions, nor, when perUser, than the users
// the sizing answer names. The first partition is open at its start and
// the last at its end; there is none when the period has no action.
func (a sizingAnswer) spans(most int64, perUser bool) []span {
	users := int64(math.MaxInt64)
	if names := a.Aggregations.Pages; perUser && len(names.Buckets) < compositePage {
		users = int64(len(names.Buckets))
	}
	var total int64
	for _, b := range a.Aggregations.Sizes.Buckets {
		total += min(b.DocCount, users)
	}
	if total == 0 {
		return nil
	}
	most = max(1, min(most, (total+searchConcurrency-1)/searchConcurrency))
	var out []span
	from, n := int64(math.MinInt64), int64(0)
	for _, b := range a.Aggregations.Sizes.Buckets {
		c := min(b.DocCount, users)
		if n > 0 && n+c > most {
			out = append(out, span{From: from, To: int64(b.Key)})
			from, n = int64(b.Key), 0
		}
		n += c
	}
	return append(out, span{From: from, To: math.MaxInt64})
}

// read sends the searches of plan through send and hands their answers to
// r. It reports whether every partition was read.
func (plan partitioned) read(ctx context.Context, send send, r partitionReader) (bool, error) {
	raw, err := send(ctx, plan.sizing)
	if err != nil {
		return false, err
	}
	var sized sizingAnswer
	if err := json.Unmarshal(raw, &sized); err != nil {
		return false, fmt.Errorf("decode sizing search: %w", err)
	}
	spans := sized.spans(int64(plan.size), plan.perUser)
	after, err := r.names(raw)
	if err != nil {
		return false, err
	}
	// The jobs: the further pages of names, if any, then each partition.
	var jobs []func(context.Context) error
	if after != nil {
		jobs = append(jobs, func(ctx context.Context) error {
			for after != nil {
				req, err := plan.names(after)
				if err != nil {
					return err
				}
				raw, err := send(ctx, req)
				if err != nil {
					return err
				}
				if after, err = r.names(raw); err != nil {
					return err
				}
			}
			return nil
		})
	}
	first := len(jobs)
	for i, s := range spans {
		jobs = append(jobs, func(ctx context.Context) error {
			var after map[string]any
			for {
				req, err := plan.page(s, after)
				if err != nil {
					return err
				}
				raw, err := send(ctx, req)
				if err != nil {
					return err
				}
				if after, err = r.page(i, raw); err != nil || after == nil {
					return err
				}
			}
		})
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	// Jobs start in order, searchConcurrency at a time, and each holds its
	// slot until it was handed over, so that at most searchConcurrency
	// partitions are in memory before their turn.
	results := make([]chan error, len(jobs))
	for i := range results {
		results[i] = make(chan error, 1)
	}
	slots := make(chan struct{}, searchConcurrency)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, job := range jobs {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] <- job(ctx)
			}()
		}
	}()
	for i := range jobs {
		select {
		case err = <-results[i]:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if err != nil {
			return false, err
		}
		if i >= first {
			more, err := r.done(i-first, spans[i-first])
			if err != nil || !more {
				return false, err
			}
		}
		<-slots
	}
	return true, nil
}

// pageOf decodes a page of a composite aggregation of size buckets into
// out, and returns the key the next page starts after, nil after the last.
func pageOf[B any](raw []byte, size int, out *[]B) (map[string]any, error) {
	var res compositeAnswer[B]
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("decode composite page: %w", err)
	}
	*out = append(*out, res.Aggregations.Pages.Buckets...)
	if len(res.Aggregations.Pages.Buckets) < size {
		return nil, nil
	}
	return res.Aggregations.Pages.AfterKey, nil
}

// counting is the reader of the benchmark's direct requests: it reads of
// each answer only the key the next page starts after, and counts the
// users named.
func counting(users *int64, size int) partitionReader {
	skip := func(raw []byte, size int) (map[string]any, int, error) {
		var b []json.RawMessage
		after, err := pageOf(raw, size, &b)
		return after, len(b), err
	}
	return partitionReader{
		names: func(raw []byte) (map[string]any, error) {
			after, n, err := skip(raw, compositePage)
			*users += int64(n)
			return after, err
		},
		page: func(_ int, raw []byte) (map[string]any, error) {
			after, _, err := skip(raw, size)
			return after, err
		},
		done: func(int, span) (bool, error) { return true, nil },
	}
}

// sizingRequest returns the sizing search over the period within p's
// scope narrowed by filters: the actions per stretch of the histogram
// sizes, and the first page of the users' names.
func (f *Finder) sizingRequest(p activity.Principal, filter *searchapi.AnalyticsFilter, sizes map[string]any, filters []any) (Request, error) {
	body, err := namesBody(p, filter, nil, filters...)
	if err != nil {
		return Request{}, err
	}
	body["aggs"].(map[string]any)["sizes"] = map[string]any{"date_histogram": sizes}
	return f.requestFiltered(body, "aggregations.sizes.buckets.key", "aggregations.sizes.buckets.doc_count",
		"aggregations.pages.after_key", "aggregations.pages.buckets.key", "aggregations.pages.buckets.latest.hits.hits._source")
}

// namesRequest returns the search of the page of the users' names after
// the key after.
func (f *Finder) namesRequest(p activity.Principal, filter *searchapi.AnalyticsFilter, after map[string]any, filters []any) (Request, error) {
	body, err := namesBody(p, filter, after, filters...)
	if err != nil {
		return Request{}, err
	}
	return f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key", "aggregations.pages.buckets.latest.hits.hits._source")
}

// requestFiltered returns the search of body, its answer trimmed to the
// fields paths (OpenSearch's filter_path).
func (f *Finder) requestFiltered(body any, paths ...string) (Request, error) {
	r, err := f.request(body)
	if err != nil {
		return Request{}, err
	}
	r.Path += "&filter_path=" + strings.Join(paths, ",")
	return r, nil
}

// readNames returns the names reader that fills names.
func readNames(names map[string]activity.Actor) func(raw []byte) (map[string]any, error) {
	return func(raw []byte) (map[string]any, error) {
		var page []usersBucket
		after, err := pageOf(raw, compositePage, &page)
		for _, b := range page {
			names[b.Key.User] = b.Latest.source().Actor
		}
		return after, err
	}
}
