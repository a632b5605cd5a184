package http

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/searchapi"
)

// TestEncodePageIsWhatEncodingJSONWrites holds the listing's encoder to
// encoding/json, byte for byte, over generated entries and the awkward
// ones: HTML, separators, control characters, invalid UTF-8, numbers at
// the edges of float64, chain links, restored entries and facets.
func TestEncodePageIsWhatEncodingJSONWrites(t *testing.T) {
	raw, err := synthetic.Encodings(7, 2000)
	if err != nil {
		t.Fatal(err)
	}
	odd := []string{"", "\"quoted\"", `back\slash`, "tab\tnew\nline\r\x01\x1f", "<b>&amp;</b>", "\u2028\u2029", "Zoë 日本 \U0001F600", "del\x7f", "bad\xffutf8", "=HYPERLINK(\"x\")"}
	var entries []searchapi.Entry
	for i, b := range raw {
		var e activity.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		entry := searchapi.Entry{Event: e, Summary: odd[i%len(odd)]}
		if i%7 == 0 {
			entry.Restored = &activity.Restored{ID: odd[i%len(odd)], ExpiresAt: time.Date(2026, 12, 1, 10, 0, 0, 123000000, time.FixedZone("x", 3600))}
		}
		entries = append(entries, entry)
	}
	pages := []searchapi.EventPage{
		{Entries: []searchapi.Entry{}},
		{Entries: entries[:1], Total: 1},
		{
			Entries: entries, Total: 1 << 40, NextCursor: "a.b-c_d",
			Facets: &searchapi.Facets{
				Users:         []searchapi.UserFacet{{ID: odd[4], Name: odd[8], Email: odd[5], Count: 3}},
				Actions:       []searchapi.Facet{{Value: odd[1], Count: 2}},
				ResourceTypes: []searchapi.Facet{},
			},
		},
	}
	for _, e := range entries {
		pages = append(pages, searchapi.EventPage{Entries: []searchapi.Entry{e}, Total: 1})
	}
	for i, p := range pages {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		err = writePage(&got, p)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("page %d:\n%s\nwant\n%s", i, got.Bytes(), want)
		}
	}
}

// TestSendPageWritesEachPageWhole sends pages of several sizes, none
// included, through a real server on one keep-alive connection, and holds
// every answer to encoding/json's bytes (no newline after it) and type.
func TestSendPageWritesEachPageWhole(t *testing.T) {
	raw, err := synthetic.Encodings(11, 60)
	if err != nil {
		t.Fatal(err)
	}
	var entries []searchapi.Entry
	for i, b := range raw {
		var e activity.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		entries = append(entries, searchapi.Entry{Event: e, Summary: "entry " + strconv.Itoa(i)})
	}
	sizes := []int{60, 3, 40, 0, 1, 59}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/page/:n", func(c *fiber.Ctx) error {
		n, _ := strconv.Atoi(c.Params("n"))
		return sendPage(c, searchapi.EventPage{Entries: entries[:n], Total: int64(n)})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	for _, n := range sizes {
		res, err := client.Get("http://" + ln.Addr().String() + "/page/" + strconv.Itoa(n))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(searchapi.EventPage{Entries: entries[:n], Total: int64(n)})
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || !bytes.Equal(got, want) {
			t.Fatalf("page of %d: status %d, type %q:\n%s\nwant\n%s", n, res.StatusCode, res.Header.Get("Content-Type"), got, want)
		}
	}
}
