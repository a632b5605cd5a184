package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// licenseStack is the API of one test with a workspace, its owner signed
// in, and a connection to the test's schema.
type licenseStack struct {
	t           *testing.T
	cfg         app.Config
	m           *app.Main
	db          *postgres.DB
	owner       *client
	workspaceID string
	ownerID     string
}

func mustLicenseStack(t *testing.T) *licenseStack {
	t.Helper()
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	db, err := postgres.Open(cfg.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	email, password := MustWorkspace(t, cfg, "Licensing")
	s := &licenseStack{t: t, cfg: cfg, m: m, db: db, owner: newClient(t, m)}
	s.owner.mustLogin(email, password)
	err = db.NewSelect().Table("users").Column("workspace_id", "id").Where("email = ?", email).Scan(t.Context(), &s.workspaceID, &s.ownerID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustMember adds a member with role to the workspace, signed in.
func (s *licenseStack) mustMember(role, name string) (*client, string) {
	s.t.Helper()
	id, email, password := uuid.NewString(), "member-"+stacktest.RandomID()+"@example.com", "pass-"+stacktest.RandomID()
	hash, err := argon2.Hasher{Params: s.cfg.Argon2.Params}.Hash(s.t.Context(), password)
	if err != nil {
		s.t.Fatal(err)
	}
	_, err = s.db.ExecContext(s.t.Context(),
		"INSERT INTO users (id, workspace_id, email, name, role, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, true, now(), now())",
		id, s.workspaceID, email, name, role, hash)
	if err != nil {
		s.t.Fatal(err)
	}
	c := newClient(s.t, s.m)
	c.mustLogin(email, password)
	return c, id
}

func (s *licenseStack) outboxCount() int {
	s.t.Helper()
	n, err := s.db.NewSelect().Table("outbox").Count(s.t.Context())
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// payloads returns every outbox payload as stored.
func (s *licenseStack) payloads() []string {
	s.t.Helper()
	var out []string
	if err := s.db.NewRaw("SELECT payload::text FROM outbox ORDER BY seq").Scan(s.t.Context(), &out); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// events returns the recorded events of one action, oldest first.
func (s *licenseStack) events(action string) []activity.Event {
	s.t.Helper()
	var out []activity.Event
	for _, p := range s.payloads() {
		e, err := activity.DecodeEvent([]byte(p))
		if err != nil {
			s.t.Fatalf("outbox holds an invalid event: %v", err)
		}
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// lastEvent returns the latest event of an action, failing when there is none.
func (s *licenseStack) lastEvent(action string) activity.Event {
	s.t.Helper()
	es := s.events(action)
	if len(es) == 0 {
		s.t.Fatalf("no %s event was recorded", action)
	}
	return es[len(es)-1]
}

// licenseAnswer is one answer of the API, kept raw.
type licenseAnswer struct {
	status int
	header http.Header
	body   []byte
}

// licenseCall makes one request; it is safe to call from many goroutines.
func licenseCall(c *client, method, path, body string) (licenseAnswer, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return licenseAnswer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return licenseAnswer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return licenseAnswer{status: res.StatusCode, header: res.Header, body: raw}, err
}

func mustLicenseCall(t *testing.T, c *client, method, path, body string, want int) licenseAnswer {
	t.Helper()
	a, err := licenseCall(c, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	if a.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, a.status, want, a.body)
	}
	return a
}

func mustLicense(t *testing.T, c *client, body string) domain.License {
	t.Helper()
	a := mustLicenseCall(t, c, "POST", "/api/v1/licenses", body, http.StatusCreated)
	var l domain.License
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func decodeLicense(t *testing.T, a licenseAnswer) domain.License {
	t.Helper()
	var l domain.License
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatalf("answer is not a license: %s", a.body)
	}
	return l
}

func licenseChanges(e activity.Event) map[string]activity.Change {
	out := map[string]activity.Change{}
	for _, c := range e.Changes {
		out[c.Field] = c
	}
	return out
}

// licenseLog collects log output written from request goroutines.
type licenseLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *licenseLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *licenseLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLicenseLifecycleIsRecorded(t *testing.T) {
	s := mustLicenseStack(t)
	_, aliceID := s.mustMember(activity.RoleMember, "Alice Example")

	l := mustLicense(t, s.owner, `{"name":"Figma Org","vendor":"Figma","seats":5,"key":"FIGMA-0001-KEY","value":"1200.5","currency":"usd","expires_on":"2027-01-31","note":"design team"}`)
	if !l.HasKey || l.Value != "1200.50" || l.Currency != "USD" || l.SeatsUsed != 0 || l.Assignees == nil || l.ExpiresOn.String() != "2027-01-31" {
		t.Errorf("created license = %+v", l)
	}
	e := s.lastEvent("license.created")
	if e.Resource != (activity.Resource{Type: "license", ID: l.ID, Name: "Figma Org"}) || e.Note != "design team" || e.Category != "license" {
		t.Errorf("license.created = %+v", e)
	}
	ch := licenseChanges(e)
	for field, want := range map[string]string{"name": "Figma Org", "vendor": "Figma", "seats": "5", "value": "1200.50", "currency": "USD", "expires_on": "2027-01-31"} {
		if ch[field].After != want {
			t.Errorf("created change %s = %+v, want after %q", field, ch[field], want)
		}
	}
	if k := ch["key"]; !k.Redacted || k.Before != "" || k.After != "" {
		t.Errorf("key change = %+v, want redacted without values", k)
	}

	path := "/api/v1/licenses/" + l.ID
	mustLicenseCall(t, s.owner, "PATCH", path, `{"name":"Figma Enterprise","seats":6,"key":"FIGMA-0002-KEY","note":"upgrade"}`, http.StatusOK)
	e = s.lastEvent("license.updated")
	ch = licenseChanges(e)
	if len(e.Changes) != 3 || ch["name"].Before != "Figma Org" || ch["name"].After != "Figma Enterprise" ||
		ch["seats"].Before != "5" || ch["seats"].After != "6" || !ch["key"].Redacted || e.Note != "upgrade" {
		t.Errorf("license.updated = %+v", e.Changes)
	}
	// The same key again, and only that, changes nothing and records nothing.
	before := s.outboxCount()
	mustLicenseCall(t, s.owner, "PATCH", path, `{"key":"FIGMA-0002-KEY"}`, http.StatusOK)
	if got := s.outboxCount(); got != before {
		t.Errorf("an edit without a change recorded %d events", got-before)
	}

	a := mustLicenseCall(t, s.owner, "POST", path+"/assign", fmt.Sprintf(`{"user_id":%q,"note":"new hire"}`, aliceID), http.StatusOK)
	if got := decodeLicense(t, a); got.SeatsUsed != 1 || len(got.Assignees) != 1 || got.Assignees[0] != (domain.UserRef{ID: aliceID, Name: "Alice Example"}) {
		t.Errorf("after assigning: %+v", got)
	}
	e = s.lastEvent("license.assigned")
	ch = licenseChanges(e)
	alice := "Alice Example (" + aliceID + ")"
	if ch["assignee"].Before != "" || ch["assignee"].After != alice || ch["seats_used"].After != "1" || e.Note != "new hire" {
		t.Errorf("license.assigned changes = %+v", e.Changes)
	}
	if len(e.Related) != 1 || e.Related[0] != (activity.Resource{Type: "user", ID: aliceID, Name: "Alice Example", Role: "assignee"}) {
		t.Errorf("license.assigned related = %+v", e.Related)
	}
	mustLicenseCall(t, s.owner, "POST", path+"/unassign", fmt.Sprintf(`{"user_id":%q}`, aliceID), http.StatusOK)
	if ch = licenseChanges(s.lastEvent("license.unassigned")); ch["assignee"].Before != alice || ch["assignee"].After != "" {
		t.Errorf("license.unassigned changes = %+v", ch)
	}

	mustLicenseCall(t, s.owner, "POST", path+"/renew", `{"expires_on":"2028-01-31","note":"paid"}`, http.StatusOK)
	if ch = licenseChanges(s.lastEvent("license.renewed")); ch["expires_on"].Before != "2027-01-31" || ch["expires_on"].After != "2028-01-31" {
		t.Errorf("license.renewed changes = %+v", ch)
	}
	mustLicenseCall(t, s.owner, "PUT", path+"/expiration", `{"expires_on":"2027-12-31","note":"contract says Dec 31"}`, http.StatusOK)
	if ch = licenseChanges(s.lastEvent("license.expiration_updated")); ch["expires_on"].Before != "2028-01-31" || ch["expires_on"].After != "2027-12-31" {
		t.Errorf("license.expiration_updated changes = %+v", ch)
	}

	mustLicenseCall(t, s.owner, "POST", path+"/assign", fmt.Sprintf(`{"user_id":%q}`, aliceID), http.StatusOK)
	mustLicenseCall(t, s.owner, "DELETE", path, `{"note":"moved to another tool"}`, http.StatusNoContent)
	e = s.lastEvent("license.deleted")
	ch = licenseChanges(e)
	for field, want := range map[string]string{"name": "Figma Enterprise", "vendor": "Figma", "seats": "6", "seats_used": "1", "value": "1200.50", "currency": "USD", "expires_on": "2027-12-31"} {
		if ch[field].Before != want {
			t.Errorf("deleted change %s = %+v, want before %q", field, ch[field], want)
		}
	}
	if !ch["key"].Redacted || e.Note != "moved to another tool" || len(e.Related) != 1 || e.Related[0].ID != aliceID {
		t.Errorf("license.deleted = %+v", e)
	}
	var active int
	if err := s.db.NewRaw("SELECT count(*) FROM license_seats WHERE license_id = ? AND unassigned_at IS NULL", l.ID).Scan(t.Context(), &active); err != nil || active != 0 {
		t.Errorf("%d seats still active after the deletion (%v)", active, err)
	}
	mustLicenseCall(t, s.owner, "GET", path, "", http.StatusNotFound)
	var list struct{ Licenses []domain.License }
	json.Unmarshal(mustLicenseCall(t, s.owner, "GET", "/api/v1/licenses", "", http.StatusOK).body, &list)
	if len(list.Licenses) != 0 {
		t.Errorf("the list still shows the deleted license: %+v", list.Licenses)
	}
}

func TestLicenseSeatsAreEnforced(t *testing.T) {
	s := mustLicenseStack(t)
	l := mustLicense(t, s.owner, `{"name":"JetBrains All Products","seats":3}`)
	path := "/api/v1/licenses/" + l.ID
	ids := make([]string, 10)
	for i := range ids {
		_, ids[i] = s.mustMember(activity.RoleMember, fmt.Sprintf("Developer %d", i))
	}

	statuses := make([]int, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := licenseCall(s.owner, "POST", path+"/assign", fmt.Sprintf(`{"user_id":%q}`, id))
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = a.status
		}()
	}
	wg.Wait()
	won, refused := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			refused++
		}
	}
	if won != 3 || refused != 7 {
		t.Fatalf("10 concurrent assigns to 3 seats: %d succeeded, %d conflicted (%v)", won, refused, statuses)
	}
	got := decodeLicense(t, mustLicenseCall(t, s.owner, "GET", path, "", http.StatusOK))
	if got.SeatsUsed != 3 || len(got.Assignees) != 3 {
		t.Errorf("license shows %d seats used, %d assignees; want 3", got.SeatsUsed, len(got.Assignees))
	}
	if n := len(s.events("license.assigned")); n != 3 {
		t.Errorf("%d license.assigned events, want 3", n)
	}
	holder, other := got.Assignees[0].ID, ""
	for i, st := range statuses {
		if st == http.StatusConflict {
			other = ids[i]
		}
	}

	before := s.outboxCount()
	tests := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"seats exhausted", "POST", path + "/assign", fmt.Sprintf(`{"user_id":%q}`, other), 409, "conflict", "seats"},
		{"already holds a seat", "POST", path + "/assign", fmt.Sprintf(`{"user_id":%q}`, holder), 409, "conflict", "user_id"},
		{"holds no seat", "POST", path + "/unassign", fmt.Sprintf(`{"user_id":%q}`, other), 409, "conflict", "user_id"},
		{"seats below use", "PATCH", path, `{"seats":2}`, 409, "conflict", "seats"},
		{"no user", "POST", path + "/assign", `{"note":"x"}`, 400, "invalid", "user_id"},
		{"unknown user", "POST", path + "/assign", fmt.Sprintf(`{"user_id":%q}`, uuid.NewString()), 404, "not_found", "user_id"},
		{"malformed user", "POST", path + "/assign", `{"user_id":"42"}`, 404, "not_found", "user_id"},
		{"no seats", "PATCH", path, `{"seats":0}`, 400, "invalid", "seats"},
		{"fractional seats", "PATCH", path, `{"seats":2.5}`, 400, "invalid", "seats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans errorAnswer
			if status := s.owner.do(tt.method, tt.path, "application/json", tt.body, &ans); status != tt.status {
				t.Fatalf("status = %d, want %d (%+v)", status, tt.status, ans)
			}
			if ans.Error.Code != tt.code || ans.Error.Field != tt.field || ans.Error.Message == "" {
				t.Errorf("error = %+v, want code %q field %q", ans.Error, tt.code, tt.field)
			}
		})
	}
	if got := s.outboxCount(); got != before {
		t.Errorf("refused seat changes recorded %d events", got-before)
	}
	// Freeing a seat lets the next one in.
	mustLicenseCall(t, s.owner, "POST", path+"/unassign", fmt.Sprintf(`{"user_id":%q}`, holder), http.StatusOK)
	mustLicenseCall(t, s.owner, "POST", path+"/assign", fmt.Sprintf(`{"user_id":%q}`, other), http.StatusOK)
	mustLicenseCall(t, s.owner, "PATCH", path, `{"seats":3}`, http.StatusOK)
}

