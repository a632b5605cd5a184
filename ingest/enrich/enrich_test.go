package enrich_test

import (
	"net/netip"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/ingest/enrich"
)

func TestBundledTable(t *testing.T) {
	table := enrich.Bundled()
	tests := []struct {
		ip   string
		want activity.Location
		ok   bool
	}{
		{"203.0.113.24", activity.Location{Country: "GB", City: "London", Network: "Example Telecom"}, true},
		{"198.51.100.255", activity.Location{Country: "US", City: "New York", Network: "Example Cloud"}, true},
		{"2001:db8::42", activity.Location{Country: "DE", City: "Berlin", Network: "Example Office Network"}, true},
		{"2001:db8:1:ffff::1", activity.Location{Country: "JP", City: "Tokyo", Network: "Example Mobile"}, true},
		{"127.0.0.1", activity.Location{Network: "loopback"}, true},
		{"::ffff:10.1.2.3", activity.Location{Network: "private"}, true},
		{"169.254.169.254", activity.Location{Network: "link-local"}, true},
		{"8.8.8.8", activity.Location{}, false},
		{"2001:db8:2::1", activity.Location{}, false},
	}
	for _, tt := range tests {
		got, ok := table.Locate(netip.MustParseAddr(tt.ip))
		if got != tt.want || ok != tt.ok {
			t.Errorf("Locate(%s) = %+v, %v; want %+v, %v", tt.ip, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLoadCSV(t *testing.T) {
	table, err := enrich.LoadCSV(strings.NewReader("start,end,country,city\n1.0.0.0,1.0.0.255,au,Sydney\n1.0.1.0,1.0.3.255,CN,\n"))
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]string{"1.0.0.0": "AU", "1.0.0.255": "AU", "1.0.2.7": "CN", "1.0.4.0": ""} {
		got, _ := table.Locate(netip.MustParseAddr(ip))
		if got.Country != want {
			t.Errorf("Locate(%s).Country = %q, want %q", ip, got.Country, want)
		}
	}
	for name, body := range map[string]string{
		"no range columns": "country\nDE\n",
		"bad network":      "network,country\n1.2.3/24,DE\n",
		"overlap":          "network,country\n10.9.0.0/16,DE\n10.9.1.0/24,FR\n",
		"backwards":        "start,end\n1.0.0.9,1.0.0.1\n",
		"mixed families":   "start,end\n1.0.0.1,2001:db8::1\n",
	} {
		if _, err := enrich.LoadCSV(strings.NewReader(body)); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func TestParseUserAgent(t *testing.T) {
	tests := []struct {
		ua   string
		want ingest.Client
	}{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
			ingest.Client{Browser: "Safari", BrowserVersion: "17", OS: "macOS 14.4", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			ingest.Client{Browser: "Chrome", BrowserVersion: "124", OS: "Windows 10", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
			ingest.Client{Browser: "Edge", BrowserVersion: "124", OS: "Windows 10", Device: "desktop"}},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
			ingest.Client{Browser: "Firefox", BrowserVersion: "125", OS: "Linux", Device: "desktop"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
			ingest.Client{Browser: "Safari", BrowserVersion: "17", OS: "iOS 17.4", Device: "mobile"}},
		{"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1",
			ingest.Client{Browser: "Chrome", BrowserVersion: "123", OS: "iOS 16.6", Device: "tablet"}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.54 Mobile Safari/537.36",
			ingest.Client{Browser: "Chrome", BrowserVersion: "124", OS: "Android 14", Device: "mobile"}},
		{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36",
			ingest.Client{Browser: "Samsung Internet", BrowserVersion: "24", OS: "Android 13", Device: "tablet"}},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
			ingest.Client{Browser: "Opera", BrowserVersion: "109", OS: "ChromeOS", Device: "desktop"}},
		{"Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
			ingest.Client{Browser: "Internet Explorer", BrowserVersion: "11", OS: "Windows 7", Device: "desktop"}},
		{"curl/8.5.0", ingest.Client{Browser: "curl", BrowserVersion: "8", Device: "script"}},
		{"fluxera-cli/1.4 (linux)", ingest.Client{Browser: "Fluxera CLI", BrowserVersion: "1", OS: "Linux", Device: "script"}},
		{"python-requests/2.31.0", ingest.Client{Browser: "Python Requests", BrowserVersion: "2", Device: "script"}},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ingest.Client{Browser: "Googlebot", Device: "bot"}},
		{"", ingest.Client{}},
		{"something nobody knows", ingest.Client{}},
	}
	for _, tt := range tests {
		if got := enrich.ParseUserAgent(tt.ua); got != tt.want {
			t.Errorf("ParseUserAgent(%q)\n got %+v\nwant %+v", tt.ua, got, tt.want)
		}
	}
}

func TestEnricherKeepsALocationTheEventHas(t *testing.T) {
	doc := ingest.SearchDocument{Event: activity.Event{Context: activity.Context{IP: "203.0.113.5", UserAgent: "curl/8.0", Location: &activity.Location{Country: "FR"}}}}
	enrich.Enricher{Locator: enrich.Bundled()}.Enrich(&doc)
	if doc.Context.Location.Country != "FR" || doc.Client.Browser != "curl" {
		t.Errorf("enriched to %+v, client %+v", doc.Context.Location, doc.Client)
	}
	doc = ingest.SearchDocument{Event: activity.Event{Context: activity.Context{IP: "203.0.113.5"}}}
	enrich.Enricher{Locator: enrich.Bundled()}.Enrich(&doc)
	if doc.Context.Location == nil || doc.Context.Location.City != "London" {
		t.Errorf("location = %+v", doc.Context.Location)
	}
}

// TestEnrichAllocations bounds what enriching an event the indexer has
// seen the like of costs: its location is one allocation, its client none.
func TestEnrichAllocations(t *testing.T) {
	en := enrich.Enricher{Locator: enrich.Bundled()}
	doc := ingest.SearchDocument{}
	doc.Context.IP = "203.0.113.24"
	doc.Context.UserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	en.Enrich(&doc)
	want := doc.Client
	got := testing.AllocsPerRun(100, func() {
		doc.Context.Location = nil
		en.Enrich(&doc)
	})
	if got > 1 {
		t.Errorf("enriching a document takes %.0f allocations, want at most 1", got)
	}
	if doc.Client != want || doc.Context.Location == nil || doc.Context.Location.City != "London" {
		t.Errorf("enriched %+v, %+v", doc.Client, doc.Context.Location)
	}
}
