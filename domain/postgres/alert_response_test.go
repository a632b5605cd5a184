package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
)

// scriptedAlert is an alert the test raised and answered, and when.
type scriptedAlert struct {
	severity      string
	raised        time.Time
	acknowledged  *time.Time
	resolved      *time.Time
	state         string
	inPeriod      bool
	anotherTenant bool
}

// bruteDuration sums up waits by nearest rank, as the response times do.
func bruteDuration(waits []int64) alert.Duration {
	if len(waits) == 0 {
		return alert.Duration{}
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	n := len(waits)
	return alert.Duration{Count: int64(n), MedianMS: waits[(n+1)/2-1], P90MS: waits[(9*n+9)/10-1], MaxMS: waits[n-1]}
}

func bruteResponses(alerts []scriptedAlert, severity string) alert.Responses {
	r := alert.Responses{Severity: severity}
	var ack, res, ackres []int64
	for _, a := range alerts {
		if !a.inPeriod || a.anotherTenant || (severity != "" && a.severity != severity) {
			continue
		}
		r.Raised++
		switch a.state {
		case alert.AlertOpen:
			r.Open++
		case alert.AlertAcknowledged:
			r.Acknowledged++
		case alert.AlertResolved:
			r.Resolved++
		}
		if a.acknowledged != nil {
			ack = append(ack, a.acknowledged.Sub(a.raised).Milliseconds())
		}
		if a.resolved != nil {
			res = append(res, a.resolved.Sub(a.raised).Milliseconds())
		}
		if a.acknowledged != nil && a.resolved != nil {
			ackres = append(ackres, a.resolved.Sub(*a.acknowledged).Milliseconds())
		}
	}
	r.ToAcknowledge, r.ToResolve, r.AckToResolve = bruteDuration(ack), bruteDuration(res), bruteDuration(ackres)
	return r
}

// TestAlertResponseTimesEqualBruteForce raises random alerts in the real
// PostgreSQL, some before and after the period and some in another
// workspace, answers them after random waits (some never, some resolved
// without an acknowledgement) and checks the response times against what
// the test computes from the alerts it wrote.
func TestAlertResponseTimesEqualBruteForce(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("alerts of seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 3))
	s := mustAlertStore(t)
	other := mustOwner(t, s.db, "Elsewhere")
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(10 * 24 * time.Hour)
	var script []scriptedAlert
	var raise []alert.Alert
	for i := range 40 + rnd.IntN(60) {
		a := scriptedAlert{severity: alert.Severities[rnd.IntN(len(alert.Severities))], state: alert.AlertOpen}
		a.raised = from.Add(-48*time.Hour + time.Duration(rnd.Int64N(int64(14*24*time.Hour)))).Truncate(time.Millisecond)
		a.inPeriod = !a.raised.Before(from) && a.raised.Before(to)
		a.anotherTenant = rnd.IntN(8) == 0
		at := a.raised
		if rnd.IntN(3) > 0 {
			at = at.Add(time.Duration(rnd.Int64N(int64(6 * time.Hour)))).Truncate(time.Millisecond)
			a.acknowledged, a.state = &at, alert.AlertAcknowledged
		}
		if rnd.IntN(2) == 0 {
			end := at.Add(time.Duration(rnd.Int64N(int64(48 * time.Hour)))).Truncate(time.Millisecond)
			a.resolved, a.state = &end, alert.AlertResolved
		}
		ws := s.owner.WorkspaceID
		if a.anotherTenant {
			ws = other.WorkspaceID
		}
		raise = append(raise, postgrestest.Alert(ws, fmt.Sprintf("detector-%d", i), a.raised, a.severity))
		script = append(script, a)
	}
	postgrestest.MustRaise(t, s.db, raise...)
	for i, a := range script {
		_, err := s.db.ExecContext(t.Context(), "UPDATE alerts SET state = ?, acknowledged_at = ?, resolved_at = ? WHERE id = ?",
			a.state, a.acknowledged, a.resolved, raise[i].ID)
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := postgres.NewAlertService(s.db).AlertResponseTimes(t.Context(), s.owner, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if want := bruteResponses(script, ""); got.Whole != want {
		t.Errorf("all alerts = %+v, want %+v", got.Whole, want)
	}
	var want []alert.Responses
	for _, sev := range alert.Severities {
		if r := bruteResponses(script, sev); r.Raised > 0 {
			want = append(want, r)
		}
	}
	if fmt.Sprint(got.Severities) != fmt.Sprint(want) {
		t.Errorf("per severity = %+v, want %+v", got.Severities, want)
	}
}

// TestAlertResponseTimesRefuse checks the refusals: a member may not see
// the alerts' response times, and a period must end after it starts.
func TestAlertResponseTimesRefuse(t *testing.T) {
	s := mustAlertStore(t)
	now := time.Now()
	member := s.owner
	member.Role = activity.RoleMember
	tests := []struct {
		name     string
		p        activity.Principal
		from, to time.Time
		code     string
	}{
		{"member", member, now.Add(-time.Hour), now, activity.EFORBIDDEN},
		{"empty period", s.owner, now, now, activity.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.NewAlertService(s.db).AlertResponseTimes(t.Context(), tt.p, tt.from, tt.to)
			if activity.ErrorCode(err) != tt.code {
				t.Errorf("error %v, want %s", err, tt.code)
			}
		})
	}
}