func TestLicenseKeyNeverLeaks(t *testing.T) {
	s := mustLicenseStack(t)
	logs := &licenseLog{}
	s.m.Log.SetOutput(logs)
	s.m.Log.SetLevel(logrus.DebugLevel)
	first, second := "K1-"+stacktest.RandomID()+"-SECRET", "K2-"+stacktest.RandomID()+"-SECRET"
	secrets := []string{first, second}

	l := mustLicense(t, s.owner, fmt.Sprintf(`{"name":"Adobe CC","seats":2,"key":%q}`, first))
	path := "/api/v1/licenses/" + l.ID
	answers := []licenseAnswer{
		mustLicenseCall(t, s.owner, "GET", path, "", http.StatusOK),
		mustLicenseCall(t, s.owner, "GET", "/api/v1/licenses", "", http.StatusOK),
		mustLicenseCall(t, s.owner, "PATCH", path, fmt.Sprintf(`{"key":%q}`, second), http.StatusOK),
		mustLicenseCall(t, s.owner, "PATCH", path, fmt.Sprintf(`{"key":%q}`, second+strings.Repeat("x", 1000)), http.StatusBadRequest),
		mustLicenseCall(t, s.owner, "POST", "/api/v1/licenses", fmt.Sprintf(`{"name":"","key":%q}`, first), http.StatusBadRequest),
		mustLicenseCall(t, s.owner, "POST", "/api/v1/licenses", fmt.Sprintf(`{"name":"x","seats":1,"key":%q,"colour":1}`, first), http.StatusBadRequest),
	}
	for _, a := range answers {
		if bytes.Contains(a.body, []byte(`"key":`)) {
			t.Errorf("an answer has a key field: %s", a.body)
		}
	}
	if got := decodeLicense(t, answers[0]); !got.HasKey {
		t.Error("has_key is false for a license with a key")
	}

	a := mustLicenseCall(t, s.owner, "GET", path+"/key", "", http.StatusOK)
	var shown struct{ Key string }
	json.Unmarshal(a.body, &shown)
	if shown.Key != second {
		t.Errorf("key = %q, want the replaced key", shown.Key)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	e := s.lastEvent("license.key_viewed")
	if e.Resource.ID != l.ID || e.Actor.ID != s.ownerID {
		t.Errorf("license.key_viewed = %+v", e)
	}

	// The key is stored sealed and bound to its row: a ciphertext copied to
	// another license, or a key id the box does not hold, does not open.
	var stored struct {
		Ciphertext []byte `bun:"key_ciphertext"`
		KeyID      string `bun:"key_id"`
	}
	if err := s.db.NewRaw("SELECT key_ciphertext, key_id FROM licenses WHERE id = ?", l.ID).Scan(t.Context(), &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.KeyID) != 8 || bytes.Contains(stored.Ciphertext, []byte(second)) {
		t.Errorf("stored key: id %q, ciphertext holds the key: %v", stored.KeyID, bytes.Contains(stored.Ciphertext, []byte(second)))
	}
	copyTo := mustLicense(t, s.owner, `{"name":"Copy target","seats":1,"key":"placeholder"}`)
	if _, err := s.db.ExecContext(t.Context(), "UPDATE licenses SET key_ciphertext = ?, key_id = ? WHERE id = ?", stored.Ciphertext, stored.KeyID, copyTo.ID); err != nil {
		t.Fatal(err)
	}
	mustLicenseCall(t, s.owner, "GET", "/api/v1/licenses/"+copyTo.ID+"/key", "", http.StatusInternalServerError)
	if _, err := s.db.ExecContext(t.Context(), "UPDATE licenses SET key_id = '00000000' WHERE id = ?", l.ID); err != nil {
		t.Fatal(err)
	}
	mustLicenseCall(t, s.owner, "GET", path+"/key", "", http.StatusInternalServerError)
	if !strings.Contains(logs.String(), "Request failed.") {
		t.Error("the failed key openings were not logged")
	}

	mustLicenseCall(t, s.owner, "DELETE", path, "", http.StatusNoContent)
	payloads := s.payloads()
	if len(payloads) < 4 {
		t.Fatalf("only %d events recorded", len(payloads))
	}
	for _, p := range payloads {
		for _, secret := range secrets {
			if strings.Contains(p, secret) {
				t.Errorf("an outbox payload holds a license key: %s", p)
			}
		}
	}
	for _, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds a license key:\n%s", logs.String())
		}
		for _, a := range answers {
			if bytes.Contains(a.body, []byte(secret)) {
				t.Errorf("an answer other than the key view holds a license key: %s", a.body)
			}
		}
	}
}

