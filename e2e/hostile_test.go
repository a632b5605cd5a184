package e2e

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// rawRequest is a request sent byte for byte as written: its body, its
// content type and any headers, with nothing encoded on the way.
type rawRequest struct {
	method, path, contentType string
	header                    map[string]string
	body                      []byte
}

// sendRaw sends r and returns the whole answer. When no answer comes, it
// fails t and returns a zero answer, which the checks below pass over.
func (c *client) sendRaw(t testing.TB, r rawRequest) answer {
	t.Helper()
	req, err := http.NewRequest(r.method, c.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	req.Header.Set("User-Agent", "fluxera-test/1.0")
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Errorf("%s %.80s: no answer: %v", r.method, r.path, err)
		return answer{}
	}
	defer res.Body.Close()
	return answer{status: res.StatusCode, body: readBody(res), header: res.Header}
}

// wantRefusedWithJSON fails unless a is a 4xx whose body is a JSON error
// with a message, and returns that error.
func wantRefusedWithJSON(t *testing.T, what string, a answer) errorAnswer {
	t.Helper()
	var e errorAnswer
	if a.status == 0 {
		return e
	}
	if a.status < 400 || a.status >= 500 {
		t.Errorf("%s answered %d, want a 4xx: %.300s", what, a.status, a.body)
		return e
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Message == "" {
		t.Errorf("%s answered %d without a JSON error body: %.300s", what, a.status, a.body)
	}
	return e
}

// wantNoServerError fails when a is a 5xx, or a 4xx without a JSON error
// body.
func wantNoServerError(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status >= 500 {
		t.Errorf("%s answered %d: %.300s", what, a.status, a.body)
		return
	}
	if a.status >= 400 {
		wantRefusedWithJSON(t, what, a)
	}
}

// gzipped returns data compressed with gzip.
func gzipped(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

// deflated returns data compressed as HTTP's deflate (zlib).
func deflated(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

// multipartBody returns a multipart/form-data body with one part, written
// by hand so that its headers can be anything, and its content type.
func multipartBody(field, fileName string, data []byte) ([]byte, string) {
	const boundary = "fluxera-test-boundary"
	var b bytes.Buffer
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n", boundary, field, fileName)
	b.Write(data)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), "multipart/form-data; boundary=" + boundary
}

// TestCompressedBodiesAreRefusedUnread sends bodies with a Content-Encoding
// to the routes that read bodies — login, invitation accept, the asset
// import, the image upload and JSON edits — among them a gzip body of about
// 200 kB that inflates to 200 MB. Each must be refused with 415 and a JSON
// error before anything is inflated: while answering all of them the
// process allocates far less than one inflated body, and nothing is
// written. A body marked identity is an ordinary body.
func TestCompressedBodiesAreRefusedUnread(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Compressed")
	asset := mustID(t, owner.call("POST", "/api/v1/assets", map[string]string{"name": "Laptop"}, nil), "asset")
	var inv domain.NewInvitation
	owner.call("POST", "/api/v1/invitations", map[string]string{"email": "x-" + stacktest.RandomID() + "@example.com", "role": "viewer"}, nil).decode(t, &inv)

	const inflated = 200 << 20
	bomb := gzipped(t, make([]byte, inflated))
	if len(bomb) > 300<<10 {
		t.Fatalf("the gzip body has %d bytes, want about 200 kB", len(bomb))
	}
	login, _ := json.Marshal(map[string]string{"email": owner.email, "password": owner.password})
	accept, _ := json.Marshal(map[string]string{"token": inv.Token, "password": "accepted-password"})
	upload, uploadType := multipartBody("file", "a.png", png)
	uploadBomb, _ := multipartBody("file", "a.png", nil)
	uploadBomb = gzipped(t, append(uploadBomb, make([]byte, inflated)...))
	anon := newClient(t, m)
	cases := []struct {
		name     string
		c        *client
		req      rawRequest
		encoding string
	}{
		{"login, inflating to 200 MB", anon, rawRequest{method: "POST", path: "/api/v1/auth/login", contentType: "application/json", body: bomb}, "gzip"},
		{"login", anon, rawRequest{method: "POST", path: "/api/v1/auth/login", contentType: "application/json", body: gzipped(t, login)}, "gzip"},
		{"invitation accept, inflating to 200 MB", anon, rawRequest{method: "POST", path: "/api/v1/invitations/accept", contentType: "application/json", body: bomb}, "gzip"},
		{"invitation accept", anon, rawRequest{method: "POST", path: "/api/v1/invitations/accept", contentType: "application/json", body: deflated(t, accept)}, "deflate"},
		{"import, inflating to 200 MB", owner.client, rawRequest{method: "POST", path: "/api/v1/assets/import", contentType: "text/csv", body: bomb}, "gzip"},
		{"import", owner.client, rawRequest{method: "POST", path: "/api/v1/assets/import", contentType: "text/csv", body: gzipped(t, []byte("name\nMonitor\n"))}, "gzip"},
		{"upload, inflating to 200 MB", owner.client, rawRequest{method: "POST", path: "/api/v1/assets/" + asset + "/images", contentType: uploadType, body: uploadBomb}, "gzip"},
		{"upload", owner.client, rawRequest{method: "POST", path: "/api/v1/assets/" + asset + "/images", contentType: uploadType, body: gzipped(t, upload)}, "gzip"},
		{"edit", owner.client, rawRequest{method: "PATCH", path: "/api/v1/assets/" + asset, contentType: "application/json", body: gzipped(t, []byte(`{"name":"Renamed"}`))}, "gzip"},
		{"edit, brotli", owner.client, rawRequest{method: "PATCH", path: "/api/v1/assets/" + asset, contentType: "application/json", body: []byte(`{"name":"Renamed"}`)}, "br"},
		{"edit, two encodings", owner.client, rawRequest{method: "PATCH", path: "/api/v1/assets/" + asset, contentType: "application/json", body: gzipped(t, []byte(`{"name":"Renamed"}`))}, "identity, gzip"},
		{"body-less delete", owner.client, rawRequest{method: "DELETE", path: "/api/v1/assets/" + asset}, "gzip"},
	}
	before := ob.last()
	var start runtime.MemStats
	runtime.ReadMemStats(&start)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.header = map[string]string{"Content-Encoding": tt.encoding}
			a := tt.c.sendRaw(t, tt.req)
			e := wantRefusedWithJSON(t, tt.name, a)
			if a.status != http.StatusUnsupportedMediaType || e.Error.Code != "unsupported_media_type" {
				t.Errorf("answered %d %s, want 415 unsupported_media_type", a.status, a.body)
			}
		})
	}
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	if allocated := end.TotalAlloc - start.TotalAlloc; allocated > 64<<20 {
		t.Errorf("answering the compressed bodies allocated %d MB: a body was inflated", allocated>>20)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("refused compressed bodies wrote %d events", len(events))
	}
	a := anon.sendRaw(t, rawRequest{method: "POST", path: "/api/v1/auth/login", contentType: "application/json", body: login, header: map[string]string{"Content-Encoding": "identity"}})
	if a.status != http.StatusOK {
		t.Errorf("a login marked Content-Encoding: identity answered %d %s, want 200", a.status, a.body)
	}
}

