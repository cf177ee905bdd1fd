package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// RoleChannelMarketing decides on marketing development funds: approves
// or rejects partners' MDF requests and reimburses or rejects their claims.
const RoleChannelMarketing Role = "channel_marketing"

// MDFStream returns the stream of the MDF requests made against the
// allocation of registration id, "mdf-<uuid>". One stream per allocation
// is what makes the allocation impossible to spend twice: every request is
// decided against the stream as read and appended expecting it unchanged.
func MDFStream(id uuid.UUID) string { return "mdf-" + id.String() }

// MDFActivity is what the funds of a request are for (the seed's list).
type MDFActivity string

// The MDF activities.
const (
	MDFCustomDemo         MDFActivity = "custom_demo"
	MDFPOCEnvironment     MDFActivity = "poc_environment"
	MDFJointCustomerEvent MDFActivity = "joint_customer_event"
	MDFSponsorship        MDFActivity = "sponsorship"
)

var mdfActivities = []string{string(MDFCustomDemo), string(MDFPOCEnvironment), string(MDFJointCustomerEvent), string(MDFSponsorship)}

// MDFState is where an MDF request is.
//
//	requested ──approve──▶ approved ──claim──▶ claimed ──reimburse──▶ reimbursed
//	requested ──reject──▶ rejected            claimed ──reject claim──▶ claim_rejected
//	requested ──withdraw (the partner)──▶ withdrawn
type MDFState string

// The MDF request states.
const (
	MDFRequestedState     MDFState = "requested"
	MDFApprovedState      MDFState = "approved"
	MDFRejectedState      MDFState = "rejected"
	MDFClaimedState       MDFState = "claimed"
	MDFReimbursedState    MDFState = "reimbursed"
	MDFClaimRejectedState MDFState = "claim_rejected"
	MDFWithdrawnState     MDFState = "withdrawn"
)

// Limits of MDF inputs.
const (
	MaxMDFDescriptionLen = 2000
	MaxMDFReceipts       = 20
	MaxMDFRequests       = 100
	// MDFActivityHorizon is how far ahead an activity may end, and
	// MDFActivityLookback how long before the request it may start.
	MDFActivityHorizon  = 365 * Day
	MDFActivityLookback = 30 * Day
)

// FieldExceedsRemaining is the field error code of an MDF request for more
// than what remains of the allocation; its message names the amount that
// remains.
const FieldExceedsRemaining = "exceeds_remaining"

// Date is a calendar day, "2026-04-30".
type Date string

// Time returns the start of the day in UTC, and false if d is not a date.
func (d Date) Time() (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, string(d))
	return t, err == nil
}

// MDFRequestInput is what a partner asks for.
type MDFRequestInput struct {
	Activity    MDFActivity `json:"activity"`
	Description string      `json:"description"`
	Amount      Money       `json:"amount"`
	StartDate   Date        `json:"start_date"`
	EndDate     Date        `json:"end_date"`
}

// MDFRequested records a partner's request for funds against the
// allocation of a registration. It reserves Amount until it is decided.
type MDFRequested struct {
	RegistrationID uuid.UUID   `json:"registration_id"`
	PartnerID      string      `json:"partner_id"`
	Request        int         `json:"request"`
	Activity       MDFActivity `json:"activity"`
	Description    string      `json:"description,omitempty"`
	Amount         Money       `json:"amount"`
	StartDate      Date        `json:"start_date"`
	EndDate        Date        `json:"end_date"`
	// Allocation is the registration's allocation and PolicyVersion the
	// version that granted it; RemainingBefore is what remained of it
	// before this request.
	Allocation      Money     `json:"allocation"`
	PolicyVersion   int       `json:"policy_version"`
	RemainingBefore Money     `json:"remaining_before"`
	RequestedBy     string    `json:"requested_by"`
	At              time.Time `json:"at"`
}

// MDFRequestApproved records that channel marketing approved a request,
// for Amount (at most what was requested; the rest is released).
type MDFRequestApproved struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Request        int       `json:"request"`
	Amount         Money     `json:"amount"`
	Note           string    `json:"note,omitempty"`
	ApprovedBy     string    `json:"approved_by"`
	At             time.Time `json:"at"`
}

// MDFRequestRejected records that channel marketing rejected a request; its
// amount is released.
type MDFRequestRejected struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Request        int       `json:"request"`
	Reason         string    `json:"reason"`
	RejectedBy     string    `json:"rejected_by"`
	At             time.Time `json:"at"`
}

