package searchapi

import (
	"math"
	"sort"
	"strings"
	"time"
)

// The features whose adoption the engagement measures.
const (
	FeatureAsset          = "asset"
	FeatureLicense        = "license"
	FeatureUserManagement = "user_management"
	FeatureExports        = "exports"
	FeatureReports        = "reports"
)

// Feature is a part of the product, known by the actions that use it:
// every action that starts with one of Prefixes, and each of Actions.
type Feature struct {
	Name     string
	Prefixes []string
	Actions  []string
}

// Features are the features whose adoption the engagement measures, in
// the order it lists them. An action uses at most one of them.
var Features = []Feature{
	{Name: FeatureAsset, Prefixes: []string{"asset."}},
	{Name: FeatureLicense, Prefixes: []string{"license."}},
	{Name: FeatureUserManagement, Actions: []string{"user.created", "user.invited", "user.role_changed", "user.activated", "user.deactivated", "invitation.revoked"}},
	{Name: FeatureExports, Actions: []string{"system.data_exported"}},
	{Name: FeatureReports, Prefixes: []string{"report_definition."}, Actions: []string{"system.report_generated"}},
}

// FeatureOf returns the feature action uses, or "" for none.
func FeatureOf(action string) string {
	for _, f := range Features {
		for _, p := range f.Prefixes {
			if strings.HasPrefix(action, p) {
				return f.Name
			}
		}
		for _, a := range f.Actions {
			if a == action {
				return f.Name
			}
		}
	}
	return ""
}

// MaxUserDays is the most active days (one user on one calendar day) the
// engagement reads; a period with more is answered from the first of
// them in time order, marked as incomplete.
const MaxUserDays = 1_000_000

// UserDay is what one user did on one calendar day in the workspace's time
// zone: their actions, their logins, and their actions per feature.
type UserDay struct {
	User     string
	Date     string // YYYY-MM-DD
	Actions  int64
	Logins   int64
	Features map[string]int64
}

// Engagement is how many people use the workspace, how often, and what
// for. An active user is a user (not an API token or the system) with at
// least one action other than a failed login; days, weeks (Monday to
// Sunday) and months are calendar ones in the workspace's time zone, cut
// to the period. Every figure is exact: it is computed from each user's
// actions per day, read in full by a composite aggregation, and no
// approximate count (cardinality) is used.
type Engagement struct {
	Period Period `json:"period"`
	// Exact is true: no figure is approximated.
	Exact bool `json:"exact"`
	// Complete is false when the period held more than MaxUserDays active
	// days, and only the first were read, in time order.
	Complete    bool  `json:"complete"`
	ActiveUsers int64 `json:"active_users"`
	Actions     int64 `json:"actions"`
	Logins      int64 `json:"logins"`
	// DAU, WAU and MAU are the mean numbers of active users per day, week
	// and month of the period; Stickiness is DAU / MAU.
	DAU        float64 `json:"dau"`
	WAU        float64 `json:"wau"`
	MAU        float64 `json:"mau"`
	Stickiness float64 `json:"stickiness"`
	// LoginsPerActiveWeek is the logins over the weeks in which users were
	// active, summed over users.
	LoginsPerActiveWeek float64           `json:"logins_per_active_week"`
	Features            []FeatureAdoption `json:"features"`
	// Days holds every day of the period; Weeks and Months every week and
	// month it touches, each from its days within the period.
	Days   []EngagementDay  `json:"days"`
	Weeks  []EngagementSpan `json:"weeks"`
	Months []EngagementSpan `json:"months"`
	// Users holds every active user, most actions first.
	Users []UserEngagement `json:"users"`
}

// FeatureAdoption is the use of one feature: Users of the active users
// used it at least once, a Share of them, in Actions actions.
type FeatureAdoption struct {
	Feature string  `json:"feature"`
	Users   int64   `json:"users"`
	Share   float64 `json:"share"`
	Actions int64   `json:"actions"`
}

