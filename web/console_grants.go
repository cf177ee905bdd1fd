package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// A partner's certifications (and trainings) and territory grants on its
// console page: listed, added and revoked with the app's commands — the
// same as POST /v1/partners/{id}/credentials and /grants. Revoking a
// certification records it again expiring now (app.RevokeCredential);
// revoking a grant is TerritoryGrantRevoked (app.RevokeGrant). Each form's
// fields are named apart ("cred.", "grant.", "revoke.") so that its
// errors show beside its own fields, with everything typed kept.

type credentialRow struct {
	domain.Credential
	InForce bool
}

type grantRow struct {
	projections.GrantView
	Active bool
}

type credentialForm struct{ Kind, Name, Issued, Expires string }

type grantForm struct{ Country, Region, Vertical, From, To string }

// programRows fills the lists: certifications in force first, then by
// name; grants newest first.
func (d *partnerData) programRows() {
	for _, c := range d.P.Standing.Credentials {
		d.Credentials = append(d.Credentials, credentialRow{Credential: c, InForce: c.ValidAt(d.Now)})
	}
	slices.SortStableFunc(d.Credentials, func(a, b credentialRow) int {
		if a.InForce != b.InForce {
			if a.InForce {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.Kind)+a.Name, string(b.Kind)+b.Name)
	})
	for i := len(d.P.Grants) - 1; i >= 0; i-- {
		g := d.P.Grants[i]
		d.Grants = append(d.Grants, grantRow{GrantView: g, Active: g.ActiveAt(d.Now) || (g.Revoked == nil && d.Now.Before(g.ValidFrom))})
	}
}

// formDate reads an <input type="date">: "" is the zero time; one that
// does not parse is a field error on field, the text kept.
func formDate(l Locale, errs map[string]string, field, text string) time.Time {
	text = strings.TrimSpace(text)
	if text == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, text)
	if err != nil {
		errs[field] = l.T("error.date")
	}
	return t
}

// programCommand runs a certification or grant action of the partner
// page; field errors land in d.Errors under the form's prefix.
func (h *Handler) programCommand(r *http.Request, call app.Call, l Locale, d *partnerData, action string) error {
	ctx, id := r.Context(), d.P.ID
	prefixed := func(prefix string, err error) error {
		fe := fieldErrors(l, err)
		if fe == nil {
			return err
		}
		for k, v := range fe {
			d.Errors[prefix+k] = v
		}
		return nil
	}
	switch action {
	case "credential-add":
		d.Cred = credentialForm{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"), Issued: r.PostFormValue("issued"), Expires: r.PostFormValue("expires")}
		c := domain.Credential{Kind: domain.CredentialKind(d.Cred.Kind), Name: d.Cred.Name}
		c.Issued = formDate(l, d.Errors, "cred.issued", d.Cred.Issued)
		c.Expires = formDate(l, d.Errors, "cred.expires", d.Cred.Expires)
		if len(d.Errors) > 0 {
			return nil
		}
		_, err := h.app.RecordCredential(ctx, call, id, c)
		return prefixed("cred.", err)
	case "credential-revoke":
		_, err := h.app.RevokeCredential(ctx, call, id, domain.CredentialKind(r.PostFormValue("kind")), r.PostFormValue("name"))
		return err
	case "grant-add":
		d.Grant = grantForm{Country: r.PostFormValue("country"), Region: r.PostFormValue("region"), Vertical: r.PostFormValue("vertical"),
			From: r.PostFormValue("valid_from"), To: r.PostFormValue("valid_to")}
		g := domain.TerritoryGrant{PartnerID: id, Country: d.Grant.Country, Region: d.Grant.Region, Vertical: d.Grant.Vertical}
		g.ValidFrom = formDate(l, d.Errors, "grant.valid_from", d.Grant.From)
		g.ValidTo = formDate(l, d.Errors, "grant.valid_to", d.Grant.To)
		if len(d.Errors) > 0 {
			return nil
		}
		_, err := h.app.GrantTerritory(ctx, call, g)
		return prefixed("grant.", err)
	default: // grant-revoke
		d.RevokeGrant, d.RevokeReason = r.PostFormValue("grant"), r.PostFormValue("reason")
		gid, err := uuid.Parse(d.RevokeGrant)
		if err != nil {
			return domain.Errorf(domain.ENOTFOUND, "grant not found")
		}
		_, err = h.app.RevokeGrant(ctx, call, id, gid, d.RevokeReason)
		return prefixed("revoke.", err)
	}
}
