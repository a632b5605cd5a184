package opensearch

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// logoutsPage is a page of the logouts' composite aggregation as
// OpenSearch answers it, with an after key when it is full.
func logoutsPage(full bool, logouts ...[3]any) []byte {
	var b strings.Builder
	b.WriteString(`{"aggregations":{"pages":{`)
	if full {
		last := logouts[len(logouts)-1]
		fmt.Fprintf(&b, `"after_key":{"at":%d,"user":%q,"session":%q},`, last[0], last[1], last[2])
	}
	b.WriteString(`"buckets":[`)
	for i, l := range logouts {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"key":{"at":%d,"user":%q,"session":%q}}`, l[0], l[1], l[2])
	}
	b.WriteString(`]}}}`)
	return []byte(b.String())
}

func TestFirstLogoutsKeepEachSessionsFirst(t *testing.T) {
	l := newFirstLogouts()
	read := l.read(2)
	after, err := read(logoutsPage(true, [3]any{100, "u1", "s1"}, [3]any{200, "u1", "s2"}))
	if err != nil || after == nil {
		t.Fatalf("a full page: after %v, err %v; want the next page", after, err)
	}
	after, err = read(logoutsPage(false, [3]any{300, "u1", "s1"}))
	if err != nil || after != nil {
		t.Fatalf("the last page: after %v, err %v; want the end", after, err)
	}
	want := map[sessionKey]int64{{"u1", "s1"}: 100, {"u1", "s2"}: 200}
	if fmt.Sprint(l.at) != fmt.Sprint(want) || l.until != math.MaxInt64 {
		t.Fatalf("kept %v until %d; want %v and no bound", l.at, l.until, want)
	}
}

func TestFirstLogoutsStopAtTheBound(t *testing.T) {
	l := newFirstLogouts()
	l.most = 2
	read := l.read(10)
	// A later logout of a session already kept costs nothing; the third
	// session is past the bound, and its time is where the answer stops.
	after, err := read(logoutsPage(false, [3]any{100, "u1", "s1"}, [3]any{150, "u1", "s1"}, [3]any{200, "u2", "s2"}, [3]any{250, "u3", "s3"}, [3]any{300, "u4", "s4"}))
	if err != nil || after != nil {
		t.Fatalf("after %v, err %v; want the end", after, err)
	}
	if len(l.at) != 2 || l.until != 250 {
		t.Fatalf("kept %v until %d; want two sessions until 250", l.at, l.until)
	}
}
