package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Size limits of registration details. They keep events small and stop
// abuse; the form asks for the essentials, not essays.
const (
	MaxCompanyNameLen  = 200
	MaxDomainLen       = 253
	MaxTaxIDLen        = 50
	MaxRegionLen       = 100
	MaxIndustryLen     = 100
	MaxProductLines    = 20
	MaxProductLineLen  = 100
	MaxCompetitors     = 20
	MaxCompetitorLen   = 100
	MaxActivities      = 50
	MaxNextStepsLen    = 2000
	MaxNoteLen         = 2000
	MaxProofItems      = 20
	MaxProofAnswers    = 30
	MaxQuestionLen     = 500
	MaxAnswerLen       = 2000
	MaxDecisionMakers  = 20
	MaxPersonNameLen   = 200
	MaxPersonTitleLen  = 200
	MaxEmailLen        = 254
	MaxMoneyDecimals   = 4
	maxCloseDateBefore = Day // an expected close date may lie at most a day before submission (time zones)
)

// MaxMoneyAmount is the largest estimated deal value accepted, in any
// currency.
var MaxMoneyAmount = decimal.New(1, 12)

// Money is an amount in an explicit ISO 4217 currency. The amount is a
// decimal, never a float, and is serialised as a JSON string.
type Money struct {
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
}

// IsZero reports whether m was left empty (zero amount, no currency).
func (m Money) IsZero() bool { return m.Amount.IsZero() && m.Currency == "" }

// normalize returns m with the currency upper-cased and the amount in the
// canonical form it has after a JSON round trip (no trailing zeros), so that
// events compare equal to their decoded copies.
func (m Money) normalize() Money {
	m.Currency = strings.ToUpper(strings.TrimSpace(m.Currency))
	if canonical, err := decimal.NewFromString(m.Amount.String()); err == nil {
		m.Amount = canonical
	}
	return m
}

// String formats m as "150000.5 USD".
func (m Money) String() string { return m.Amount.String() + " " + m.Currency }

// EmployeeBand is the approximate size of a prospect.
type EmployeeBand string

// The employee bands offered on the form.
const (
	Employees1To10      EmployeeBand = "1-10"
	Employees11To50     EmployeeBand = "11-50"
	Employees51To200    EmployeeBand = "51-200"
	Employees201To500   EmployeeBand = "201-500"
	Employees501To1000  EmployeeBand = "501-1000"
	Employees1001To5000 EmployeeBand = "1001-5000"
	Employees5001To10k  EmployeeBand = "5001-10000"
	EmployeesOver10k    EmployeeBand = "10001+"
)

var employeeBands = []string{"1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+"}

// VendorRelationship is the prospect's current relationship with the vendor,
// as far as the partner knows.
type VendorRelationship string

// The relationships a prospect may have with the vendor.
const (
	RelationshipUnknown        VendorRelationship = "unknown"
	RelationshipNone           VendorRelationship = "none"
	RelationshipProspect       VendorRelationship = "prospect"
	RelationshipCustomer       VendorRelationship = "customer"
	RelationshipFormerCustomer VendorRelationship = "former_customer"
)

var vendorRelationships = []string{"unknown", "none", "prospect", "customer", "former_customer"}

// BuyingStage is where the prospect is in its buying process.
type BuyingStage string

// The buying stages, in order.
const (
	StageQualification BuyingStage = "qualification"
	StageDiscovery     BuyingStage = "discovery"
	StageEvaluation    BuyingStage = "evaluation"
	StageProposal      BuyingStage = "proposal"
	StageNegotiation   BuyingStage = "negotiation"
	StageCommit        BuyingStage = "commit"
)

var buyingStages = []string{"qualification", "discovery", "evaluation", "proposal", "negotiation", "commit"}

// Valid reports whether s is one of the buying stages.
func (s BuyingStage) Valid() bool { return slices.Contains(buyingStages, string(s)) }

// LeadSource is how the partner found the opportunity.
type LeadSource string

// The ways a partner may have found an opportunity.
const (
	SourceReferral          LeadSource = "referral"
	SourceMarketingCampaign LeadSource = "marketing_campaign"
	SourceColdOutreach      LeadSource = "cold_outreach"
	SourceInbound           LeadSource = "inbound"
	SourceEvent             LeadSource = "event"
	SourceExistingCustomer  LeadSource = "existing_customer"
	SourceOther             LeadSource = "other"
)