// TestControlCharactersInTextAreRefused sends names and free text with NUL
// and other control characters to every route that takes them, and checks
// each is refused with 400 naming the field, without writing anything;
// tab and newline pass where a note or description allows them.
func TestControlCharactersInTextAreRefused(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Control")
	target := mustRoleMember(t, m, owner.client, "member")
	f := mustFixture(t, m, owner, owner.client, target.id)
	var inv domain.NewInvitation
	owner.call("POST", "/api/v1/invitations", map[string]string{"email": "c-" + stacktest.RandomID() + "@example.com", "role": "viewer"}, nil).decode(t, &inv)
	asset := "/api/v1/assets/" + f.asset
	license := "/api/v1/licenses/" + f.license
	rule := "/api/v1/alert-rules/" + f.rule
	ruleBody := func(field, v string) map[string]any {
		b := map[string]any{"name": "Deletions", "activity_types": []string{"license.deleted"}, "channels": []map[string]any{{"type": "email", "to": []string{"security@example.com"}}}}
		b[field] = v
		return b
	}
	refused := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"asset name with NUL", "POST", "/api/v1/assets", map[string]string{"name": "Dell\x00XPS"}, "name"},
		{"asset name with a C1 control", "PATCH", asset, map[string]string{"name": "Dell\u0085XPS"}, "name"},
		{"asset name with a newline", "POST", "/api/v1/assets", map[string]string{"name": "Dell\nXPS"}, "name"},
		{"asset tag with an escape", "POST", "/api/v1/assets", map[string]string{"name": "Dell", "asset_tag": "T-\x1b[31m1"}, "asset_tag"},
		{"serial with DEL", "PATCH", asset, map[string]string{"serial": "C02\x7f"}, "serial"},
		{"category with a tab", "PATCH", asset, map[string]string{"category": "Lap\ttop"}, "category"},
		{"location with a newline", "PATCH", asset, map[string]string{"location": "Berlin\nMitte"}, "location"},
		{"asset note with NUL", "PATCH", asset, map[string]string{"location": "Paris", "note": "why\x00"}, "note"},
		{"status change note with a bell", "PUT", asset + "/status", map[string]string{"status": "lost", "note": "ding\x07"}, "note"},
		{"delete note with NUL", "DELETE", asset, map[string]string{"note": "gone\x00"}, "note"},
		{"maintenance description with NUL", "POST", asset + "/maintenance", map[string]string{"scheduled_for": "2027-01-01", "description": "clean\x00"}, "description"},
		{"maintenance outcome with NUL", "POST", asset + "/maintenance/" + f.maintenance + "/complete", map[string]string{"outcome": "done\x00"}, "outcome"},
		{"license name with NUL", "POST", "/api/v1/licenses", map[string]any{"name": "Zoom\x00", "seats": 1}, "name"},
		{"license vendor with NUL", "PATCH", license, map[string]any{"vendor": "Zoom\x00Inc"}, "vendor"},
		{"license key with NUL", "PATCH", license, map[string]any{"key": "K-\x001"}, "key"},
		{"seat note with NUL", "POST", license + "/unassign", map[string]string{"user_id": target.id, "note": "x\x00"}, "note"},
		{"renewal note with NUL", "POST", license + "/renew", map[string]string{"expires_on": "2029-01-01", "note": "x\x00"}, "note"},
		{"own name with NUL", "PATCH", "/api/v1/me", map[string]string{"name": "Ann\x00"}, "name"},
		{"token name with a bell", "POST", "/api/v1/tokens", map[string]string{"name": "ci\x07"}, "name"},
		{"invited name with NUL", "POST", "/api/v1/invitations", map[string]string{"email": "n-" + stacktest.RandomID() + "@example.com", "role": "viewer", "name": "Bob\x00"}, "name"},
		{"invitation note with NUL", "POST", "/api/v1/invitations", map[string]string{"email": "n-" + stacktest.RandomID() + "@example.com", "role": "viewer", "note": "x\x00"}, "note"},
		{"accepted name with NUL", "POST", "/api/v1/invitations/accept", map[string]string{"token": inv.Token, "password": "accepted-password", "name": "Eve\x00"}, "name"},
		{"role change note with NUL", "PUT", "/api/v1/users/" + target.id + "/role", map[string]string{"role": "viewer", "note": "x\x00"}, "note"},
		{"workspace name with NUL", "PATCH", "/api/v1/settings", map[string]string{"name": "Acme\x00"}, "name"},
		{"settings note with NUL", "PATCH", "/api/v1/settings", map[string]string{"name": "Acme", "note": "x\x00"}, "note"},
		{"rule name with NUL", "POST", "/api/v1/alert-rules", ruleBody("name", "Deletions\x00"), "name"},
		{"rule name with a newline", "PATCH", rule, map[string]string{"name": "Dele\ntions"}, "name"},
		{"rule description with NUL", "POST", "/api/v1/alert-rules", ruleBody("description", "x\x00"), "description"},
		{"rule note with NUL", "DELETE", rule, map[string]string{"note": "x\x00"}, "note"},
		{"alert note with NUL", "POST", "/api/v1/alerts/" + f.alert + "/acknowledge", map[string]string{"note": "x\x00"}, "note"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := ob.last()
			a := owner.call(tt.method, tt.path, tt.body, nil)
			e := wantRefusedWithJSON(t, tt.name, a)
			if a.status != http.StatusBadRequest || e.Error.Field != tt.field {
				t.Errorf("answered %d %s, want 400 naming %s", a.status, a.body, tt.field)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused request wrote %d events", len(events))
			}
		})
	}
	imports := []struct{ name, csv, field string }{
		{"imported name with NUL", "name\nDell\x00XPS\n", "rows[0].name"},
		{"imported location with a newline", "name,location\nA,Berlin\nB,\"Ber\nlin\"\n", "rows[1].location"},
		{"imported serial that is not UTF-8", "name,serial\nA,\xff\xfe\n", "rows[0].serial"},
	}
	for _, tt := range imports {
		t.Run(tt.name, func(t *testing.T) {
			before := ob.last()
			a := owner.postCSV("/api/v1/assets/import", tt.csv)
			e := wantRefusedWithJSON(t, tt.name, a)
			if a.status != http.StatusBadRequest || e.Error.Field != tt.field {
				t.Errorf("answered %d %s, want 400 naming %s", a.status, a.body, tt.field)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused import wrote %d events", len(events))
			}
		})
	}
	allowed := []struct {
		name, method, path string
		body               any
	}{
		{"a note over several lines", "POST", "/api/v1/assets", map[string]string{"name": "Dell", "note": "first line\r\nsecond\tline"}},
		{"a description over several lines", "POST", asset + "/maintenance", map[string]string{"scheduled_for": "2027-01-01", "description": "clean\nthe\tfans"}},
		{"a rule description over several lines", "PATCH", rule, map[string]string{"description": "one\ntwo"}},
		{"names in any script", "POST", "/api/v1/assets", map[string]string{"name": "Ноутбук 💻 ラップトップ"}},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			if a := owner.call(tt.method, tt.path, tt.body, nil); a.status >= 300 {
				t.Errorf("answered %d %s, want success", a.status, a.body)
			}
		})
	}
	if a := owner.postCSV("/api/v1/assets/import", "name,note\nA,\"two\nlines\"\n"); a.status != http.StatusCreated {
		t.Errorf("an imported note over two lines answered %d %s", a.status, a.body)
	}
}

