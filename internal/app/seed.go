package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/topic"
)

// Demo workspace sign-in, printed by make run.
const (
	demoEmail    = "admin@demo.fluxera.test"
	demoPassword = "fluxera-demo"
)

var (
	demoModels = []struct{ name, category, value string }{
		{"MacBook Pro 14", "Laptop", "2399.00"}, {"MacBook Air 13", "Laptop", "1299.00"},
		{"ThinkPad X1 Carbon", "Laptop", "1899.00"}, {"Dell XPS 15", "Laptop", "2099.00"},
		{"Dell UltraSharp U2723QE", "Monitor", "629.00"}, {"LG 27UP850", "Monitor", "449.00"},
		{"iPhone 15", "Phone", "899.00"}, {"Pixel 8", "Phone", "699.00"},
		{"iPad Air", "Tablet", "749.00"}, {"Logitech MX Keys", "Peripheral", "119.00"},
		{"Jabra Evolve2 75", "Headset", "329.00"}, {"Cisco Meraki MR46", "Network", "1199.00"},
	}
	demoLocations = []string{"Berlin HQ, 3rd floor", "Berlin HQ, IT storage", "Munich office", "Remote", "Hamburg office"}
	demoClients   = []domain.Request{
		{IP: "203.0.113.24", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15", Method: activity.MethodWeb},
		{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36", Method: activity.MethodWeb},
		{IP: "192.0.2.55", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", Method: activity.MethodWeb},
		{IP: "2001:db8::42", UserAgent: "fluxera-cli/1.4 (linux)", Method: activity.MethodAPI},
	}
)

// SeedCommand creates the demo workspace with a team, assets, licenses and
// their first days of history; run twice, it adds nothing. With --events
// it also writes that many events of past working days straight into the
// activity topic, for demos and benchmarks of search and analytics.
func (m *Main) SeedCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	assets := fs.Int("assets", 240, "assets to create in the demo workspace")
	events := fs.Int("events", 0, "events of past working days to write into the activity topic")
	days := fs.Int("days", 90, "how many days back the events go")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return err
	}
	db, err := m.Database()
	if err != nil {
		return err
	}
	box, err := m.KeyBox()
	if err != nil {
		return err
	}
	hasher, err := m.PasswordHasher()
	if err != nil {
		return err
	}
	created, err := Seed(ctx, db, hasher, box, *assets, rand.New(rand.NewPCG(7, 11)))
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("Seeded the demo workspace with a team of %d, %d assets and %d licenses.\n", len(demoTeam)+1, *assets, len(demoLicenses))
	} else {
		fmt.Println("The demo workspace exists already.")
	}
	if *events > 0 {
		if *days < 1 || *days > 3650 {
			return fmt.Errorf("--days must be between 1 and 3650")
		}
		sum, err := m.SeedHistory(ctx, db, box, *events, *days)
		if err != nil {
			return err
		}
		fmt.Printf("Wrote %d events of the last %d days into %s: %d members, %d sessions, about %d actions per member on a working day.\n",
			sum.Events, sum.Days, m.Config.Publisher.Topic, sum.Members, sum.Sessions, sum.Events/max(1, sum.Members*synthetic.WorkingDays(sum.Days)))
	}
	fmt.Printf("Demo sign-in: %s / %s\n", demoEmail, demoPassword)
	return nil
}

