package app

import (
	"encoding/json"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// renewalDeals gathers partner's closed-won deals from the registrations
// view, for a named account's renewal conditions (domain/renewal.go): the
// close time is the closing event's recorded time, the value its final
// value or else the estimated one.
func (s *Service) renewalDeals(partner string) ([]domain.RenewalDeal, error) {
	var deals []domain.RenewalDeal
	cursor := ""
	for {
		items, next, err := s.Registrations.List(projections.ListFilter{PartnerID: partner, Status: []domain.Status{domain.StatusClosedWon}}, cursor, projections.MaxListLimit)
		if err != nil {
			return nil, err
		}
		for _, v := range items {
			d := domain.RenewalDeal{ID: v.ID, PartnerID: v.PartnerID, Type: v.Type, CompanyName: v.CompanyName, Domain: v.Domain,
				Country: v.Country, Value: domain.Money{Amount: v.EstimatedValue, Currency: v.Currency}}
			for _, h := range s.Registrations.History(v.ID) {
				if h.Type != (domain.RegistrationClosedWon{}).EventType() {
					continue
				}
				d.ClosedWonAt = h.RecordedAt
				var e domain.RegistrationClosedWon
				if json.Unmarshal(h.Data, &e) == nil && !e.FinalValue.IsZero() {
					d.Value = e.FinalValue
				}
			}
			deals = append(deals, d)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return deals, nil
}
