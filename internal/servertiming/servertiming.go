// Package servertiming measures where a request's time went, for the
// Server-Timing header of its answer (W3C Server Timing): how long the API
// took in all, and how much of it went to OpenSearch and to decoding its
// answers. Browsers show the header in their developer tools; the bench
// reads it to split a request's time between the API and OpenSearch.
package servertiming

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// HeaderName is the header the metrics are answered in.
const HeaderName = "Server-Timing"

// The metrics the platform records. Each names a share of the request's
// time; a request that sends several searches records their sum.
const (
	// Search is the time spent sending requests to OpenSearch (searches,
	// counts, points in time) and reading their answers. Requests sent
	// side by side (an analysis's partitions) may sum to more than App.
	Search = "search"
	// Decode is the time spent decoding OpenSearch's answers that are
	// read whole (pages, the heatmap, counts and other aggregations); the
	// analyses' partitions, decoded as they are read, are not counted.
	Decode = "decode"
	// App is the whole time the API spent on the request, from its
	// middleware's start until its answer was ready to be written (for a
	// streamed answer, until it began).
	App = "app"
)

// Timing holds the metrics of one request. Its methods may be called
// from several goroutines at once.
type Timing struct {
	mu      sync.Mutex
	metrics []metric
	told    bool // Header was called: what comes after is not told
}

type metric struct {
	name  string
	dur   time.Duration
	count int
}

type key struct{}

// With returns ctx carrying t, for Add to record into.
func With(ctx context.Context, t *Timing) context.Context {
	return context.WithValue(ctx, key{}, t)
}

// Add adds d to the metric name of the request ctx belongs to. Without a
// Timing in ctx (a background job, a test), or once its header was made
// (the searches of an export streamed after its answer began), it does
// nothing.
func Add(ctx context.Context, name string, d time.Duration) {
	t, _ := ctx.Value(key{}).(*Timing)
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.told {
		return
	}
	for i := range t.metrics {
		if t.metrics[i].name == name {
			t.metrics[i].dur += d
			t.metrics[i].count++
			return
		}
	}
	t.metrics = append(t.metrics, metric{name: name, dur: d, count: 1})
}

// Header returns the Server-Timing header of the metrics recorded, in the
// order they were first recorded, followed by App with dur app. A metric
// recorded more than once says how many times it was in its description.
// Durations are in milliseconds, to the microsecond.
func (t *Timing) Header(app time.Duration) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.told = true
	b := make([]byte, 0, 64)
	for _, m := range t.metrics {
		b = appendMetric(b, m.name, m.dur)
		if m.count > 1 {
			b = append(b, `;desc="`...)
			b = strconv.AppendInt(b, int64(m.count), 10)
			b = append(b, ` times"`...)
		}
		b = append(b, ", "...)
	}
	return string(appendMetric(b, App, app))
}

func appendMetric(b []byte, name string, d time.Duration) []byte {
	b = append(b, name...)
	b = append(b, ";dur="...)
	return strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 3, 64)
}
