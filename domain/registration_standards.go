package domain

import (
	"fmt"
	"slices"
	"strings"
)

// validateStandards applies the registration standards of policy p to a
// submission of type t, beyond the minimum every submission needs
// (validateRequired): the fields p adds to the required ones, the kinds of
// proof it accepts and the number of proof items it asks for
// (docs/policy.md, "registration"). Version 1 adds no field, accepts every
// kind and asks for no proof, so it refuses nothing more.
func (d Details) validateStandards(v *validator, t RegistrationType, p Policy) {
	base := BaseRequiredFields(t)
	for _, f := range p.RequiredFields[t] {
		if !slices.Contains(base, f) && !d.has(f) {
			v.add(f, FieldRequired, fmt.Sprintf("is required to submit under policy version %d", p.Version))
		}
	}
	for i, item := range d.Proof {
		field := fmt.Sprintf("proof[%d].kind", i)
		if item.Kind == "" || !slices.Contains(proofKinds, string(item.Kind)) || slices.Contains(p.ProofKinds, item.Kind) {
			continue // missing and unknown kinds are reported by the shape checks
		}
		accepted := make([]string, len(p.ProofKinds))
		for j, k := range p.ProofKinds {
			accepted[j] = string(k)
		}
		v.add(field, FieldInvalid, fmt.Sprintf("policy version %d accepts as proof: %s", p.Version, strings.Join(accepted, ", ")))
	}
	if len(d.Proof) < p.MinProofItems {
		v.add("proof", FieldRequired, fmt.Sprintf("policy version %d asks for at least %d proof items", p.Version, p.MinProofItems))
	}
}

// has reports whether the detail field at path (one of requirableFields)
// is filled in.
func (d Details) has(path string) bool {
	a, o, r := d.Account, d.Opportunity, d.Relationship
	switch path {
	case "account.company_name":
		return strings.TrimSpace(a.CompanyName) != ""
	case "account.country":
		return a.Country != ""
	case "account.domain":
		return a.Domain != ""
	case "account.tax_id":
		return strings.TrimSpace(a.TaxID) != ""
	case "account.region":
		return strings.TrimSpace(a.Region) != ""
	case "account.industry":
		return strings.TrimSpace(a.Industry) != ""
	case "account.employee_band":
		return a.EmployeeBand != ""
	case "account.existing_relationship":
		return a.ExistingRelationship != ""
	case "opportunity.product_lines":
		return len(o.ProductLines) > 0
	case "opportunity.estimated_value":
		return !o.EstimatedValue.IsZero()
	case "opportunity.expected_close_date":
		return !o.ExpectedCloseDate.IsZero()
	case "opportunity.buying_stage":
		return o.BuyingStage != ""
	case "opportunity.competitors":
		return len(o.Competitors) > 0
	case "relationship.how_found":
		return r.HowFound != ""
	case "relationship.first_contact_date":
		return !r.FirstContactDate.IsZero()
	case "relationship.activities":
		return len(r.Activities) > 0
	case "relationship.next_steps":
		return strings.TrimSpace(r.NextSteps) != ""
	case "personal.decision_makers":
		return len(d.Personal.DecisionMakers) > 0
	}
	return false
}