func TestLicenseWithoutKey(t *testing.T) {
	s := mustLicenseStack(t)
	l := mustLicense(t, s.owner, `{"name":"Slack","seats":10,"key":"SLACK-KEY"}`)
	path := "/api/v1/licenses/" + l.ID
	mustLicenseCall(t, s.owner, "PATCH", path, `{"key":""}`, http.StatusOK)
	if ch := licenseChanges(s.lastEvent("license.updated")); !ch["key"].Redacted {
		t.Errorf("removing the key recorded %+v", ch)
	}
	before := s.outboxCount()
	var ans errorAnswer
	if status := s.owner.do("GET", path+"/key", "", "", &ans); status != http.StatusNotFound || ans.Error.Code != "not_found" || ans.Error.Field != "key" {
		t.Errorf("key of a license without one: %d %+v, want 404 not_found on key", status, ans)
	}
	if got := s.outboxCount(); got != before {
		t.Error("viewing a missing key recorded an event")
	}
}

func TestLicenseExpiryRules(t *testing.T) {
	s := mustLicenseStack(t)
	l := mustLicense(t, s.owner, `{"name":"Zoom","seats":4,"expires_on":"2027-06-30"}`)
	open := mustLicense(t, s.owner, `{"name":"Notion","seats":4}`)
	path := "/api/v1/licenses/" + l.ID
	before := s.outboxCount()
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"renew earlier", "POST", path + "/renew", `{"expires_on":"2027-01-01"}`, 400, "expires_on"},
		{"renew same day", "POST", path + "/renew", `{"expires_on":"2027-06-30"}`, 400, "expires_on"},
		{"renew without date", "POST", path + "/renew", `{"note":"x"}`, 400, "expires_on"},
		{"renew malformed", "POST", path + "/renew", `{"expires_on":"30/06/2028"}`, 400, "expires_on"},
		{"renew impossible day", "POST", path + "/renew", `{"expires_on":"2028-02-30"}`, 400, "expires_on"},
		{"renew number", "POST", path + "/renew", `{"expires_on":20280630}`, 400, "expires_on"},
		{"correction without date", "PUT", path + "/expiration", `{}`, 400, "expires_on"},
		{"correction malformed", "PUT", path + "/expiration", `{"expires_on":"tomorrow"}`, 400, "expires_on"},
		{"edit of the expiry", "PATCH", path, `{"expires_on":"2029-01-01"}`, 400, "expires_on"},
		{"create malformed", "POST", "/api/v1/licenses", `{"name":"x","seats":1,"expires_on":"2027-13-01"}`, 400, "expires_on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans errorAnswer
			if status := s.owner.do(tt.method, tt.path, "application/json", tt.body, &ans); status != tt.status {
				t.Fatalf("status = %d, want %d (%+v)", status, tt.status, ans)
			}
			if ans.Error.Code != "invalid" || ans.Error.Field != tt.field {
				t.Errorf("error = %+v, want invalid on %s", ans.Error, tt.field)
			}
		})
	}
	if got := s.outboxCount(); got != before {
		t.Errorf("refused expiry changes recorded %d events", got-before)
	}
	got := decodeLicense(t, mustLicenseCall(t, s.owner, "POST", path+"/renew", `{"expires_on":"2028-06-30"}`, http.StatusOK))
	if got.ExpiresOn.String() != "2028-06-30" {
		t.Errorf("renewed to %s", got.ExpiresOn)
	}
	// A correction may go back in time.
	got = decodeLicense(t, mustLicenseCall(t, s.owner, "PUT", path+"/expiration", `{"expires_on":"2026-01-15"}`, http.StatusOK))
	if got.ExpiresOn.String() != "2026-01-15" {
		t.Errorf("corrected to %s", got.ExpiresOn)
	}
	// A license without an expiration may be renewed to any date.
	mustLicenseCall(t, s.owner, "POST", "/api/v1/licenses/"+open.ID+"/renew", `{"expires_on":"2020-01-01"}`, http.StatusOK)
	if n := len(s.events("license.renewed")) + len(s.events("license.expiration_updated")); n != 3 {
		t.Errorf("%d expiry events, want 3", n)
	}
}

