package opensearch

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"

	gojson "github.com/goccy/go-json"

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
// of the analysis; the stretches are then grouped, in time order, into
// partitions of at most partitionActions buckets (a bucket holds at least
// one action), so that each partition's composite aggregation fits in one
// page. A stretch with more is a partition of its own, read in pages. The
// pages of the users' names, then the partitions, are sent
// searchConcurrency at a time, and handed to the analysis in time order.

const (
	// partitionActions is the most buckets a partition holds by the
	// sizing's count, unless one stretch of the sizing histogram alone
	// holds more; it is also the size of a partition's page, within
	// OpenSearch's default search.max_buckets of 65,535.
	partitionActions = 50_000
	// searchConcurrency is how many searches of one analysis are in
	// flight at once.
	searchConcurrency = 2
)

// span is a stretch [From, To) of Unix milliseconds; math.MinInt64 and
// math.MaxInt64 leave an end open.
type span struct {
	From, To int64
	// Unkeyed says that the partition holds actions indexed without the
	// field the sizing search was asked to look for (sizingRequest's
	// keyed): they are read the way they were before that field existed.
	Unkeyed bool
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

// partitioned is the plan of a partitioned analysis: its sizing search,
// how to build a page of a partition, and the searches read, in pages,
// before the partitions: the users' names first.
type partitioned struct {
	sizing Request
	// size is the most buckets of a partition, and its pages' size.
	size int
	// perUser says that each user holds at most one bucket per stretch.
	perUser bool
	// page is a page of a partition: one composite aggregation named
	// pages.
	page  func(s span, after map[string]any) (Request, error)
	lists []pagedSearch
}

// pagedSearch is a search read in pages of size buckets, each built after
// the key the last ended on (nil for the first).
type pagedSearch struct {
	size    int
	request func(after map[string]any) (Request, error)
}

// partitionReader reads the answers of a partitioned analysis. lists[i]
// reads each page of the plan's lists[i], one after the other, and may be
// called beside the others; page reads a page of partition i, asked after
// the key asked (nil for the first), and may be called for different
// partitions at once; done is called for each partition, with its span,
// in time order once all its pages were read, and only once every list
// was read; it stops the analysis by returning false. lists and page
// return the key the next page starts after, nil after the last.
type partitionReader struct {
	lists []func(raw []byte) (map[string]any, error)
	page  func(i int, asked map[string]any, raw []byte) (map[string]any, error)
	done  func(i int, s span) (bool, error)
	// release, if set, takes back each answer once lists or page has
	// read it (see Finder.sendPooled).
	release func(raw []byte)
}

// released hands raw to r.release, if set.
func (r partitionReader) released(raw []byte) {
	if r.release != nil {
		r.release(raw)
	}
}

// send posts one search and returns OpenSearch's answer.
type send func(ctx context.Context, r Request) ([]byte, error)

// partitionAnswers holds the buffers the partitioned analyses read their
// answers into (see sendPooled). Their answers are a few megabytes each;
// one far larger than any partition's is not kept.
var partitionAnswers = answerPool{keep: 64 << 20}

// sendPooled sends a search of a partitioned analysis through the
// finder's client and reads its answer into a buffer from
// partitionAnswers, which releaseAnswer takes back once the answer was
// read. The answers are megabytes each: read into a new buffer, each
// would be allocated, zeroed and copied again as it grows, which on the
// bench corpus cost the time spent a tenth of its CPU in the API.
func (f *Finder) sendPooled(ctx context.Context, r Request) ([]byte, error) {
	_, raw, err := f.sendRawInto(ctx, http.MethodPost, r.Path, r.Body, partitionAnswers.get())
	return raw, err
}

// releaseAnswer puts an answer's buffer back into partitionAnswers.
func releaseAnswer(raw []byte) { partitionAnswers.put(raw) }

// sizingAnswer is the answer of a sizing search.
type sizingAnswer struct {
	Aggregations struct {
		Sizes struct {
			Buckets []struct {
				Key      float64 `json:"key"`
				DocCount int64   `json:"doc_count"`
				Unkeyed  struct {
					DocCount int64 `json:"doc_count"`
				} `json:"unkeyed"`
			} `json:"buckets"`
		} `json:"sizes"`
		Users struct {
			Value int64 `json:"value"`
		} `json:"users"`
	} `json:"aggregations"`
}

// spans groups the stretches of a sizing answer, in time order, into
// partitions of about the same number of buckets, at most most each and
// at most half of all (so that searchConcurrency partitions share the
// work), a stretch with more being one partition on its own: a stretch
// holds no more buckets than actions, nor, when perUser, than the users
// the sizing answer counts (an estimate: a partition larger than thought
// is read in more pages). The first partition is open at its start and
// the last at its end; there is none when the period has no action.
func (a sizingAnswer) spans(most int64, perUser bool) []span {
	users := int64(math.MaxInt64)
	if perUser && a.Aggregations.Users.Value > 0 {
		users = a.Aggregations.Users.Value
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
	from, n, unkeyed := int64(math.MinInt64), int64(0), false
	for _, b := range a.Aggregations.Sizes.Buckets {
		c := min(b.DocCount, users)
		if n > 0 && n+c > most {
			out = append(out, span{From: from, To: int64(b.Key), Unkeyed: unkeyed})
			from, n, unkeyed = int64(b.Key), 0, false
		}
		n += c
		unkeyed = unkeyed || b.Unkeyed.DocCount > 0
	}
	return append(out, span{From: from, To: math.MaxInt64, Unkeyed: unkeyed})
}

// read sends the searches of plan through send and hands their answers to
// r. It reports whether every partition was read.
func (plan partitioned) read(ctx context.Context, send send, r partitionReader) (bool, error) {
	raw, err := send(ctx, plan.sizing)
	if err != nil {
		return false, err
	}
	var sized sizingAnswer
	if err := gojson.Unmarshal(raw, &sized); err != nil {
		return false, fmt.Errorf("decode sizing search: %w", err)
	}
	spans := sized.spans(int64(plan.size), plan.perUser)
	if len(spans) == 0 {
		return true, nil
	}
	// The jobs: each list, then each partition.
	var jobs []func(context.Context) error
	for i, list := range plan.lists {
		jobs = append(jobs, func(ctx context.Context) error {
			var after map[string]any
			for {
				req, err := list.request(after)
				if err != nil {
					return err
				}
				raw, err := send(ctx, req)
				if err != nil {
					return err
				}
				after, err = r.lists[i](raw)
				r.released(raw)
				if err != nil || after == nil {
					return err
				}
			}
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
				after, err = r.page(i, after, raw)
				r.released(raw)
				if err != nil || after == nil {
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
// The answers of a partitioned analysis are tens of megabytes of buckets:
// they are decoded with github.com/goccy/go-json, several times faster
// than encoding/json at it.
func pageOf[B any](raw []byte, size int, out *[]B) (map[string]any, error) {
	var res compositeAnswer[B]
	if err := gojson.Unmarshal(raw, &res); err != nil {
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
// users the names (the plan's first list) name.
func counting(users *int64, plan partitioned) partitionReader {
	seen := map[string]bool{}
	r := partitionReader{
		page: func(_ int, _ map[string]any, raw []byte) (map[string]any, error) {
			var page []struct{}
			return pageOf(raw, plan.size, &page)
		},
		done: func(int, span) (bool, error) { return true, nil },
	}
	for i, list := range plan.lists {
		r.lists = append(r.lists, func(raw []byte) (map[string]any, error) {
			var page []struct {
				Key struct {
					User string `json:"user"`
				} `json:"key"`
			}
			after, err := pageOf(raw, list.size, &page)
			for _, b := range page {
				if i == 0 && !seen[b.Key.User] {
					seen[b.Key.User] = true
					*users++
				}
			}
			return after, err
		})
	}
	return r
}

// sizingRequest returns the sizing search over the period within p's
// scope narrowed by filters: the actions per stretch of the histogram
// sizes, and when perUser, an estimate of the number of users; when keyed
// names a field, also the actions of each stretch without it, which mark
// their partition Unkeyed.
func (f *Finder) sizingRequest(p activity.Principal, filter *searchapi.AnalyticsFilter, sizes map[string]any, perUser bool, keyed string, filters []any) (Request, error) {
	histogram := map[string]any{"date_histogram": sizes}
	if keyed != "" {
		histogram["aggs"] = map[string]any{"unkeyed": map[string]any{"missing": map[string]any{"field": keyed}}}
	}
	aggs := map[string]any{"sizes": histogram}
	if perUser {
		aggs["users"] = map[string]any{"cardinality": map[string]any{"field": "actor.id"}}
	}
	body, err := analysisBody(p, filter, aggs, filters...)
	if err != nil {
		return Request{}, err
	}
	body["track_total_hits"] = false
	return f.requestFiltered(body, "aggregations.sizes.buckets.key", "aggregations.sizes.buckets.doc_count", "aggregations.sizes.buckets.unkeyed.doc_count", "aggregations.users.value")
}

// namesRequest returns the search of the page of the users' names after
// the key after (nil for the first): every name and email each user acted
// with, with the time of the latest action under each.
func (f *Finder) namesRequest(p activity.Principal, filter *searchapi.AnalyticsFilter, after map[string]any, filters []any) (Request, error) {
	sources := []any{
		map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}},
		map[string]any{"name": map[string]any{"terms": map[string]any{"field": "actor.name.keyword", "missing_bucket": true}}},
		map[string]any{"email": map[string]any{"terms": map[string]any{"field": "actor.email.keyword", "missing_bucket": true}}},
	}
	aggs := map[string]any{"at": map[string]any{"max": map[string]any{"field": "occurred_at", "format": "epoch_millis"}}}
	body, err := compositeBody(p, filter, sources, aggs, after, filters...)
	if err != nil {
		return Request{}, err
	}
	return f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key", "aggregations.pages.buckets.at.value")
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

// uncached is r asked without OpenSearch's shard request cache, for the
// time spent's pages: megabytes each, more than the cache (1 % of the
// heap) keeps for long, so that keeping each would cost its shard the
// copy of its answer the cache stores (a tenth of a partition's time on
// the bench corpus) and push out of the cache the small answers that are
// asked again (the dashboards' counts, the engagement's partitions).
func uncached(r Request) Request {
	r.Path += "&request_cache=false"
	return r
}

// namedBucket is one name and email a user acted with, and when they
// last did.
type namedBucket struct {
	Key struct {
		User  string  `json:"user"`
		Name  *string `json:"name"`
		Email *string `json:"email"`
	} `json:"key"`
	At moment `json:"at"`
}

// userNames keeps the name and email of each user's latest action, and
// when it happened.
type userNames map[string]struct {
	actor activity.Actor
	at    float64
}

// read returns the names reader that fills n: of the names and emails a
// user acted with, the one of their latest action (at the same
// millisecond, the greater name, then email).
func (n userNames) read() func(raw []byte) (map[string]any, error) {
	return func(raw []byte) (map[string]any, error) {
		var page []namedBucket
		after, err := pageOf(raw, compositePage, &page)
		for _, b := range page {
			a := activity.Actor{Name: deref(b.Key.Name), Email: deref(b.Key.Email)}
			old, seen := n[b.Key.User]
			if seen && (b.At.Value < old.at || b.At.Value == old.at && (a.Name < old.actor.Name || a.Name == old.actor.Name && a.Email < old.actor.Email)) {
				continue
			}
			n[b.Key.User] = struct {
				actor activity.Actor
				at    float64
			}{a, b.At.Value}
		}
		return after, err
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
