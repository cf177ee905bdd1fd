package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

func TestDetails_ValidateDraft(t *testing.T) {
	t.Run("EmptyIsFine", func(t *testing.T) {
		require.NoError(t, domain.Details{}.ValidateDraft())
	})
	t.Run("ValidIsFine", func(t *testing.T) {
		require.NoError(t, validDetails().ValidateDraft())
	})
	t.Run("EveryFailingFieldAtOnce", func(t *testing.T) {
		d := domain.Details{
			Account: domain.Account{
				CompanyName:          strings.Repeat("x", domain.MaxCompanyNameLen+1),
				Domain:               "not a domain",
				Country:              "ZZ",
				Industry:             "bad\x00char",
				EmployeeBand:         "lots",
				ExistingRelationship: "friends",
			},
			Opportunity: domain.Opportunity{
				ProductLines:   []string{"CRM", "crm ", ""},
				EstimatedValue: domain.Money{Amount: decimal.RequireFromString("1.23456"), Currency: "usd"},
				BuyingStage:    "done",
				Competitors:    make([]string, domain.MaxCompetitors+1),
			},
			Relationship: domain.Relationship{
				HowFound:   "luck",
				Activities: []domain.Activity{{Kind: "golf"}},
			},
			Proof: []domain.ProofItem{
				{Kind: "gut_feeling", AttachmentSHA256: "abc"},
				{Kind: domain.ProofBANT},
				{Kind: domain.ProofMEDDIC, Answers: []domain.Answer{{Question: "Metrics?", Answer: ""}}},
			},
			Personal: domain.Personal{DecisionMakers: []domain.Contact{{Name: "", Email: "nope"}}},
		}
		err := d.ValidateDraft()
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.Equal(t, []string{
			"account.company_name:too_long",
			"account.domain:invalid",
			"account.country:invalid",
			"account.industry:invalid",
			"account.employee_band:invalid",
			"account.existing_relationship:invalid",
			"opportunity.product_lines[1]:duplicate",
			"opportunity.product_lines[2]:required",
			"opportunity.estimated_value.amount:invalid",
			"opportunity.estimated_value.currency:invalid",
			"opportunity.buying_stage:invalid",
			"opportunity.competitors:too_many",
			"relationship.how_found:invalid",
			"relationship.activities[0].kind:invalid",
			"proof[0].kind:invalid",
			"proof[0].attachment_sha256:invalid",
			"proof[1].answers:required",
			"proof[2].answers[0].answer:required",
			"personal.decision_makers[0].name:required",
			"personal.decision_makers[0].email:invalid",
		}, fieldCodes(err))
		for _, f := range domain.ErrorFields(err) {
			require.NotEmpty(t, f.Message, f.Field)
		}
	})
	t.Run("ListSizes", func(t *testing.T) {
		d := domain.Details{
			Opportunity:  domain.Opportunity{ProductLines: make([]string, domain.MaxProductLines+1)},
			Relationship: domain.Relationship{Activities: make([]domain.Activity, domain.MaxActivities+1)},
			Proof:        make([]domain.ProofItem, domain.MaxProofItems+1),
			Personal:     domain.Personal{DecisionMakers: make([]domain.Contact, domain.MaxDecisionMakers+1)},
		}
		require.Equal(t, []string{
			"opportunity.product_lines:too_many",
			"relationship.activities:too_many",
			"proof:too_many",
			"personal.decision_makers:too_many",
		}, fieldCodes(d.ValidateDraft()))
	})
	t.Run("Money", func(t *testing.T) {
		for _, tc := range []struct {
			amount, currency string
			want             []string
		}{
			{"150000.50", "EUR", nil},
			{"1.50000", "JPY", nil},
			{"0", "USD", []string{"opportunity.estimated_value.amount:out_of_range"}},
			{"-5", "USD", []string{"opportunity.estimated_value.amount:out_of_range"}},
			{"1000000000001", "USD", []string{"opportunity.estimated_value.amount:out_of_range"}},
			{"10", "", []string{"opportunity.estimated_value.currency:required"}},
			{"10", "XAU", []string{"opportunity.estimated_value.currency:invalid"}},
		} {
			d := domain.Details{Opportunity: domain.Opportunity{EstimatedValue: domain.Money{
				Amount: decimal.RequireFromString(tc.amount), Currency: tc.currency,
			}}}
			require.Equal(t, tc.want, fieldCodes(d.ValidateDraft()), tc.amount+" "+tc.currency)
		}
	})
	t.Run("Domains", func(t *testing.T) {
		for s, ok := range map[string]bool{
			"example.com": true, "a.b.example.co.uk": true, "xn--bcher-kva.example": true, "my-shop.io": true,
			"example": false, "-bad.com": false, "bad-.com": false, "exa mple.com": false, "example.c0m": false,
			"Example.com": false, "example..com": false, "": false, strings.Repeat("a", 64) + ".com": false,
		} {
			require.Equal(t, ok, domain.ValidDomain(s), s)
		}
	})
	t.Run("CountriesAndCurrencies", func(t *testing.T) {
		for _, c := range []string{"US", "MX", "DE", "XK", "SS"} {
			require.True(t, domain.ValidCountry(c), c)
		}
		for _, c := range []string{"", "us", "USA", "ZZ", "UK", " U", "S "} {
			require.False(t, domain.ValidCountry(c), c)
		}
		for _, c := range []string{"USD", "EUR", "MXN", "JPY", "BRL"} {
			require.True(t, domain.ValidCurrency(c), c)
		}
		for _, c := range []string{"", "usd", "US", "XXX", "XAU", "ABC", "USD "} {
			require.False(t, domain.ValidCurrency(c), c)
		}
	})
}

