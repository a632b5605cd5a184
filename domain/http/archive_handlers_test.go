package http

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// slowArchive holds one file whose reader yields it a chunk at a time,
// pausing before each chunk, as a store far away or a large file does.
type slowArchive struct {
	domain.ArchiveStore
	obj   domain.ArchiveObject
	data  []byte
	chunk int
	pause time.Duration
}

func (a slowArchive) Open(_ context.Context, _, name string) (io.ReadCloser, domain.ArchiveObject, error) {
	if name != a.obj.Name {
		return nil, domain.ArchiveObject{}, activity.Errorf(activity.ENOTFOUND, "name", "no archived file %q", name)
	}
	return io.NopCloser(&slowReader{data: a.data, chunk: a.chunk, pause: a.pause}), a.obj, nil
}

type slowReader struct {
	data  []byte
	chunk int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p[:min(len(p), r.chunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// recordingSettings takes every recorded action.
type recordingSettings struct{ domain.SettingsService }

func (recordingSettings) Record(context.Context, activity.Principal, domain.SystemAction) error {
	return nil
}

// TestArchiveDownloadsOutlastTheWriteTimeout checks that a download that
// goes on steadily for longer than the server's write timeout arrives
// whole: the write timeout bounds a stall, not the whole download.
func TestArchiveDownloadsOutlastTheWriteTimeout(t *testing.T) {
	owner := activity.Principal{WorkspaceID: "w", UserID: "u", Role: activity.RoleOwner, Type: activity.ActorUser}
	name := "export/" + strings.Repeat("ab", 32) + ".ndjson"
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	store := slowArchive{
		obj:  domain.ArchiveObject{WorkspaceID: "w", Kind: domain.ArchiveExport, Name: name, Size: int64(len(data)), ContentType: "application/x-ndjson"},
		data: data, chunk: 64 << 10, pause: 80 * time.Millisecond, // 32 chunks: about 2.5 s in all
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := NewServer(Config{WriteTimeout: time.Second}, Services{Authenticator: principalAuth{owner}, Settings: recordingSettings{}, Archive: store}, log)
	s.NotFound()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.App.Shutdown() })

	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/v1/archive/"+name, nil)
	req.Header.Set("Authorization", "Bearer t")
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("the download was cut off after %d of %d bytes: %v", len(got), len(data), err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, not the file's %d", len(got), len(data))
	}
}
