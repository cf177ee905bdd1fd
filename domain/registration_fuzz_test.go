package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// FuzzRegistrationValidate builds details from arbitrary strings and checks
// that validation, drafting and submission never panic and fail only with
// an EINVALID *Error that names its fields.
func FuzzRegistrationValidate(f *testing.F) {
	f.Add("Empresa XYZ", "xyz.example", "MX", "Healthcare", "HR Management", "150000.00", "USD", "referral", "Ana", "ana@xyz.example", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", int64(-10), int64(60))
	f.Add("", "HTTPS://Example.COM/x", "us", "", "", "-1", "usd", "", "", "@", "XYZ", int64(0), int64(0))
	f.Add("\x00", "..", "ZZ", "\xff", "a", "1e400", "XXX", "luck", "\n", "a@b", "", int64(1<<40), int64(-1<<40))
	f.Fuzz(func(t *testing.T, company, dom, country, industry, product, amount, currency, howFound, name, email, sha string, contactDays, closeDays int64) {
		d := domain.Details{
			Account: domain.Account{CompanyName: company, Domain: dom, Country: country, Industry: industry, Region: industry},
			Opportunity: domain.Opportunity{
				ProductLines:      []string{product, company},
				ExpectedCloseDate: t0.Add(time.Duration(closeDays) * time.Hour),
				Competitors:       []string{name},
			},
			Relationship: domain.Relationship{
				HowFound:         domain.LeadSource(howFound),
				FirstContactDate: t0.Add(time.Duration(contactDays) * time.Hour),
				NextSteps:        name + amount,
			},
			Proof:    []domain.ProofItem{{Kind: domain.ProofKind(howFound), AttachmentSHA256: sha, Answers: []domain.Answer{{Question: name, Answer: email}}}},
			Personal: domain.Personal{DecisionMakers: []domain.Contact{{Name: name, Title: industry, Email: email}}},
		}
		if v, err := decimal.NewFromString(amount); err == nil {
			d.Opportunity.EstimatedValue = domain.Money{Amount: v, Currency: currency}
		}
		p := domain.DefaultPolicy()
		checkInvalid(t, d.ValidateDraft())
		checkInvalid(t, d.ValidateSubmission(domain.TypeOpportunity, t0, p))
		checkInvalid(t, d.ValidateSubmission(domain.TypeNamedAccount, t0, p))
		checkInvalid(t, d.Normalize().ValidateDraft())

		drafted, err := domain.Draft(uuid.New(), partner, domain.TypeOpportunity, d, t0)
		checkInvalid(t, err)
		if err != nil {
			return
		}
		r := &domain.Registration{}
		roundTrip(t, r, drafted)
		submitted, err := r.Submit(partner, p, t0)
		checkInvalid(t, err)
		roundTrip(t, r, submitted)
	})
}

// roundTrip requires every event to survive encoding unchanged, then
// applies the decoded copy to r.
func roundTrip(t *testing.T, r *domain.Registration, events []domain.Event) {
	t.Helper()
	for _, e := range events {
		typ, v, data, err := domain.EncodeEvent(e)
		require.NoError(t, err)
		back, err := domain.DecodeEvent(typ, v, data)
		require.NoError(t, err)
		require.Equal(t, e, back)
		require.NoError(t, r.Apply(back))
	}
}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var de *domain.Error
	require.True(t, errors.As(err, &de), "%v", err)
	require.Equal(t, domain.EINVALID, de.Code)
	require.NotEmpty(t, de.Fields)
	for _, f := range de.Fields {
		require.NotEmpty(t, f.Field)
		require.NotEmpty(t, f.Code)
	}
}
