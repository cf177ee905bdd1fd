package main

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// demoUser is a person the demo invites to the portal or the console.
type demoUser struct {
	name, email string
	role        domain.Role
	partner     string
	lang        string
	// partnerAdmin: the partner user invites colleagues from the portal.
	partnerAdmin bool
}

var demoUsers = []demoUser{
	{"Ana Ruiz", "ana@acme.example", domain.RolePartner, "acme", "es", true},
	{"Bob Stone", "bob@globex.example", domain.RolePartner, "globex", "en", false},
	{"María López", "maria@vendor.example", domain.RoleChannelManager, "", "es", false},
	{"Jorge Díaz", "jorge@vendor.example", domain.RoleChannelDirector, "", "en", false},
}

// demoPassword returns a random passphrase of four short words' worth of
// letters: a demo ledger never carries a password anyone could guess from
// the source.
func demoPassword() string {
	const letters = "abcdefghijkmnpqrstuvwxyz"
	b := make([]byte, 19)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	for _, i := range []int{4, 9, 14} {
		b[i] = '-'
	}
	return string(b)
}

// portalUsers invites the demo's people and sets their password, and
// prints how to sign in.
func (d *demoRun) portalUsers(w io.Writer) error {
	pw := demoPassword()
	fmt.Fprintf(w, "\nPortal and console: run `dealreg serve --data %s` and open http://127.0.0.1:8080/\nSign in as (password %s):\n", d.dataDir, pw)
	for _, u := range demoUsers {
		var inv app.Invitation
		var err error
		if u.partnerAdmin {
			inv, err = d.svc.InvitePartnerAdmin(d.ctx, demoAdmin, domain.UserPersonal{Name: u.name, Email: u.email}, u.partner, u.lang)
		} else {
			inv, err = d.svc.InviteUser(d.ctx, demoAdmin, domain.UserPersonal{Name: u.name, Email: u.email}, u.role, u.partner, u.lang)
		}
		if err != nil {
			return fmt.Errorf("demo: invite %s: %w", u.email, err)
		}
		if _, err := d.svc.AcceptInvitation(d.ctx, inv.Secret, pw, app.DefaultArgon2); err != nil {
			return fmt.Errorf("demo: password of %s: %w", u.email, err)
		}
		who := string(u.role)
		if u.partner != "" {
			who += " of " + u.partner
		}
		if u.partnerAdmin {
			who += ", its admin"
		}
		fmt.Fprintf(w, "  %-22s %s (%s)\n", u.email, who, u.lang)
	}
	return nil
}
