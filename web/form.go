package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// regForm is the registration form as typed: strings, so that whatever
// the partner typed comes back on an error, even what does not parse.
type regForm struct {
	ID           string
	CompanyName  string
	Domain       string
	Country      string
	Region       string
	Industry     string
	ProductLines string
	Amount       string
	Currency     string
	CloseDate    string
	BuyingStage  string
	HowFound     string
	FirstContact string
	NextSteps    string
	ContactName  string
	ContactEmail string
	Errors       map[string]string
	Hint         string
}

// defaultCurrency fills the currency of a form that has none yet.
const defaultCurrency = "USD"

// Options of the form's selects.
var (
	buyingStages = []string{"qualification", "discovery", "evaluation", "proposal", "negotiation", "commit"}
	leadSources  = []string{"referral", "marketing_campaign", "cold_outreach", "inbound", "event", "existing_customer", "other"}
)

func readForm(r *http.Request) regForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return regForm{
		CompanyName: v("account.company_name"), Domain: v("account.domain"), Country: v("account.country"),
		Region: v("account.region"), Industry: v("account.industry"),
		ProductLines: v("opportunity.product_lines"), Amount: v("opportunity.estimated_value"),
		Currency: v("opportunity.currency"), CloseDate: v("opportunity.expected_close_date"),
		BuyingStage: v("opportunity.buying_stage"), HowFound: v("relationship.how_found"),
		FirstContact: v("relationship.first_contact_date"), NextSteps: v("relationship.next_steps"),
		ContactName: v("contact.name"), ContactEmail: v("contact.email"),
	}
}

// formOf fills the form from a stored registration.
func formOf(d projections.RegistrationDetail) regForm {
	det := d.Details
	f := regForm{
		ID: d.ID.String(), CompanyName: det.Account.CompanyName, Domain: det.Account.Domain, Country: det.Account.Country,
		Region: det.Account.Region, Industry: det.Account.Industry,
		ProductLines: strings.Join(det.Opportunity.ProductLines, ", "),
		Currency:     det.Opportunity.EstimatedValue.Currency,
		BuyingStage:  string(det.Opportunity.BuyingStage), HowFound: string(det.Relationship.HowFound),
		NextSteps: det.Relationship.NextSteps,
	}
	if !det.Opportunity.EstimatedValue.IsZero() {
		f.Amount = det.Opportunity.EstimatedValue.Amount.String()
	}
	if f.Currency == "" {
		f.Currency = defaultCurrency
	}
	if t := det.Opportunity.ExpectedCloseDate; !t.IsZero() {
		f.CloseDate = t.Format(time.DateOnly)
	}
	if t := det.Relationship.FirstContactDate; !t.IsZero() {
		f.FirstContact = t.Format(time.DateOnly)
	}
	if len(det.Personal.DecisionMakers) > 0 {
		f.ContactName, f.ContactEmail = det.Personal.DecisionMakers[0].Name, det.Personal.DecisionMakers[0].Email
	}
	return f
}

// details turns the form into registration details. What does not parse
// (a date, an amount) is reported per field with the domain's codes, and
// left out of the details, so that a draft can still be saved.
func (f regForm) details(l Locale) (domain.Details, map[string]string) {
	errs := map[string]string{}
	var d domain.Details
	d.Account = domain.Account{CompanyName: f.CompanyName, Domain: f.Domain, Country: f.Country, Region: f.Region, Industry: f.Industry}
	for _, p := range strings.Split(f.ProductLines, ",") {
		if p = strings.TrimSpace(p); p != "" {
			d.Opportunity.ProductLines = append(d.Opportunity.ProductLines, p)
		}
	}
	// The currency comes filled in; without an amount there is no value.
	if f.Amount != "" {
		amount, err := decimal.NewFromString(strings.ReplaceAll(f.Amount, ",", ""))
		switch {
		case err != nil || amount.IsNegative():
			errs["opportunity.estimated_value"] = l.T("error.amount")
		case f.Currency == "":
			errs["opportunity.currency"] = l.fieldMessage(domain.FieldRequired, "")
		default:
			d.Opportunity.EstimatedValue = domain.Money{Amount: amount, Currency: f.Currency}
		}
	}
	date := func(field, s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			errs[field] = l.T("error.date")
		}
		return t
	}
	d.Opportunity.ExpectedCloseDate = date("opportunity.expected_close_date", f.CloseDate)
	d.Opportunity.BuyingStage = domain.BuyingStage(f.BuyingStage)
	d.Relationship.HowFound = domain.LeadSource(f.HowFound)
	d.Relationship.FirstContactDate = date("relationship.first_contact_date", f.FirstContact)
	d.Relationship.NextSteps = f.NextSteps
	if f.ContactName != "" || f.ContactEmail != "" {
		d.Personal.DecisionMakers = []domain.Contact{{Name: f.ContactName, Email: f.ContactEmail}}
	}
	return d, errs
}

// formField maps a domain field path to the form field it is shown beside.
func formField(path string) string {
	switch {
	case strings.HasPrefix(path, "personal.decision_makers[0].email"):
		return "contact.email"
	case strings.HasPrefix(path, "personal.decision_makers"):
		return "contact.name"
	case strings.HasPrefix(path, "opportunity.estimated_value.currency"):
		return "opportunity.currency"
	case strings.HasPrefix(path, "opportunity.estimated_value"):
		return "opportunity.estimated_value"
	case strings.HasPrefix(path, "opportunity.product_lines"):
		return "opportunity.product_lines"
	}
	return path
}

// fieldErrors returns the field errors of an EINVALID error, localised by
// code, keyed by form field; nil for any other error.
func fieldErrors(l Locale, err error) map[string]string {
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EINVALID || len(de.Fields) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, fe := range de.Fields {
		k := formField(fe.Field)
		if _, seen := out[k]; !seen {
			out[k] = l.fieldMessage(fe.Code, fe.Message)
		}
	}
	return out
}
