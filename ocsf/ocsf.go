// Package ocsf maps activity events to events of the Open Cybersecurity
// Schema Framework (OCSF), the layout many SIEMs read natively. The mapping
// is pure: one activity event in, one OCSF event out, nothing dropped
// (whatever has no OCSF field is kept under unmapped).
//
// The layout follows OCSF SchemaVersion; docs/ocsf.md has the table of our
// actions and the OCSF class and activity each becomes.
package ocsf

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"sync"

	activity "github.com/fluxera/activity"
)

// SchemaVersion is the OCSF version the events follow (metadata.version).
const SchemaVersion = "1.3.0"

// Topic is the Kafka topic that carries every activity event mapped to
// OCSF, keyed by workspace id like the activity topic it is made from.
const Topic = "fluxera.activity.ocsf.v1"

// Product names the platform in every event's metadata.product.
const (
	ProductName = "Fluxera Activity"
	VendorName  = "Fluxera"
)

// OCSF classes the platform's events become.
const (
	ClassAccountChange        = 3001
	ClassAuthentication       = 3002
	ClassEntityManagement     = 3004
	ClassUserAccessManagement = 3005
	ClassAPIActivity          = 6003
)

var classNames = map[int]string{
	ClassAccountChange:        "Account Change",
	ClassAuthentication:       "Authentication",
	ClassEntityManagement:     "Entity Management",
	ClassUserAccessManagement: "User Access Management",
	ClassAPIActivity:          "API Activity",
}

var categoryNames = map[int]string{
	3: "Identity & Access Management",
	6: "Application Activity",
}

// Event is one OCSF event. Fields follow the OCSF attribute names; empty
// ones are left out.
type Event struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name,omitempty"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name,omitempty"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name,omitempty"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name,omitempty"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity,omitempty"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status,omitempty"`
	// Time is when the action happened, in milliseconds since the epoch.
	Time     int64    `json:"time"`
	Message  string   `json:"message,omitempty"`
	Metadata Metadata `json:"metadata"`

	Actor *Actor `json:"actor,omitempty"`
	// Service is what an Authentication event logs in to: the platform.
	Service     *Service     `json:"service,omitempty"`
	User        *User        `json:"user,omitempty"`
	SrcEndpoint *Endpoint    `json:"src_endpoint,omitempty"`
	HTTPRequest *HTTPRequest `json:"http_request,omitempty"`
	// Entity is the managed thing of an Entity Management event.
	Entity *Entity `json:"entity,omitempty"`
	// Privileges are the roles or scopes granted or taken in a User
	// Access Management event.
	Privileges []string `json:"privileges,omitempty"`
	// API and Resources describe an API Activity event.
	API       *API     `json:"api,omitempty"`
	Resources []Entity `json:"resources,omitempty"`

	// Unmapped keeps what no OCSF attribute of the class holds: the
	// action, the changes, the note, the details and the rest.
	Unmapped map[string]any `json:"unmapped,omitempty"`
}

// Metadata says where the event comes from and which OCSF version it follows.
type Metadata struct {
	UID            string  `json:"uid"`
	Version        string  `json:"version"`
	Product        Product `json:"product"`
	TenantUID      string  `json:"tenant_uid,omitempty"`
	CorrelationUID string  `json:"correlation_uid,omitempty"`
	EventCode      string  `json:"event_code,omitempty"`
	LogName        string  `json:"log_name,omitempty"`
	// Profiles are the OCSF profiles whose attributes the event uses:
	// "host" where a class has actor only through it.
	Profiles []string `json:"profiles,omitempty"`
}

// Service is a service of the platform.
type Service struct {
	Name string `json:"name"`
}

// Product is the platform that recorded the event.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// Actor is who performed the action.
type Actor struct {
	User    *User    `json:"user,omitempty"`
	Session *Session `json:"session,omitempty"`
	AppName string   `json:"app_name,omitempty"`
}

// Session is the web session or API token of a request.
type Session struct {
	UID string `json:"uid"`
}

// User is a person's account.
type User struct {
	UID       string `json:"uid,omitempty"`
	Name      string `json:"name,omitempty"`
	EmailAddr string `json:"email_addr,omitempty"`
	TypeID    int    `json:"type_id"`
	Type      string `json:"type,omitempty"`
}

// Endpoint is where a request came from.
type Endpoint struct {
	IP       string    `json:"ip,omitempty"`
	Name     string    `json:"name,omitempty"`
	Location *Location `json:"location,omitempty"`
}

// Location is where an address is, as far as the platform knows.
type Location struct {
	City    string `json:"city,omitempty"`
	Country string `json:"country,omitempty"`
	ISP     string `json:"isp,omitempty"`
}

// HTTPRequest is the request that carried the action.
type HTTPRequest struct {
	UID       string `json:"uid,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Entity is a thing of the platform: an asset, a license, an alert rule.