// publicEndpoints lists the routes that need no credentials, with bodies
// that name owner's account but never open a session or answer a real
// invitation.
func publicEndpoints(owner member) map[string]endpoint {
	path := func(s string) func(fixture) string { return func(fixture) string { return s } }
	body := func(v any) func(fixture) any { return func(fixture) any { return v } }
	return map[string]endpoint{
		"POST /api/v1/auth/login":          {public: true, path: path("/api/v1/auth/login"), body: body(map[string]string{"email": owner.email, "password": "not-the-password"})},
		"POST /api/v1/auth/logout":         {public: true, path: path("/api/v1/auth/logout"), body: body(nil)},
		"POST /api/v1/invitations/accept":  {public: true, path: path("/api/v1/invitations/accept"), body: body(map[string]string{"token": "no-such-token", "password": "a-password", "name": "Someone"})},
		"POST /api/v1/invitations/decline": {public: true, path: path("/api/v1/invitations/decline"), body: body(map[string]string{"token": "no-such-token"})},
		"POST /api/v1/signup": {public: true, path: path("/api/v1/signup"), body: func(fixture) any {
			return map[string]string{"workspace_name": "Hostile Signup", "time_zone": "UTC", "owner_email": "signup-" + stacktest.RandomID() + "@example.com", "owner_name": "Sam Signup", "password": "long-enough-1"}
		}},
		"GET /api/v1/openapi.json": {public: true, path: path("/api/v1/openapi.json"), body: body(nil)},
	}
}