// SeedHistory writes n events of the demo workspace's past over days
// days, made of whole sessions of its real members on its real assets and
// licenses, to the activity topic, and returns what it wrote. The team
// first grows, through invitations, to the size that n events over days
// need for each member to do a plausible day's work (synthetic.TeamSize).
func (m *Main) SeedHistory(ctx context.Context, db *postgres.DB, box *keybox.Box, n, days int) (synthetic.Summary, error) {
	var none synthetic.Summary
	hasher, err := m.PasswordHasher()
	if err != nil {
		return none, err
	}
	auth, err := postgres.NewAuthService(db, hasher, postgres.AuthConfig{})
	if err != nil {
		return none, err
	}
	session, err := auth.Login(ctx, domain.Credentials{Email: demoEmail, Password: demoPassword})
	if err != nil {
		return none, fmt.Errorf("sign in to the demo workspace: %w", err)
	}
	p, err := auth.Authenticate(ctx, session.Token)
	if err != nil {
		return none, err
	}
	defer auth.Logout(ctx, session.Token)
	ws := synthetic.Workspace{ID: p.WorkspaceID, TimeZone: p.TimeZone}
	members, err := postgres.NewUserService(db, hasher, postgres.AuthConfig{})
	if err != nil {
		return none, err
	}
	users, err := members.ListUsers(ctx, p)
	if err != nil {
		return none, err
	}
	if grown, err := growTeam(ctx, db, hasher, p, len(users), synthetic.TeamSize(n, days)); err != nil {
		return none, err
	} else if grown > 0 {
		if users, err = members.ListUsers(ctx, p); err != nil {
			return none, err
		}
		fmt.Printf("Invited %d more members, to a team of %d for %d events over %d days.\n", grown, len(users), n, days)
	}
	rnd := rand.New(rand.NewPCG(uint64(len(users)), 17))
	for _, u := range users {
		ws.Members = append(ws.Members, activity.Actor{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Type: activity.ActorUser})
		ws.People = append(ws.People, demoPerson(rnd))
	}
	assets, err := postgres.NewAssetService(db).ListAssets(ctx, p)
	if err != nil {
		return none, err
	}
	for _, a := range assets {
		ws.Assets = append(ws.Assets, activity.Resource{Type: "asset", ID: a.ID, Name: a.Name})
	}
	licenses, err := postgres.NewLicenseService(db, box).ListLicenses(ctx, p)
	if err != nil {
		return none, err
	}
	for _, l := range licenses {
		ws.Licenses = append(ws.Licenses, activity.Resource{Type: "license", ID: l.ID, Name: l.Name})
	}
	history, err := synthetic.NewHistory(uint64(time.Now().UnixNano()), ws, days, time.Now())
	if err != nil {
		return none, fmt.Errorf("demo history: %w", err)
	}
	history.Plan(n)
	w := topic.NewWriter(m.Config.Publisher.Brokers, m.Config.Publisher.Topic)
	w.BatchSize, w.BatchBytes, w.BatchTimeout = 1000, 16<<20, 10*time.Millisecond
	defer w.Close()
	written := 0
	batch := make([]kafka.Message, 0, 2000)
	flush := func() error {
		if err := w.WriteMessages(ctx, batch...); err != nil {
			return fmt.Errorf("write demo history: %w", err)
		}
		written += len(batch)
		batch = batch[:0]
		if written%100_000 < 2000 {
			fmt.Printf("%d events written\n", written)
		}
		return nil
	}
	for written+len(batch) < n {
		for _, e := range history.Session() {
			b, err := json.Marshal(e)
			if err != nil {
				return history.Summary(), err
			}
			batch = append(batch, kafka.Message{Key: []byte(e.WorkspaceID), Value: b, Headers: []kafka.Header{
				{Key: "event_id", Value: []byte(e.ID)}, {Key: "schema", Value: []byte(strconv.Itoa(activity.SchemaVersion))},
			}})
		}
		if len(batch) >= 1000 {
			if err := flush(); err != nil {
				return history.Summary(), err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return history.Summary(), err
		}
	}
	return history.Summary(), nil
}

// demoZones are where the demo team lives, each with the usual first hour
// of a working day there that keeps the day within the workspace's working
// hours in Berlin (08:00–18:00).
var demoZones = []struct {
	zone  string
	start int
}{
	{"Europe/Berlin", 8}, {"Europe/Berlin", 8}, {"Europe/Berlin", 9}, {"Europe/Berlin", 8}, {"Europe/Vienna", 9},
	{"Europe/Berlin", 9}, {"Europe/London", 7}, {"Europe/Lisbon", 8}, {"Europe/Berlin", 8}, {"Europe/Warsaw", 9},
}

// demoPerson picks where a demo member lives and their working hours.
func demoPerson(rnd *rand.Rand) synthetic.Person {
	z := demoZones[rnd.IntN(len(demoZones))]
	return synthetic.Person{TimeZone: z.zone, Start: z.start, Hours: 7 + rnd.IntN(2)}
}

var (
	demoFirstNames = []string{"Aisha", "Ben", "Chiara", "Daniel", "Elif", "Finn", "Greta", "Hugo", "Ines", "Jonas",
		"Katarzyna", "Lukas", "Maya", "Noah", "Olivia", "Pavel", "Quentin", "Rosa", "Stefan", "Tara",
		"Umar", "Vera", "Wim", "Xenia", "Yusuf", "Zoe"}
	demoLastNames = []string{"Albers", "Brandt", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Horvat", "Ibrahim", "Jansen",
		"Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka",
		"Uhl", "Varga", "Weber", "Yilmaz", "Zimmer"}
)

// growTeam invites and signs up members until the demo workspace has size
// of them: one in ten an admin, the rest members.
func growTeam(ctx context.Context, db *postgres.DB, hasher domain.PasswordHasher, owner activity.Principal, have, size int) (int, error) {
	invitations := postgres.NewInvitationService(db, hasher, 0)
	client := domain.WithRequest(ctx, demoClients[0])
	grown := 0
	for i := have; i < size; i++ {
		first, last := demoFirstNames[i%len(demoFirstNames)], demoLastNames[(i/len(demoFirstNames)+i)%len(demoLastNames)]
		role := activity.RoleMember
		if i%10 == 0 {
			role = activity.RoleAdmin
		}
		email := fmt.Sprintf("%s.%s.%d@demo.fluxera.test", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, "í", "i")), i)
		inv, err := invitations.Invite(client, owner, domain.InvitationCreate{Email: email, Name: first + " " + last, Role: role})
		if err != nil {
			return grown, fmt.Errorf("invite %s: %w", email, err)
		}
		if _, err := invitations.Accept(client, domain.InvitationAnswer{Token: inv.Token, Password: demoPassword}); err != nil {
			return grown, fmt.Errorf("accept %s: %w", email, err)
		}
		grown++
	}
	return grown, nil
}