// MDFRequestWithdrawn records that the partner withdrew a pending request;
// its amount is released.
type MDFRequestWithdrawn struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Request        int       `json:"request"`
	Reason         string    `json:"reason,omitempty"`
	WithdrawnBy    string    `json:"withdrawn_by"`
	At             time.Time `json:"at"`
}

// MDFReceiptAdded records a receipt the partner uploaded for an approved
// request, stored content-addressed beside the ledger like proof
// documents.
type MDFReceiptAdded struct {
	RegistrationID uuid.UUID  `json:"registration_id"`
	Request        int        `json:"request"`
	Receipt        Attachment `json:"receipt"`
	AddedBy        string     `json:"added_by"`
	At             time.Time  `json:"at"`
}

// MDFClaimSubmitted records the partner's claim for reimbursement of an
// approved request, once the activity ran, citing its receipts.
type MDFClaimSubmitted struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Request        int       `json:"request"`
	Amount         Money     `json:"amount"`
	Receipts       []string  `json:"receipts"`
	Note           string    `json:"note,omitempty"`
	ClaimedBy      string    `json:"claimed_by"`
	At             time.Time `json:"at"`
}

// MDFClaimReimbursed records a reimbursement: Amount, at most the claimed
// amount, with a Reason when it is lower. What the request held beyond it
// is released.
type MDFClaimReimbursed struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Request        int       `json:"request"`
	Amount         Money     `json:"amount"`
	Claimed        Money     `json:"claimed"`
	Reason         string    `json:"reason,omitempty"`
	ReimbursedBy   string    `json:"reimbursed_by"`
	At             time.Time `json:"at"`
}

// MDFClaimRejected records that a claim was rejected: nothing is paid and
// the request's amount is released.
type MDFClaimRejected struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Request        int       `json:"request"`
	Reason         string    `json:"reason"`
	RejectedBy     string    `json:"rejected_by"`
	At             time.Time `json:"at"`
}

// MDFEvent is an event of an MDF stream.
type MDFEvent interface {
	Event
	MDFRegistration() uuid.UUID
	MDFRequestNumber() int
	OccurredAt() time.Time
}

