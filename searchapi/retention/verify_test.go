package retention_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/retention"
)

// mustArchiveMonth stores evs as the workspace's archived month starting
// at from, in the order given, with a manifest that tells the truth
// about the file: what the retention job would have written, or what one
// who altered the file and wrote its manifest again would leave.
func mustArchiveMonth(t *testing.T, store domain.ArchiveStore, ws string, from time.Time, write func(enc *json.Encoder) (entries, first, last int64)) retention.Manifest {
	t.Helper()
	pr, pw := io.Pipe()
	m := retention.Manifest{WorkspaceID: ws, Month: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0), ArchivedAt: from.AddDate(0, 3, 0)}
	go func() {
		gz := gzip.NewWriter(pw)
		m.Entries, m.FirstSeq, m.LastSeq = write(json.NewEncoder(gz))
		pw.CloseWithError(gz.Close())
	}()
	obj, err := store.Put(t.Context(), ws, domain.ArchiveRetained, "ndjson.gz", pr)
	if err != nil {
		t.Fatal(err)
	}
	m.ArchiveName, m.SHA256, m.Bytes = obj.Name, obj.SHA256, obj.Size
	raw, _ := json.Marshal(m)
	if _, err := store.Put(t.Context(), ws, domain.ArchiveManifest, "json", bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if err := retention.Verify(t.Context(), store, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// encodeAll writes evs and returns their count and sequence numbers.
func encodeAll(evs []activity.Event) func(enc *json.Encoder) (int64, int64, int64) {
	return func(enc *json.Encoder) (n, first, last int64) {
		for _, e := range evs {
			if enc.Encode(e) != nil {
				return
			}
			if first == 0 || e.Chain.Seq < first {
				first = e.Chain.Seq
			}
			last = max(last, e.Chain.Seq)
			n++
		}
		return
	}
}

// TestVerifyingTheArchiveNamesTheFirstBrokenEntry archives a month of 80
// chained entries in a scrambled order, as files hold them, and verifies
// it streamed with the 5 entries after it still in the real OpenSearch:
// in runs of 4 entries, so that the month is sorted in 20 runs on disk
// merged again, the whole chain verifies; an entry edited, deleted,
// moved to another place or inserted is named at its sequence number.
func TestVerifyingTheArchiveNamesTheFirstBrokenEntry(t *testing.T) {
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("e", audit.DigestKeySize))
	for _, tt := range []struct {
		name   string
		tamper func(es []activity.Event) []activity.Event
		seq    int64
		kind   string
	}{
		{"untouched", func(es []activity.Event) []activity.Event { return es }, 0, ""},
		{"an entry edited", func(es []activity.Event) []activity.Event {
			es[40].Action = "asset.deleted"
			return es
		}, 41, audit.Altered},
		{"an entry deleted", func(es []activity.Event) []activity.Event {
			return slices.Delete(es, 40, 41)
		}, 41, audit.Missing},
		{"two entries swapped", func(es []activity.Event) []activity.Event {
			es[40].Chain.Seq, es[41].Chain.Seq = 42, 41
			return es
		}, 41, audit.Reordered},
		{"an entry inserted", func(es []activity.Event) []activity.Event {
			fake := es[40]
			fake.ID = activity.NewEventID()
			fake.Action = "asset.created"
			c := *fake.Chain
			c.Hash = audit.Recompute(&fake)
			fake.Chain = &c
			return append(es, fake)
		}, 41, audit.Inserted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := activity.NewEventID()
			month := events(ws, activity.NewEventID(), jan.Add(time.Hour), 80)
			later := events(ws, activity.NewEventID(), jan.AddDate(0, 2, 0), 5)
			link(key, month, later)
			now := jan.AddDate(0, 6, 0)
			finder, _ := mustIndex(t, func() time.Time { return now }, later)
			archived := tt.tamper(month)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(archived), func(i, j int) { archived[i], archived[j] = archived[j], archived[i] })
			store := disk.Archive{Dir: t.TempDir()}
			mustArchiveMonth(t, store, ws, jan, encodeAll(archived))

			src := retention.WithArchive{Archive: store, Index: searchapi.ChainIndex{Reader: finder}, RunSize: 4, TempDir: t.TempDir()}
			got, err := (&audit.Verifier{DigestKey: key, Whole: true}).Verify(t.Context(), ws, src.Entries(ws, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if tt.kind == "" {
				if !got.OK || got.Entries != 85 || got.LastSeq != 85 {
					t.Fatalf("untouched: %+v %+v; want the 85 entries whole", got, got.Problem)
				}
				return
			}
			if got.OK || got.Problem == nil || got.Problem.Seq != tt.seq || got.Problem.Kind != tt.kind {
				t.Fatalf("found %+v; want %s at %d", got.Problem, tt.kind, tt.seq)
			}
		})
	}
}

// TestVerifyingALargeArchivedMonthTakesBoundedMemory verifies an archived
// month of 200,000 small entries, written in an order that is not the
// chain's, together with the entries after it in the real OpenSearch,
// and samples the heap as the entries go by: it stays within a bound far
// smaller than the month's decompressed size. Memory, not time, is
// measured.
func TestVerifyingALargeArchivedMonthTakesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and verifies a month of 200,000 entries")
	}
	const n = 200_000
	ws := activity.NewEventID()
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := []byte(strings.Repeat("f", audit.DigestKeySize))
	later := events(ws, activity.NewEventID(), jan.AddDate(0, 2, 0), 3)
	var decompressed int64
	store := disk.Archive{Dir: t.TempDir()}
	mustArchiveMonth(t, store, ws, jan, func(enc *json.Encoder) (int64, int64, int64) {
		// Linked in chain order and written a pair at a time swapped.
		prev := audit.GenesisHash
		var pending *activity.Event
		counter := &countingWriter{}
		for i := 1; i <= n; i++ {
			e := activity.NewEvent(ws, "asset.updated", jan.Add(time.Duration(i)*time.Second))
			e.Actor = activity.Actor{ID: "u1", Name: "Ann Lee", Email: "ann@example.test", Type: activity.ActorUser}
			e.Resource = activity.Resource{Type: "asset", ID: fmt.Sprint(i), Name: fmt.Sprintf("Laptop %d", i)}
			prev = audit.Link(&e, int64(i), prev, key)
			if pending == nil {
				pending = &e
				continue
			}
			for _, x := range []*activity.Event{&e, pending} {
				raw, _ := json.Marshal(x)
				counter.n += int64(len(raw)) + 1
				if enc.Encode(x) != nil {
					return 0, 0, 0
				}
			}
			pending = nil
		}
		decompressed = counter.n
		// The entries after the month continue the chain.
		for i := range later {
			prev = audit.Link(&later[i], int64(n+1+i), prev, key)
		}
		return n, 1, n
	})
	now := jan.AddDate(0, 6, 0)
	finder, _ := mustIndex(t, func() time.Time { return now }, later)

	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	heap := &heapSampler{base: base}
	archive := sampledArchive{Archive: store, heap: heap}
	src := &sampled{Entries: retention.WithArchive{Archive: archive, Index: searchapi.ChainIndex{Reader: finder}, TempDir: t.TempDir()}.Entries(ws, 0, 0), heap: heap}
	got, err := (&audit.Verifier{DigestKey: key, Whole: true}).Verify(t.Context(), ws, src)
	if err != nil || !got.OK || got.Entries != n+3 {
		t.Fatalf("verify = %+v %+v, %v; want the %d entries whole", got, got.Problem, err, n+3)
	}
	const bound = 32 << 20
	t.Logf("month of %d entries, %d MB decompressed; heap grew at most %d MB over %d samples", n, decompressed>>20, heap.peak>>20, heap.samples)
	if heap.samples < 40 {
		t.Fatalf("%d samples of the heap; want them both while the month is read and while it is merged", heap.samples)
	}
	if decompressed < 2*bound {
		t.Fatalf("the month is %d MB decompressed; the test needs it well above the bound of %d MB", decompressed>>20, bound>>20)
	}
	if heap.peak > bound {
		t.Errorf("the heap grew by %d MB while verifying a month of %d MB; want at most %d MB", heap.peak>>20, decompressed>>20, bound>>20)
	}
}

