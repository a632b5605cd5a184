package postgres

import (
	"context"
	"fmt"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

// responseRow is one grouping of the alert response times' query: the
// whole period (Whole) or one severity.
type responseRow struct {
	Whole        bool   `bun:"whole"`
	Severity     string `bun:"severity"`
	Raised       int64  `bun:"raised"`
	Open         int64  `bun:"open"`
	Acknowledged int64  `bun:"acknowledged"`
	Resolved     int64  `bun:"resolved"`
	AckCount     int64  `bun:"ack_count"`
	AckMedian    int64  `bun:"ack_median"`
	AckP90       int64  `bun:"ack_p90"`
	AckMax       int64  `bun:"ack_max"`
	ResCount     int64  `bun:"res_count"`
	ResMedian    int64  `bun:"res_median"`
	ResP90       int64  `bun:"res_p90"`
	ResMax       int64  `bun:"res_max"`
	AckResCount  int64  `bun:"ackres_count"`
	AckResMedian int64  `bun:"ackres_median"`
	AckResP90    int64  `bun:"ackres_p90"`
	AckResMax    int64  `bun:"ackres_max"`
}

// responseQuery sums up the waits of the alerts raised in a period, in all
// and per severity. percentile_disc is the nearest rank: the first wait
// whose cumulative share reaches the fraction; waits not yet over are
// NULL and left out.
const responseQuery = `
SELECT grouping(severity) = 1 AS whole, coalesce(severity, '') AS severity,
	count(*) AS raised,
	count(*) FILTER (WHERE state = 'open') AS open,
	count(*) FILTER (WHERE state = 'acknowledged') AS acknowledged,
	count(*) FILTER (WHERE state = 'resolved') AS resolved,
	count(ack) AS ack_count,
	coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY ack), 0) AS ack_median,
	coalesce(percentile_disc(0.9) WITHIN GROUP (ORDER BY ack), 0) AS ack_p90,
	coalesce(max(ack), 0) AS ack_max,
	count(res) AS res_count,
	coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY res), 0) AS res_median,
	coalesce(percentile_disc(0.9) WITHIN GROUP (ORDER BY res), 0) AS res_p90,
	coalesce(max(res), 0) AS res_max,
	count(ackres) AS ackres_count,
	coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY ackres), 0) AS ackres_median,
	coalesce(percentile_disc(0.9) WITHIN GROUP (ORDER BY ackres), 0) AS ackres_p90,
	coalesce(max(ackres), 0) AS ackres_max
FROM (
	SELECT severity, state,
		floor(extract(epoch FROM acknowledged_at - raised_at) * 1000)::bigint AS ack,
		floor(extract(epoch FROM resolved_at - raised_at) * 1000)::bigint AS res,
		floor(extract(epoch FROM resolved_at - acknowledged_at) * 1000)::bigint AS ackres
	FROM alerts
	WHERE workspace_id = ? AND raised_at >= ? AND raised_at < ?
) AS a
GROUP BY GROUPING SETS ((), (severity))`

// AlertResponseTimes measures how fast the workspace's alerts raised from
// from until to were acknowledged and resolved. It returns EFORBIDDEN for
// a role that may not manage alerts and EINVALID when to is not after
// from.
func (s *AlertService) AlertResponseTimes(ctx context.Context, p activity.Principal, from, to time.Time) (alert.ResponseTimes, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.ResponseTimes{}, err
	}
	if !to.After(from) {
		return alert.ResponseTimes{}, activity.Errorf(activity.EINVALID, "to", "to must be after from")
	}
	var rows []responseRow
	if err := s.db.NewRaw(responseQuery, p.WorkspaceID, from.UTC(), to.UTC()).Scan(ctx, &rows); err != nil {
		return alert.ResponseTimes{}, fmt.Errorf("select alert response times: %w", err)
	}
	out := alert.ResponseTimes{From: from, To: to, Severities: []alert.Responses{}}
	bySeverity := map[string]alert.Responses{}
	for _, r := range rows {
		res := alert.Responses{
			Severity: r.Severity, Raised: r.Raised, Open: r.Open, Acknowledged: r.Acknowledged, Resolved: r.Resolved,
			ToAcknowledge: alert.Duration{Count: r.AckCount, MedianMS: r.AckMedian, P90MS: r.AckP90, MaxMS: r.AckMax},
			ToResolve:     alert.Duration{Count: r.ResCount, MedianMS: r.ResMedian, P90MS: r.ResP90, MaxMS: r.ResMax},
			AckToResolve:  alert.Duration{Count: r.AckResCount, MedianMS: r.AckResMedian, P90MS: r.AckResP90, MaxMS: r.AckResMax},
		}
		if r.Whole {
			res.Severity = ""
			out.Whole = res
			continue
		}
		bySeverity[r.Severity] = res
	}
	for _, sev := range alert.Severities {
		if r, ok := bySeverity[sev]; ok {
			out.Severities = append(out.Severities, r)
		}
	}
	return out, nil
}