// MDFRequest is one request as the account knows it.
type MDFRequest struct {
	Number      int         `json:"number"`
	Activity    MDFActivity `json:"activity"`
	Description string      `json:"description,omitempty"`
	StartDate   Date        `json:"start_date"`
	EndDate     Date        `json:"end_date"`
	State       MDFState    `json:"state"`
	// Requested, Approved, Claimed and Reimbursed are the amounts of
	// each step reached (zero, omitted, before it).
	Requested  Money `json:"requested"`
	Approved   Money `json:"approved,omitzero"`
	Claimed    Money `json:"claimed,omitzero"`
	Reimbursed Money `json:"reimbursed,omitzero"`
	// Receipts are the uploaded receipts; ClaimReceipts the SHA-256 of
	// those the claim cites.
	Receipts      []Attachment `json:"receipts"`
	ClaimReceipts []string     `json:"claim_receipts,omitempty"`
	// Note is channel marketing's approval note or the partner's claim
	// note; Reason the rejection or reimbursement reason.
	Note        string    `json:"note,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	ClaimedAt   time.Time `json:"claimed_at,omitzero"`
	SettledAt   time.Time `json:"settled_at,omitzero"`
}

// Committed returns what the request holds of the allocation: what was
// requested while pending, approved until settled, reimbursed once paid,
// nothing once rejected.
func (q MDFRequest) Committed() decimal.Decimal {
	switch q.State {
	case MDFRequestedState:
		return q.Requested.Amount
	case MDFApprovedState, MDFClaimedState:
		return q.Approved.Amount
	case MDFReimbursedState:
		return q.Reimbursed.Amount
	}
	return decimal.Zero
}

func (q MDFRequest) clone() MDFRequest {
	q.Receipts = slices.Clone(q.Receipts)
	q.ClaimReceipts = slices.Clone(q.ClaimReceipts)
	return q
}

// MDFAccount is the aggregate of the MDF requests against one
// registration's allocation, built by replaying its stream. The allocation
// itself is in the registration's approval event; commands take the
// registration to read it.
type MDFAccount struct {
	registrationID uuid.UUID
	partnerID      string
	requests       []MDFRequest
	version        int
}

// RebuildMDF replays an MDF stream, oldest first.
func RebuildMDF(events ...Event) (*MDFAccount, error) {
	a := &MDFAccount{}
	for _, e := range events {
		if err := a.Apply(e); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// RestoreMDF returns the account of registration id holding requests as a
// view stored them, to fold further events into (its Version is not the
// stream's).
func RestoreMDF(id uuid.UUID, partnerID string, requests []MDFRequest) (*MDFAccount, error) {
	a := &MDFAccount{registrationID: id, partnerID: partnerID, version: len(requests)}
	for i, q := range requests {
		if q.Number != i+1 {
			return nil, Errorf(EINTERNAL, "restore MDF account %s: request %d at %d", id, q.Number, i+1)
		}
		a.requests = append(a.requests, q.clone())
	}
	return a, nil
}

// Apply changes the account by one of its events.
func (a *MDFAccount) Apply(e Event) error {
	me, ok := e.(MDFEvent)
	if !ok {
		return Errorf(EINTERNAL, "apply: %T is not an MDF event", e)
	}
	if a.version > 0 && me.MDFRegistration() != a.registrationID {
		return Errorf(EINTERNAL, "apply %s: event of registration %s applied to %s", e.EventType(), me.MDFRegistration(), a.registrationID)
	}
	if r, first := e.(MDFRequested); first {
		if r.Request != len(a.requests)+1 {
			return Errorf(EINTERNAL, "apply MDFRequested: request %d after %d", r.Request, len(a.requests))
		}
		a.registrationID, a.partnerID = r.RegistrationID, r.PartnerID
		a.requests = append(a.requests, MDFRequest{
			Number: r.Request, Activity: r.Activity, Description: r.Description, StartDate: r.StartDate, EndDate: r.EndDate,
			State: MDFRequestedState, Requested: r.Amount, Receipts: []Attachment{}, RequestedBy: r.RequestedBy, RequestedAt: r.At,
		})
		a.version++
		return nil
	}
	n := me.MDFRequestNumber()
	if n < 1 || n > len(a.requests) {
		return Errorf(EINTERNAL, "apply %s: no MDF request %d", e.EventType(), n)
	}
	q := &a.requests[n-1]
	switch e := e.(type) {
	case MDFRequestApproved:
		q.State, q.Approved, q.Note, q.DecidedAt = MDFApprovedState, e.Amount, e.Note, e.At
	case MDFRequestRejected:
		q.State, q.Reason, q.DecidedAt = MDFRejectedState, e.Reason, e.At
	case MDFRequestWithdrawn:
		q.State, q.Reason, q.DecidedAt = MDFWithdrawnState, e.Reason, e.At
	case MDFReceiptAdded:
		q.Receipts = append(q.Receipts, e.Receipt)
	case MDFClaimSubmitted:
		q.State, q.Claimed, q.ClaimReceipts, q.ClaimedAt = MDFClaimedState, e.Amount, slices.Clone(e.Receipts), e.At
		if e.Note != "" {
			q.Note = e.Note
		}
	case MDFClaimReimbursed:
		q.State, q.Reimbursed, q.Reason, q.SettledAt = MDFReimbursedState, e.Amount, e.Reason, e.At
	case MDFClaimRejected:
		q.State, q.Reason, q.SettledAt = MDFClaimRejectedState, e.Reason, e.At
	default:
		return Errorf(EINTERNAL, "apply: unknown MDF event %s", e.EventType())
	}
	a.version++
	return nil
}

// Requests returns the requests, oldest first.
func (a *MDFAccount) Requests() []MDFRequest {
	if a == nil {
		return nil
	}
	out := make([]MDFRequest, len(a.requests))
	for i, q := range a.requests {
		out[i] = q.clone()
	}
	return out
}

// Committed returns the total the requests hold of the allocation.
func (a *MDFAccount) Committed() decimal.Decimal {
	sum := decimal.Zero
	if a == nil {
		return sum
	}
	for _, q := range a.requests {
		sum = sum.Add(q.Committed())
	}
	return sum
}

// Remaining returns what remains of allocation once the requests' holds
// are taken; never negative, as no request may take more than remains.
func (a *MDFAccount) Remaining(allocation Money) Money {
	r := allocation.Amount.Sub(a.Committed())
	if r.IsNegative() {
		r = decimal.Zero
	}
	return Money{Amount: r, Currency: allocation.Currency}.normalize()
}

// Version returns the number of events applied.
func (a *MDFAccount) Version() int {
	if a == nil {
		return 0
	}
	return a.version
}

// FormatMoney writes m in its currency's minor unit, "1200.00 USD".
func FormatMoney(m Money) string {
	return m.Amount.StringFixed(MinorUnits(m.Currency)) + " " + m.Currency
}

// MayReadMDF reports whether role may read MDF accounts at all (a partner
// only its own).
func MayReadMDF(r Role) bool { return r.Valid() && r != RoleDirectSales }

// mdfDecider reports whether role decides MDF requests and claims.
func mdfDecider(r Role) bool { return r == RoleChannelMarketing || r == RoleAdmin }

// mdfAllocation checks actor against the registration the funds belong to
// and returns its allocation: another partner's registration, or one that
// does not exist, is "registration not found" in the registration's own
// words.
func mdfAllocation(actor Actor, reg *Registration, partnerOnly bool, action string) (MDFAllocation, int, error) {
	if err := actor.Validate(); err != nil {
		return MDFAllocation{}, 0, err
	}
	if !MayReadMDF(actor.Role) {
		return MDFAllocation{}, 0, Errorf(EFORBIDDEN, "role %q may not %s", actor.Role, action)
	}
	if reg == nil || reg.version == 0 || (actor.Role == RolePartner && actor.PartnerID != reg.partnerID) {
		return MDFAllocation{}, 0, Errorf(ENOTFOUND, "registration not found")
	}
	switch {
	case partnerOnly && actor.Role != RolePartner:
		return MDFAllocation{}, 0, Errorf(EFORBIDDEN, "only the registering partner may %s", action)
	case !partnerOnly && !mdfDecider(actor.Role):
		return MDFAllocation{}, 0, Errorf(EFORBIDDEN, "role %q may not %s: channel marketing decides MDF", actor.Role, action)
	}
	b := reg.benefits
	if b == nil || b.MDF.Amount.Amount.IsZero() {
		return MDFAllocation{}, 0, Errorf(ECONFLICT, "registration %s has no MDF allocation", reg.id)
	}
	return b.MDF, b.PolicyVersion, nil
}

// validMDFAmount checks an amount against the allocation's currency:
// positive, in the currency's minor unit.
func validMDFAmount(v *validator, field string, m Money, currency string) {
	switch {
	case m.Currency == "":
		v.add(field+".currency", FieldRequired, "is required")
	case m.Currency != currency:
		v.add(field+".currency", FieldInvalid, "must be "+currency+", the currency of the allocation")
	}
	switch {
	case !m.Amount.IsPositive():
		v.add(field+".amount", FieldOutOfRange, "must be greater than zero")
	case !m.Amount.Equal(m.Amount.Round(MinorUnits(currency))):
		v.add(field+".amount", FieldInvalid, fmt.Sprintf("must be in the currency's minor unit (%d decimals)", MinorUnits(currency)))
	}
}

// Request asks for funds against reg's allocation, for the registering
// partner while the registration is protected. A request for more than
// remains of the allocation (after the holds of every pending, approved
// and reimbursed request) is refused with ECONFLICT naming what remains.
func (a *MDFAccount) Request(actor Actor, reg *Registration, in MDFRequestInput, now time.Time) ([]Event, error) {
	alloc, version, err := mdfAllocation(actor, reg, true, "request MDF for")
	if err != nil {
		return nil, err
	}
	if !reg.status.Protected() {
		return nil, Errorf(ECONFLICT, "cannot request MDF for registration %s: it is %s", reg.id, reg.status)
	}
	now = canonicalTime(now)
	in.Amount = in.Amount.normalize()
	in.Description = strings.TrimSpace(in.Description)
	var v validator
	if in.Activity == "" {
		v.add("activity", FieldRequired, "is required")
	} else {
		v.oneOf("activity", string(in.Activity), mdfActivities)
	}
	v.text("description", in.Description, MaxMDFDescriptionLen, true)
	validMDFAmount(&v, "amount", in.Amount, alloc.Amount.Currency)
	start, okStart := in.StartDate.Time()
	end, okEnd := in.EndDate.Time()
	today := now.Truncate(Day)
	switch {
	case in.StartDate == "":
		v.add("start_date", FieldRequired, "is required")
	case !okStart:
		v.add("start_date", FieldInvalid, "must be a date such as 2026-04-30")
	case start.Before(today.Add(-MDFActivityLookback)):
		v.add("start_date", FieldOutOfRange, "must be at most 30 days ago")
	}
	switch {
	case in.EndDate == "":
		v.add("end_date", FieldRequired, "is required")
	case !okEnd:
		v.add("end_date", FieldInvalid, "must be a date such as 2026-04-30")
	case okStart && end.Before(start):
		v.add("end_date", FieldOutOfRange, "must be on or after the start date")
	case end.After(today.Add(MDFActivityHorizon)):
		v.add("end_date", FieldOutOfRange, "must be within 365 days")
	}
	if err := v.err("the MDF request is invalid"); err != nil {
		return nil, err
	}
	if len(a.Requests()) >= MaxMDFRequests {
		return nil, Errorf(ECONFLICT, "registration %s has had %d MDF requests, the most one allocation takes", reg.id, MaxMDFRequests)
	}
	remaining := a.Remaining(alloc.Amount)
	if in.Amount.Amount.GreaterThan(remaining.Amount) {
		msg := fmt.Sprintf("the request exceeds what remains of the allocation: %s of %s remain", FormatMoney(remaining), FormatMoney(alloc.Amount))
		return nil, &Error{Code: ECONFLICT, Message: msg, Fields: []FieldError{{Field: "amount.amount", Code: FieldExceedsRemaining,
			Message: "must be at most " + FormatMoney(remaining) + ", what remains of the allocation"}}}
	}
	return []Event{MDFRequested{
		RegistrationID: reg.id, PartnerID: reg.partnerID, Request: len(a.Requests()) + 1,
		Activity: in.Activity, Description: in.Description, Amount: in.Amount,
		StartDate: in.StartDate, EndDate: in.EndDate,
		Allocation: alloc.Amount, PolicyVersion: version, RemainingBefore: remaining,
		RequestedBy: actor.ID, At: now,
	}}, nil
}

// request returns request n, or ENOTFOUND.
func (a *MDFAccount) request(n int) (*MDFRequest, error) {
	if a == nil || n < 1 || n > len(a.requests) {
		return nil, Errorf(ENOTFOUND, "MDF request not found")
	}
	return &a.requests[n-1], nil
}

func (a *MDFAccount) pick(actor Actor, reg *Registration, n int, partnerOnly bool, action string, states ...MDFState) (*MDFRequest, MDFAllocation, error) {
	alloc, _, err := mdfAllocation(actor, reg, partnerOnly, action)
	if err != nil {
		return nil, alloc, err
	}
	q, err := a.request(n)
	if err != nil {
		return nil, alloc, err
	}
	if !slices.Contains(states, q.State) {
		return nil, alloc, Errorf(ECONFLICT, "cannot %s request %d: it is %s", action, n, q.State)
	}
	return q, alloc, nil
}

// Approve approves pending request n for amount, at most what was
// requested (a zero amount approves all of it); the rest is released.
func (a *MDFAccount) Approve(actor Actor, reg *Registration, n int, amount Money, note string, now time.Time) ([]Event, error) {
	q, alloc, err := a.pick(actor, reg, n, false, "approve MDF", MDFRequestedState)
	if err != nil {
		return nil, err
	}
	amount = amount.normalize()
	if amount.IsZero() {
		amount = q.Requested
	}
	var v validator
	validMDFAmount(&v, "amount", amount, alloc.Amount.Currency)
	if amount.Amount.GreaterThan(q.Requested.Amount) {
		v.add("amount.amount", FieldOutOfRange, "must be at most "+FormatMoney(q.Requested)+", the amount requested")
	}
	v.text("note", note, MaxReasonLen, true)
	if err := v.err("the MDF approval is invalid"); err != nil {
		return nil, err
	}
	return []Event{MDFRequestApproved{RegistrationID: reg.id, Request: n, Amount: amount, Note: note, ApprovedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Reject rejects pending request n with a reason.
func (a *MDFAccount) Reject(actor Actor, reg *Registration, n int, reason string, now time.Time) ([]Event, error) {
	if _, _, err := a.pick(actor, reg, n, false, "reject MDF", MDFRequestedState); err != nil {
		return nil, err
	}
	var v validator
	v.requiredText("reason", reason, MaxReasonLen, true)
	if err := v.err("the MDF rejection is invalid"); err != nil {
		return nil, err
	}
	return []Event{MDFRequestRejected{RegistrationID: reg.id, Request: n, Reason: reason, RejectedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Withdraw withdraws pending request n, for the registering partner, with
// an optional reason; its amount is released.
func (a *MDFAccount) Withdraw(actor Actor, reg *Registration, n int, reason string, now time.Time) ([]Event, error) {
	if _, _, err := a.pick(actor, reg, n, true, "withdraw MDF", MDFRequestedState); err != nil {
		return nil, err
	}
	var v validator
	v.text("reason", reason, MaxReasonLen, true)
	if err := v.err("the withdrawal is invalid"); err != nil {
		return nil, err
	}
	return []Event{MDFRequestWithdrawn{RegistrationID: reg.id, Request: n, Reason: reason, WithdrawnBy: actor.ID, At: canonicalTime(now)}}, nil
}

// CheckReceipt checks, before the document is read, that the partner may
// add a receipt named filename to request n.
func (a *MDFAccount) CheckReceipt(actor Actor, reg *Registration, n int, filename string) error {
	q, _, err := a.pick(actor, reg, n, true, "add a receipt to", MDFApprovedState)
	if err != nil {
		return err
	}
	var v validator
	checkAttachmentName(&v, strings.TrimSpace(filename))
	if len(q.Receipts) >= MaxMDFReceipts {
		v.add("file", FieldTooMany, fmt.Sprintf("a request has at most %d receipts", MaxMDFReceipts))
	}
	return v.err("the receipt is invalid")
}

// AddReceipt records a stored receipt on approved request n.
func (a *MDFAccount) AddReceipt(actor Actor, reg *Registration, n int, r Attachment, now time.Time) ([]Event, error) {
	r.Filename = strings.TrimSpace(r.Filename)
	if err := a.CheckReceipt(actor, reg, n, r.Filename); err != nil {
		return nil, err
	}
	q, _ := a.request(n)
	var v validator
	if !sha256Hex.MatchString(r.SHA256) {
		v.add("sha256", FieldInvalid, "must be 64 lower-case hex digits")
	}
	if r.Size <= 0 {
		v.add("size", FieldOutOfRange, "must be positive")
	}
	v.requiredText("content_type", r.ContentType, MaxContentTypeLen, false)
	if err := v.err("the receipt is invalid"); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(q.Receipts, func(o Attachment) bool { return o.SHA256 == r.SHA256 }) {
		return nil, Errorf(ECONFLICT, "the receipt is already attached to request %d", n)
	}
	return []Event{MDFReceiptAdded{RegistrationID: reg.id, Request: n, Receipt: r, AddedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Claim claims reimbursement of approved request n once its activity ran
// (from its end date), for at most the approved amount, citing at least
// one of the request's receipts.
func (a *MDFAccount) Claim(actor Actor, reg *Registration, n int, amount Money, receipts []string, note string, now time.Time) ([]Event, error) {
	q, alloc, err := a.pick(actor, reg, n, true, "claim", MDFApprovedState)
	if err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	if end, _ := q.EndDate.Time(); now.Before(end) {
		return nil, Errorf(ECONFLICT, "request %d can be claimed once its activity ended, from %s", n, q.EndDate)
	}
	amount = amount.normalize()
	var v validator
	validMDFAmount(&v, "amount", amount, alloc.Amount.Currency)
	if amount.Amount.GreaterThan(q.Approved.Amount) {
		v.add("amount.amount", FieldOutOfRange, "must be at most "+FormatMoney(q.Approved)+", the amount approved")
	}
	if len(receipts) == 0 {
		v.add("receipts", FieldRequired, "cite at least one receipt uploaded to the request")
	}
	if v.listLen("receipts", len(receipts), MaxMDFReceipts) {
		for i, sha := range receipts {
			field := fmt.Sprintf("receipts[%d]", i)
			switch {
			case !slices.ContainsFunc(q.Receipts, func(o Attachment) bool { return o.SHA256 == sha }):
				v.add(field, FieldInvalid, "names no receipt uploaded to this request; upload it first")
			case slices.Contains(receipts[:i], sha):
				v.add(field, FieldDuplicate, "appears more than once")
			}
		}
	}
	v.text("note", note, MaxReasonLen, true)
	if err := v.err("the claim is invalid"); err != nil {
		return nil, err
	}
	return []Event{MDFClaimSubmitted{RegistrationID: reg.id, Request: n, Amount: amount, Receipts: slices.Clone(receipts), Note: note, ClaimedBy: actor.ID, At: now}}, nil
}

// Reimburse reimburses the claim of request n: amount at most the claimed
// amount (a zero amount pays all of it); a lower amount needs a reason.
func (a *MDFAccount) Reimburse(actor Actor, reg *Registration, n int, amount Money, reason string, now time.Time) ([]Event, error) {
	q, alloc, err := a.pick(actor, reg, n, false, "reimburse", MDFClaimedState)
	if err != nil {
		return nil, err
	}
	amount = amount.normalize()
	if amount.IsZero() {
		amount = q.Claimed
	}
	var v validator
	validMDFAmount(&v, "amount", amount, alloc.Amount.Currency)
	if amount.Amount.GreaterThan(q.Claimed.Amount) {
		v.add("amount.amount", FieldOutOfRange, "must be at most "+FormatMoney(q.Claimed)+", the amount claimed")
	}
	if amount.Amount.LessThan(q.Claimed.Amount) && strings.TrimSpace(reason) == "" {
		v.add("reason", FieldRequired, "say why less than claimed is reimbursed")
	}
	v.text("reason", reason, MaxReasonLen, true)
	if err := v.err("the reimbursement is invalid"); err != nil {
		return nil, err
	}
	return []Event{MDFClaimReimbursed{RegistrationID: reg.id, Request: n, Amount: amount, Claimed: q.Claimed, Reason: reason, ReimbursedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// RejectClaim rejects the claim of request n with a reason; nothing is
// paid.
func (a *MDFAccount) RejectClaim(actor Actor, reg *Registration, n int, reason string, now time.Time) ([]Event, error) {
	if _, _, err := a.pick(actor, reg, n, false, "reject the claim of", MDFClaimedState); err != nil {
		return nil, err
	}
	var v validator
	v.requiredText("reason", reason, MaxReasonLen, true)
	if err := v.err("the claim rejection is invalid"); err != nil {
		return nil, err
	}
	return []Event{MDFClaimRejected{RegistrationID: reg.id, Request: n, Reason: reason, RejectedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Quarter names the calendar quarter of t in UTC, "2026-Q2": the period of
// the MDF budget views.
func Quarter(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
}

// EventType returns "MDFRequested".
func (MDFRequested) EventType() string { return "MDFRequested" }

// EventType returns "MDFRequestApproved".
func (MDFRequestApproved) EventType() string { return "MDFRequestApproved" }

// EventType returns "MDFRequestRejected".
func (MDFRequestRejected) EventType() string { return "MDFRequestRejected" }

// EventType returns "MDFRequestWithdrawn".
func (MDFRequestWithdrawn) EventType() string { return "MDFRequestWithdrawn" }

// EventType returns "MDFReceiptAdded".
func (MDFReceiptAdded) EventType() string { return "MDFReceiptAdded" }

// EventType returns "MDFClaimSubmitted".
func (MDFClaimSubmitted) EventType() string { return "MDFClaimSubmitted" }

// EventType returns "MDFClaimReimbursed".
func (MDFClaimReimbursed) EventType() string { return "MDFClaimReimbursed" }

// EventType returns "MDFClaimRejected".
func (MDFClaimRejected) EventType() string { return "MDFClaimRejected" }

// MDFRegistration returns the registration.
func (e MDFRequested) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFRequestApproved) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFRequestRejected) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFRequestWithdrawn) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFReceiptAdded) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFClaimSubmitted) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFClaimReimbursed) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRegistration returns the registration.
func (e MDFClaimRejected) MDFRegistration() uuid.UUID { return e.RegistrationID }

// MDFRequestNumber returns the request.
func (e MDFRequested) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFRequestApproved) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFRequestRejected) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFRequestWithdrawn) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFReceiptAdded) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFClaimSubmitted) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFClaimReimbursed) MDFRequestNumber() int { return e.Request }

// MDFRequestNumber returns the request.
func (e MDFClaimRejected) MDFRequestNumber() int { return e.Request }

// OccurredAt returns the command time.
func (e MDFRequested) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFRequestApproved) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFRequestRejected) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFRequestWithdrawn) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFReceiptAdded) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFClaimSubmitted) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFClaimReimbursed) OccurredAt() time.Time { return e.At }

// OccurredAt returns the command time.
func (e MDFClaimRejected) OccurredAt() time.Time { return e.At }
