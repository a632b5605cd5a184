package opensearch

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// TestListingOpensItsPointInTimeOnTheSecondPage reads a listing of three
// pages from a stand-in for OpenSearch and checks the points in time: none
// for the first page, one opened for the second and read by the third,
// and closed when the last page is given.
func TestListingOpensItsPointInTimeOnTheSecondPage(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	page := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/_search/point_in_time"):
			calls = append(calls, "open")
			io.WriteString(w, `{"pit_id":"pit-1"}`)
			return
		case r.Method == http.MethodDelete:
			calls = append(calls, "close "+string(b))
			io.WriteString(w, `{"pits":[]}`)
			return
		}
		var req struct {
			PIT *struct {
				ID string `json:"id"`
			} `json:"pit"`
		}
		json.Unmarshal(b, &req)
		if req.PIT != nil {
			calls = append(calls, "search pit="+req.PIT.ID)
		} else {
			calls = append(calls, "search")
		}
		page++
		// Pages of 2: the first two answers hold 3 hits (one more than
		// the page), the last 1.
		n := 3
		if page == 3 {
			n = 1
		}
		var hits []string
		for i := 0; i < n; i++ {
			ms := 1777636800000 - int64(page*10+i)
			hits = append(hits, fmt.Sprintf(`{"_source":{"id":"e-%d-%d"},"sort":[%d,"e-%d-%d"]}`, page, i, ms, page, i))
		}
		fmt.Fprintf(w, `{"hits":{"total":{"value":5},"hits":[%s]}}`, strings.Join(hits, ","))
	}))
	defer srv.Close()
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	finder := NewFinder(client, "test", WithCursorKey([]byte("key")))
	owner := activity.Principal{WorkspaceID: "ws-1", UserID: "u-1", Role: activity.RoleOwner}
	filter := searchapi.EventFilter{Limit: 2}
	var got []int
	for i := 0; i < 3; i++ {
		p, err := finder.FindEvents(t.Context(), owner, filter)
		if err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		got = append(got, len(p.Entries))
		if p.NextCursor == "" {
			break
		}
		filter.Cursor = p.NextCursor
	}
	want := []string{"search", "open", "search pit=pit-1", "search pit=pit-1", `close {"pit_id":["pit-1"]}`}
	if fmt.Sprint(got) != "[2 2 1]" || fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("pages %v, calls %q; want [2 2 1] and %q", got, calls, want)
	}
}
