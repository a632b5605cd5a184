package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
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

// seedCommand creates the demo workspace with an owner and a history of
// logins, failed logins and new assets. Run twice, it adds nothing.
func (m *Main) seedCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	assets := fs.Int("assets", 240, "assets to create in the demo workspace")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return err
	}
	db, err := m.database()
	if err != nil {
		return err
	}
	created, err := Seed(ctx, db, argon2.Hasher{Params: m.Config.Argon2}, *assets, rand.New(rand.NewPCG(7, 11)))
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("Seeded the demo workspace with %d assets.\n", *assets)
	} else {
		fmt.Println("The demo workspace exists already.")
	}
	fmt.Printf("Demo sign-in: %s / %s\n", demoEmail, demoPassword)
	return nil
}

// Seed creates the demo workspace unless its owner exists. It reports
// whether it created anything.
func Seed(ctx context.Context, db *postgres.DB, hasher domain.PasswordHasher, assets int, rnd *rand.Rand) (bool, error) {
	auth, err := postgres.NewAuthService(db, hasher, postgres.AuthConfig{})
	if err != nil {
		return false, err
	}
	if _, err := auth.Login(ctx, domain.Credentials{Email: demoEmail, Password: demoPassword}); err == nil {
		return false, nil
	}
	_, _, err = postgres.NewWorkspaceService(db, hasher).CreateWorkspace(ctx, domain.WorkspaceSetup{
		Name: "Northwind Traders", TimeZone: "Europe/Berlin",
		OwnerEmail: demoEmail, OwnerName: "Dana Admin", OwnerPassword: demoPassword,
	})
	if err != nil {
		return false, fmt.Errorf("create demo workspace: %w", err)
	}
	svc := postgres.NewAssetService(db)
	var session domain.LoginResult
	var p activity.Principal
	reqCtx := ctx
	for i := 0; i < assets; i++ {
		if i%12 == 0 {
			reqCtx = domain.WithRequest(ctx, demoClients[rnd.IntN(len(demoClients))])
			if rnd.IntN(4) == 0 { // a mistyped password now and then
				_, _ = auth.Login(reqCtx, domain.Credentials{Email: demoEmail, Password: "wrong-" + demoPassword})
			}
			session, err = auth.Login(reqCtx, domain.Credentials{Email: demoEmail, Password: demoPassword})
			if err != nil {
				return false, fmt.Errorf("demo login: %w", err)
			}
			if p, err = auth.Authenticate(ctx, session.Token); err != nil {
				return false, err
			}
		}
		model := demoModels[rnd.IntN(len(demoModels))]
		day, _ := domain.ParseDate(fmt.Sprintf("202%d-%02d-%02d", 3+rnd.IntN(3), 1+rnd.IntN(12), 1+rnd.IntN(28)))
		_, err := svc.CreateAsset(reqCtx, p, domain.AssetCreate{
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
	}
	return true, auth.Logout(reqCtx, session.Token)
}