// hostileRequest is one request of hostileRequests; refused says that no
// route may take it, so that it must be answered with a 4xx.
type hostileRequest struct {
	name    string
	req     rawRequest
	refused bool
}

// hostileValues are JSON values sent in place of each field of a body.
var hostileValues = []any{
	"a\x00b", "\x1b[2J", "line\nbreak", "\u0085", strings.Repeat("x", 100_000), "\u202e\ufeff",
	-1, 0, 3_000_000_000, 1e300, 1.5, true, nil, []any{"a"}, map[string]any{"a": 1},
	"2026-02-30", "9999-12-31", "../../etc/passwd",
}

// hostileRequests returns hostile variants of the valid request of ep on
// fixture f; password is the caller's current password, for the routes
// that ask for it.
func hostileRequests(t *testing.T, ep endpoint, f fixture, password string) []hostileRequest {
	t.Helper()
	valid := rawRequest{method: ep.method, path: ep.path(f)}
	var fields map[string]any
	switch {
	case ep.upload:
		valid.body, valid.contentType = multipartBody("file", "b.png", png)
	case ep.csv != "":
		valid.body, valid.contentType = []byte(ep.csv), "text/csv"
	default:
		var body any
		if ep.body != nil {
			body = ep.body(f)
		} else {
			body = map[string]string{"current_password": password, "new_password": password + "-2"}
		}
		if body != nil {
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(raw, &fields)
			valid.body, valid.contentType = raw, "application/json"
		}
	}
	with := func(change func(r *rawRequest)) rawRequest {
		r := valid
		r.header = map[string]string{}
		change(&r)
		return r
	}

	// What no route may take, whatever it reads.
	out := []hostileRequest{
		{"a gzip body", with(func(r *rawRequest) {
			r.body, r.header["Content-Encoding"] = gzipped(t, r.body), "gzip"
		}), true},
		{"a brotli body", with(func(r *rawRequest) { r.header["Content-Encoding"] = "br" }), true},
		{"a 100 kB header", with(func(r *rawRequest) { r.header["X-Padding"] = strings.Repeat("a", 100<<10) }), true},
		{"a 100 kB cookie", with(func(r *rawRequest) { r.header["Cookie"] = "c=" + strings.Repeat("a", 100<<10) }), true},
	}
	// What some routes may take or ignore, but none may fail on.
	out = append(out,
		hostileRequest{"headers that are not UTF-8", with(func(r *rawRequest) {
			r.header["User-Agent"], r.header["X-Request-ID"], r.header["X-Forwarded-For"] = "agent \xff\xfe", "id-\xff", "\xff"
		}), false},
		hostileRequest{"a query that is not UTF-8", with(func(r *rawRequest) { r.path += "?%ff=%fe&q=%c3%28" }), false},
		hostileRequest{"a path that is not UTF-8", with(func(r *rawRequest) { r.path += "%ff%fe" }), false},
		hostileRequest{"a path with a NUL", with(func(r *rawRequest) { r.path += "%00" }), false},
		hostileRequest{"a body of the wrong type", with(func(r *rawRequest) { r.contentType = "application/x-www-form-urlencoded" }), false},
	)
	switch {
	case ep.upload:
		out = append(out, hostileUploads(valid)...)
	case ep.csv != "":
		out = append(out, hostileImports(valid)...)
	default:
		// A route with a JSON body refuses what is not one JSON object of
		// its own fields; a route without one may ignore a body.
		refused := fields != nil
		raw := func(name, body string) hostileRequest {
			return hostileRequest{name, with(func(r *rawRequest) { r.body, r.contentType = []byte(body), "application/json" }), refused}
		}
		out = append(out,
			raw("JSON nested 100,000 deep in lists", strings.Repeat("[", 100_000)),
			raw("JSON nested 100,000 deep in objects", strings.Repeat(`{"a":`, 100_000)),
			raw("a body that is not UTF-8", "{\"name\":\"\xff\xfe\"}"),
		)
		for _, b := range []string{"[]", "null", `{"name":`, `"text"`, `{"unknown":1}`, `{"name":"a"} {"name":"b"}`, "\ufeff{}"} {
			out = append(out, raw("the body "+b, b))
		}
		// The last of a repeated field counts, as encoding/json reads it.
		dup := raw(`the body {"name":"a","name":"b"}`, `{"name":"a","name":"b"}`)
		dup.refused = false
		out = append(out, dup)
		if fields == nil {
			out = append(out, raw("an empty object", "{}"))
		}
		names := []string{"name", "note"}
		for k := range fields {
			names = append(names, k)
		}
		for _, field := range names {
			out = append(out, raw(field+" that is not UTF-8", "{\""+field+"\":\"a\xffb\xc3\"}"))
			for _, v := range hostileValues {
				alone, _ := json.Marshal(map[string]any{field: v})
				out = append(out, hostileRequest{fmt.Sprintf("%s alone as %.40v", field, v), with(func(r *rawRequest) { r.body, r.contentType = alone, "application/json" }), false})
				if _, ok := fields[field]; ok {
					merged := map[string]any{}
					for k, v := range fields {
						merged[k] = v
					}
					merged[field] = v
					body, _ := json.Marshal(merged)
					out = append(out, hostileRequest{fmt.Sprintf("%s as %.40v", field, v), with(func(r *rawRequest) { r.body, r.contentType = body, "application/json" }), false})
				}
			}
		}
	}
	return out
}