// EngagementDay is one calendar day of the engagement.
type EngagementDay struct {
	Date        string `json:"date"`
	ActiveUsers int64  `json:"active_users"`
	Actions     int64  `json:"actions"`
	Logins      int64  `json:"logins"`
}

// EngagementSpan is one week or month of the engagement, from its days
// within the period: the users active in it, their mean per day, the
// stickiness (DAU over the span's active users), the logins per active
// user, and each feature's adoption among its active users.
type EngagementSpan struct {
	Start               string            `json:"start"`
	Days                int               `json:"days"`
	ActiveUsers         int64             `json:"active_users"`
	Actions             int64             `json:"actions"`
	Logins              int64             `json:"logins"`
	DAU                 float64           `json:"dau"`
	Stickiness          float64           `json:"stickiness"`
	LoginsPerActiveUser float64           `json:"logins_per_active_user"`
	Features            []FeatureAdoption `json:"features"`
}

// UserEngagement is one active user's engagement in the period.
type UserEngagement struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Email               string   `json:"email"`
	Actions             int64    `json:"actions"`
	Logins              int64    `json:"logins"`
	ActiveDays          int64    `json:"active_days"`
	ActiveWeeks         int64    `json:"active_weeks"`
	LoginsPerActiveWeek float64  `json:"logins_per_active_week"`
	Features            []string `json:"features"`
}

// Ratio returns a / b rounded to four decimals, and 0 when b is 0.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*10000) / 10000
}

// PeriodDays returns every calendar day (YYYY-MM-DD) of period in its time
// zone, oldest first.
func PeriodDays(period Period) []string {
	loc := period.Location
	if loc == nil {
		loc = Zone(period.TimeZone)
	}
	var out []string
	y, m, d := period.From.In(loc).Date()
	for day := time.Date(y, m, d, 0, 0, 0, 0, loc); day.Before(period.To); day = time.Date(y, m, d, 0, 0, 0, 0, loc) {
		out = append(out, day.Format(time.DateOnly))
		d++
	}
	return out
}

// WeekOf returns the Monday (YYYY-MM-DD) of the week of date.
func WeekOf(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	back := (int(t.Weekday()) + 6) % 7
	return t.AddDate(0, 0, -back).Format(time.DateOnly)
}

// MonthOf returns the first day (YYYY-MM-DD) of the month of date.
func MonthOf(date string) string {
	if len(date) < 8 {
		return date
	}
	return date[:8] + "01"
}

// span gathers one week or month while the engagement is computed.
type span struct {
	days     int
	dayUsers int64
	actions  int64
	logins   int64
	users    map[string]bool
	features map[string]map[string]bool
	fActions map[string]int64
}

func newSpan() *span {
	return &span{users: map[string]bool{}, features: map[string]map[string]bool{}, fActions: map[string]int64{}}
}

func (s *span) add(d UserDay) {
	s.actions += d.Actions
	s.logins += d.Logins
	s.users[d.User] = true
	for f, n := range d.Features {
		if n == 0 {
			continue
		}
		if s.features[f] == nil {
			s.features[f] = map[string]bool{}
		}
		s.features[f][d.User] = true
		s.fActions[f] += n
	}
}

func (s *span) adoption() []FeatureAdoption {
	out := make([]FeatureAdoption, 0, len(Features))
	for _, f := range Features {
		n := int64(len(s.features[f.Name]))
		out = append(out, FeatureAdoption{Feature: f.Name, Users: n, Share: Ratio(float64(n), float64(len(s.users))), Actions: s.fActions[f.Name]})
	}
	return out
}

func (s *span) answer(start string) EngagementSpan {
	active := int64(len(s.users))
	dau := Ratio(float64(s.dayUsers), float64(s.days))
	return EngagementSpan{
		Start: start, Days: s.days, ActiveUsers: active, Actions: s.actions, Logins: s.logins,
		DAU: dau, Stickiness: Ratio(float64(s.dayUsers)/float64(max(1, s.days)), float64(active)),
		LoginsPerActiveUser: Ratio(float64(s.logins), float64(active)), Features: s.adoption(),
	}
}