func TestDetails_ValidateSubmission(t *testing.T) {
	p := domain.DefaultPolicy()
	at := func(mutate func(*domain.Details)) []string {
		d := validDetails()
		mutate(&d)
		return fieldCodes(d.ValidateSubmission(domain.TypeOpportunity, submitAt, p))
	}
	t.Run("MinimumIsEnough", func(t *testing.T) {
		d := domain.Details{
			Account: domain.Account{CompanyName: "Acme", Country: "US"},
			Opportunity: domain.Opportunity{
				ProductLines:      []string{"Payroll"},
				EstimatedValue:    domain.Money{Amount: decimal.NewFromInt(50000), Currency: "USD"},
				ExpectedCloseDate: submitAt.Add(30 * domain.Day),
			},
			Relationship: domain.Relationship{HowFound: domain.SourceColdOutreach, FirstContactDate: submitAt},
		}
		require.NoError(t, d.ValidateSubmission(domain.TypeOpportunity, submitAt, p))
	})
	t.Run("FirstContactWindow", func(t *testing.T) {
		require.Empty(t, at(func(d *domain.Details) { d.Relationship.FirstContactDate = submitAt.Add(-90 * domain.Day) }))
		require.Equal(t, []string{"relationship.first_contact_date:out_of_range"},
			at(func(d *domain.Details) { d.Relationship.FirstContactDate = submitAt.Add(-90*domain.Day - time.Second) }))
		require.Equal(t, []string{"relationship.first_contact_date:out_of_range"},
			at(func(d *domain.Details) { d.Relationship.FirstContactDate = submitAt.Add(time.Second) }))
	})
	t.Run("ExpectedClose", func(t *testing.T) {
		require.Equal(t, []string{"opportunity.expected_close_date:out_of_range"},
			at(func(d *domain.Details) { d.Opportunity.ExpectedCloseDate = submitAt.Add(-2 * domain.Day) }))
		require.Equal(t, []string{"opportunity.expected_close_date:out_of_range"},
			at(func(d *domain.Details) { d.Opportunity.ExpectedCloseDate = submitAt.Add(4 * 365 * domain.Day) }))
	})
	t.Run("ActivityInFuture", func(t *testing.T) {
		require.Equal(t, []string{"relationship.activities[0].date:out_of_range"},
			at(func(d *domain.Details) { d.Relationship.Activities[0].Date = submitAt.Add(domain.Day) }))
	})
	t.Run("ShapeAndMissingTogether", func(t *testing.T) {
		require.Equal(t, []string{
			"account.country:invalid",
			"account.company_name:required",
			"relationship.first_contact_date:required",
		}, at(func(d *domain.Details) {
			d.Account.Country = "XX"
			d.Account.CompanyName = " "
			d.Relationship.FirstContactDate = time.Time{}
		}))
	})
}