// countingWriter counts bytes.
type countingWriter struct{ n int64 }

// heapSampler keeps the largest growth of the heap over base among the
// samples taken.
type heapSampler struct {
	base          uint64
	peak, samples int64
}

func (h *heapSampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.samples++
	if ms.HeapAlloc > h.base {
		h.peak = max(h.peak, int64(ms.HeapAlloc-h.base))
	}
}

// sampled samples the heap every 10,000 entries read: while the months
// are merged.
type sampled struct {
	audit.Entries
	heap *heapSampler
	n    int
}

func (s *sampled) Next(ctx context.Context) (activity.Event, error) {
	e, err := s.Entries.Next(ctx)
	if s.n++; s.n%10_000 == 0 {
		s.heap.sample()
	}
	return e, err
}

// sampledArchive samples the heap every 256 kilobytes read from an archived
// month's file: while the month is read and sorted.
type sampledArchive struct {
	disk.Archive
	heap *heapSampler
}

func (a sampledArchive) Open(ctx context.Context, ws, name string) (io.ReadCloser, domain.ArchiveObject, error) {
	rc, obj, err := a.Archive.Open(ctx, ws, name)
	if err != nil || !strings.HasPrefix(name, domain.ArchiveRetained+"/") {
		return rc, obj, err
	}
	return &sampledReader{ReadCloser: rc, heap: a.heap}, obj, nil
}

type sampledReader struct {
	io.ReadCloser
	heap      *heapSampler
	n, marked int64
}

func (r *sampledReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if r.n += int64(n); r.n-r.marked >= 256<<10 {
		r.marked = r.n
		r.heap.sample()
	}
	return n, err
}