// hostileImports are CSV files the asset import must refuse.
func hostileImports(valid rawRequest) []hostileRequest {
	var out []hostileRequest
	for _, c := range []struct{ name, csv string }{
		{"an empty file", ""},
		{"a header only", "name\n"},
		{"a cell that is not UTF-8", "name\n\xff\xfe\n"},
		{"a header that is not UTF-8", "name,\xff\nA,b\n"},
		{"a NUL in a cell", "name\nA\x00B\n"},
		{"an escape in a cell", "name,serial\nA,\x1b[2J\n"},
		{"a 100,000 character cell", "name\n" + strings.Repeat("x", 100_000) + "\n"},
		{"an unclosed quote", "name\n\"A\n"},
		{"a stray quote", "name\nA\"B\n"},
		{"10,000 columns", "name" + strings.Repeat(",name", 10_000) + "\nA\n"},
		{"a column twice", "name,serial,name\nA,1,B\n"},
		{"a ragged row", "name,serial\nA,1,2\n"},
		{"too many rows", "name\n" + strings.Repeat("A\n", domain.MaxImportRows+1)},
		{"JSON nested 100,000 deep", strings.Repeat("[", 100_000)},
		{"a binary file", string(png)},
	} {
		r := valid
		r.body = []byte(c.csv)
		out = append(out, hostileRequest{"a CSV with " + c.name, r, true})
	}
	r := valid
	r.contentType = "text/csv; charset=latin1"
	r.body = []byte("name\nCaf\xe9\n")
	out = append(out, hostileRequest{"a CSV in Latin-1", r, true})
	return out
}

