package domain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// The policy's registration standards apply at submission: the fields it
// adds to the required ones, the proof kinds it accepts and the number of
// proof items it asks for; version 1 refuses nothing more.
func TestDetails_ValidateSubmission_Standards(t *testing.T) {
	bant := domain.ProofItem{Kind: domain.ProofBANT, Answers: []domain.Answer{{Question: "Budget?", Answer: "Approved"}}}
	intro := domain.ProofItem{Kind: domain.ProofEmailIntro, Answers: []domain.Answer{{Question: "Who introduced us?", Answer: "The CIO"}}}
	strict := func(p *domain.Policy) {
		p.RequiredFields[domain.TypeOpportunity] = append(domain.BaseRequiredFields(domain.TypeOpportunity),
			"account.industry", "opportunity.buying_stage", "personal.decision_makers", "relationship.activities")
		p.ProofKinds = []domain.ProofKind{domain.ProofBANT, domain.ProofMEDDIC}
		p.MinProofItems = 1
	}
	for _, tc := range []struct {
		name   string
		policy func(*domain.Policy)
		edit   func(*domain.Details)
		want   []string
	}{
		{"version 1: no proof, nothing more", func(*domain.Policy) {}, func(*domain.Details) {}, nil},
		{"version 1: any kind", func(*domain.Policy) {}, func(d *domain.Details) { d.Proof = []domain.ProofItem{intro} }, nil},
		{"strict, all there", strict, func(d *domain.Details) { d.Proof = []domain.ProofItem{bant} }, nil},
		{"strict, every gap at once", strict, func(d *domain.Details) {
			d.Account.Industry, d.Opportunity.BuyingStage = "  ", ""
			d.Personal.DecisionMakers, d.Relationship.Activities = nil, nil
			d.Proof = nil
		}, []string{"account.industry:required", "opportunity.buying_stage:required", "personal.decision_makers:required",
			"relationship.activities:required", "proof:required"}},
		{"strict, a kind not accepted", strict, func(d *domain.Details) { d.Proof = []domain.ProofItem{bant, intro} },
			[]string{"proof[1].kind:invalid"}},
		{"strict, an unknown kind is reported once", strict, func(d *domain.Details) {
			d.Proof = []domain.ProofItem{bant, {Kind: "hunch", Answers: intro.Answers}}
		}, []string{"proof[1].kind:invalid"}},
		{"two items asked", func(p *domain.Policy) { p.MinProofItems = 2 }, func(d *domain.Details) { d.Proof = []domain.ProofItem{bant} },
			[]string{"proof:required"}},
		{"named account: only its own additions", func(p *domain.Policy) {
			p.RequiredFields[domain.TypeNamedAccount] = append(domain.BaseRequiredFields(domain.TypeNamedAccount), "account.tax_id")
		}, func(*domain.Details) {}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultPolicy()
			p.RequiredFields = map[domain.RegistrationType][]string{
				domain.TypeOpportunity:  domain.BaseRequiredFields(domain.TypeOpportunity),
				domain.TypeNamedAccount: domain.BaseRequiredFields(domain.TypeNamedAccount),
			}
			tc.policy(&p)
			require.NoError(t, p.Validate())
			d := validDetails()
			tc.edit(&d)
			err := d.ValidateSubmission(domain.TypeOpportunity, t0, p)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			require.Equal(t, tc.want, fieldCodes(err))
		})
	}
	t.Run("named account: tax ID required", func(t *testing.T) {
		p := domain.DefaultPolicy()
		p.RequiredFields = map[domain.RegistrationType][]string{
			domain.TypeOpportunity:  domain.BaseRequiredFields(domain.TypeOpportunity),
			domain.TypeNamedAccount: append(domain.BaseRequiredFields(domain.TypeNamedAccount), "account.tax_id"),
		}
		err := validDetails().ValidateSubmission(domain.TypeNamedAccount, t0, p)
		require.Equal(t, []string{"account.tax_id:required"}, fieldCodes(err))
	})
}
