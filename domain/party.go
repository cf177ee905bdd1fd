package domain

// Role is what an authenticated caller may do. The set matches the roles of
// the HTTP API; the domain only distinguishes partners from vendor staff who
// decide on registrations.
type Role string

// The roles known to dealreg.
const (
	RolePartner         Role = "partner"          // bound to one partner ID; acts on its own registrations only
	RoleChannelManager  Role = "channel_manager"  // reviews and decides registrations
	RoleChannelDirector Role = "channel_director" // reviews and decides registrations
	RoleExecutive       Role = "executive"        // reviews and decides registrations
	RoleAuditor         Role = "auditor"          // read-only, everything
	RoleDirectSales     Role = "direct_sales"     // CRM integration; no registration commands
	RoleAdmin           Role = "admin"            // everything a reviewer may do
	// RoleChannelLeader (policy_book.go) owns the program's policy.
	// RoleChannelMarketing (mdf.go) decides marketing development funds.
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RolePartner, RoleChannelManager, RoleChannelDirector, RoleExecutive,
		RoleAuditor, RoleDirectSales, RoleAdmin, RoleChannelLeader,
		RoleChannelMarketing:
		return true
	}
	return false
}

// Reviewer reports whether r may review and decide registrations (approve,
// reject, return, grant or deny extensions, renew named accounts).
func (r Role) Reviewer() bool {
	switch r {
	case RoleChannelManager, RoleChannelDirector, RoleExecutive, RoleAdmin:
		return true
	}
	return false
}

// Actor is the authenticated user on whose behalf a command runs. PartnerID
// is set for, and only meaningful to, the partner role.
type Actor struct {
	ID        string `json:"id"`
	Role      Role   `json:"role"`
	PartnerID string `json:"partner_id,omitempty"`
}

// Validate checks that the actor is usable for a command: it has an ID, a
// known role, and a partner ID when it is a partner. A broken actor is a
// wiring bug upstream, so it is reported as forbidden rather than invalid
// input.
func (a Actor) Validate() error {
	switch {
	case a.ID == "":
		return Errorf(EFORBIDDEN, "the caller has no identity")
	case !a.Role.Valid():
		return Errorf(EFORBIDDEN, "the caller has an unknown role %q", a.Role)
	case a.Role == RolePartner && a.PartnerID == "":
		return Errorf(EFORBIDDEN, "a partner caller must be bound to a partner")
	}
	return nil
}