var leadSources = []string{"referral", "marketing_campaign", "cold_outreach", "inbound", "event", "existing_customer", "other"}

// ActivityKind is a piece of sales work done with the prospect.
type ActivityKind string

// The activities a partner may report.
const (
	ActivityDiscoveryCall ActivityKind = "discovery_call"
	ActivityDemo          ActivityKind = "demo"
	ActivityPOC           ActivityKind = "poc"
	ActivityWorkshop      ActivityKind = "workshop"
	ActivityProposal      ActivityKind = "proposal"
	ActivityOther         ActivityKind = "other"
)

var activityKinds = []string{"discovery_call", "demo", "poc", "workshop", "proposal", "other"}

// ProofKind is the kind of evidence that the relationship with the prospect
// is real.
type ProofKind string

// The kinds of relationship proof.
const (
	ProofEmailIntro           ProofKind = "email_intro"
	ProofMeetingConfirmation  ProofKind = "meeting_confirmation"
	ProofDiscoveryDeliverable ProofKind = "discovery_deliverable"
	ProofBANT                 ProofKind = "bant"
	ProofMEDDIC               ProofKind = "meddic"
)

var proofKinds = []string{"email_intro", "meeting_confirmation", "discovery_deliverable", "bant", "meddic"}

// Details is everything a partner tells about a registration. Drafts may be
// incomplete; a submission needs the minimum listed at ValidateSubmission.
// Personal data lives only in Personal, so that it can later be encrypted
// per data subject without touching the rest of the payload.
type Details struct {
	Account      Account      `json:"account"`
	Opportunity  Opportunity  `json:"opportunity"`
	Relationship Relationship `json:"relationship"`
	Proof        []ProofItem  `json:"proof,omitempty"`
	Personal     Personal     `json:"personal"`
}

// Account identifies the prospect company.
type Account struct {
	CompanyName string `json:"company_name"`
	// Domain is the prospect's website domain, such as "example.com".
	Domain string `json:"domain,omitempty"`
	// TaxID is the prospect's tax identifier (VAT, EIN, RFC, CNPJ...),
	// optional; when both sides of a comparison have one it is decisive.
	TaxID string `json:"tax_id,omitempty"`
	// Country is the ISO 3166-1 alpha-2 code of the main place of business.
	Country string `json:"country"`
	// Region is a free-form region within the country ("Northeast",
	// "Bavaria"), matched against territory grants.
	Region string `json:"region,omitempty"`
	// Industry is a free-form industry (vertical) name, matched against
	// territory grants without regard to case.
	Industry             string             `json:"industry,omitempty"`
	EmployeeBand         EmployeeBand       `json:"employee_band,omitempty"`
	ExistingRelationship VendorRelationship `json:"existing_relationship,omitempty"`
}

// Opportunity describes the deal being pursued.
type Opportunity struct {
	ProductLines      []string    `json:"product_lines,omitempty"`
	EstimatedValue    Money       `json:"estimated_value,omitzero"`
	ExpectedCloseDate time.Time   `json:"expected_close_date,omitzero"`
	BuyingStage       BuyingStage `json:"buying_stage,omitempty"`
	Competitors       []string    `json:"competitors,omitempty"`
}

// Relationship is the partner's account of how it knows the prospect.
type Relationship struct {
	HowFound         LeadSource `json:"how_found,omitempty"`
	FirstContactDate time.Time  `json:"first_contact_date,omitzero"`
	Activities       []Activity `json:"activities,omitempty"`
	NextSteps        string     `json:"next_steps,omitempty"`
}

// Activity is one piece of sales work done with the prospect. Date is
// optional.
type Activity struct {
	Kind ActivityKind `json:"kind"`
	Date time.Time    `json:"date,omitzero"`
}

// ProofItem is one piece of evidence of the relationship: a reference to an
// uploaded attachment (its SHA-256, lower-case hex), qualification answers
// (BANT, MEDDIC), or both. The attachment itself is stored outside the ledger.
type ProofItem struct {
	Kind             ProofKind `json:"kind"`
	AttachmentSHA256 string    `json:"attachment_sha256,omitempty"`
	Answers          []Answer  `json:"answers,omitempty"`
}

// Answer is a qualification question and the partner's answer to it.
type Answer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Personal holds the personal data of a registration. It is kept apart from
// the rest of the payload so that it can be encrypted per data subject and
// erased by destroying the key.
type Personal struct {
	DecisionMakers []Contact `json:"decision_makers,omitempty"`
}

