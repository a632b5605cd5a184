package opensearch

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	activity "github.com/fluxera/activity"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/searchapi"
)

// countingProxy forwards loopback connections to OpenSearch, counting them
// and keeping what OpenSearch answered.
type countingProxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	conns   int
	open    []net.Conn
	answers bytes.Buffer
	wg      sync.WaitGroup
}

func mustCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *countingProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.open = append(p.open, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(up, c); up.Close() }()
		go func() { defer p.wg.Done(); io.Copy(io.MultiWriter(c, p.writer()), up); c.Close() }()
	}
}

// writer appends to the answers under the lock.
func (p *countingProxy) writer() io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.answers.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *countingProxy) seen() (int, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns, bytes.Clone(p.answers.Bytes())
}

// TestFinderKeepsOneConnectionToOpenSearch reads listings to their end,
// one request after the other, through a proxy in front of the real
// OpenSearch: the first pages, the points in time opened, read and closed
// all go over one kept connection, and OpenSearch's answers come
// uncompressed, since the finder reads each whole at once.
func TestFinderKeepsOneConnectionToOpenSearch(t *testing.T) {
	ws := activity.NewEventID()
	ix := mustActivityIndex(t, workspaceEvents(ws, 7))
	target, err := url.Parse(ix.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := mustCountingProxy(t, target.Host)
	cfg := ingestos.Config{URLs: []string{"http://" + proxy.ln.Addr().String()}, IndexPrefix: ix.prefix}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := ingestos.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	finder := NewFinder(client, ix.prefix, WithCursorKey([]byte("connections")))
	p := owner(ws)
	for listing := 0; listing < 3; listing++ {
		filter := searchapi.EventFilter{Limit: 2}
		pages := 0
		for {
			page, err := finder.FindEvents(t.Context(), p, filter)
			if err != nil {
				t.Fatalf("listing %d, page %d: %v", listing+1, pages+1, err)
			}
			pages++
			if page.NextCursor == "" {
				break
			}
			ix.pitOf(t, page.NextCursor)
			filter.Cursor = page.NextCursor
		}
		if pages != 4 {
			t.Fatalf("listing %d had %d pages, want 4", listing+1, pages)
		}
	}
	conns, answers := proxy.seen()
	if conns != 1 {
		t.Errorf("three listings read to their end opened %d connections to OpenSearch, want 1", conns)
	}
	if bytes.Contains(bytes.ToLower(answers), []byte("content-encoding: gzip")) {
		t.Errorf("OpenSearch compressed its answers to the finder")
	}
}
