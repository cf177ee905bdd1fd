package projections_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// BenchmarkPipelineSummary measures the pipeline summary over the
// registrations of a generated 1,000,000-event ledger (about 114,000): 300
// partners, 20 regions, three currencies, a year of expected-close dates;
// the whole pipeline grouped by status, by partner, and by region and
// quarter.
func BenchmarkPipelineSummary(b *testing.B) {
	l := &handLedger{tb: b}
	currencies := []string{"USD", "EUR", "GBP"}
	for i := range 114_000 {
		id := uuid.New()
		at := t0.Add(time.Duration(i) * time.Minute)
		stream := domain.RegistrationStream(id)
		d := domain.Details{
			Account: domain.Account{CompanyName: fmt.Sprintf("Company %d", i), Country: "US", Region: fmt.Sprintf("r%d", i%20)},
			Opportunity: domain.Opportunity{
				EstimatedValue:    domain.Money{Amount: decimal.NewFromInt(int64(1000 + i%9000)), Currency: currencies[i%3]},
				ExpectedCloseDate: at.Add(time.Duration(i%365) * domain.Day),
			},
		}
		partner := fmt.Sprintf("p%d", i%300)
		l.add(stream, at, domain.RegistrationDrafted{RegistrationID: id, PartnerID: partner, Type: domain.TypeOpportunity, Details: d})
		if i%4 != 0 {
			l.add(stream, at, domain.RegistrationSubmitted{RegistrationID: id, PartnerID: partner, Attempt: 1, Details: d})
			l.recs[len(l.recs)-1].Revision = 1
		}
	}
	p := projections.NewRegistrations(nil, nil)
	for _, r := range l.recs {
		if err := p.Apply(r); err != nil {
			b.Fatal(err)
		}
	}
	for _, groupBy := range [][]string{{"status"}, {"partner"}, {"region", "quarter"}} {
		b.Run(fmt.Sprint(groupBy), func(b *testing.B) {
			for b.Loop() {
				s, err := p.Summary(projections.ListFilter{}, groupBy)
				if err != nil {
					b.Fatal(err)
				}
				if s.Total.Count != 114_000 {
					b.Fatalf("total %d", s.Total.Count)
				}
			}
		})
	}
}
