package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// DefaultAlertConfigTTL is how long AlertConfigs keeps a workspace's
// configuration unless told otherwise.
const DefaultAlertConfigTTL = 5 * time.Second

// AlertConfigs reads what the detector needs to know about a workspace —
// its time zone and working hours, its detection settings over the
// defaults, its enabled alert rules — and keeps each for a short while, so
// that the detector does not query per event. It implements
// alert.Configs.
type AlertConfigs struct {
	db  *DB
	ttl time.Duration
	// Now is the clock the cache ages by; tests may replace it.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedConfig
}

type cachedConfig struct {
	cfg     alert.WorkspaceConfig
	expires time.Time
}

// NewAlertConfigs returns the workspace configurations of db, each kept
// for ttl (DefaultAlertConfigTTL when zero or less).
func NewAlertConfigs(db *DB, ttl time.Duration) *AlertConfigs {
	if ttl <= 0 {
		ttl = DefaultAlertConfigTTL
	}
	return &AlertConfigs{db: db, ttl: ttl, Now: time.Now, cache: map[string]cachedConfig{}}
}

// maxCachedConfigs bounds the cache; past it, expired entries are dropped.
const maxCachedConfigs = 10000

// Config returns the configuration of a workspace. A workspace that does
// not exist, the platform workspace included, gets the defaults — UTC,
// 09:00 to 18:00 Monday to Friday, the default detection settings — and no
// rules. The configuration is shared between callers, who must not change
// it.
func (c *AlertConfigs) Config(ctx context.Context, workspaceID string) (alert.WorkspaceConfig, error) {
	now := c.Now()
	c.mu.Lock()
	hit, ok := c.cache[workspaceID]
	c.mu.Unlock()
	if ok && now.Before(hit.expires) {
		return hit.cfg, nil
	}
	cfg, err := c.load(ctx, workspaceID)
	if err != nil {
		return alert.WorkspaceConfig{}, err
	}
	c.mu.Lock()
	if len(c.cache) >= maxCachedConfigs {
		for k, v := range c.cache {
			if !now.Before(v.expires) {
				delete(c.cache, k)
			}
		}
	}
	c.cache[workspaceID] = cachedConfig{cfg: cfg, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return cfg, nil
}

// DefaultWorkspaceConfig is the configuration of a workspace that has
// none: the defaults a new workspace starts with.
func DefaultWorkspaceConfig() alert.WorkspaceConfig {
	return alert.WorkspaceConfig{
		Location:    time.UTC,
		WorkStart:   9 * 60,
		WorkEnd:     18 * 60,
		WorkingDays: [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true},
		Detection:   alert.DefaultDetectionSettings(),
		Rules:       []alert.AlertRule{},
	}
}

func (c *AlertConfigs) load(ctx context.Context, workspaceID string) (alert.WorkspaceConfig, error) {
	cfg := DefaultWorkspaceConfig()
	if !validID(workspaceID) || workspaceID == activity.PlatformWorkspace {
		return cfg, nil
	}
	var ws workspaceRow
	err := c.db.NewSelect().Model(&ws).Where("id = ?", workspaceID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("select workspace %s: %w", workspaceID, err)
	}
	if loc, err := time.LoadLocation(ws.TimeZone); err == nil {
		cfg.Location = loc
	}
	if m, ok := clockMinutes(ws.WorkingHoursStart); ok {
		cfg.WorkStart = m
	}
	if m, ok := clockMinutes(ws.WorkingHoursEnd); ok {
		cfg.WorkEnd = m
	}
	cfg.WorkingDays = [7]bool{}
	for _, d := range strings.Split(ws.WorkingDays, ",") {
		if wd, ok := weekdays[strings.TrimSpace(d)]; ok {
			cfg.WorkingDays[wd] = true
		}
	}
	row, err := loadDetection(ctx, c.db, workspaceID, false)
	if err != nil {
		return cfg, err
	}
	cfg.Detection = row.settings()
	var rules []alertRuleRow
	if err := c.db.NewSelect().Model(&rules).Where("workspace_id = ? AND enabled", workspaceID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return cfg, fmt.Errorf("select alert rules of workspace %s: %w", workspaceID, err)
	}
	for _, r := range rules {
		cfg.Rules = append(cfg.Rules, r.rule())
	}
	return cfg, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// clockMinutes reads "09:30" as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

var _ alert.Configs = (*AlertConfigs)(nil)