func TestLicenseInputIsValidated(t *testing.T) {
	s := mustLicenseStack(t)
	l := mustLicense(t, s.owner, `{"name":"Base","seats":1,"value":"10.00","currency":"EUR"}`)
	path := "/api/v1/licenses/" + l.ID
	before := s.outboxCount()
	long := strings.Repeat("n", 201)
	tests := []struct {
		name, method, path, body string
		field                    string
	}{
		{"missing name", "POST", "/api/v1/licenses", `{"seats":1}`, "name"},
		{"blank name", "POST", "/api/v1/licenses", `{"name":"  ","seats":1}`, "name"},
		{"long name", "POST", "/api/v1/licenses", fmt.Sprintf(`{"name":%q,"seats":1}`, long), "name"},
		{"long vendor", "POST", "/api/v1/licenses", fmt.Sprintf(`{"name":"x","vendor":%q,"seats":1}`, long), "vendor"},
		{"missing seats", "POST", "/api/v1/licenses", `{"name":"x"}`, "seats"},
		{"negative seats", "POST", "/api/v1/licenses", `{"name":"x","seats":-1}`, "seats"},
		{"seats as text", "POST", "/api/v1/licenses", `{"name":"x","seats":"3"}`, "seats"},
		{"long key", "POST", "/api/v1/licenses", fmt.Sprintf(`{"name":"x","seats":1,"key":%q}`, strings.Repeat("k", 1001)), "key"},
		{"bad value", "POST", "/api/v1/licenses", `{"name":"x","seats":1,"value":"12,50","currency":"EUR"}`, "value"},
		{"value without currency", "POST", "/api/v1/licenses", `{"name":"x","seats":1,"value":"12.50"}`, "currency"},
		{"bad currency", "POST", "/api/v1/licenses", `{"name":"x","seats":1,"value":"12.50","currency":"EURO"}`, "currency"},
		{"unknown field", "POST", "/api/v1/licenses", `{"name":"x","seats":1,"colour":"red"}`, "colour"},
		{"edit to blank name", "PATCH", path, `{"name":""}`, "name"},
		{"edit removes currency of a value", "PATCH", path, `{"currency":""}`, "currency"},
		{"edit with nothing", "PATCH", path, `{"note":"nothing"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans errorAnswer
			if status := s.owner.do(tt.method, tt.path, "application/json", tt.body, &ans); status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400 (%+v)", status, ans)
			}
			if ans.Error.Code != "invalid" || ans.Error.Field != tt.field || ans.Error.Message == "" {
				t.Errorf("error = %+v, want invalid on %q", ans.Error, tt.field)
			}
		})
	}
	var licenses int
	if err := s.db.NewRaw("SELECT count(*) FROM licenses").Scan(t.Context(), &licenses); err != nil || licenses != 1 {
		t.Errorf("%d licenses after refused creates (%v), want 1", licenses, err)
	}
	if got := s.outboxCount(); got != before {
		t.Errorf("refused input recorded %d events", got-before)
	}
}

func TestLicensePermissions(t *testing.T) {
	s := mustLicenseStack(t)
	viewer, _ := s.mustMember(activity.RoleViewer, "Vera Viewer")
	member, memberID := s.mustMember(activity.RoleMember, "Max Member")
	admin, _ := s.mustMember(activity.RoleAdmin, "Ada Admin")
	l := mustLicense(t, s.owner, `{"name":"Miro","seats":2,"key":"MIRO-KEY","expires_on":"2027-01-01"}`)
	path := "/api/v1/licenses/" + l.ID

	before := s.outboxCount()
	forbidden := []struct {
		who          string
		c            *client
		method, path string
		body         string
	}{
		{"viewer", viewer, "GET", path + "/key", ""},
		{"viewer", viewer, "POST", "/api/v1/licenses", `{"name":"x","seats":1}`},
		{"viewer", viewer, "PATCH", path, `{"name":"x"}`},
		{"viewer", viewer, "POST", path + "/assign", fmt.Sprintf(`{"user_id":%q}`, memberID)},
		{"viewer", viewer, "POST", path + "/unassign", fmt.Sprintf(`{"user_id":%q}`, memberID)},
		{"viewer", viewer, "POST", path + "/renew", `{"expires_on":"2028-01-01"}`},
		{"viewer", viewer, "PUT", path + "/expiration", `{"expires_on":"2028-01-01"}`},
		{"viewer", viewer, "DELETE", path, ""},
		{"member", member, "DELETE", path, ""},
	}
	for _, tt := range forbidden {
		t.Run(tt.who+" "+tt.method+" "+strings.TrimPrefix(tt.path, path), func(t *testing.T) {
			a := mustLicenseCall(t, tt.c, tt.method, tt.path, tt.body, http.StatusForbidden)
			if bytes.Contains(a.body, []byte("MIRO-KEY")) {
				t.Errorf("the refusal shows the key: %s", a.body)
			}
		})
	}
	// Each refusal is recorded, and nothing else.
	if got := s.outboxCount(); got-before != len(forbidden) || len(s.events("auth.access_denied")) != len(forbidden) {
		t.Errorf("refused requests recorded %d events, %d of them auth.access_denied; want %d of each", got-before, len(s.events("auth.access_denied")), len(forbidden))
	}
	// Everyone may read; members manage and see keys; admins delete.
	mustLicenseCall(t, viewer, "GET", "/api/v1/licenses", "", http.StatusOK)
	mustLicenseCall(t, viewer, "GET", path, "", http.StatusOK)
	mustLicenseCall(t, member, "POST", path+"/assign", fmt.Sprintf(`{"user_id":%q}`, memberID), http.StatusOK)
	mustLicenseCall(t, member, "GET", path+"/key", "", http.StatusOK)
	mustLicenseCall(t, admin, "DELETE", path, "", http.StatusNoContent)
}

func TestLicensesOfOtherWorkspacesAreNotFound(t *testing.T) {
	s := mustLicenseStack(t)
	otherEmail, otherPassword := MustWorkspace(t, s.cfg, "Elsewhere")
	other := newClient(t, s.m)
	other.mustLogin(otherEmail, otherPassword)
	var otherUserID string
	if err := s.db.NewSelect().Table("users").Column("id").Where("email = ?", otherEmail).Scan(t.Context(), &otherUserID); err != nil {
		t.Fatal(err)
	}
	theirs := mustLicense(t, other, `{"name":"Their license","seats":5,"key":"THEIR-KEY","expires_on":"2027-01-01"}`)
	ours := mustLicense(t, s.owner, `{"name":"Our license","seats":5,"expires_on":"2027-01-01"}`)
	gone := mustLicense(t, s.owner, `{"name":"Gone license","seats":5,"key":"GONE-KEY","expires_on":"2027-01-01"}`)
	mustLicenseCall(t, s.owner, "DELETE", "/api/v1/licenses/"+gone.ID, "", http.StatusNoContent)

	routes := []struct{ method, suffix, body string }{
		{"GET", "", ""},
		{"PATCH", "", `{"name":"Renamed"}`},
		{"DELETE", "", ""},
		{"POST", "/assign", fmt.Sprintf(`{"user_id":%q}`, s.ownerID)},
		{"POST", "/unassign", fmt.Sprintf(`{"user_id":%q}`, s.ownerID)},
		{"POST", "/renew", `{"expires_on":"2030-01-01"}`},
		{"PUT", "/expiration", `{"expires_on":"2030-01-01"}`},
		{"GET", "/key", ""},
	}
	before := s.outboxCount()
	for name, id := range map[string]string{"another workspace's": theirs.ID, "a deleted": gone.ID, "an unknown": uuid.NewString(), "a malformed": "not-a-uuid"} {
		for _, r := range routes {
			t.Run(name+" "+r.method+r.suffix, func(t *testing.T) {
				var ans errorAnswer
				status := s.owner.do(r.method, "/api/v1/licenses/"+id+r.suffix, "application/json", r.body, &ans)
				if status != http.StatusNotFound || ans.Error.Code != "not_found" {
					t.Errorf("status %d %+v, want 404 not_found", status, ans)
				}
			})
		}
	}
	// A user of another workspace cannot be given a seat.
	var ans errorAnswer
	if status := s.owner.do("POST", "/api/v1/licenses/"+ours.ID+"/assign", "application/json", fmt.Sprintf(`{"user_id":%q}`, otherUserID), &ans); status != http.StatusNotFound || ans.Error.Field != "user_id" {
		t.Errorf("assigning another workspace's user: %d %+v, want 404 on user_id", status, ans)
	}
	if got := s.outboxCount(); got != before {
		t.Errorf("requests answered 404 recorded %d events", got-before)
	}
	// Their license is untouched and still theirs.
	got := decodeLicense(t, mustLicenseCall(t, other, "GET", "/api/v1/licenses/"+theirs.ID, "", http.StatusOK))
	if got.Name != "Their license" || got.ExpiresOn.String() != "2027-01-01" {
		t.Errorf("their license changed: %+v", got)
	}
	var list struct{ Licenses []domain.License }
	json.Unmarshal(mustLicenseCall(t, s.owner, "GET", "/api/v1/licenses", "", http.StatusOK).body, &list)
	if len(list.Licenses) != 1 || list.Licenses[0].ID != ours.ID {
		t.Errorf("the list shows %+v, want only our live license", list.Licenses)
	}
}

// TestLicenseServiceDirectly checks the service without HTTP: a principal of
// one workspace never reaches another's license, whatever the role.
func TestLicenseServiceDirectly(t *testing.T) {
	s := mustLicenseStack(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	svc := postgres.NewLicenseService(s.db, postgrestest.MustKeyBox(t))
	owner := activity.Principal{WorkspaceID: s.workspaceID, UserID: s.ownerID, Role: activity.RoleOwner, Type: activity.ActorUser, Name: "Owner"}
	l, err := svc.CreateLicense(ctx, owner, domain.LicenseCreate{Name: "Direct", Seats: 1, Key: "DIRECT-KEY"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := svc.RevealKey(ctx, owner, l.ID)
	if err != nil || key != "DIRECT-KEY" {
		t.Fatalf("RevealKey() = %q, %v", key, err)
	}
	stranger := owner
	stranger.WorkspaceID = uuid.NewString()
	if _, err := svc.FindLicense(ctx, stranger, l.ID); activity.ErrorCode(err) != activity.ENOTFOUND {
		t.Errorf("FindLicense from another workspace: %v, want not_found", err)
	}
	viewer := owner
	viewer.Role = activity.RoleViewer
	if _, err := svc.RevealKey(ctx, viewer, l.ID); activity.ErrorCode(err) != activity.EFORBIDDEN {
		t.Errorf("RevealKey as viewer: %v, want forbidden", err)
	}
}
