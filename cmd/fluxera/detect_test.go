package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/detect"
)

func failedLogin(ws string, user activity.Actor, ip string, at time.Time) activity.Event {
	e := activity.NewEvent(ws, "auth.login_failed", at)
	e.Outcome = activity.OutcomeFailure
	e.Actor = user
	e.Resource = activity.Resource{Type: "user", ID: user.ID, Name: user.Name}
	e.Context = activity.Context{IP: ip, Method: activity.MethodWeb}
	return e
}

func TestFailedLoginsRaiseOneAlertPerAccount(t *testing.T) {
	cfg := MustStack(t)
	MustStart(t, cfg, RoleDetect)

	ws := activity.NewEventID()
	users := map[string]activity.Actor{}
	for _, name := range []string{"ada", "bob", "cyd"} {
		users[name] = activity.Actor{ID: activity.NewEventID(), Email: name + "@example.com", Name: name, Type: activity.ActorUser, Role: activity.RoleMember}
	}
	now := time.Now().Add(-time.Hour)
	var stream []activity.Event
	attempts := func(user string, n int, from time.Time) []activity.Event {
		var out []activity.Event
		for i := 0; i < n; i++ {
			// A new address each time, so only the per-account rule counts.
			ip := fmt.Sprintf("198.51.100.%d", len(stream)+len(out)+1)
			out = append(out, failedLogin(ws, users[user], ip, from.Add(time.Duration(i)*time.Minute)))
		}
		return out
	}
	ada := attempts("ada", 3, now)                      // 3 within 10 minutes: an alert
	stream = append(stream, ada...)                     //
	stream = append(stream, attempts("bob", 2, now)...) // 2: below the threshold
	stream = append(stream, ada...)                     // a replay: nothing new
	spread := attempts("bob", 1, now.Add(30*time.Minute))
	stream = append(stream, spread...) // bob's third is outside the window
	stream = append(stream, attempts("cyd", 3, now)...)

	w := &kafka.Writer{Addr: kafka.TCP(cfg.Publisher.Brokers...), Topic: cfg.Publisher.Topic, Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	for _, e := range stream {
		b, _ := json.Marshal(e)
		if err := w.WriteMessages(t.Context(), kafka.Message{Key: []byte(ws), Value: b}); err != nil {
			t.Fatal(err)
		}
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Publisher.Brokers, Topic: cfg.AlertTopic, GroupID: "test-alert-reader-" + randomID(), StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var alerts []detect.Alert
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read alerts (got %d so far: %+v): %v", len(alerts), alerts, err)
		}
		var a detect.Alert
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		alerts = append(alerts, a)
		if a.Subject["id"] == users["cyd"].ID {
			break // the last trigger of the stream; everything before it is in
		}
	}
	if len(alerts) != 2 || alerts[0].Subject["id"] != users["ada"].ID {
		t.Fatalf("alerts = %+v, want one for ada then one for cyd", alerts)
	}
	a := alerts[0]
	if a.Rule != "failed_logins" || a.Count != 3 || a.WorkspaceID != ws || a.EventID != ada[2].ID {
		t.Errorf("ada's alert = %+v", a)
	}
}