type Entity struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// API names the operation of an API Activity event.
type API struct {
	Operation string      `json:"operation"`
	Request   *APIRequest `json:"request,omitempty"`
}

// APIRequest identifies one API request.
type APIRequest struct {
	UID string `json:"uid"`
}

// Severities and statuses the platform uses.
const (
	severityInformational = 1
	severityMedium        = 3
	statusSuccess         = 1
	statusFailure         = 2
)

// Class returns the OCSF class and activity an event becomes, with the
// activity's name. Every action has one: actions the table below does not
// name become Entity Management events by their verb (created, deleted,
// viewed, anything else an update), or API Activity when an API token
// performed them; asset and license changes stay Entity Management.
func Class(e activity.Event) (class, activityID int, activityName string) {
	if m, ok := actions[e.Action]; ok && !(m.tokenUse && e.Actor.Type == activity.ActorAPIToken) {
		return m.class, m.activity, m.name
	}
	if e.Category == activity.CategoryAsset || e.Category == activity.CategoryLicense {
		// Asset and license changes are Entity Management whoever made them.
		return ClassEntityManagement, entityActivity(e.Action), entityActivityNames[entityActivity(e.Action)]
	}
	if e.Actor.Type == activity.ActorAPIToken || e.Action == "auth.access_denied" {
		return ClassAPIActivity, apiActivity(e.Action), apiActivityNames[apiActivity(e.Action)]
	}
	return ClassEntityManagement, entityActivity(e.Action), entityActivityNames[entityActivity(e.Action)]
}

// mapping is where one action lands. tokenUse marks actions that become
// API Activity when an API token performed them.
type mapping struct {
	class, activity int
	name            string
	tokenUse        bool
}

// actions maps the actions whose class is fixed. Asset, license and other
// entity changes are found by their verb (entityActivity).
var actions = map[string]mapping{
	"auth.login":        {ClassAuthentication, 1, "Logon", false},
	"auth.login_failed": {ClassAuthentication, 1, "Logon", false},
	"auth.logout":       {ClassAuthentication, 2, "Logoff", false},

	"auth.signup":           {ClassAccountChange, 1, "Create", false},
	"auth.signup_failed":    {ClassAccountChange, 1, "Create", false},
	"user.created":          {ClassAccountChange, 1, "Create", false},
	"user.invited":          {ClassAccountChange, 1, "Create", false},
	"invitation.accepted":   {ClassAccountChange, 2, "Enable", false},
	"invitation.declined":   {ClassAccountChange, 99, "Other", false},
	"invitation.revoked":    {ClassAccountChange, 6, "Delete", false},
	"user.activated":        {ClassAccountChange, 2, "Enable", false},
	"user.deactivated":      {ClassAccountChange, 5, "Disable", false},
	"user.password_changed": {ClassAccountChange, 3, "Password Change", false},
	"user.profile_updated":  {ClassAccountChange, 99, "Other", false},

	"user.role_changed":      {ClassUserAccessManagement, 1, "Assign Privileges", false},
	"user.api_token_created": {ClassUserAccessManagement, 1, "Assign Privileges", false},
	"user.api_token_rotated": {ClassUserAccessManagement, 1, "Assign Privileges", false},
	"user.api_token_revoked": {ClassUserAccessManagement, 2, "Revoke Privileges", false},

	"system.data_exported":    {ClassEntityManagement, 2, "Read", true},
	"system.report_generated": {ClassEntityManagement, 2, "Read", true},
	"system.log_viewed":       {ClassEntityManagement, 2, "Read", true},
	"system.activity_deleted": {ClassEntityManagement, 4, "Delete", true},
	"license.key_viewed":      {ClassEntityManagement, 2, "Read", false},
}