// Contact is a decision maker at the prospect.
type Contact struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Email string `json:"email,omitempty"`
}

// Normalize returns a copy of d with surrounding white space trimmed, the
// domain lower-cased (and stripped of a scheme, a trailing path or dot), and
// the country and currency upper-cased. Commands normalise before they
// validate, so stored events hold the canonical form.
func (d Details) Normalize() Details {
	d = d.Clone()
	a := &d.Account
	a.CompanyName = strings.TrimSpace(a.CompanyName)
	a.TaxID = strings.TrimSpace(a.TaxID)
	a.Domain = normalizeDomain(a.Domain)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	a.Region = strings.TrimSpace(a.Region)
	a.Industry = strings.TrimSpace(a.Industry)
	o := &d.Opportunity
	for i := range o.ProductLines {
		o.ProductLines[i] = strings.TrimSpace(o.ProductLines[i])
	}
	for i := range o.Competitors {
		o.Competitors[i] = strings.TrimSpace(o.Competitors[i])
	}
	o.EstimatedValue = o.EstimatedValue.normalize()
	o.ExpectedCloseDate = canonicalTime(o.ExpectedCloseDate)
	r := &d.Relationship
	r.FirstContactDate = canonicalTime(r.FirstContactDate)
	r.NextSteps = strings.TrimSpace(r.NextSteps)
	for i := range r.Activities {
		r.Activities[i].Date = canonicalTime(r.Activities[i].Date)
	}
	for i := range d.Proof {
		d.Proof[i].AttachmentSHA256 = strings.ToLower(strings.TrimSpace(d.Proof[i].AttachmentSHA256))
	}
	for i := range d.Personal.DecisionMakers {
		c := &d.Personal.DecisionMakers[i]
		c.Name = strings.TrimSpace(c.Name)
		c.Title = strings.TrimSpace(c.Title)
		c.Email = strings.TrimSpace(c.Email)
	}
	return d
}

// Clone returns a deep copy of d, so that callers cannot change an
// aggregate's state through shared slices.
func (d Details) Clone() Details {
	d.Opportunity.ProductLines = slices.Clone(d.Opportunity.ProductLines)
	d.Opportunity.Competitors = slices.Clone(d.Opportunity.Competitors)
	d.Relationship.Activities = slices.Clone(d.Relationship.Activities)
	d.Personal.DecisionMakers = slices.Clone(d.Personal.DecisionMakers)
	if d.Proof != nil {
		proof := make([]ProofItem, len(d.Proof))
		for i, p := range d.Proof {
			p.Answers = slices.Clone(p.Answers)
			proof[i] = p
		}
		d.Proof = proof
	}
	return d
}

func normalizeDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, scheme := range []string{"https://", "http://"} {
		s = strings.TrimPrefix(s, scheme)
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// canonicalTime drops the monotonic clock reading and the location, so that
// times compare equal after a JSON round trip.
func canonicalTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

// ValidateDraft checks the shape of every field that is filled in: formats,
// allowed values, lengths and list sizes. Missing fields are fine in a draft.
// It returns one EINVALID *Error listing every failing field, or nil.
func (d Details) ValidateDraft() error {
	var v validator
	d.validateShape(&v)
	return v.err("the registration details are invalid")
}

// ValidateSubmission checks d for submitting a registration of type t at now
// under policy p. Besides the shape checks of ValidateDraft, it requires the
// essential minimum and checks dates against now:
//
//   - always: account.company_name, account.country, relationship.how_found
//     and relationship.first_contact_date, which must not be in the future
//     nor before now minus the policy's first-contact window;
//   - for an opportunity: at least one opportunity.product_lines entry,
//     opportunity.estimated_value (amount and currency) and
//     opportunity.expected_close_date, no earlier than a day before now and
//     no later than the policy's close horizon;
//   - for a named account: account.domain, which identifies the account
//     (the opportunity fields are optional).
//
// Policy p may require more (registration_standards.go): other fields, only
// some kinds of proof, a number of proof items. Everything else (industry,
// decision makers, proof, …) is optional at submission and may be asked
// for during review. It returns one EINVALID
// *Error listing every failing field, or nil.
func (d Details) ValidateSubmission(t RegistrationType, now time.Time, p Policy) error {
	var v validator
	d.validateShape(&v)
	d.validateRequired(&v, t)
	d.validateStandards(&v, t, p) // the policy's standards (registration_standards.go)
	d.validateDates(&v, now, p)
	return v.err("the registration is not ready to submit")
}

func (d Details) validateShape(v *validator) {
	a := d.Account
	v.text("account.company_name", a.CompanyName, MaxCompanyNameLen, false)
	v.text("account.tax_id", a.TaxID, MaxTaxIDLen, false)
	if a.Domain != "" && !ValidDomain(a.Domain) {
		if len(a.Domain) > MaxDomainLen {
			v.add("account.domain", FieldTooLong, fmt.Sprintf("must be at most %d characters", MaxDomainLen))
		} else {
			v.add("account.domain", FieldInvalid, "must be a lower-case domain name such as example.com")
		}
	}
	if a.Country != "" && !ValidCountry(a.Country) {
		v.add("account.country", FieldInvalid, "must be an ISO 3166-1 alpha-2 country code such as US")
	}
	v.text("account.region", a.Region, MaxRegionLen, false)
	v.text("account.industry", a.Industry, MaxIndustryLen, false)
	if a.EmployeeBand != "" {
		v.oneOf("account.employee_band", string(a.EmployeeBand), employeeBands)
	}
	if a.ExistingRelationship != "" {
		v.oneOf("account.existing_relationship", string(a.ExistingRelationship), vendorRelationships)
	}

	o := d.Opportunity
	v.stringList("opportunity.product_lines", o.ProductLines, MaxProductLines, MaxProductLineLen)
	if !o.EstimatedValue.IsZero() {
		validateMoney(v, "opportunity.estimated_value", o.EstimatedValue)
	}
	if o.BuyingStage != "" {
		v.oneOf("opportunity.buying_stage", string(o.BuyingStage), buyingStages)
	}
	v.stringList("opportunity.competitors", o.Competitors, MaxCompetitors, MaxCompetitorLen)
	v.date("opportunity.expected_close_date", o.ExpectedCloseDate)

	r := d.Relationship
	if r.HowFound != "" {
		v.oneOf("relationship.how_found", string(r.HowFound), leadSources)
	}
	if v.listLen("relationship.activities", len(r.Activities), MaxActivities) {
		for i, act := range r.Activities {
			v.oneOf(fmt.Sprintf("relationship.activities[%d].kind", i), string(act.Kind), activityKinds)
			v.date(fmt.Sprintf("relationship.activities[%d].date", i), act.Date)
		}
	}
	v.date("relationship.first_contact_date", r.FirstContactDate)
	v.text("relationship.next_steps", r.NextSteps, MaxNextStepsLen, true)

	if v.listLen("proof", len(d.Proof), MaxProofItems) {
		for i, p := range d.Proof {
			validateProof(v, fmt.Sprintf("proof[%d]", i), p)
		}
	}

	if v.listLen("personal.decision_makers", len(d.Personal.DecisionMakers), MaxDecisionMakers) {
		for i, c := range d.Personal.DecisionMakers {
			path := fmt.Sprintf("personal.decision_makers[%d]", i)
			v.requiredText(path+".name", c.Name, MaxPersonNameLen, false)
			v.text(path+".title", c.Title, MaxPersonTitleLen, false)
			if c.Email != "" && v.text(path+".email", c.Email, MaxEmailLen, false) && !emailShape.MatchString(c.Email) {
				v.add(path+".email", FieldInvalid, "must be an e-mail address")
			}
		}
	}
}

func validateProof(v *validator, path string, p ProofItem) {
	if p.Kind == "" {
		v.add(path+".kind", FieldRequired, "is required")
	} else {
		v.oneOf(path+".kind", string(p.Kind), proofKinds)
	}
	if p.AttachmentSHA256 != "" && !sha256Hex.MatchString(p.AttachmentSHA256) {
		v.add(path+".attachment_sha256", FieldInvalid, "must be a SHA-256 digest in 64 lower-case hex digits")
	}
	if p.AttachmentSHA256 == "" && len(p.Answers) == 0 {
		v.add(path+".answers", FieldRequired, "give answers or attach a document")
	}
	if v.listLen(path+".answers", len(p.Answers), MaxProofAnswers) {
		for j, a := range p.Answers {
			ap := fmt.Sprintf("%s.answers[%d]", path, j)
			v.requiredText(ap+".question", a.Question, MaxQuestionLen, true)
			v.requiredText(ap+".answer", a.Answer, MaxAnswerLen, true)
		}
	}
}

// Dates in details must lie in this range; it keeps them meaningful and
// encodable as RFC 3339.
var (
	minDetailDate = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDetailDate = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// date checks an optional date against the plausible range.
func (v *validator) date(field string, t time.Time) {
	if !t.IsZero() && (t.Before(minDetailDate) || !t.Before(maxDetailDate)) {
		v.add(field, FieldOutOfRange, "must be between 1970 and 2199")
	}
}

// stringList checks a list of short, non-blank, distinct strings.
func (v *validator) stringList(field string, items []string, maxItems, maxLen int) {
	if !v.listLen(field, len(items), maxItems) {
		return
	}
	seen := make(map[string]bool, len(items))
	for i, s := range items {
		path := fmt.Sprintf("%s[%d]", field, i)
		v.requiredText(path, s, maxLen, false)
		key := strings.ToLower(strings.TrimSpace(s))
		if key != "" && seen[key] {
			v.add(path, FieldDuplicate, "appears more than once")
		}
		seen[key] = true
	}
}

// validateMoney checks an amount that was given: positive, at most
// MaxMoneyAmount, at most MaxMoneyDecimals decimals, and a known currency.
func validateMoney(v *validator, path string, m Money) {
	switch {
	case !m.Amount.IsPositive():
		v.add(path+".amount", FieldOutOfRange, "must be greater than zero")
	case m.Amount.GreaterThan(MaxMoneyAmount):
		v.add(path+".amount", FieldOutOfRange, "must be at most "+MaxMoneyAmount.String())
	case m.Amount.Exponent() < -MaxMoneyDecimals && !m.Amount.Equal(m.Amount.Round(MaxMoneyDecimals)):
		v.add(path+".amount", FieldInvalid, fmt.Sprintf("must have at most %d decimals", MaxMoneyDecimals))
	}
	switch {
	case m.Currency == "":
		v.add(path+".currency", FieldRequired, "is required")
	case !ValidCurrency(m.Currency):
		v.add(path+".currency", FieldInvalid, "must be an ISO 4217 currency code such as USD")
	}
}

func (d Details) validateRequired(v *validator, t RegistrationType) {
	if strings.TrimSpace(d.Account.CompanyName) == "" {
		v.add("account.company_name", FieldRequired, "is required")
	}
	if d.Account.Country == "" {
		v.add("account.country", FieldRequired, "is required")
	}
	if t == TypeNamedAccount && d.Account.Domain == "" {
		v.add("account.domain", FieldRequired, "is required for a named account")
	}
	if t != TypeNamedAccount {
		if len(d.Opportunity.ProductLines) == 0 {
			v.add("opportunity.product_lines", FieldRequired, "name at least one product line")
		}
		if d.Opportunity.EstimatedValue.IsZero() {
			v.add("opportunity.estimated_value", FieldRequired, "is required")
		}
		if d.Opportunity.ExpectedCloseDate.IsZero() {
			v.add("opportunity.expected_close_date", FieldRequired, "is required")
		}
	}
	if d.Relationship.HowFound == "" {
		v.add("relationship.how_found", FieldRequired, "is required")
	}
	if d.Relationship.FirstContactDate.IsZero() {
		v.add("relationship.first_contact_date", FieldRequired, "is required")
	}
}

func (d Details) validateDates(v *validator, now time.Time, p Policy) {
	if fc := d.Relationship.FirstContactDate; !fc.IsZero() {
		switch {
		case fc.After(now):
			v.add("relationship.first_contact_date", FieldOutOfRange, "must not be in the future")
		case fc.Before(now.Add(-p.FirstContactWindow)):
			v.add("relationship.first_contact_date", FieldOutOfRange,
				fmt.Sprintf("must be within the last %d days", int(p.FirstContactWindow/Day)))
		}
	}
	if ec := d.Opportunity.ExpectedCloseDate; !ec.IsZero() {
		switch {
		case ec.Before(now.Add(-maxCloseDateBefore)):
			v.add("opportunity.expected_close_date", FieldOutOfRange, "must not be in the past")
		case ec.After(now.Add(p.MaxCloseHorizon)):
			v.add("opportunity.expected_close_date", FieldOutOfRange,
				fmt.Sprintf("must be within %d days", int(p.MaxCloseHorizon/Day)))
		}
	}
	for i, act := range d.Relationship.Activities {
		if act.Date.After(now) {
			v.add(fmt.Sprintf("relationship.activities[%d].date", i), FieldOutOfRange, "must not be in the future")
		}
	}
}
