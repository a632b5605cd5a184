package app

import (
	"strings"
	"testing"

	"github.com/fluxera/activity/alert/notify"
)

func TestLoadConfigSMTPTLS(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
		err  string
	}{
		{name: "submission port needs STARTTLS", env: map[string]string{"FLUXERA_SMTP_ADDR": "smtp.example.com:587"}, want: notify.SMTPStartTLS},
		{name: "port 465 is implicit TLS", env: map[string]string{"FLUXERA_SMTP_ADDR": "smtp.example.com:465"}, want: notify.SMTPImplicitTLS},
		{name: "local relay", env: map[string]string{"FLUXERA_SMTP_ADDR": "127.0.0.1:25", "FLUXERA_SMTP_TLS": "opportunistic"}, want: notify.SMTPOpportunistic},
		{name: "implicit on another port", env: map[string]string{"FLUXERA_SMTP_ADDR": "smtp.example.com:2465", "FLUXERA_SMTP_TLS": "implicit"}, want: notify.SMTPImplicitTLS},
		{name: "unknown mode", env: map[string]string{"FLUXERA_SMTP_ADDR": "smtp.example.com:25", "FLUXERA_SMTP_TLS": "off"}, err: `smtp tls "off"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(name string) string { return tt.env[name] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadConfig = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SMTP.TLS != tt.want {
				t.Errorf("SMTP.TLS = %q, want %q", cfg.SMTP.TLS, tt.want)
			}
		})
	}
}

// TestLoadConfigSchedule reads the scheduler's settings and refuses the
// ones it cannot work with.
func TestLoadConfigSchedule(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		err  string
	}{
		{name: "defaults", env: map[string]string{}},
		{name: "set", env: map[string]string{"FLUXERA_SCHEDULE_POLL_INTERVAL": "5s", "FLUXERA_SCHEDULE_LEASE": "2m", "FLUXERA_SCHEDULE_MAX_ATTEMPTS": "3",
			"FLUXERA_REPORT_EMAIL_MAX_BYTES": "1048576", "FLUXERA_PUBLIC_URL": "https://fluxera.example.com"}},
		{name: "a lease too short", env: map[string]string{"FLUXERA_SCHEDULE_LEASE": "1s"}, err: "leases"},
		{name: "a poll interval that is no duration", env: map[string]string{"FLUXERA_SCHEDULE_POLL_INTERVAL": "often"}, err: "FLUXERA_SCHEDULE_POLL_INTERVAL"},
		{name: "no attempts", env: map[string]string{"FLUXERA_SCHEDULE_MAX_ATTEMPTS": "-1"}, err: "attempts"},
		{name: "a public URL without a scheme", env: map[string]string{"FLUXERA_PUBLIC_URL": "fluxera.example.com"}, err: "public URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(name string) string { return tt.env[name] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadConfig = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Schedule.PollInterval <= 0 || cfg.Schedule.Lease <= 0 || cfg.Schedule.MaxAttachmentBytes <= 0 {
				t.Errorf("schedule config %+v", cfg.Schedule)
			}
		})
	}
}