// Seed creates the demo workspace unless its owner exists. It reports
// whether it created anything.
func Seed(ctx context.Context, db *postgres.DB, hasher domain.PasswordHasher, box *keybox.Box, assets int, rnd *rand.Rand) (bool, error) {
	auth, err := postgres.NewAuthService(db, hasher, postgres.AuthConfig{})
	if err != nil {
		return false, err
	}
	// The check signs no one in: a failed login on a first run, or a
	// login on every later one, would be recorded as if someone had tried.
	if exists, err := db.HasUser(ctx, demoEmail); err != nil || exists {
		return false, err
	}
	_, _, err = postgres.NewWorkspaceService(db, hasher).CreateWorkspace(ctx, domain.WorkspaceSetup{
		Name: "Northwind Traders", TimeZone: "Europe/Berlin",
		OwnerEmail: demoEmail, OwnerName: "Dana Admin", OwnerPassword: demoPassword,
	})
	if err != nil {
		return false, fmt.Errorf("create demo workspace: %w", err)
	}
	users, err := postgres.NewUserService(db, hasher, postgres.AuthConfig{})
	if err != nil {
		return false, err
	}
	d := &demo{ctx: ctx, rnd: rnd, auth: auth, assets: postgres.NewAssetService(db), licenses: postgres.NewLicenseService(db, box),
		users: users, invitations: postgres.NewInvitationService(db, hasher, 0), settings: postgres.NewSettingsService(db)}
	owner, ownerCtx, err := d.login(demoEmail, demoPassword)
	if err != nil {
		return false, err
	}
	var ids []string
	for i := 0; i < assets; i++ {
		if i%60 == 59 { // a new session now and then, after logging out
			if err := d.logout(demoEmail); err != nil {
				return false, err
			}
			if owner, ownerCtx, err = d.login(demoEmail, demoPassword); err != nil {
				return false, err
			}
		}
		model := demoModels[rnd.IntN(len(demoModels))]
		day, _ := domain.ParseDate(fmt.Sprintf("202%d-%02d-%02d", 3+rnd.IntN(3), 1+rnd.IntN(12), 1+rnd.IntN(28)))
		a, err := d.assets.CreateAsset(ownerCtx, owner, domain.AssetCreate{
			Name:         fmt.Sprintf("%s A-%04d", model.name, 1000+i),
			AssetTag:     fmt.Sprintf("A-%04d", 1000+i),
			Serial:       fmt.Sprintf("SN%08X", rnd.Uint32()),
			Category:     model.category,
			Value:        model.value,
			Currency:     "EUR",
			Location:     demoLocations[rnd.IntN(len(demoLocations))],
			PurchaseDate: &day,
		})
		if err != nil {
			return false, fmt.Errorf("create demo asset: %w", err)
		}
		ids = append(ids, a.ID)
	}
	if err := d.team(owner, ownerCtx, ids); err != nil {
		return false, err
	}
	return true, nil
}

