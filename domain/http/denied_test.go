package http

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type principalAuth struct{ p activity.Principal }

func (a principalAuth) Authenticate(context.Context, string) (activity.Principal, error) {
	return a.p, nil
}

// refusingSettings refuses every call as a role without the permission would.
type refusingSettings struct{ domain.SettingsService }

func (refusingSettings) GetSettings(_ context.Context, p activity.Principal) (domain.Settings, error) {
	return domain.Settings{}, domain.Require(p, domain.ManageOwners)
}

// denials keeps the refusals it is given, or fails with err.
type denials struct {
	got []domain.AccessDenial
	err error
}

func (d *denials) RecordAccessDenied(_ context.Context, _ activity.Principal, a domain.AccessDenial) error {
	d.got = append(d.got, a)
	return d.err
}

// TestRefusalsAreRecordedOnceAndAnsweredEvenWhenRecordingFails checks that
// a 403 is recorded once with what was asked for and why, and stays a 403
// when recording fails.
func TestRefusalsAreRecordedOnceAndAnsweredEvenWhenRecordingFails(t *testing.T) {
	viewer := activity.Principal{WorkspaceID: "w", UserID: "u", Role: activity.RoleViewer, Type: activity.ActorUser}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"recorded", nil},
		{"recording fails", errors.New("database down")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &denials{err: tt.err}
			log := logrus.New()
			log.SetOutput(io.Discard)
			s := NewServer(Config{}, Services{Authenticator: principalAuth{viewer}, Settings: refusingSettings{}, Denials: rec}, log)
			s.NotFound()
			req := httptest.NewRequest("GET", "/api/v1/settings", nil)
			req.Header.Set("Authorization", "Bearer t")
			res, err := s.App.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 403 {
				t.Fatalf("status %d, want 403", res.StatusCode)
			}
			if len(rec.got) != 1 {
				t.Fatalf("recorded %d refusals, want 1", len(rec.got))
			}
			d := rec.got[0]
			if d.Method != "GET" || d.Path != "/api/v1/settings" || d.Route != "/api/v1/settings" || d.Resource.Type != "workspace" || d.Reason == "" {
				t.Errorf("refusal = %+v", d)
			}
		})
	}
}

func TestRequestedResource(t *testing.T) {
	p := activity.Principal{WorkspaceID: "w", UserID: "u", Name: "Una"}
	id := "0190a0b0-0000-7000-8000-000000000001"
	for path, want := range map[string]activity.Resource{
		"/api/v1/assets/" + id + "/maintenance":                       {Type: "asset", ID: id},
		"/api/v1/licenses":                                            {Type: "license"},
		"/api/v1/tokens/" + id:                                        {Type: "api_token", ID: id},
		"/api/v1/me/password":                                         {Type: "user", ID: "u", Name: "Una"},
		"/api/v1/settings":                                            {Type: "workspace", ID: "w"},
		"/api/v1/detection/signing-secret":                            {Type: "workspace", ID: "w"},
		"/api/v1/alert-rules/" + id:                                   {Type: "alert_rule", ID: id},
		"/api/v1/alert-rules/presets":                                 {Type: "alert_rule"},
		"/api/v1/alerts/" + id + "/resolve":                           {Type: "alert", ID: id},
		"/api/v1/analytics/heatmap":                                   {},
		"/api/v1/archive":                                             {Type: "archive_file"},
		"/api/v1/archive/report/" + strings.Repeat("ab", 32) + ".pdf": {Type: "archive_file", Name: "report/" + strings.Repeat("ab", 32) + ".pdf"},
		"/api/v1/archive/report/..%2fsecret.pdf":                      {Type: "archive_file"},
	} {
		if got := requestedResource(p, path); got != want {
			t.Errorf("%s: %+v, want %+v", path, got, want)
		}
	}
}