// Engage computes the engagement over period from the days its users were
// active, each user and date at most once. Days outside the period are
// left out. Names are filled in later by the caller.
func Engage(period Period, days []UserDay) Engagement {
	dates := PeriodDays(period)
	inPeriod := make(map[string]int, len(dates))
	for i, d := range dates {
		inPeriod[d] = i
	}
	e := Engagement{Period: period, Exact: true, Complete: true, Days: make([]EngagementDay, len(dates))}
	whole := newSpan()
	weeks, months := map[string]*span{}, map[string]*span{}
	var weekOrder, monthOrder []string
	for i, d := range dates {
		e.Days[i].Date = d
		w, m := WeekOf(d), MonthOf(d)
		if weeks[w] == nil {
			weeks[w] = newSpan()
			weekOrder = append(weekOrder, w)
		}
		if months[m] == nil {
			months[m] = newSpan()
			monthOrder = append(monthOrder, m)
		}
		weeks[w].days++
		months[m].days++
		whole.days++
	}
	users := map[string]*UserEngagement{}
	userWeeks := map[string]map[string]bool{}
	userFeatures := map[string]map[string]bool{}
	for _, d := range days {
		i, ok := inPeriod[d.Date]
		if !ok {
			continue
		}
		e.Days[i].ActiveUsers++
		e.Days[i].Actions += d.Actions
		e.Days[i].Logins += d.Logins
		w, m := weeks[WeekOf(d.Date)], months[MonthOf(d.Date)]
		for _, s := range []*span{whole, w, m} {
			s.add(d)
			s.dayUsers++
		}
		u := users[d.User]
		if u == nil {
			u = &UserEngagement{ID: d.User, Features: []string{}}
			users[d.User] = u
			userWeeks[d.User] = map[string]bool{}
			userFeatures[d.User] = map[string]bool{}
		}
		u.Actions += d.Actions
		u.Logins += d.Logins
		u.ActiveDays++
		userWeeks[d.User][WeekOf(d.Date)] = true
		for f, n := range d.Features {
			if n > 0 {
				userFeatures[d.User][f] = true
			}
		}
	}
	e.ActiveUsers, e.Actions, e.Logins = int64(len(whole.users)), whole.actions, whole.logins
	e.Features = whole.adoption()
	var userWeekCount int64
	for id, u := range users {
		u.ActiveWeeks = int64(len(userWeeks[id]))
		userWeekCount += u.ActiveWeeks
		u.LoginsPerActiveWeek = Ratio(float64(u.Logins), float64(u.ActiveWeeks))
		for _, f := range Features {
			if userFeatures[id][f.Name] {
				u.Features = append(u.Features, f.Name)
			}
		}
		e.Users = append(e.Users, *u)
	}
	sort.Slice(e.Users, func(i, j int) bool {
		a, b := e.Users[i], e.Users[j]
		if a.Actions != b.Actions {
			return a.Actions > b.Actions
		}
		return a.ID < b.ID
	})
	if e.Users == nil {
		e.Users = []UserEngagement{}
	}
	e.LoginsPerActiveWeek = Ratio(float64(e.Logins), float64(userWeekCount))
	var weekUsers, monthUsers int64
	for _, w := range weekOrder {
		e.Weeks = append(e.Weeks, weeks[w].answer(w))
		weekUsers += int64(len(weeks[w].users))
	}
	for _, m := range monthOrder {
		e.Months = append(e.Months, months[m].answer(m))
		monthUsers += int64(len(months[m].users))
	}
	e.DAU = Ratio(float64(whole.dayUsers), float64(len(dates)))
	e.WAU = Ratio(float64(weekUsers), float64(len(weekOrder)))
	e.MAU = Ratio(float64(monthUsers), float64(len(monthOrder)))
	e.Stickiness = Ratio(float64(whole.dayUsers)/float64(max(1, len(dates))), float64(monthUsers)/float64(max(1, len(monthOrder))))
	return e
}