// demo plays the demo workspace's history through the real services.
type demo struct {
	ctx         context.Context
	rnd         *rand.Rand
	auth        *postgres.AuthService
	assets      *postgres.AssetService
	licenses    *postgres.LicenseService
	users       *postgres.UserService
	invitations *postgres.InvitationService
	settings    *postgres.SettingsService
	// sessions holds each person's latest session token and context.
	sessions map[string]demoSession
	// mistyped is set once someone has mistyped their password: the demo
	// always holds one, for the "Why can't this user log in?" journey.
	mistyped bool
}

type demoSession struct {
	token string
	ctx   context.Context
}

// logout ends email's latest session.
func (d *demo) logout(email string) error {
	s, ok := d.sessions[email]
	if !ok {
		return nil
	}
	delete(d.sessions, email)
	return d.auth.Logout(s.ctx, s.token)
}

// login signs someone in from one of the demo clients, now and then after
// a mistyped password (Alex's first sign-in always), and returns who they
// are and the request context.
func (d *demo) login(email, password string) (activity.Principal, context.Context, error) {
	ctx := domain.WithRequest(d.ctx, demoClients[d.rnd.IntN(len(demoClients))])
	if d.rnd.IntN(10) == 0 || (!d.mistyped && email == demoTeam[0].email) {
		d.mistyped = true
		_, _ = d.auth.Login(ctx, domain.Credentials{Email: email, Password: "wrong-" + password})
	}
	s, err := d.auth.Login(ctx, domain.Credentials{Email: email, Password: password})
	if err != nil {
		return activity.Principal{}, nil, fmt.Errorf("demo login of %s: %w", email, err)
	}
	p, err := d.auth.Authenticate(ctx, s.Token)
	if d.sessions == nil {
		d.sessions = map[string]demoSession{}
	}
	d.sessions[email] = demoSession{token: s.Token, ctx: ctx}
	return p, ctx, err
}

var demoTeam = []struct{ name, email, role string }{
	{"Alex Kim", "alex@demo.fluxera.test", activity.RoleAdmin},
	{"Mia Lopez", "mia@demo.fluxera.test", activity.RoleMember},
	{"Sam Patel", "sam@demo.fluxera.test", activity.RoleMember},
	{"Victor Chen", "victor@demo.fluxera.test", activity.RoleViewer},
}

var demoLicenses = []struct {
	name, vendor, value, expires string
	seats                        int
}{
	{"Microsoft 365 E3", "Microsoft", "14400.00", "2027-03-31", 40},
	{"Adobe Creative Cloud", "Adobe", "3588.00", "2027-01-15", 4},
	{"Figma Organization", "Figma", "5400.00", "2026-12-31", 10},
	{"JetBrains All Products", "JetBrains", "2241.00", "2027-06-30", 6},
	{"Slack Business+", "Slack", "9000.00", "2027-02-28", 50},
}