// hostileUploads are multipart forms the image upload must refuse.
func hostileUploads(valid rawRequest) []hostileRequest {
	form := func(name, field, fileName string, data []byte) hostileRequest {
		r := valid
		r.body, r.contentType = multipartBody(field, fileName, data)
		return hostileRequest{name, r, true}
	}
	body, contentType := multipartBody("file", "b.png", png)
	withType := func(name, contentType string, body []byte) hostileRequest {
		r := valid
		r.body, r.contentType = body, contentType
		return hostileRequest{name, r, true}
	}
	return []hostileRequest{
		form("a file name with NUL", "file", "a\x00b.png", png),
		form("a file name with an escape", "file", "a\x1b[2J.png", png),
		form("a file name that is not UTF-8", "file", "\xff\xfe.png", png),
		form("a 100,000 character file name", "file", strings.Repeat("x", 100_000)+".png", png),
		form("an empty file name", "file", "", png),
		form("a file in another field", "picture", "b.png", png),
		form("an empty file", "file", "b.png", nil),
		form("a file that is no image", "file", "b.png", []byte("#!/bin/sh\nrm -rf /\n")),
		withType("no boundary", "multipart/form-data", body),
		withType("another boundary", "multipart/form-data; boundary=other", body),
		withType("a form cut short", contentType, body[:len(body)/2]),
		withType("a form of 100,000 empty parts", contentType, bytes.Repeat([]byte("--fluxera-test-boundary\r\n\r\n\r\n"), 100_000)),
		withType("JSON nested 100,000 deep", contentType, bytes.Repeat([]byte("["), 100_000)),
	}
}
