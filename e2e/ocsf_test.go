package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/ocsf"
	"github.com/fluxera/activity/ocsf/ocsftest"
)

// TestOCSFFeed runs the relay and the OCSF feed: real actions of every
// kind (a login, a failed login, a password change, an asset created, a
// role changed, an API token's refused and granted calls) reach the OCSF
// topic as OCSF events of their classes, keyed by workspace, and match the
// OCSF schema. The topic is created with the retention configured. The
// activity export answers format=ocsf with the same kind of events.
func TestOCSFFeed(t *testing.T) {
	cfg := MustStack(t)
	cfg.OCSF.Retention = 36 * time.Hour
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest, app.RoleOCSF)
	owner := mustOwner(t, m, cfg, "OCSF "+stacktest.RandomID())

	// A failed and a good login, a password change and a profile change.
	if a := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": owner.email, "password": "wrong-" + owner.password}, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", a.status, a.body)
	}
	member := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	if a := member.call("POST", "/api/v1/me/password", map[string]any{"current_password": member.password, "new_password": "new-" + member.password}, nil); a.status >= 300 {
		t.Fatalf("change password: %d %s", a.status, a.body)
	}
	// An asset, and a role change.
	if a := owner.call("POST", "/api/v1/assets", map[string]any{"name": "Laptop OCSF"}, nil); a.status != http.StatusCreated {
		t.Fatalf("create asset: %d %s", a.status, a.body)
	}
	if a := owner.call("PUT", "/api/v1/users/"+member.id+"/role", map[string]string{"role": activity.RoleMember}, nil); a.status >= 300 {
		t.Fatalf("change role: %d %s", a.status, a.body)
	}
	// A token refused a scope it lacks, then used for what it may.
	tok := mustToken(t, owner.client, "activity:read", "activity:export")
	if a := newClient(t, m).call("POST", "/api/v1/assets", map[string]any{"name": "Refused"}, bearer(tok.Token)); a.status != http.StatusForbidden {
		t.Fatalf("token without assets:write: %d %s", a.status, a.body)
	}

	want := map[int]bool{ocsf.ClassAuthentication: false, ocsf.ClassAccountChange: false, ocsf.ClassEntityManagement: false,
		ocsf.ClassUserAccessManagement: false, ocsf.ClassAPIActivity: false}
	var lines [][]byte
	actions := map[string]bool{}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.OCSF.Topic, Partition: 0, MaxWait: 250 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	readers := []*kafka.Reader{r}
	for p := 1; p < cfg.Publisher.Partitions; p++ {
		rp := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.OCSF.Topic, Partition: p, MaxWait: 250 * time.Millisecond})
		defer rp.Close()
		readers = append(readers, rp)
	}
	done := func() bool {
		for _, seen := range want {
			if !seen {
				return false
			}
		}
		return actions["auth.login"] && actions["auth.login_failed"] && actions["user.password_changed"] && actions["auth.access_denied"]
	}
	for !done() {
		if ctx.Err() != nil {
			t.Fatalf("OCSF topic after 90 s: classes %v, actions %v", want, actions)
		}
		for _, rd := range readers {
			rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			msg, err := rd.ReadMessage(rctx)
			rcancel()
			if err != nil {
				continue
			}
			var o struct {
				ClassUID int `json:"class_uid"`
				Metadata struct {
					TenantUID string `json:"tenant_uid"`
					EventCode string `json:"event_code"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(msg.Value, &o); err != nil {
				t.Fatalf("OCSF topic carries %s: %v", msg.Value, err)
			}
			if string(msg.Key) != o.Metadata.TenantUID {
				t.Errorf("message keyed %q for workspace %q", msg.Key, o.Metadata.TenantUID)
			}
			if o.Metadata.TenantUID != owner.workspace && o.Metadata.TenantUID != activity.PlatformWorkspace {
				continue
			}
			want[o.ClassUID] = true
			actions[o.Metadata.EventCode] = true
			lines = append(lines, msg.Value)
		}
	}
	report := ocsftest.MustValidate(t, lines)
	t.Logf("%d events from the OCSF topic valid:\n%s", len(lines), report)

	// The topic was created with the configured retention.
	conf := describeTopic(t, cfg, cfg.OCSF.Topic)
	if got, want := conf["retention.ms"], strconv.FormatInt((36*time.Hour).Milliseconds(), 10); got != want {
		t.Errorf("retention.ms of %s = %q, want %q", cfg.OCSF.Topic, got, want)
	}

	// The export answers format=ocsf with one OCSF event a line, once the
	// events are indexed.
	var body []byte
	stacktest.Eventually(t, "an OCSF export with the asset's creation", func() bool {
		req, _ := http.NewRequest("GET", "http://"+m.HTTPAddr+"/api/v1/activity/export?format=ocsf", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		body, _ = io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export format=ocsf: %d %s", res.StatusCode, body)
		}
		return bytes.Contains(body, []byte(`"event_code":"asset.created"`))
	})
	ocsftest.MustValidate(t, bytes.Split(bytes.TrimSpace(body), []byte("\n")))
	if a := owner.call("GET", "/api/v1/activity/export?format=ocsv", nil, nil); a.status != http.StatusBadRequest {
		t.Errorf("export format=ocsv: %d %s", a.status, a.body)
	}
}

// describeTopic returns the configuration of topic as the broker holds it.
func describeTopic(t *testing.T, cfg app.Config, topic string) map[string]string {
	t.Helper()
	kc := &kafka.Client{Addr: kafka.TCP(cfg.Publisher.Brokers...), Timeout: 10 * time.Second}
	res, err := kc.DescribeConfigs(context.Background(), &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"retention.ms"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range res.Resources {
		for _, e := range r.ConfigEntries {
			out[e.ConfigName] = e.ConfigValue
		}
	}
	return out
}