// team invites the demo team, hands out assets and license seats, and
// plays a little of everyday life: status changes, maintenance, a renewal,
// a key looked up, a role and a settings change.
func (d *demo) team(owner activity.Principal, ownerCtx context.Context, assets []string) error {
	var members []domain.User
	for _, m := range demoTeam {
		inv, err := d.invitations.Invite(ownerCtx, owner, domain.InvitationCreate{Email: m.email, Name: m.name, Role: m.role})
		if err != nil {
			return fmt.Errorf("invite %s: %w", m.email, err)
		}
		u, err := d.invitations.Accept(domain.WithRequest(d.ctx, demoClients[d.rnd.IntN(len(demoClients))]), domain.InvitationAnswer{Token: inv.Token, Password: demoPassword})
		if err != nil {
			return fmt.Errorf("accept %s: %w", m.email, err)
		}
		members = append(members, u)
	}
	declined, err := d.invitations.Invite(ownerCtx, owner, domain.InvitationCreate{Email: "jordan@demo.fluxera.test", Name: "Jordan Blake", Role: activity.RoleMember})
	if err != nil {
		return err
	}
	if err := d.invitations.Decline(d.ctx, domain.InvitationAnswer{Token: declined.Token}); err != nil {
		return err
	}
	admin, adminCtx, err := d.login(demoTeam[0].email, demoPassword)
	if err != nil {
		return err
	}
	for i, id := range assets {
		switch {
		case i%5 == 0:
			if _, err := d.assets.AssignAsset(adminCtx, admin, id, domain.AssetAssignment{UserID: members[i%len(members)].ID}); err != nil {
				return fmt.Errorf("assign demo asset: %w", err)
			}
		case i%37 == 1:
			if _, err := d.assets.ChangeStatus(adminCtx, admin, id, domain.StatusChange{Status: domain.AssetRetired, Note: "end of life"}); err != nil {
				return err
			}
		case i%41 == 2:
			if _, err := d.assets.ChangeStatus(adminCtx, admin, id, domain.StatusChange{Status: domain.AssetLost, Note: "not found at inventory"}); err != nil {
				return err
			}
		case i%29 == 3:
			day, _ := domain.ParseDate(fmt.Sprintf("2026-12-%02d", 1+d.rnd.IntN(28)))
			m, err := d.assets.ScheduleMaintenance(adminCtx, admin, id, domain.MaintenanceSchedule{ScheduledFor: &day, Description: "battery and keyboard check"})
			if err != nil {
				return err
			}
			if i%2 == 1 {
				if _, err := d.assets.CompleteMaintenance(adminCtx, admin, id, m.ID, domain.MaintenanceCompletion{Outcome: "battery replaced"}); err != nil {
					return err
				}
			}
		case i%23 == 4:
			loc := demoLocations[d.rnd.IntN(len(demoLocations))]
			if _, err := d.assets.UpdateAsset(adminCtx, admin, id, domain.AssetUpdate{Location: &loc, Note: "moved"}); err != nil {
				return err
			}
		}
	}
	for i, l := range demoLicenses {
		lic, err := d.licenses.CreateLicense(ownerCtx, owner, domain.LicenseCreate{Name: l.name, Vendor: l.vendor, Seats: l.seats, Key: fmt.Sprintf("%s-%08X-%08X", l.vendor[:3], d.rnd.Uint32(), d.rnd.Uint32()), Value: l.value, Currency: "EUR", ExpiresOn: l.expires})
		if err != nil {
			return fmt.Errorf("create demo license: %w", err)
		}
		for j, m := range members {
			if (i+j)%3 != 2 && j < l.seats {
				if _, err := d.licenses.AssignSeat(adminCtx, admin, lic.ID, domain.SeatChange{UserID: m.ID}); err != nil {
					return fmt.Errorf("assign demo seat: %w", err)
				}
			}
		}
		if i == 2 {
			if _, err := d.licenses.RenewLicense(ownerCtx, owner, lic.ID, domain.ExpiryChange{ExpiresOn: "2027-12-31", Note: "renewed for a year"}); err != nil {
				return fmt.Errorf("renew demo license: %w", err)
			}
		}
		if i == 1 {
			if _, err := d.licenses.RevealKey(adminCtx, admin, lic.ID); err != nil {
				return err
			}
		}
	}
	if _, err := d.users.ChangeRole(ownerCtx, owner, members[2].ID, domain.RoleChange{Role: activity.RoleAdmin, Note: "covers IT while Alex is away"}); err != nil {
		return err
	}
	// Everyone but the owner logs out; the owner's last action sets the
	// working hours, so that a seed run in the evening does not find every
	// member at work outside them.
	for email := range d.sessions {
		if email != demoEmail {
			if err := d.logout(email); err != nil {
				return err
			}
		}
	}
	start, days := "08:00", []string{"mon", "tue", "wed", "thu", "fri"}
	if _, err := d.settings.UpdateSettings(ownerCtx, owner, domain.SettingsUpdate{WorkingHoursStart: &start, WorkingDays: days, Note: "the warehouse opens at eight"}); err != nil {
		return err
	}
	return nil
}