var entityActivityNames = map[int]string{1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"}

// entityActivity is the Entity Management activity of an action by its
// verb: created, deleted, and every other change an update.
func entityActivity(action string) int {
	_, verb, _ := strings.Cut(action, ".")
	switch {
	case verb == "created":
		return 1
	case verb == "deleted":
		return 4
	case strings.HasSuffix(verb, "viewed") || verb == "data_exported" || verb == "report_generated":
		return 2
	case verb == "":
		return 99
	}
	return 3
}

var apiActivityNames = map[int]string{1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"}

// apiActivity is the API Activity of an action performed with a token.
func apiActivity(action string) int {
	if action == "auth.access_denied" {
		return 99
	}
	return entityActivity(action)
}

// BuildVersion is the version of this build of the platform: its module
// version when it was built from a tagged module, otherwise the commit it
// was built from (12 characters), or empty when neither is known.
func BuildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return ""
}

var buildVersion = sync.OnceValue(BuildVersion)

// Map returns the OCSF event of e. productVersion is the platform's
// version, written to metadata.product.version; when it is empty, the
// build's own (BuildVersion) is, if known.
func Map(e activity.Event, productVersion string) Event {
	if productVersion == "" {
		productVersion = buildVersion()
	}
	class, act, actName := Class(e)
	cat := class / 1000
	out := Event{
		ActivityID:   act,
		ActivityName: actName,
		CategoryUID:  cat,
		CategoryName: categoryNames[cat],
		ClassUID:     class,
		ClassName:    classNames[class],
		TypeUID:      class*100 + act,
		TypeName:     classNames[class] + ": " + actName,
		SeverityID:   severityInformational,
		Severity:     "Informational",
		StatusID:     statusSuccess,
		Status:       "Success",
		Time:         e.OccurredAt.UnixMilli(),
		Message:      e.Summary(),
		Metadata: Metadata{
			UID:            e.ID,
			Version:        SchemaVersion,
			Product:        Product{Name: ProductName, VendorName: VendorName, Version: productVersion},
			TenantUID:      e.WorkspaceID,
			CorrelationUID: e.Context.RequestID,
			EventCode:      e.Action,
			LogName:        activity.Topic,
		},
		Actor:       actor(e),
		SrcEndpoint: endpoint(e.Context),
		Unmapped:    unmapped(e),
	}
	if e.Outcome == activity.OutcomeFailure {
		out.SeverityID, out.Severity = severityMedium, "Medium"
		out.StatusID, out.Status = statusFailure, "Failure"
	}
	if e.Context.RequestID != "" || e.Context.UserAgent != "" {
		out.HTTPRequest = &HTTPRequest{UID: e.Context.RequestID, UserAgent: e.Context.UserAgent}
	}
	switch class {
	case ClassAuthentication:
		// The user who logs in is the actor (for a failed login with an
		// unknown email, the email tried).
		out.User = actorUser(e.Actor)
		out.Service = &Service{Name: ProductName}
	case ClassAccountChange:
		out.User = subject(e)
	case ClassUserAccessManagement:
		out.User = subject(e)
		out.Privileges = privileges(e)
		out.Metadata.Profiles = []string{"host"}
	case ClassEntityManagement:
		out.Entity = entity(e.Resource)
		out.Metadata.Profiles = []string{"host"}
	case ClassAPIActivity:
		out.API = &API{Operation: e.Action}
		if e.Context.RequestID != "" {
			out.API.Request = &APIRequest{UID: e.Context.RequestID}
		}
		out.Resources = []Entity{*entity(e.Resource)}
		if out.SrcEndpoint == nil {
			// The class needs a source; an event without an address
			// names how it reached the platform instead.
			out.SrcEndpoint = &Endpoint{Name: orDefault(e.Context.Method, "unknown")}
		}
		if out.Actor == nil {
			out.Actor = &Actor{AppName: ProductName}
		}
	}
	return out
}

// Marshal returns the OCSF event of e as one line of JSON ending in a
// newline, as the OCSF topic and NDJSON exports carry it.
func Marshal(e activity.Event, productVersion string) ([]byte, error) {
	b, err := json.Marshal(Map(e, productVersion))
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// user type ids of OCSF: 0 unknown, 1 user, 2 admin, 3 system.
func userType(a activity.Actor) (int, string) {
	switch {
	case a.Type == activity.ActorSystem:
		return 3, "System"
	case a.Role == activity.RoleOwner || a.Role == activity.RoleAdmin:
		return 2, "Admin"
	case a.Type == activity.ActorUser || a.Type == activity.ActorAPIToken:
		return 1, "User"
	}
	return 0, "Unknown"
}

func actorUser(a activity.Actor) *User {
	id, name := userType(a)
	u := &User{UID: a.ID, Name: a.Name, EmailAddr: a.Email, TypeID: id, Type: name}
	if u.Name == "" {
		// OCSF needs a name or an id; an anonymous actor has neither but
		// the email it tried, or nothing at all.
		u.Name = orDefault(a.Email, orDefault(a.Type, "unknown"))
	}
	if u.UID == "" && u.Name == "" {
		u.Name = "unknown"
	}
	return u
}

func actor(e activity.Event) *Actor {
	a := &Actor{User: actorUser(e.Actor)}
	if e.Context.SessionID != "" {
		a.Session = &Session{UID: e.Context.SessionID}
	}
	return a
}

// subject is the account an account or access change is about: the user
// resource when there is one, otherwise the actor.
func subject(e activity.Event) *User {
	if e.Resource.Type == "user" && (e.Resource.ID != "" || e.Resource.Name != "") {
		u := &User{UID: e.Resource.ID, Name: orDefault(e.Resource.Name, e.Resource.ID), TypeID: 1, Type: "User"}
		if strings.Contains(u.Name, "@") {
			u.EmailAddr = u.Name
		}
		return u
	}
	for _, r := range e.Related {
		if r.Type == "user" && (r.ID != "" || r.Name != "") {
			return &User{UID: r.ID, Name: orDefault(r.Name, r.ID), TypeID: 1, Type: "User"}
		}
	}
	return actorUser(e.Actor)
}

// privileges are the roles or scopes an access change grants: the new
// value of a role change, or the scopes of a token.
func privileges(e activity.Event) []string {
	var out []string
	for _, c := range e.Changes {
		if c.Redacted || c.After == "" {
			continue
		}
		if c.Field == "role" || c.Field == "scopes" {
			out = append(out, c.After)
		}
	}
	switch s := e.Details["scopes"].(type) {
	case []string:
		out = append(out, s...)
	case []any: // as decoded from JSON
		for _, v := range s {
			if str, ok := v.(string); ok {
				out = append(out, str)
			}
		}
	}
	if len(out) == 0 {
		out = []string{orDefault(e.Resource.Type, "access")}
		if e.Resource.Name != "" && e.Resource.Type != "user" {
			out = []string{e.Resource.Type + ":" + e.Resource.Name}
		}
	}
	return out
}

func entity(r activity.Resource) *Entity {
	x := &Entity{UID: r.ID, Name: r.Name, Type: r.Type}
	if x.UID == "" && x.Name == "" {
		x.Name = orDefault(r.Type, "unknown")
	}
	return x
}

func endpoint(c activity.Context) *Endpoint {
	if c.IP == "" {
		return nil
	}
	ep := &Endpoint{IP: c.IP}
	if l := c.Location; l != nil && (l.City != "" || l.Country != "") {
		ep.Location = &Location{City: l.City, Country: l.Country, ISP: l.Network}
	}
	return ep
}

// unmapped keeps every field of the activity event that no OCSF attribute
// of the class holds, under the activity event's own names.
func unmapped(e activity.Event) map[string]any {
	u := map[string]any{
		"schema":   e.Schema,
		"action":   e.Action,
		"category": e.Category,
		"outcome":  e.Outcome,
		"actor":    map[string]any{"type": e.Actor.Type, "role": e.Actor.Role},
		"resource": e.Resource,
	}
	if len(e.Related) > 0 {
		u["related"] = e.Related
	}
	if len(e.Changes) > 0 {
		u["changes"] = e.Changes
	}
	if e.Note != "" {
		u["note"] = e.Note
	}
	if len(e.Details) > 0 {
		u["details"] = e.Details
	}
	if e.Context.Method != "" {
		u["method"] = e.Context.Method
	}
	if e.Context.TimeZone != "" {
		u["time_zone"] = e.Context.TimeZone
	}
	return u
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
