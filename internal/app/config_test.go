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
